"""Predictions, metric tables and χ-constrained Hodge numbers.

Conventions (the paper's, SPEC.md §3 and §9.1 of arXiv:2405.17406):

* **Accuracy** is the percentage (0-100) of exact matches after rounding each raw prediction
  to the nearest integer.
* **MSE, MAE and R²** are computed on the *rounded* predictions, per Hodge number with
  scikit-learn, and their "mean" row is the plain average over the four Hodge numbers. The
  paper does not say which it used, but its tables only fit rounded predictions: every
  reported MSE is at least the MAE (true for integer errors, false for typical sub-unit raw
  residuals), and e.g. CNN-LSTM-400 has h11 accuracy 99.74% with MAE 0.003 -- the 0.26%
  misses alone give MAE >= 0.0026, leaving no room for the raw residuals of the other 99.74%.
  ``metrics_table(..., rounded=False)`` gives the raw-output regression metrics instead.
* **Rounding** is ``np.rint``: round half to even, as ``np.round`` and ``torch.round`` (the
  notebooks' choices) also do. An exact .5 from a float network output is practically never
  seen, so the tie rule does not move any published number.
* Rows whose true Hodge numbers are unknown (``-1``) are left out of every metric.

**Constrained** predictions (what "constrained" changes, exactly): h11 and h21 are the *rounded
raw* predictions, unchanged -- nothing is clipped; h31 and h22 are replaced by the values the
exact Euler number χ of each configuration implies (SPEC.md §1):
h31 = χ/6 − 8 − h11 + h21 and h22 = 44 + 4·h11 − 2·h21 + 4·h31. Where that is impossible -- a
predicted h11 < 1 or h21 < 0, χ unknown or not divisible by 6, a derived h31 < 20 (the list's
minimum) or h22 < 0 -- the row keeps its rounded raw h31, h22 and is counted as a *fallback*.
So constrained and raw accuracies of h11 and h21 are always equal.

**Impossible predictions** (:func:`impossible_counts`): rounded raw values no CICY four-fold
has -- h11 < 1, h21 < 0, h31 < 20, h22 < 0 -- are counted per Hodge number and shown beside
every table; they are scored as they are (wrong), never clipped silently.
:func:`clip_to_range` is there for whoever wants clipping, as its own, labelled step.

>>> import numpy as np
>>> hodge, fallback = constrain(np.array([[1.2, 0.1, 400.0, 1700.0]]), np.array([2610]))
>>> hodge.tolist(), fallback.tolist()
([[1, 0, 426, 1752]], [False])
>>> constrain(np.array([[1.2, -0.9, 400.0, 1700.0]]), np.array([2610]))[0].tolist()  # h21 < 0 kept
[[1, -1, 400, 1700]]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import DEFAULT_SCALE, HODGE, TARGETS
from ..data.checks import verified_euler
from ..data.label import data_label, provenance
from ..data.splits import as_split
from ..fileio import atomic_write_json
from .baselines import BASELINE_GROUP, baseline_predictions
from .tables import format_table, markdown_table  # text tables live in tables.py; names kept here for callers

__all__ = [
    "HODGE", "TARGETS", "METRICS", "H31_MIN", "MINIMUM", "predict", "round_predictions", "metrics_table",
    "constrain", "impossible_counts", "clip_to_range", "evaluate", "evaluate_results", "Evaluation", "evaluation_of", "accuracy_summary", "metric_summary",
    "format_table", "markdown_table", "write_metrics", "evaluate_report", "baseline_table",
]

METRICS = ("accuracy", "mse", "mae", "r2")
# Smallest h31 in the CICY4 list (SPEC.md §1): a derived h31 below it is certainly wrong.
H31_MIN = 20
# Smallest value each Hodge number takes on any CICY four-fold: a rounded prediction below it
# is impossible (counted by impossible_counts, never clipped silently).
MINIMUM = {"h11": 1, "h21": 0, "h31": H31_MIN, "h22": 0}


def as_predictions(pred, name: str = "pred") -> np.ndarray:
    pred = np.asarray(pred)
    if pred.ndim != 2 or pred.shape[1] != 4:
        raise ValueError(f"{name} must have shape (n, 4) (h11, h21, h31, h22), got {pred.shape}")
    return pred


def round_predictions(pred) -> np.ndarray:
    """Raw outputs -> int64 Hodge numbers, rounding half to even (``np.rint``)."""
    pred = np.asarray(pred)
    if np.issubdtype(pred.dtype, np.integer):
        return pred.astype(np.int64)
    if not np.all(np.isfinite(pred)):
        raise ValueError("predictions contain NaN or infinity (a diverged model?)")
    return np.rint(pred).astype(np.int64)


# --------------------------------------------------------------------------- prediction
def _features(data, idx, scale):
    """Float32 model input for rows ``idx`` of a CICYData (or of an array of matrices)."""
    if hasattr(data, "conf"):
        if scale is None and hasattr(data, "features"):
            return np.asarray(data.features(idx), dtype=np.float32)
        conf = data.conf[idx]
        scale = float(scale if scale is not None else data.scale)
        return conf.astype(np.float32) / np.float32(scale)
    arr = np.asarray(data)[idx]
    if np.issubdtype(arr.dtype, np.integer):
        if scale is None:
            raise ValueError("integer matrices need a scale (the dataset's divisor, e.g. 6.0)")
        return arr.astype(np.float32) / np.float32(scale)
    return arr.astype(np.float32, copy=False)


def _n_rows(data) -> int:
    return len(data.conf) if hasattr(data, "conf") else len(data)


def canonical_matrices(conf, scale=None) -> np.ndarray:
    """Every matrix mapped to its canonical form under row and column permutations.

    The canonical form is :func:`cicy4lib.geometry.generate.canonical_form` of the occupied block
    (the nonzero rows and columns, wherever they sit), placed top-left in the same padded shape;
    matrices that differ only by an ordering of rows or columns map to the same array. The
    generated set is stored in canonical form, so on it this is the identity. Repeated matrices
    are computed once; about 1.3 ms per distinct matrix on one CPU core.

    Parameters
    ----------
    conf : array (N, R, C)
        Padded matrices: integer degrees, or floats (degrees / ``scale``).
    scale : float, optional
        For float input: the divisor (default 6); when ``conf * scale`` is not integral the values
        are relabelled by rank instead (still a function of the permutation class).

    Returns
    -------
    np.ndarray, same shape and dtype as ``conf``
    """
    from ..geometry.generate import canonical_form  # lazy: imports flint

    conf = np.asarray(conf)
    if conf.ndim != 3:
        raise ValueError(f"conf must have shape (N, rows, cols), got {conf.shape}")
    if not np.issubdtype(conf.dtype, np.integer):
        degrees = conf.astype(np.float64) * float(scale or DEFAULT_SCALE)
        if np.allclose(degrees, np.rint(degrees), atol=1e-4):
            ints = canonical_matrices(np.rint(degrees).astype(np.int64))
            return (ints / float(scale or DEFAULT_SCALE)).astype(conf.dtype)
    if np.issubdtype(conf.dtype, np.integer):
        values, codes = None, conf.astype(np.int64)
    else:  # float input: integer codes by rank (0 stays 0, the smallest value)
        values, inverse = np.unique(np.concatenate([[0.0], conf.ravel()]), return_inverse=True)
        codes = (inverse[1:] - inverse[0]).reshape(conf.shape).astype(np.int64)
    out = np.zeros_like(conf)
    seen: dict = {}
    for i, m in enumerate(codes):
        key = m.tobytes()
        if key not in seen:
            rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
            block = canonical_form(m[np.ix_(rows, cols)]) if len(rows) else np.zeros((0, 0), np.int64)
            full = np.zeros(m.shape, np.int64)
            full[:block.shape[0], :block.shape[1]] = block
            seen[key] = full
        full = seen[key]
        out[i] = full if values is None else values[full + np.searchsorted(values, 0.0)]
    return out


def predict(model, data, idx=None, batch_size: int = 4096, device=None, *, scale=None,
            canonical=None) -> np.ndarray:
    """Raw network outputs for rows of a dataset, in large inference batches.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float tensor (B, 16, 20) to (B, 4). It is put in eval mode (and left there).
    data : CICYData or array
        A dataset (its ``features`` are used), or an array (N, 16, 20): float arrays are taken
        as model input as they are, integer ones are divided by ``scale``.
    idx : array of int, optional
        Rows to predict (default all), e.g. ``split.test``.
    batch_size : int
        Rows per forward pass; features are built batch by batch, so memory stays bounded.
    device : str or torch.device, optional
        Where to run; the model is moved there. Default: where the model's parameters are.
    scale : float, optional
        Divisor for the integer matrices, overriding ``data.scale`` (use the checkpoint's
        recorded scale when it differs from the dataset's).
    canonical : bool or None
        Map every matrix to its canonical form under row and column permutations
        (:func:`canonical_matrices`) before the network, so that any ordering of the same
        configuration gets the same prediction (models trained on the generated set, which is stored
        canonical, see the form they were trained on). None (default): on for arrays of matrices
        (a user's input, any ordering), off for a CICYData (a dataset in its stored order; the
        generated set is canonical already). About 1.3 ms per distinct matrix.

    Returns
    -------
    np.ndarray float32 (n, 4)
    """
    import torch  # lazy: imports torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    idx = np.arange(_n_rows(data)) if idx is None else np.asarray(idx)
    if idx.ndim != 1:
        raise ValueError(f"idx must be a 1-d index array, got shape {idx.shape}")
    if device is not None:
        model.to(device)
    else:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
    if canonical is None:
        canonical = not hasattr(data, "conf")
    model.eval()
    out = np.empty((len(idx), 4), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(idx), batch_size):
            rows = idx[start:start + batch_size]
            feats = _features(data, rows, scale)
            if canonical:
                feats = canonical_matrices(feats, scale if scale is not None else getattr(data, "scale", None))
            x = torch.from_numpy(np.ascontiguousarray(feats)).to(device)
            out[start:start + len(rows)] = model(x).float().cpu().numpy()
    return out


# --------------------------------------------------------------------------- metrics
def metrics_table(y_true, y_pred, *, rounded: bool = True) -> pd.DataFrame:
    """Accuracy (%), MSE, MAE and R² per Hodge number and their mean.

    Parameters
    ----------
    y_true : int array (n, 4)
        True Hodge numbers; rows with any unknown (negative) entry are left out.
    y_pred : array (n, 4)
        Raw outputs or integer (e.g. constrained) predictions.
    rounded : bool
        Compute MSE/MAE/R² on the rounded predictions (default, as the paper's tables do);
        ``False`` uses the raw outputs. Accuracy always compares rounded predictions.

    Returns
    -------
    DataFrame indexed ``h11, h21, h31, h22, mean`` with columns ``accuracy, mse, mae, r2``;
    ``attrs["n"]`` is the number of rows scored.
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score  # lazy: imports sklearn, scipy

    y_true = as_predictions(y_true, "y_true")
    y_pred = as_predictions(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} rows but y_pred has {len(y_pred)}")
    known = np.all(y_true >= 0, axis=1)
    y_true, y_pred = y_true[known], y_pred[known]
    if len(y_true) == 0:
        raise ValueError("no rows with known Hodge numbers to score")
    y_round = round_predictions(y_pred)
    y_reg = y_round if rounded else np.asarray(y_pred, dtype=np.float64)
    rows = {}
    for j, h in enumerate(HODGE):
        rows[h] = {
            "accuracy": 100.0 * float(np.mean(y_round[:, j] == y_true[:, j])),
            "mse": float(mean_squared_error(y_true[:, j], y_reg[:, j])),
            "mae": float(mean_absolute_error(y_true[:, j], y_reg[:, j])),
            # R² needs two samples; sklearn would warn and return NaN anyway
            "r2": float(r2_score(y_true[:, j], y_reg[:, j])) if len(y_true) > 1 else np.nan,
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS))
    table.loc["mean"] = table.mean(axis=0)
    table.attrs["n"] = int(len(y_true))
    return table


# --------------------------------------------------------------------------- constraint
def constrain(pred, euler) -> tuple[np.ndarray, np.ndarray]:
    """Hodge numbers from predicted h11, h21 and the exact Euler number (nothing clipped).

    h11 and h21 are the rounded predictions as they are; then h31 = χ/6 − 8 − h11 + h21 and
    h22 = 44 + 4·h11 − 2·h21 + 4·h31. Where that is impossible -- h11 < 1 or h21 < 0 predicted,
    χ unknown (negative) or not divisible by 6, h31 < 20 (the list's minimum) or h22 < 0 --
    h31 and h22 stay the rounded raw predictions and the row is flagged.

    Parameters
    ----------
    pred : array (n, 4)
        Raw outputs (or already integer predictions).
    euler : int array (n,)
        Exact Euler numbers, ``-1`` where unknown.

    Returns
    -------
    hodge : int64 (n, 4)
    fallback : bool (n,)
        True where the raw h31/h22 were kept.
    """
    hodge = round_predictions(as_predictions(pred)).copy()
    euler = np.asarray(euler)
    if euler.shape != (len(hodge),):
        raise ValueError(f"euler must have shape ({len(hodge)},), got {euler.shape}")
    euler = euler.astype(np.int64)
    h11, h21 = hodge[:, 0], hodge[:, 1]
    h31 = euler // 6 - 8 - h11 + h21
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    fallback = ((h11 < MINIMUM["h11"]) | (h21 < MINIMUM["h21"]) | (euler < 0) | (euler % 6 != 0)
                | (h31 < H31_MIN) | (h22 < 0))
    hodge[:, 2] = np.where(fallback, hodge[:, 2], h31)
    hodge[:, 3] = np.where(fallback, hodge[:, 3], h22)
    return hodge, fallback


def impossible_counts(pred) -> dict[str, int]:
    """Rounded predictions below the smallest possible value, per Hodge number, plus ``"rows"``
    (rows with at least one impossible value). See :data:`MINIMUM`."""
    hodge = round_predictions(as_predictions(pred))
    low = hodge < np.array([MINIMUM[h] for h in HODGE])
    out = {h: int(low[:, j].sum()) for j, h in enumerate(HODGE)}
    out["rows"] = int(low.any(axis=1).sum())
    return out


def clip_to_range(pred) -> np.ndarray:
    """Rounded predictions raised to the smallest possible value of each Hodge number
    (:data:`MINIMUM`). Not used by any table unless asked for: label it "clipped" when you do."""
    hodge = round_predictions(as_predictions(pred))
    return np.maximum(hodge, np.array([MINIMUM[h] for h in HODGE]))


# --------------------------------------------------------------------------- evaluation
def _long_rows(subset: str, kind: str, table: pd.DataFrame) -> list[dict]:
    return [{"subset": subset, "kind": kind, "target": target, **table.loc[target].to_dict()}
            for target in TARGETS]


def _check_run_data(config, data, split, run) -> None:
    """A :class:`~cicy4lib.errors.DataMismatchWarning` when ``run`` is scored on other data than
    its own (:func:`cicy4lib.training.runs.warn_if_other_data`)."""
    from ..training.runs import warn_if_other_data  # lazy: imports torch

    if hasattr(data, "conf") and hasattr(data, "hodge"):
        warn_if_other_data(config.get("data_fingerprint"), data, as_split(data, split), run)


@dataclass
class Evaluation:
    """What :func:`evaluate_results` computes: the long table and, as values, what is said beneath it."""

    table: pd.DataFrame  # columns subset, kind, target, accuracy, mse, mae, r2
    fallbacks: dict  # subset -> rows where the constraint fell back to the raw values
    impossible: dict  # subset -> impossible_counts of the raw predictions
    n: dict  # subset -> rows scored

    def notes(self) -> dict:
        """Every field but ``table`` (what :func:`evaluate` also puts into its table's ``attrs``)."""
        return {"fallbacks": self.fallbacks, "impossible": self.impossible, "n": self.n}

    def as_frame(self) -> pd.DataFrame:
        """The table with :meth:`notes` in ``attrs`` (:func:`evaluate`'s return value)."""
        table = self.table.copy()
        table.attrs.update(self.notes())
        return table


def evaluation_of(results) -> Evaluation:
    """``results`` as an :class:`Evaluation`: one as it is, or :func:`evaluate`'s table rebuilt from
    its ``attrs`` -- the one place that reads them, for notebooks written against that table."""
    if isinstance(results, Evaluation):
        return results
    notes = getattr(results, "attrs", {})
    return Evaluation(results, *(dict(notes.get(k) or {}) for k in ("fallbacks", "impossible", "n")))


def evaluate(model_or_preds, data, split, *, subsets=("train", "valid", "test"), batch_size: int = 4096,
             device=None, canonical: bool = False) -> pd.DataFrame:
    """Raw and χ-constrained metrics of a model on the subsets of a split.

    Parameters
    ----------
    model_or_preds : torch.nn.Module, path, or dict
        A model; a run directory / ``model.pt`` path (loaded with ``checkpoint.load_model``,
        inputs scaled with the checkpoint's recorded scale); or precomputed raw predictions
        ``{subset: (n, 4)}`` aligned with the split's index arrays (subsets absent from the
        dict are skipped).
    data : CICYData
        Provides ``hodge`` (truth), ``euler`` (for the constraint) and the model input.
    split : Split or str
        Index arrays ``train``, ``valid``, ``test`` (a name is resolved with ``splits.get_split``).
    subsets : iterable of "train", "valid", "test"
    canonical : bool
        Map every matrix to its canonical form under row and column permutations before the
        network (:func:`predict`'s option; off by default: a dataset is scored in its stored order,
        which is the canonical form already for the generated set).

    Returns
    -------
    DataFrame
        :func:`evaluate_results`' table, with its other fields in ``attrs`` (for notebooks written
        against the table): ``attrs["fallbacks"]``, ``attrs["impossible"]`` and ``attrs["n"]``.
        New code reads them as values from :func:`evaluate_results`.
    """
    return evaluate_results(model_or_preds, data, split, subsets=subsets, batch_size=batch_size, device=device,
                            canonical=canonical).as_frame()


def evaluate_results(model_or_preds, data, split, *, subsets=("train", "valid", "test"), batch_size: int = 4096,
                     device=None, canonical: bool = False) -> Evaluation:
    """Raw and χ-constrained metrics of a model on the subsets of a split, as values.

    Parameters
    ----------
    model_or_preds, data, split, subsets, batch_size, device, canonical
        As :func:`evaluate`.

    Returns
    -------
    Evaluation
        ``table``: long DataFrame with columns ``subset, kind, target, accuracy, mse, mae, r2``;
        ``kind`` is "raw" (rounded outputs) or "constrained" (h31, h22 from χ), ``target`` h11..h22
        or "mean". ``fallbacks`` = {subset: rows where the constraint fell back to the raw values};
        ``impossible`` = {subset: :func:`impossible_counts` of the raw predictions}; ``n`` =
        {subset: rows scored}. Baselines on the same rows: :func:`baseline_metrics`.
    """
    split = as_split(data, split, parts=("train", "valid", "test"))
    subsets = tuple(subsets)
    for s in subsets:
        if s not in ("train", "valid", "test"):
            raise ValueError(f"unknown subset {s!r}; use 'train', 'valid' or 'test'")
    preds, model, scale = None, None, None
    if isinstance(model_or_preds, dict):
        preds = model_or_preds
        subsets = tuple(s for s in subsets if s in preds)
        if not subsets:
            raise ValueError(f"no predictions for the requested subsets; got keys {sorted(preds)}")
    elif isinstance(model_or_preds, (str, Path)):
        from ..models.checkpoint import load_model  # lazy: imports torch

        model, config = load_model(model_or_preds)
        scale = config.get("scale")
        _check_run_data(config, data, split, model_or_preds)
    else:
        model = model_or_preds

    rows, fallbacks, counts, impossible = [], {}, {}, {}
    for subset in subsets:
        idx = np.asarray(getattr(split, subset))
        if preds is not None:
            pred = as_predictions(preds[subset], f"predictions for {subset!r}")
            if len(pred) != len(idx):
                raise ValueError(f"predictions for {subset!r} have {len(pred)} rows, the split has {len(idx)}")
        else:
            pred = predict(model, data, idx, batch_size=batch_size, device=device, scale=scale,
                           canonical=canonical)
        y_true = np.asarray(data.hodge)[idx]
        raw = metrics_table(y_true, pred)
        hodge, fallback = constrain(pred, verified_euler(data, idx))  # exact chi, never an unchecked one
        rows += _long_rows(subset, "raw", raw)
        rows += _long_rows(subset, "constrained", metrics_table(y_true, hodge))
        fallbacks[subset] = int(fallback.sum())
        impossible[subset] = impossible_counts(pred)
        counts[subset] = int(np.all(y_true >= 0, axis=1).sum())  # the rows metrics_table scores
    table = pd.DataFrame(rows, columns=["subset", "kind", "target", *METRICS])
    return Evaluation(table, fallbacks, impossible, counts)


def baseline_table(data, split, subset: str = "test") -> pd.DataFrame:
    """Accuracy (%) of each baseline on ``subset``, raw and constrained, in the layout of
    :func:`cicy4lib.results.ensemble.run_ensembles` (index (name, kind), columns group, h11..h22, mean)."""
    idx = np.asarray(getattr(split, subset))
    y, euler = np.asarray(data.hodge)[idx], verified_euler(data, idx)
    rows = []
    for name, preds in baseline_predictions(data, split, (subset,)).items():
        pred = preds[subset]
        hodge, _ = constrain(pred, euler)
        for kind, values in (("raw", pred), ("constrained", hodge)):
            acc = metrics_table(y, values)["accuracy"]
            rows.append({"name": name, "kind": kind, "group": BASELINE_GROUP, **acc.to_dict()})
    return pd.DataFrame(rows).set_index(["name", "kind"])[["group", *HODGE, "mean"]]


def baseline_metrics(data, split, *, subsets=("test",)) -> pd.DataFrame:
    """:func:`evaluate`'s long table for every baseline of :mod:`cicy4lib.results.baselines` on the same
    rows, with a leading ``name`` column (the baseline's name)."""
    split = as_split(data, split, parts=("train", "valid", "test"))
    frames = []
    for name, preds in baseline_predictions(data, split, tuple(subsets)).items():
        frames.append(evaluate(preds, data, split, subsets=subsets).assign(name=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["name", "subset", "kind", "target", *METRICS]]


def accuracy_summary(df: pd.DataFrame, subset: str = "test", metric: str = "accuracy") -> pd.DataFrame:
    """Wide view of :func:`evaluate`'s table for one subset.

    Returns
    -------
    DataFrame indexed by kind ("raw", "constrained") with columns h11, h21, h31, h22, mean
    holding ``metric`` (accuracy in percent by default).
    """
    part = df[df["subset"] == subset]
    if part.empty:
        raise ValueError(f"no rows for subset {subset!r}; have {sorted(df['subset'].unique())}")
    wide = part.pivot(index="kind", columns="target", values=metric)
    kinds = [k for k in ("raw", "constrained") if k in wide.index]
    wide = wide.reindex(index=kinds, columns=list(TARGETS))
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------- reports
def metric_summary(model_table: pd.DataFrame, name: str, baselines: pd.DataFrame | None = None, *,
                   subset: str = "test", group: str = "model") -> pd.DataFrame:
    """One subset's metrics of a model and its baselines, long by metric.

    Returns
    -------
    DataFrame indexed (metric, name, kind) with columns ``group`` ("model", "baseline") and
    h11, h21, h31, h22, mean: accuracy in percent, MSE, MAE and R² of the rounded predictions.
    """
    frames = [model_table[model_table["subset"] == subset].assign(name=name, group=group)]
    if baselines is not None and len(baselines):
        frames.append(baselines[baselines["subset"] == subset].assign(group="baseline"))
    long = pd.concat(frames, ignore_index=True)
    out = long.melt(id_vars=["name", "group", "kind", "target"], value_vars=list(METRICS), var_name="metric")
    wide = out.pivot_table(index=["metric", "name", "kind"], columns="target", values="value", sort=False)
    wide = wide.reindex(columns=list(TARGETS))
    wide.columns.name = None
    groups = long.drop_duplicates("name").set_index("name")["group"]
    wide.insert(0, "group", [groups[n] for n in wide.index.get_level_values("name")])
    order = {m: i for i, m in enumerate(METRICS)}
    return wide.sort_index(level="metric", key=lambda idx: idx.map(order), sort_remaining=False)


_DECIMALS = {"accuracy": 2, "mse": 3, "mae": 3, "r2": 3}


def write_metrics(run_dir, summary: pd.DataFrame, *, data=None, split=None, extra: dict | None = None) -> Path:
    """Write ``metrics.json`` beside ``model.pt``: the evaluated metrics (rounded), the data's
    provenance and the split; returns its path. (``model.json`` is the checkpoint's and stays
    as training wrote it.)"""
    run_dir = Path(run_dir)
    run_dir = run_dir.parent if run_dir.suffix == ".pt" else run_dir
    metrics = {}
    for (metric, name, kind), row in summary.iterrows():
        decimals = _DECIMALS.get(metric, 3)
        values = {t: (None if pd.isna(row[t]) else round(float(row[t]), decimals)) for t in TARGETS}
        metrics.setdefault(name, {"group": row["group"]}).setdefault(kind, {})[metric] = values
    payload = {"split": None if split is None else str(getattr(split, "name", split)),
               "data": provenance(data) if data is not None else None,
               "metrics": metrics, **(extra or {})}
    path = run_dir / "metrics.json"
    atomic_write_json(payload, path, sort_keys=False)
    return path


def evaluate_report(run, data, split=None, *, write: bool = True, batch_size: int = 4096, device=None):
    """What ``python -m cicy4lib evaluate RUN`` prints: all four metrics of one saved run on the
    test set, raw and constrained, beside the baselines on the same rows; the train/valid/test
    accuracies; impossible raw values and constraint fallbacks. Writes ``metrics.json`` into
    the run directory unless ``write=False``.

    Returns (text, summary DataFrame of :func:`metric_summary`, :func:`evaluate`'s table).
    """
    from ..models.checkpoint import load_model  # lazy: imports torch

    model, config = load_model(run)
    split_name = split or config.get("split", "72")
    split_obj = as_split(data, str(split_name)) if not hasattr(split_name, "test") else split_name
    _check_run_data(config, data, split_obj, run)
    results = evaluate_results(model, data, split_obj, batch_size=batch_size, device=device)
    table = results.table
    base = baseline_metrics(data, split_obj)
    arch = config.get("arch", Path(run).name)
    summary = metric_summary(table, arch, base)
    label = data_label(data)
    name = getattr(split_obj, "name", split_name)
    lines = [f"== {arch} ({Path(run)}) on {label}; split {name}, {results.n.get('test', 0):,} test rows",
             "Raw = rounded network outputs; constrained = h11, h21 as predicted, h31 and h22 from them "
             "and the exact χ (nothing clipped). Baselines are computed on the same test rows."]
    titles = {"accuracy": "test accuracy (%)", "mse": "test MSE", "mae": "test MAE", "r2": "test R²"}
    for metric in METRICS:
        block = summary.xs(metric, level="metric")
        lines += ["", titles[metric], format_table(block, _DECIMALS[metric])]
    acc = table.pivot_table(index=["subset", "kind"], columns="target", values="accuracy", sort=False)
    acc = acc.reindex(columns=list(TARGETS))
    acc.columns.name = None
    lines += ["", "accuracy (%) on every subset", format_table(acc)]
    for subset, counts in results.impossible.items():
        if counts.get("rows"):
            detail = ", ".join(f"{h} < {MINIMUM[h]}: {counts[h]}" for h in HODGE if counts[h])
            lines.append(f"impossible raw predictions on {subset}: {counts['rows']} rows ({detail}); "
                         "scored as they are, not clipped")
    fb = {k: v for k, v in results.fallbacks.items() if v}
    if fb:
        lines.append(f"constraint fallbacks (raw h31, h22 kept where χ gives an impossible value): {fb}")
    if write:
        run_dir = Path(run)
        path = write_metrics(run_dir, summary, data=data, split=name,
                             extra={"impossible": results.impossible, "fallbacks": results.fallbacks})
        lines.append(f"wrote {path}")
    return "\n".join(lines), summary, results.as_frame()
