"""Tree-ensemble baselines (scikit-learn) that train, save and evaluate like the networks.

``python -m cicy4lib train Trees-RF --data sample --split 72`` writes a run directory

``model.skops``
    the fitted estimators, saved with :mod:`skops.io` (no pickle: loading checks every type
    against :data:`TRUSTED_TYPES`, a fixed list in this module, never one read from the file);
``model.json``
    ``"kind": "sklearn"``, the architecture, the data's provenance, the split, the estimator
    settings, the feature set, the validation loss and accuracy, and the SHA-256 of
    ``model.skops`` (a changed file is refused).

:func:`cicy4lib.models.checkpoint.load_model` hands such a directory to :func:`load_tree_model`, which
returns a :class:`TreeHodgeModel`: a parameter-free ``torch.nn.Module`` whose forward maps the
model input ``(B, 16, 20) = conf / scale`` to ``(B, 4)`` Hodge predictions, so ``evaluate``,
``ensemble`` and ``predict`` use it like any network.

Features (:func:`tree_features`): the flattened 16 x 20 matrix plus permutation-invariant summary
features (:func:`summary_features`): number of rows and columns, sorted row and column degree
sums, sorted row and column non-zero counts, counts of each entry value 1..6 and of the zeros in
the occupied block.

The models (:data:`TREE_MODELS`):

* ``Trees-RF``: random forest, 100 trees (at most 4,096 leaves each): a classifier for h11, one for
  h21, one regressor for (h31, h22);
* ``Trees-ET``: the same with extremely randomised trees;
* ``Trees-HGB``: ``HistGradientBoostingRegressor`` per Hodge number (300 iterations, no early stopping).

What was measured while choosing them (embedded sample, 72 % split, 2,000 test rows, raw test
accuracy h11 / h21 / h31 / h22; favourable guess h11 = rows: 48.55 %):

=====================================================  ===============================
100-tree forest, classifiers h11, h21 + regressor,      59.0 / 80.9 / 12.8 / 4.8 %  (12 s, one core)
flattened matrix + summary features, leaves unlimited
the same on the summary features only                   50.5 / 79.0 / 11.0 / 10.4 % (classifiers for all four)
100-tree regression forest, summary features only       40.8 / 68.7 /  9.0 / 3.6 %
HistGradientBoostingRegressor, 300 iterations           47.8 / 68.2 / 14.1 / 5.0 %
HistGradientBoostingClassifier, defaults, h11           13.7 % (14.4 % on its own training set)
=====================================================  ===============================

Classification beats regression for the small, discrete h11 and h21; classifiers for h31 and h22
(200+ classes) would make the saved forest hundreds of MB, so those two are regressed. The
χ-constrained predictions (h31, h22 from h11, h21 and the exact Euler number) are what count for
them; see the zoo table (:mod:`cicy4lib.jobs.zoo`) for all models under one budget.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..constants import HODGE
from ..errors import CheckpointError, ConfigurationError
from ..errors import CheckpointNotFoundError, UnknownModelError
from ..fileio import atomic_write_many, jsonable
from .registry import SKLEARN, get_entry, model_kind, register_model

__all__ = ["TREE_MODELS", "TRUSTED_TYPES", "ESTIMATOR_FILE", "TreeSpec", "TreeHodgeModel", "is_tree_model",
           "list_tree_models", "tree_spec", "summary_features", "tree_features", "fit_tree_model",
           "save_tree_model", "load_tree_model", "is_tree_run"]

KIND = "sklearn"
ESTIMATOR_FILE = "model.skops"
CONFIG_FILE = "model.json"
FEATURE_SETS = ("flat+summary", "summary", "flat")
# The only non-default-trusted types a saved tree model may contain (skops trusts plain
# scikit-learn estimators and numpy arrays by itself). Never taken from the file being loaded.
TRUSTED_TYPES = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


# --------------------------------------------------------------------------- features


def summary_features(conf) -> np.ndarray:
    """Permutation-invariant features of padded configuration matrices: int64 (n, 80).

    Columns: number of rows, number of columns, the 16 row degree sums sorted (largest first),
    the 20 column degree sums sorted, the 16 row and 20 column non-zero counts sorted, the
    counts of the entry values 1..6, and the number of zeros inside the occupied block.
    Invariant under any permutation of the rows and of the columns.
    """
    c = np.asarray(conf)
    if c.ndim == 2:
        c = c[None]
    c = c.astype(np.int64)
    rows, cols = c.sum(axis=2), c.sum(axis=1)
    nz = c != 0
    n_rows, n_cols = nz.any(axis=2).sum(axis=1), nz.any(axis=1).sum(axis=1)
    values = np.stack([(c == v).sum(axis=(1, 2)) for v in range(1, 7)], axis=1)
    zeros_inside = n_rows * n_cols - nz.sum(axis=(1, 2))
    return np.column_stack([
        n_rows, n_cols,
        -np.sort(-rows, axis=1), -np.sort(-cols, axis=1),
        -np.sort(-nz.sum(axis=2), axis=1), -np.sort(-nz.sum(axis=1), axis=1),
        values, zeros_inside,
    ])


def tree_features(conf, features: str = "flat+summary") -> np.ndarray:
    """Model input of the tree models: ``"flat+summary"`` (default), ``"summary"`` or ``"flat"``."""
    if features not in FEATURE_SETS:
        raise ConfigurationError(f"unknown feature set {features!r}; use one of {', '.join(FEATURE_SETS)}")
    c = np.asarray(conf)
    if c.ndim == 2:
        c = c[None]
    parts = []
    if "flat" in features:
        parts.append(c.reshape(len(c), -1).astype(np.int64))
    if "summary" in features:
        parts.append(summary_features(c))
    return np.hstack(parts).astype(np.float32)


# --------------------------------------------------------------------------- the models


@dataclass(frozen=True)
class TreeSpec:
    """A tree baseline: which estimator predicts which Hodge numbers, with what settings."""

    name: str
    description: str
    # groups of target columns (indices into HODGE) -> ("classifier"|"regressor", estimator class path)
    parts: tuple[tuple[tuple[int, ...], str, str], ...]
    params: dict = field(default_factory=dict)
    features: str = "flat+summary"


def _forest_parts(kind: str):
    return (((0,), "classifier", f"sklearn.ensemble.{kind}Classifier"),
            ((1,), "classifier", f"sklearn.ensemble.{kind}Classifier"),
            ((2, 3), "regressor", f"sklearn.ensemble.{kind}Regressor"))


TREE_MODELS: dict[str, TreeSpec] = {
    "Trees-RF": TreeSpec(
        "Trees-RF", "random forest (100 trees): classifiers for h11 and h21, a regressor for (h31, h22)",
        _forest_parts("RandomForest"), {"n_estimators": 100, "max_leaf_nodes": 4096, "max_features": "sqrt"}),
    "Trees-ET": TreeSpec(
        "Trees-ET", "extremely randomised trees (100): classifiers for h11 and h21, a regressor for (h31, h22)",
        _forest_parts("ExtraTrees"), {"n_estimators": 100, "max_leaf_nodes": 4096, "max_features": "sqrt"}),
    "Trees-HGB": TreeSpec(
        "Trees-HGB", "histogram gradient boosting, one regressor per Hodge number (300 iterations)",
        tuple(((j,), "regressor", "sklearn.ensemble.HistGradientBoostingRegressor") for j in range(4)),
        {"max_iter": 300, "early_stopping": False}),
}


def _key(name) -> str:
    return str(name).strip().upper().replace("_", "-")


def register_estimator(name: str, description: str, parts, params: dict | None = None,
                       features: str = "flat+summary") -> TreeSpec:
    """Register a scikit-learn model by name: what :func:`cicy4lib.models.registry.register_model`
    is for a network. It then trains, saves, evaluates, ensembles and enters the zoo by name.

    Parameters
    ----------
    name : str
        Unique among networks and estimators (case-insensitive).
    description : str
    parts : sequence of (columns, "classifier" | "regressor", estimator class path)
        Which estimator predicts which Hodge numbers (indices into ``HODGE``), e.g.
        ``(((0, 1, 2, 3), "regressor", "sklearn.ensemble.RandomForestRegressor"),)``.
    params : dict, optional
        Keyword arguments of every estimator (those a class does not accept are left out).
    features : str
        One of :data:`FEATURE_SETS`.

    Returns
    -------
    TreeSpec

    Raises
    ------
    ValueError
        For a name already taken or an unknown feature set.
    """
    if features not in FEATURE_SETS:
        raise ValueError(f"features must be one of {FEATURE_SETS}, got {features!r}")
    spec = TreeSpec(name, description, tuple((tuple(c), kind, path) for c, kind, path in parts), dict(params or {}),
                    features)
    _register(spec)
    return spec


def _register(spec: TreeSpec) -> None:
    register_model(spec.name, _fitted_not_built, kind=SKLEARN, spec=spec, group="beyond",
                   family="scikit-learn", description=spec.description)  # refuses a name already taken
    TREE_MODELS[spec.name] = spec


def _fitted_not_built():
    # never called: build_model refuses SKLEARN entries before calling build (they are fitted on data)
    raise AssertionError("a scikit-learn model is fitted, not built")


def is_tree_model(name) -> bool:
    """Whether ``name`` is a registered scikit-learn model (case-insensitive): the registry's word."""
    return isinstance(name, str) and model_kind(name) == SKLEARN


