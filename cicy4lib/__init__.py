"""cicy4lib: learn the Hodge numbers of CICY four-folds.

The public API is re-exported here lazily, so ``import cicy4lib`` stays cheap and the
geometry functions work without importing torch.

>>> import cicy4lib
>>> cicy4lib.euler_number([[6]])
2610
"""
from importlib import import_module

__version__ = "0.1.0"

# public name -> defining module, or (module, attribute) where the names differ
_EXPORTS = {
    "Cicy4Error": "errors",
    "ConfigurationError": "errors",
    "DataError": "errors",
    "CheckpointError": "errors",
    "UnknownModelError": "errors",
    "RunError": "errors",
    "as_degree_matrix": "geometry",
    "euler_number": "geometry",
    "euler_numbers": "geometry",
    "is_product": "geometry",
    "hodge_numbers": "geometry",
    "HodgeResult": "geometry.cohomology",
    "CICYData": "data",
    "load_dataset": "data",
    "Split": "data.splits",
    "get_split": "data.splits",
    "split_72": "data.splits",
    "split_80": "data.splits",
    "cv_folds": "data.splits",
    "write_split_files": "data.splits",
    "build_model": "models",
    "list_models": "models",
    "register_model": "models",
    "count_parameters": "models",
    "save_checkpoint": "models.checkpoint",
    "load_model": "models.checkpoint",
    "import_published_module": "models.published_layout",
    "TrainConfig": "training.config",
    "finetune_config": "training.config",
    "train_model": ("training.loop", "train"),
    "subsample": "data",
    "predict_hodge": ("results.evaluate", "predict"),
    "accuracy_summary": "results.evaluate",
    "metrics_table": "results.evaluate",
    "constrain": "results.evaluate",
    "evaluate_model": ("results.evaluate", "evaluate"),
    "mean_ensemble": "results.ensemble",
    "hill_climb": "results.ensemble",
    "apply_weights": "results.ensemble",
    "run_ensembles": "results.ensemble",
    "PAPER_ENSEMBLES": "results.ensemble",
    "predict_configuration": "jobs.predict",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name] if isinstance(_EXPORTS[name], tuple) else (_EXPORTS[name], name)
        value = getattr(import_module(f".{module}", __name__), attr)
        globals()[name] = value  # cache: later lookups skip __getattr__
        return value
    raise AttributeError(f"module 'cicy4lib' has no attribute {name!r}")


def __dir__():
    return __all__
