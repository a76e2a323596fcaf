"""Mean ensembles, hill-climbed weighted ensembles and the paper's named ensembles.

The paper averages its members' *raw* outputs and then rounds (SPEC.md §3); so do
:func:`mean_ensemble` and :func:`apply_weights`. The paper describes hill climbing (sec. 6.2)
but never ran it; :func:`hill_climb` does, on the validation set only.

>>> import numpy as np
>>> a, b = np.array([[1.0, 0, 20, 200]]), np.array([[3.0, 2, 40, 400]])
>>> mean_ensemble([a, b]).tolist()
[[2.0, 1.0, 30.0, 300.0]]
>>> apply_weights({"a": a, "b": b}, {"a": 3, "b": 1}).tolist()
[[1.5, 0.5, 25.0, 250.0]]
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import baselines as baseline_rows  # the name `baselines` is a parameter below
from . import published
from ..constants import HODGE
from ..data.checks import verified_euler
from ..data.label import data_label
from ..data.splits import as_split
from ..errors import UnknownNameError
from .evaluate import as_predictions, constrain, impossible_counts, metrics_table, predict, round_predictions
from .tables import ensemble_notes, ensemble_report, write_results  # noqa: F401  (re-exported: this module's API)

__all__ = [
    "PAPER_ENSEMBLES", "MEAN_ALL", "HILL_CLIMB", "HillClimbResult", "mean_ensemble", "apply_weights",
    "ensemble_score", "hill_climb", "paper_ensembles", "resolve_ensemble", "load_run", "predict_runs",
    "find_runs", "run_ensembles", "DEFAULT_RUNS_DIR", "default_runs_dir", "ensemble_report", "ensemble_command",
    "write_results",
]

# Where the trainer, the model notebooks and the README put run directories.
DEFAULT_RUNS_DIR = "Results_p2_Trained_models"

# The paper's ensembles: name -> member model names (paper names, e.g. "LSTM-448-f1"), read-only,
# straight from published.ENSEMBLE_MEMBERS (the single source). resolve_ensemble gives run names.
PAPER_ENSEMBLES: Mapping[str, tuple] = MappingProxyType(published.ENSEMBLE_MEMBERS)

# Row names of run_ensembles' table beside the members and the paper ensembles.
MEAN_ALL = "mean (all)"
HILL_CLIMB = "hill-climb"

# Which runs may be scored on which test set: runs whose training data is disjoint from it.
# The 80% split's training set holds 40% of the 72% test set, so "_80" runs are out for "72".
_COMPATIBLE_SPLITS = {
    "72": {"72", *(f"cv{i}" for i in range(5))},
    "80": {"72", "80", *(f"cv{i}" for i in range(5))},
}


# --------------------------------------------------------------------------- combining
def _stack(preds) -> np.ndarray:
    preds = list(preds.values()) if isinstance(preds, Mapping) else list(preds)
    if not preds:
        raise ValueError("an ensemble needs at least one member")
    arrays = [as_predictions(p, f"member {i}") for i, p in enumerate(preds)]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"members predict different numbers of rows: {[len(a) for a in arrays]}")
    return np.stack(arrays).astype(np.float64)


def mean_ensemble(preds) -> np.ndarray:
    """Even average of the members' raw outputs (a list, or a dict name -> (n, 4)).

    Returns float32 (n, 4) raw outputs; round them (or :func:`evaluate.constrain`) afterwards.
    """
    return _stack(preds).mean(axis=0).astype(np.float32)


def apply_weights(preds: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Weighted average of raw outputs; weights are normalised to sum to 1.

    Parameters
    ----------
    preds : dict name -> (n, 4)
        May hold more models than ``weights`` names; members with weight 0 are not needed.
    weights : dict name -> float
        E.g. :attr:`HillClimbResult.weights`.
    """
    used = {name: float(w) for name, w in weights.items() if w != 0}
    if not used:
        raise ValueError("all weights are zero")
    missing = sorted(set(used) - set(preds))
    if missing:
        raise KeyError(f"no predictions for weighted members {missing}")
    total = sum(used.values())
    if abs(total) < 1e-12:
        raise ValueError("the weights sum to zero; they cannot be normalised")
    names = sorted(used)
    stacked = _stack([preds[n] for n in names])
    w = np.array([used[n] / total for n in names])
    return np.tensordot(w, stacked, axes=1).astype(np.float32)


