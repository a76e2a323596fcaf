"""Baselines every results table and figure shows beside the trained models.

A network is only worth its parameters if it beats predictors that need none (or only the
training set's mean). Three are computed on the *same* test rows as the models:

``favourable guess``
    Zero parameters: h11 = number of projective factors (rows of the configuration matrix),
    h21 = 0, then h31 = χ/6 − 8 − h11 + h21 and h22 = 44 + 4·h11 − 2·h21 + 4·h31 from the exact
    Euler number χ. (h22 then depends on h21 and χ only, so it is right exactly where h21 is.)
    On the real list the h11 part is right for 54.5 % of the configurations (CICYMiner sec. 2).
``constant``
    The training set's mean of each Hodge number, rounded: the best a model can do that
    ignores its input (the paper's "predict the mean" reference).
``constant + χ``
    h11 and h21 from ``constant``, h31 and h22 from χ as above: what the exact-χ constraint
    alone is worth.

Learned baselines (the dense network after He–Lukas, the tree models of :mod:`cicy4lib.models.trees`)
are trained into run directories like any model; they join the same tables as members and are
marked with :func:`is_learned_baseline` (group ``"baseline (learned)"``). Further zero- or
few-parameter baselines are one :func:`register_baseline` call.

>>> import numpy as np
>>> from cicy4lib.results.baselines import chi_completion
>>> chi_completion(np.array([1]), np.array([0]), np.array([2610])).tolist()
[[1, 0, 426, 1752]]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.checks import verified_euler

__all__ = [
    "BASELINE_GROUP", "LEARNED_GROUP", "FAVOURABLE", "CONSTANT", "CONSTANT_CHI", "Baseline",
    "register_baseline", "list_baselines", "number_of_factors", "chi_completion", "favourable_guess",
    "constant_prediction", "baseline_predictions", "is_learned_baseline", "LEARNED_BASELINES",
    "constant_loss",
]
# (baseline_table, the accuracy table of the baselines, lives in cicy4lib.results.evaluate: this module
# stays below evaluate in the import graph.)

BASELINE_GROUP = "baseline"
LEARNED_GROUP = "baseline (learned)"
FAVOURABLE = "favourable guess (rows, 0, χ)"
CONSTANT = "constant (train mean)"
CONSTANT_CHI = "constant + χ"

# Registry models that are baselines rather than contenders (helpers add names here, or set
# ``spec={"baseline": True, ...}`` on the registry entry).
LEARNED_BASELINES: set[str] = {"HeLukas-FC"}


@dataclass(frozen=True)
class Baseline:
    """A baseline: ``predict(data, split, idx) -> float (n, 4)`` raw predictions for rows ``idx``;
    it may use ``split.train`` (never the rows it predicts)."""

    name: str
    predict: Callable
    description: str = ""


_BASELINES: dict[str, Baseline] = {}


def register_baseline(name: str, predict: Callable, description: str = "") -> None:
    """Add a baseline; every results table then shows it (names must be unique)."""
    if name in _BASELINES:
        raise ValueError(f"baseline {name!r} is already registered")
    _BASELINES[name] = Baseline(name, predict, description)


def list_baselines() -> list[str]:
    return list(_BASELINES)


# --------------------------------------------------------------------------- building blocks
def number_of_factors(conf) -> np.ndarray:
    """Rows of each (padded) configuration matrix that are not all zero: int64 (n,)."""
    conf = np.asarray(conf)
    if conf.ndim == 2:
        conf = conf[None]
    return (conf != 0).any(axis=2).sum(axis=1).astype(np.int64)


def chi_completion(h11, h21, euler) -> np.ndarray:
    """(h11, h21, h31, h22) with h31 and h22 from χ: int64 (n, 4).

    Where χ is unknown (negative) h31 and h22 are -1 (counted as wrong, never as right).
    """
    h11, h21 = np.asarray(h11, np.int64), np.asarray(h21, np.int64)
    euler = np.asarray(euler, np.int64)
    h31 = euler // 6 - 8 - h11 + h21
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    unknown = euler < 0
    h31, h22 = np.where(unknown, -1, h31), np.where(unknown, -1, h22)
    return np.stack([h11, h21, h31, h22], axis=1)


def _rows(idx, n):
    return np.arange(n) if idx is None else np.asarray(idx)


def favourable_guess(data, idx=None) -> np.ndarray:
    """The zero-parameter guess for rows ``idx`` of a dataset (see the module text)."""
    idx = _rows(idx, len(data.conf))
    h11 = number_of_factors(np.asarray(data.conf)[idx])
    return chi_completion(h11, np.zeros_like(h11), verified_euler(data, idx)).astype(np.float64)


def constant_prediction(data, train_idx) -> np.ndarray:
    """Rounded training-set mean of each Hodge number (rows with unknown labels left out): (4,)."""
    y = np.asarray(data.hodge)[np.asarray(train_idx)]
    y = y[np.all(y >= 0, axis=1)]
    if len(y) == 0:
        raise ValueError("no training rows with known Hodge numbers for the constant baseline")
    return np.rint(y.mean(axis=0)).astype(np.float64)


def _favourable(data, split, idx):
    return favourable_guess(data, idx)


def _constant(data, split, idx):
    return np.tile(constant_prediction(data, split.train), (len(idx), 1))


def _constant_chi(data, split, idx):
    c = constant_prediction(data, split.train).astype(np.int64)
    n = len(idx)
    return chi_completion(np.full(n, c[0]), np.full(n, c[1]), verified_euler(data, idx)).astype(np.float64)


register_baseline(FAVOURABLE, _favourable,
                  "zero parameters: h11 = number of rows, h21 = 0, h31 and h22 from the exact χ")
register_baseline(CONSTANT, _constant, "the training set's mean of each Hodge number, rounded")
register_baseline(CONSTANT_CHI, _constant_chi,
                  "h11, h21 = rounded training means, h31 and h22 from the exact χ")


def baseline_predictions(data, split, subsets=("test",), names=None) -> dict[str, dict[str, np.ndarray]]:
    """``{baseline name: {subset: float (n, 4)}}`` for the rows of ``split``'s subsets."""
    names = list_baselines() if names is None else list(names)
    out = {}
    for name in names:
        base = _BASELINES[name]
        out[name] = {s: np.asarray(base.predict(data, split, np.asarray(getattr(split, s))), dtype=np.float64)
                     for s in subsets}
    return out