def list_tree_models() -> list[str]:
    return list(TREE_MODELS)


def tree_spec(name) -> TreeSpec:
    """The :class:`TreeSpec` of a registered scikit-learn model.

    Raises
    ------
    UnknownModelError
        For a name that is not a scikit-learn model.
    """
    if not is_tree_model(name):
        raise UnknownModelError(f"unknown tree model {name!r}; known: {', '.join(TREE_MODELS)}")
    return get_entry(name).spec


def _estimator_class(path: str):
    module, _, cls = path.rpartition(".")
    return getattr(importlib.import_module(module), cls)


def _accepts(cls, name: str) -> bool:
    return name in inspect.signature(cls.__init__).parameters


class TreeHodgeModel(nn.Module):
    """Fitted tree estimators as a parameter-free module: forward ``(B, 16, 20)`` model input
    (``conf / scale``) -> ``(B, 4)`` float32 predictions (h11, h21, h31, h22).

    ``parts`` is a list of ``(target columns, estimator)``; classifiers predict integer labels,
    regressors raw values.
    """

    def __init__(self, arch: str, parts, scale: float, features: str = "flat+summary"):
        super().__init__()
        self.arch = arch
        self.parts = [(tuple(int(t) for t in targets), est) for targets, est in parts]
        self.scale = float(scale)
        self.features = features
        covered = sorted(t for targets, _ in self.parts for t in targets)
        if covered != [0, 1, 2, 3]:
            raise ConfigurationError(f"{arch}: the estimators must cover the four Hodge numbers once, got {covered}")

    def predict_conf(self, conf) -> np.ndarray:
        """Predictions for integer configuration matrices (n, 16, 20): float32 (n, 4)."""
        X = tree_features(conf, self.features)
        out = np.empty((len(X), 4), dtype=np.float32)
        if len(X) == 0:
            return out
        for targets, est in self.parts:
            pred = np.asarray(est.predict(X), dtype=np.float32).reshape(len(X), -1)
            out[:, list(targets)] = pred
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arr = x.detach().float().cpu().numpy()
        conf = np.rint(arr * np.float32(self.scale)).astype(np.int64)
        return torch.from_numpy(self.predict_conf(conf)).to(x.device)

    def extra_repr(self) -> str:
        kinds = ", ".join(f"{'/'.join(HODGE[t] for t in targets)}: {type(est).__name__}"
                          for targets, est in self.parts)
        return f"arch={self.arch!r}, features={self.features!r}, {kinds}"