# --------------------------------------------------------------------------- hill climbing
def _accuracy_score(y_true, y_pred) -> float:
    return 100.0 * float(np.mean(round_predictions(y_pred) == y_true))


def _neg_mse_score(y_true, y_pred) -> float:
    return -float(np.mean((np.asarray(y_pred, dtype=np.float64) - y_true) ** 2))


_SCORES = {"accuracy": _accuracy_score, "neg_mse": _neg_mse_score}


def ensemble_score(y_true, y_pred, score="accuracy") -> float:
    """Validation score of an ensemble, higher is better.

    ``"accuracy"``: mean over the four Hodge numbers of the exact-match accuracy (%) after
    rounding; ``"neg_mse"``: minus the MSE of the raw outputs (averaged over the four);
    or a callable ``score(y_true, y_pred) -> float``.
    """
    fn = _SCORES.get(score) if isinstance(score, str) else score
    if fn is None or not callable(fn):
        raise ValueError(f"score must be 'accuracy', 'neg_mse' or a callable, got {score!r}")
    return float(fn(y_true, y_pred))


@dataclass
class HillClimbResult:
    """Outcome of :func:`hill_climb`.

    weights : dict name -> float, normalised to sum 1, 0.0 for models never picked.
    score : validation score of the weighted ensemble.
    history : list of (step, added model, mixing weight, score after the step); step 0 is
        the best single model with weight 1.0. A step mixes ``(1 - w) * current + w * model``.
    """

    weights: dict
    score: float
    history: list = field(default_factory=list)

    @property
    def members(self) -> list[str]:
        """Models with a non-zero weight."""
        return [n for n, w in self.weights.items() if w != 0]


def hill_climb(valid_preds, y_valid, names: Sequence[str] | None = None, *, score="accuracy",
               max_iter: int = 100, weight_grid: Sequence[float] | None = None,
               tol: float = 1e-12) -> HillClimbResult:
    """Greedy weighted ensemble fitted on validation predictions (Caruana et al. 2004).

    Starts from the best single model, then at each step tries adding every model (already
    chosen ones included) and keeps the addition that raises the validation score most; stops
    when no addition raises it by more than ``tol`` or after ``max_iter`` additions.

    Parameters
    ----------
    valid_preds : dict name -> (n, 4), or a list with ``names``
        Raw outputs of each candidate on the *validation* set. Never pass test predictions:
        the weights would then be fitted on the test set.
    y_valid : int array (n, 4)
        Validation Hodge numbers (rows with unknown entries are dropped).
    score : "accuracy", "neg_mse" or callable
        See :func:`ensemble_score`.
    max_iter : int
        Most additions after the first model.
    weight_grid : sequence of float in (0, 1], optional
        ``None`` (default): selection with replacement -- each addition counts once, so
        weights are integer counts / total (the mixing weight of a step is 1 / (count + 1)).
        Otherwise each candidate is tried with every mixing weight ``w`` of the grid:
        ``(1 - w) * current + w * model``.

    Returns
    -------
    HillClimbResult
        Deterministic: ties go to the model first in name order (then the smaller weight).
    """
    order, stacked = _candidates(valid_preds, names)
    y = as_predictions(y_valid, "y_valid")
    if len(y) != stacked.shape[1]:
        raise ValueError(f"y_valid has {len(y)} rows, the predictions {stacked.shape[1]}")
    known = np.all(y >= 0, axis=1)
    y, stacked = y[known], stacked[:, known]
    if len(y) == 0:
        raise ValueError("no validation rows with known Hodge numbers")
    if weight_grid is not None:
        weight_grid = sorted(float(w) for w in weight_grid)
        if not weight_grid or not all(0 < w <= 1 for w in weight_grid):
            raise ValueError("weight_grid must hold mixing weights in (0, 1]")
    if max_iter < 0:
        raise ValueError(f"max_iter must be >= 0, got {max_iter}")
    weights, best, history = _climb(stacked, order, lambda pred: ensemble_score(y, pred, score),
                                    max_iter, weight_grid, tol)
    return HillClimbResult(weights={n: float(w) for n, w in zip(order, weights)}, score=best,
                           history=history)


