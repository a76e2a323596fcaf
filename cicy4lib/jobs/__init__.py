"""Jobs: what the command line runs, each built from the library's packages: the demo
(:mod:`.demo`), the model zoo (:mod:`.zoo`), hyperparameter search (:mod:`.search`), the list
verifier (:mod:`.verify`), prediction for one configuration (:mod:`.predict`) and the command
line itself (:mod:`.cli`, ``python -m cicy4lib``).
"""