# --------------------------------------------------------------------------- fit


def known_rows(data, idx):
    idx = np.asarray(idx, dtype=np.int64)
    y = np.asarray(data.hodge)[idx]
    keep = (y >= 0).all(axis=1)
    return idx[keep], y[keep]


def fit_tree_model(name, data, train_idx, *, seed: int = 42, n_jobs: int = 1, params: dict | None = None,
                   features: str | None = None) -> TreeHodgeModel:
    """Fit the tree baseline ``name`` on rows ``train_idx`` of ``data`` (rows with unknown labels dropped).

    ``params`` overrides the spec's estimator settings (e.g. ``{"n_estimators": 300}``); settings an
    estimator does not take are ignored for it.
    """
    spec = tree_spec(name)
    features = features or spec.features
    settings = {**spec.params, **(params or {})}
    idx, y = known_rows(data, train_idx)
    if len(idx) == 0:
        raise ConfigurationError("the training set has no rows with known Hodge numbers")
    X = tree_features(np.asarray(data.conf)[idx], features)
    parts = []
    for targets, _, cls_path in spec.parts:
        cls = _estimator_class(cls_path)
        kwargs = {k: v for k, v in settings.items() if _accepts(cls, k)}
        if _accepts(cls, "random_state"):
            kwargs["random_state"] = seed
        if _accepts(cls, "n_jobs"):
            kwargs["n_jobs"] = n_jobs
        target = y[:, list(targets)]
        est = cls(**kwargs).fit(X, target[:, 0] if target.shape[1] == 1 else target)
        parts.append((targets, est))
    return TreeHodgeModel(spec.name, parts, float(data.scale), features)


# --------------------------------------------------------------------------- save / load