def _candidates(valid_preds, names) -> tuple[list[str], np.ndarray]:
    """(names in sorted order, their predictions stacked (models, n, 4)) of :func:`hill_climb`'s input."""
    if isinstance(valid_preds, Mapping):
        if names is not None:
            raise ValueError("pass names only with a list of predictions")
        pool = dict(valid_preds)
    else:
        valid_preds = list(valid_preds)
        names = list(names) if names is not None else [f"model_{i}" for i in range(len(valid_preds))]
        if len(names) != len(valid_preds) or len(set(names)) != len(names):
            raise ValueError("names must be unique, one per prediction array")
        pool = dict(zip(names, valid_preds))
    if not pool:
        raise ValueError("hill climbing needs at least one model")
    order = sorted(pool)
    return order, _stack([pool[n] for n in order])


def _climb(stacked, order, scored, max_iter: int, weight_grid, tol: float):
    """The greedy steps of :func:`hill_climb`: (weights in ``order``, best score, history)."""
    singles = [scored(p) for p in stacked]
    first = int(np.argmax(singles))  # argmax takes the first maximum: name order breaks ties
    weights = np.zeros(len(order))
    weights[first] = 1.0
    current, best = stacked[first].copy(), singles[first]
    history = [(0, order[first], 1.0, best)]
    n_added = 1  # integer-count mode: models picked so far
    for step in range(1, max_iter + 1):
        grid = [1.0 / (n_added + 1)] if weight_grid is None else weight_grid
        choice = None
        for i in range(len(order)):
            for w in grid:
                s = scored((1 - w) * current + w * stacked[i])
                if s > best + tol and (choice is None or s > choice[0]):
                    choice = (s, i, w)
        if choice is None:
            break
        best, i, w = choice
        current = (1 - w) * current + w * stacked[i]
        weights *= 1 - w
        weights[i] += w
        n_added += 1
        history.append((step, order[i], float(w), best))
    weights /= weights.sum()  # exact normalisation after repeated products
    return weights, best, history


# --------------------------------------------------------------------------- paper ensembles
def paper_ensembles(test: str = "72") -> list[str]:
    """Names of the paper's ensembles evaluated on a test set ("72": Tables 5, 7; "80": Table 9)."""
    table = published.accuracy_table(str(test), kind="ensemble")
    return [name for name in PAPER_ENSEMBLES if name in table.index]


def resolve_ensemble(name: str, test: str = "72") -> list[str]:
    """Run names (``<arch>_<split>``) of a paper ensemble's members for a test set."""
    if name not in paper_ensembles(test):
        raise UnknownNameError(f"{name!r} is not one of the paper's ensembles on the {test}% test set; "
                       f"known: {paper_ensembles(test)}")
    return published.ensemble_members(name, test)


# --------------------------------------------------------------------------- runs
def load_run(run_dir):
    """(model, config) of a run directory (or its ``model.pt``): :func:`cicy4lib.models.checkpoint.load_model`."""
    from ..models.checkpoint import load_model  # lazy: imports torch

    return load_model(run_dir)


