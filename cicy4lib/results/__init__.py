"""Results: inference and metrics (:mod:`.evaluate`), the baselines a model has to beat
(:mod:`.baselines`), ensembles (:mod:`.ensemble`), figures (:mod:`.figures`) and the paper's
published numbers (:mod:`.published`).

Nothing is imported here, so each module loads only what it needs.
"""
