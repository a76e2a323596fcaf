"""Training: settings and recipes (:mod:`.config`, :mod:`.recipes`), the epoch loop and a run's
resumable state (:mod:`.loop`, :mod:`.epochs`, :mod:`.runs`, :mod:`.seeding`), device and precision
(:mod:`.device`), standardised targets (:mod:`.targets`), restarts after a collapse
(:mod:`.restarts`), scikit-learn estimators (:mod:`.estimators`), data-parallel runs
(:mod:`.distributed`) and augmentation (:mod:`.augment`).

Nothing is imported here, so ``cicy4lib.training.recipes`` stays free of torch.
"""