def compatible_runs(runs_dir, test: str = "72") -> tuple[dict[str, Path], dict[str, str]]:
    """Runs whose training data leaves the ``test`` ("72"/"80") test set unseen.

    Returns (usable: run name -> run dir, excluded: run name -> reason).
    """
    usable, excluded = {}, {}
    for run, path in find_runs(runs_dir).items():
        run_split = _run_split(path)
        if run_split in _COMPATIBLE_SPLITS[test]:
            usable[run] = path
        else:
            excluded[run] = f"trained on split {run_split!r}, which may overlap the {test}% test set"
    return usable, excluded


def _run_split(run_dir: Path) -> str | None:
    """The split a run was trained on: model.json's "split", else the run name's suffix."""
    try:
        split = json.loads((run_dir / "model.json").read_text()).get("split")
    except (OSError, ValueError, AttributeError, RecursionError):  # damaged model.json: load_model says why
        split = None
    if split is None and "_" in run_dir.name:
        split = run_dir.name.rsplit("_", 1)[1]
    return None if split is None else str(split)


def find_runs(runs_dir) -> dict[str, Path]:
    """Run directories under ``runs_dir`` that hold a ``model.pt`` (or a scikit-learn model,
    ``model.skops``: :mod:`cicy4lib.models.trees`), by name (sorted)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"runs directory {runs_dir} does not exist (runs go there with `python -m "
                                f"cicy4lib train MODEL --output-dir {runs_dir}`; or pass --runs-dir)")
    found = [*runs_dir.glob("*/model.pt"), *runs_dir.glob("*/model.skops")]
    return {p.parent.name: p.parent for p in sorted(found, key=lambda p: p.parent.name)}


def predict_runs(run_dirs, data, idx=None, batch_size: int = 4096, device=None, *,
                 split=None, canonical: bool = False) -> dict[str, np.ndarray]:
    """Raw predictions of several saved runs on rows ``idx`` of ``data``.

    Parameters
    ----------
    run_dirs : dict name -> path, or list of paths (named by directory)
        Run directories or ``model.pt`` files. Each input is scaled with the run's recorded scale.
    idx : index array, or dict key -> index array
        With a dict, each model is loaded once and the result is ``{name: {key: (n, 4)}}``
        (e.g. ``{"valid": split.valid, "test": split.test}``).
    split : Split, optional
        The split ``idx`` comes from: a run trained on other data than ``data`` with ``split`` then
        warns :class:`~cicy4lib.errors.DataMismatchWarning` (its scores are not those of its own test
        set), as :func:`cicy4lib.results.evaluate.evaluate` does.
    canonical : bool
        Canonical-form inputs (:func:`cicy4lib.results.evaluate.predict`'s option): any row and column
        order of a configuration gets the same prediction.

    Returns
    -------
    dict name -> float32 (n, 4)
    """
    if not isinstance(run_dirs, Mapping):
        from ..models.checkpoint import run_dir_of  # lazy: imports torch

        run_dirs = {run_dir_of(p).name: p for p in run_dirs}
    out = {}
    for name, path in run_dirs.items():
        model, config = load_run(path)
        if split is not None:
            from ..training.runs import warn_if_other_data  # lazy: imports torch

            warn_if_other_data(config.get("data_fingerprint"), data, split, path)
        scale = config.get("scale")
        if isinstance(idx, Mapping):
            out[name] = {key: predict(model, data, rows, batch_size=batch_size, device=device, scale=scale,
                                      canonical=canonical) for key, rows in idx.items()}
        else:
            out[name] = predict(model, data, idx, batch_size=batch_size, device=device, scale=scale,
                                canonical=canonical)
        del model  # one model in memory at a time
    return out


def _test_name(split) -> str:
    name = str(getattr(split, "name", split))
    return "80" if name == "80" else "72"  # CV folds and the 72% split share the 72% test set


def _accuracy_rows(name: str, group: str, pred, y, euler) -> tuple[list[dict], int]:
    hodge, fallback = constrain(pred, euler)
    # kinds: "raw" = rounded outputs; "constrained" = h31, h22 from h11, h21 and χ (see evaluate)
    rows = []
    for kind, values in (("raw", pred), ("constrained", hodge)):
        acc = metrics_table(y, values)["accuracy"]
        rows.append({"name": name, "kind": kind, "group": group, **acc.to_dict()})
    return rows, int(fallback.sum())


@dataclass
class EnsembleResults:
    """What :func:`ensemble_results` computes: the accuracy table and, as values, what is said beneath it.

    ``table`` is indexed by (name, kind) as :func:`run_ensembles` describes; the other fields are
    the ones :func:`run_ensembles` also puts into ``table.attrs`` for notebooks written against it.
    """

    table: pd.DataFrame
    weights: dict  # hill-climb weights by run name ({} without a hill climb)
    members: dict  # row name -> run names
    missing: dict  # paper ensemble -> its missing run names
    excluded: dict  # run name -> why it was left out
    fallbacks: dict  # row name -> constraint fallbacks
    valid_score: dict  # row name -> validation score (the hill climb)
    test: str  # "72" or "80"
    impossible: dict  # row name -> impossible raw values (evaluate.impossible_counts)
    data: str  # the data label
    n_test: int

    def notes(self) -> dict:
        """Every field but ``table``: what is said beneath the table (:func:`ensemble_notes`)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "table"}

    def as_frame(self) -> pd.DataFrame:
        """The table with the other fields in ``attrs`` (:func:`run_ensembles`' return value)."""
        table = self.table.copy()
        table.attrs.update(self.notes())
        return table