def save_tree_model(run_dir, model: TreeHodgeModel, meta: dict | None = None) -> Path:
    """Write ``model.skops`` and ``model.json`` into ``run_dir``, atomically (both or neither)."""
    import skops.io as sio  # lazy: imports sklearn, pandas
    import sklearn  # lazy: imports sklearn, pandas

    run_dir = Path(run_dir)
    blob = sio.dumps([est for _, est in model.parts], compression=zipfile.ZIP_DEFLATED)
    untrusted = [t for t in sio.get_untrusted_types(data=blob) if t not in TRUSTED_TYPES]
    if untrusted:  # would not load back: refuse now rather than write an unloadable run
        raise CheckpointError(f"{model.arch}: the estimators hold types outside trees.TRUSTED_TYPES: {untrusted}")
    record = {
        "kind": KIND,
        "arch": model.arch,
        "scale": model.scale,
        **(meta or {}),
        "features": model.features,
        "targets": [[HODGE[t] for t in targets] for targets, _ in model.parts],
        "estimators": [type(est).__module__ + "." + type(est).__name__ for _, est in model.parts],
        "estimator_file": ESTIMATOR_FILE,
        "estimator_sha256": hashlib.sha256(blob).hexdigest(),
        "sklearn_version": sklearn.__version__,
        "library_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = json.dumps(record, indent=2, default=jsonable) + "\n"
    atomic_write_many([(run_dir / ESTIMATOR_FILE, lambda f: f.write(blob)),
                       (run_dir / CONFIG_FILE, lambda f: f.write(text.encode("utf-8")))])
    return run_dir / ESTIMATOR_FILE


def _config_path(path) -> Path:
    path = Path(path)
    if path.is_dir():
        return path / CONFIG_FILE
    if path.suffix in (".pt", ".pth", ".skops"):
        return path.parent / CONFIG_FILE if path.name in ("model.pt", ESTIMATOR_FILE) else path.with_suffix(".json")
    return path


def is_tree_run(path) -> bool:
    """Whether ``path`` (a run directory, its ``model.pt``/``model.json``) holds a tree model."""
    config_path = _config_path(path)
    try:
        return json.loads(config_path.read_text(encoding="utf-8")).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def load_tree_model(path, *, map_location: Any = "cpu") -> tuple[TreeHodgeModel, dict]:
    """(model, config) of a tree run directory; the estimator file is loaded with skops'
    safe loader and :data:`TRUSTED_TYPES` only, after checking its SHA-256 against model.json."""
    import skops.io as sio  # lazy: imports sklearn, pandas

    config_path = _config_path(path)
    if not config_path.exists():
        raise CheckpointNotFoundError(f"no {CONFIG_FILE} at {config_path.parent}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path} is truncated or corrupt ({err})") from None
    if not isinstance(config, dict) or config.get("kind") != KIND:
        raise CheckpointError(f"{config_path} does not describe a scikit-learn model (\"kind\": \"{KIND}\")")
    est_path = config_path.parent / str(config.get("estimator_file", ESTIMATOR_FILE))
    if not est_path.exists():
        raise CheckpointNotFoundError(f"{config_path.parent} holds no {est_path.name}")
    blob = est_path.read_bytes()
    expected = config.get("estimator_sha256")
    if expected and hashlib.sha256(blob).hexdigest() != expected:
        raise CheckpointError(f"{est_path} does not match the SHA-256 recorded in {config_path.name} "
                              "(a changed or damaged file)")
    try:
        estimators = sio.loads(blob, trusted=list(TRUSTED_TYPES))
    except Exception as err:  # noqa: BLE001 - skops raises many kinds; all mean "cannot load safely"
        raise CheckpointError(f"{est_path} cannot be loaded safely ({type(err).__name__}: {err})") from None
    targets = config.get("targets") or []
    if not isinstance(estimators, list) or len(estimators) != len(targets):
        raise CheckpointError(f"{est_path}: expected {len(targets)} estimators, found "
                              f"{len(estimators) if isinstance(estimators, list) else type(estimators).__name__}")
    parts = [(tuple(HODGE.index(h) for h in t), est) for t, est in zip(targets, estimators)]
    model = TreeHodgeModel(str(config.get("arch")), parts, float(config.get("scale", 6.0)),
                           str(config.get("features", "flat+summary")))
    return model.eval(), config


# --------------------------------------------------------------------------- train


def huber_loss(pred, y, delta: float = 1.0) -> float:
    r = np.abs(np.asarray(pred, np.float64) - y)
    return float(np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)).mean())


for _spec in list(TREE_MODELS.values()):  # the built-in estimators enter the one registry
    _register(_spec)