def is_learned_baseline(arch) -> bool:
    """Whether a registry model (by name) is a learned baseline rather than a contender."""
    if arch is None:
        return False
    if str(arch) in LEARNED_BASELINES:
        return True
    try:  # gradient-boosted / random-forest trees (cicy4lib.models.trees) are learned baselines
        from ..models.trees import is_tree_model  # lazy: imports torch

        if is_tree_model(str(arch)):
            return True
    except ImportError:
        pass
    try:
        from ..models.registry import get_entry  # lazy: imports torch

        entry = get_entry(str(arch))
    except Exception:  # noqa: BLE001 -- unknown names are simply not baselines
        return False
    spec = entry.spec
    return entry.name in LEARNED_BASELINES or (isinstance(spec, dict) and bool(spec.get("baseline")))


def constant_loss(data, split, *, delta: float = 1.0, subset: str = "valid", standardized: bool = False) -> float:
    """Huber loss (δ = ``delta``, mean over rows and the four targets) of the constant predictor
    -- the unrounded training mean -- on ``subset``: the reference line of the loss figures.
    A training curve that stays at this level has learned nothing beyond the mean.
    ``standardized``: residuals divided by the training standard deviation (runs trained on
    standardised targets, whose ``log.csv`` is in those units)."""
    y_train = np.asarray(data.hodge)[np.asarray(split.train)].astype(np.float64)
    y_train = y_train[np.all(y_train >= 0, axis=1)]
    y = np.asarray(data.hodge)[np.asarray(getattr(split, subset))].astype(np.float64)
    y = y[np.all(y >= 0, axis=1)]
    if len(y_train) == 0 or len(y) == 0:
        return float("nan")
    r = np.abs(y - y_train.mean(axis=0))
    if standardized:
        r = r / np.where(y_train.std(axis=0) > 0, y_train.std(axis=0), 1.0)
    huber = np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))
    return float(huber.mean())