def _select_members(runs_dir, members, available: dict, test: str) -> tuple[list, dict]:
    """(member run names, {excluded run: reason}): the given ones (checked), else every run whose
    split keeps the test set unseen."""
    if members is None:
        usable, excluded = compatible_runs(runs_dir, test)
        return list(usable), excluded
    members = list(members)
    unknown = [m for m in members if m not in available]
    if unknown:
        raise FileNotFoundError(f"no model.pt under {runs_dir} for runs {unknown}; have {sorted(available)}")
    risky = [m for m in members if _run_split(available[m]) not in _COMPATIBLE_SPLITS[test]]
    if risky:
        warnings.warn(f"runs {risky} were not trained on a split that keeps the {test}% test set "
                      "unseen; their test accuracies may be inflated", stacklevel=3)
    return members, {}


def _paper_ensembles_present(names, test: str, available: dict) -> tuple[dict, dict]:
    """({paper ensemble: its runs} whose members all exist, {paper ensemble: missing runs})."""
    ensembles, missing = {}, {}
    for name in (paper_ensembles(test) if names is None else names):
        runs = resolve_ensemble(name, test)
        absent = [r for r in runs if r not in available]
        if absent:
            missing[name] = absent
        else:
            ensembles[name] = runs
    return ensembles, missing


def _predict_needed(needed, available, members, data, split, climb, batch_size, device,  # ensemble_results' state
                    canonical) -> tuple[dict, dict]:
    """Test predictions of every needed run, validation predictions of the hill climb's candidates;
    each model is loaded once."""
    test_idx, valid_idx = np.asarray(split.test), np.asarray(split.valid)
    test_preds, valid_preds = {}, {}
    for run in needed:
        subsets = {"test": test_idx, "valid": valid_idx} if climb and run in members else {"test": test_idx}
        preds = predict_runs({run: available[run]}, data, subsets, batch_size=batch_size, device=device,
                             split=split, canonical=canonical)[run]
        test_preds[run] = preds["test"]
        if "valid" in preds:
            valid_preds[run] = preds["valid"]
    return test_preds, valid_preds


# twelve parameters: the public API as notebooks and the command line call it
def ensemble_results(runs_dir, data, split="72", names=None, members=None, hill_climb: bool = True,
                     seed: int | None = None, *, score="accuracy", batch_size: int = 4096, device=None,
                     baselines: bool = True, canonical: bool = False) -> EnsembleResults:
    """:func:`run_ensembles` as a value: the table and what is said beneath it as fields.

    Parameters and errors are :func:`run_ensembles`'.

    Returns
    -------
    EnsembleResults
    """
    split = as_split(data, split, seed=seed, parts=("train", "valid", "test"))
    test = _test_name(split)
    available = find_runs(runs_dir)
    members, excluded = _select_members(runs_dir, members, available, test)
    ensembles, missing = _paper_ensembles_present(names, test, available)
    if names is not None and not ensembles and not members:
        detail = "; ".join(f"{n}: no run for {', '.join(a)}" for n, a in missing.items())
        raise ValueError(f"none of the ensembles {list(names)} has all its members under {runs_dir}"
                         + (f" ({detail})" if detail else ""))
    if not members and not ensembles:
        raise FileNotFoundError(f"no usable runs (*/model.pt) under {runs_dir}")

    needed = list(dict.fromkeys([*members, *(r for runs in ensembles.values() for r in runs)]))
    climb = hill_climb and bool(members)
    test_preds, valid_preds = _predict_needed(needed, available, members, data, split, climb, batch_size, device,
                                              canonical)
    test_idx = np.asarray(split.test)
    y_test, euler_test = np.asarray(data.hodge)[test_idx], verified_euler(data, test_idx)  # exact chi

    rows, fallbacks, member_lists, impossible = [], {}, {}, {}

    def add(name, group, pred, runs):
        new, fallbacks[name] = _accuracy_rows(name, group, pred, y_test, euler_test)
        rows.extend(new)
        member_lists[name] = list(runs)
        impossible[name] = impossible_counts(pred)

    for run in members:
        group = LEARNED if baseline_rows.is_learned_baseline(_run_arch(available[run])) else "member"
        add(run, group, test_preds[run], [run])
    for name, runs in ensembles.items():
        add(name, "paper", mean_ensemble([test_preds[r] for r in runs]), runs)
    weights, valid_score = {}, {}
    if members:
        add(MEAN_ALL, "mean", mean_ensemble([test_preds[r] for r in members]), members)
    if climb:
        # Fitted on validation predictions and labels only; test rows are used just to score it.
        result = _hill_climb(valid_preds, np.asarray(data.hodge)[np.asarray(split.valid)], score=score)
        weights = result.weights
        valid_score[HILL_CLIMB] = result.score
        add(HILL_CLIMB, "hill-climb", apply_weights(test_preds, weights), result.members)
    if baselines:
        for name, preds in baseline_rows.baseline_predictions(data, split, ("test",)).items():
            add(name, baseline_rows.BASELINE_GROUP, preds["test"], [])

    table = pd.DataFrame(rows).set_index(["name", "kind"])[["group", *HODGE, "mean"]]
    return EnsembleResults(table, weights, member_lists, missing, excluded, fallbacks, valid_score, test,
                           impossible, data_label(data), int(len(test_idx)))


# twelve parameters: the public API as notebooks and the command line call it
def run_ensembles(runs_dir, data, split="72", names=None, members=None, hill_climb: bool = True,
                  seed: int | None = None, *, score="accuracy", batch_size: int = 4096, device=None,
                  baselines: bool = True, canonical: bool = False) -> pd.DataFrame:
    """Test accuracies of saved runs, the paper's ensembles of them, their mean and a hill climb.

    Parameters
    ----------
    runs_dir : path
        Holds run directories ``<run name>/model.pt`` (the trainer's layout).
    data : CICYData
    split : "72", "80", another split name, or a Split
        Test accuracies are on its test rows; the hill climb is fitted on its validation rows only.
        Paper ensembles come from the 80% tables for split "80", else from the 72% ones.
    names : list of paper ensemble names, optional
        Default: every paper ensemble of that test set whose members all exist as runs.
        Named ensembles with missing members are skipped and listed in ``attrs["missing"]``.
    members : list of run names, optional
        Runs for the member rows, "mean (all)" and the hill climb. Default: every run under
        ``runs_dir`` whose recorded split keeps the test set unseen (e.g. no "_80" run on the
        72% test set); the runs left out are listed in ``attrs["excluded"]``.
    hill_climb : bool
        Add the "hill-climb" row (weights fitted on the validation predictions).
    seed : int, optional
        Seed for resolving a split given by name; ``None`` uses the splits module's default,
        the one the trainer uses -- any other seed gives a test set the runs may have trained on.
    score : passed to :func:`hill_climb`.
    baselines : bool
        Add the rows of :mod:`cicy4lib.results.baselines` (group "baseline"), computed on the same test
        rows; members that are learned baselines (:func:`baselines.is_learned_baseline`) get
        group "baseline (learned)".
    canonical : bool
        Canonical-form inputs for every run (:func:`predict_runs`); off by default, as in
        :func:`cicy4lib.results.evaluate.evaluate`.

    Notes
    -----
    CV-fold runs ("cv0".."cv4") trained on parts of the 72% validation set, so a hill climb
    over them is fitted partly on their training rows and favours them; their test accuracies
    stay honest (the test set is shared and unseen).

    Returns
    -------
    DataFrame indexed by (name, kind): one "raw" and one "constrained" row per member run
    (by run name), paper ensemble (by paper name), "mean (all)", "hill-climb" and baseline; columns
    ``group`` ("member", "paper", "mean", "hill-climb", "baseline", "baseline (learned)") and the
    test accuracies (%) ``h11, h21, h31, h22, mean``. attrs: ``weights`` (hill-climb weights by run
    name, {} without it), ``impossible`` {row name: impossible raw values, see
    :func:`evaluate.impossible_counts`}, ``data`` (the data label),
    ``members`` {row name: run names}, ``missing`` {paper ensemble: missing run names},
    ``excluded`` {run name: reason}, ``fallbacks`` {row name: constraint fallbacks},
    ``valid_score`` {row name: validation score} for the hill-climb, ``test`` ("72"/"80").
    """
    return ensemble_results(runs_dir, data, split, names, members, hill_climb, seed, score=score,
                            batch_size=batch_size, device=device, baselines=baselines,
                            canonical=canonical).as_frame()

LEARNED = "baseline (learned)"


def _run_arch(run_dir: Path) -> str | None:
    """The architecture of a run: model.json's "arch", else the run name before its split."""
    try:
        arch = json.loads((Path(run_dir) / "model.json").read_text()).get("arch")
    except (OSError, ValueError, AttributeError):
        arch = None
    return arch or Path(run_dir).name.rsplit("_", 1)[0]


def default_runs_dir(cwd=None) -> Path:
    """``Results_p2_Trained_models`` in the working directory when it holds runs, else the one
    of the checkout cicy4lib lives in (where the model notebooks write by default)."""
    here = Path(cwd or Path.cwd()) / DEFAULT_RUNS_DIR
    checkout = Path(__file__).resolve().parents[2] / DEFAULT_RUNS_DIR  # cicy4lib/results/ensemble.py -> the checkout
    for candidate in (here, checkout):
        if candidate.is_dir() and (any(candidate.glob("*/model.pt")) or any(candidate.glob("*/model.skops"))):
            return candidate
    return here


def ensemble_command(runs_dir, data, split="72", names=None, members=None, hill_climb=False,
                     out=print) -> int:
    """``python -m cicy4lib ensemble``: run, print :func:`ensemble_report`, and return the exit
    status -- 1 when none of the asked-for ensembles (``names``) could be built."""
    if runs_dir is None:
        runs_dir = default_runs_dir()
        out(f"runs: {runs_dir}")
    results = ensemble_results(runs_dir, data, split=split, names=names or None, members=members or None,
                               hill_climb=hill_climb)
    out(ensemble_report(results))
    if names:
        built = [n for n in names if n in results.table.index.get_level_values("name")]
        if not built:
            out(f"error: none of the asked-for ensembles {', '.join(names)} could be built (see above)")
            return 1
    return 0


_hill_climb = hill_climb  # run_ensembles' `hill_climb` flag shadows the function inside it
