"""Figures in the style of the paper, with matplotlib and seaborn.

Every function takes its data, the output ``path`` and keyword-only ``title=None``,
``sample=False`` and ``data=None``; it writes one PNG at 150 dpi and returns the ``Path``.
The data label: pass the dataset as ``data`` (its provenance decides, see
:mod:`cicy4lib.data.label`), or ``sample=True`` (the embedded sample) or ``sample="<note>"``.
Any figure of data that is not the real CICY4 list carries the note in its title, e.g.
"(embedded sample, 10,000 configurations – not the CICY4 list)", so it can never pass for a
result on the real list. The title is stored in the PNG's ``Title`` text chunk and the data
label in its ``Data`` chunk (read them back with :func:`png_title`, :func:`png_text`).

Readability rules: integer ticks on Hodge-number axes; loss axes in plain numbers (a log axis
only when the values span more than two decades, still labelled in plain numbers) with the
constant predictor's loss as a reference line; metric axes clipped to the paper's scale (R²
in [−1, 1], accuracy in [0, 100]) with off-scale values written beside their bar; the paper's
published values beside non-list data only when asked, and then in a separate, labelled panel.
Baselines (:mod:`cicy4lib.results.baselines`) are drawn in grey.

Figures are built on :class:`matplotlib.figure.Figure` directly, not through ``pyplot``: no
GUI backend is touched (safe on headless machines and under papermill) and nothing is left
open after saving.

Stable file names for ``Results_p1_Figures/`` come from :func:`figure_name`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator
from PIL import Image

from ..constants import HODGE
from ..data.label import figure_note
from .baselines import is_learned_baseline, list_baselines
from .published import ENSEMBLE_MEMBERS

HODGE_LABELS = {"h11": "$h^{1,1}$", "h21": "$h^{2,1}$", "h31": "$h^{3,1}$", "h22": "$h^{2,2}$"}
SAMPLE_LABEL = "(embedded sample, not the CICY4 list)"
DPI = 150
MODEL_COLOR, ENSEMBLE_COLOR, BASELINE_COLOR, PAPER_COLOR = "#4c72b0", "#dd8452", "#9a9a9a", "#55a868"
R2_FLOOR = -1.0  # R² axes stop here; worse values are written beside their bar

__all__ = [
    "SAMPLE_LABEL", "figure_name", "png_title", "png_text", "make_title", "plot_hodge_distributions",
    "plot_training_curves", "plot_curves_overview", "plot_ranking", "plot_metric_comparison",
]


def figure_name(kind: str, *parts) -> str:
    """Stable file name, e.g. ``figure_name("ranking", "72", "h11") -> "fig_ranking_72_h11.png"``."""
    words = [kind, *(str(p) for p in parts if p is not None and str(p) != "")]
    return "fig_" + "_".join(w.replace("/", "-").replace(" ", "-") for w in words) + ".png"


def _note(sample, data=None) -> str | None:
    """The data note of a figure: from ``data`` (a dataset) or ``sample`` (True or a string)."""
    if data is not None:
        return figure_note(data)
    if isinstance(sample, str):
        return sample if sample.startswith("(") else f"({sample})"
    return SAMPLE_LABEL if sample else None


def make_title(title: str | None, default: str, sample=False, data=None) -> str:
    """The figure title: ``title`` (or ``default``) plus the data note where the data is not the
    real list (``sample`` True or a note string, or a dataset as ``data``)."""
    text = title if title else default
    note = _note(sample, data)
    if note and note not in text:
        text = f"{text}\n{note}"
    return text


def png_title(path) -> str:
    """Read back the title stored in a PNG written by this module."""
    return png_text(path).get("Title", "")


def png_text(path) -> dict:
    """All text chunks of a PNG written here (Title, Data, Software)."""
    with Image.open(path) as image:
        return dict(image.text)


def _save(fig: Figure, path, title: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.suptitle(title)
    note = title.split("\n", 1)[1] if "\n" in title else "the CICY4 list (no data note)"
    fig.savefig(path, dpi=DPI, metadata={"Title": title.replace("\n", " "), "Software": "cicy4lib",
                                         "Data": note})
    fig.clear()  # free the memory now; the Figure is not registered with pyplot
    return path


def _as_subsets(hodge) -> dict[str, np.ndarray]:
    """Accept one (N, 4) array or a mapping subset name -> (n, 4) array."""
    if isinstance(hodge, Mapping):
        subsets = {str(k): np.asarray(v) for k, v in hodge.items()}
    else:
        subsets = {"all": np.asarray(hodge)}
    for name, arr in subsets.items():
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError(f"Hodge array {name!r} must have shape (n, 4), got {arr.shape}")
    if not subsets:
        raise ValueError("no Hodge arrays to plot")
    return subsets


def plot_hodge_distributions(hodge, path, *, title=None, sample=False, data=None) -> Path:
    """Histograms of h11, h21, h31, h22 (the paper's Figs. 1-2 and 38-42).

    Parameters
    ----------
    hodge : (N, 4) int array or mapping subset -> (n, 4) array
        E.g. ``{"train": ..., "valid": ..., "test": ...}``; unknown values (-1) are ignored.
        Several subsets are drawn as overlaid step histograms of their *share* in percent, so
        subsets of different sizes compare directly.
    path : output PNG
    """
    import seaborn as sns  # lazy: imports seaborn, scipy

    subsets = _as_subsets(hodge)
    several = len(subsets) > 1
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    palette = sns.color_palette("deep", len(subsets))
    for k, (ax, h) in enumerate(zip(axes, HODGE)):
        known = [arr[:, k][arr[:, k] >= 0] for arr in subsets.values()]
        known_all = np.concatenate(known)
        if known_all.size == 0:
            ax.set_visible(False)
            continue
        # integer-aligned bins shared by every subset, at most ~80 of them
        lo, hi = int(known_all.min()), int(known_all.max())
        step = max(1, int(np.ceil((hi - lo + 1) / 80)))
        edges = np.arange(lo, hi + step + 1, step) - 0.5
        for color, name, values in zip(palette, subsets, known):
            if values.size == 0:
                continue
            counts, _ = np.histogram(values, bins=edges)
            label = f"{name} (n={values.size:,})"
            if several:  # share in percent: subsets of different sizes compare directly
                ax.stairs(100.0 * counts / values.size, edges, color=color, linewidth=1.3, label=label)
            else:
                ax.stairs(counts, edges, color=color, fill=True, alpha=0.85, label=label)
        ax.set_xlabel(HODGE_LABELS[h])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # Hodge numbers are integers
        ax.set_ylabel("share (%)" if several else "count")
        if h in ("h21", "h31", "h22"):  # long tails
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.1, 1, 10: plain numbers
        ax.legend(fontsize=8)
    return _save(fig, path, make_title(title, "Distribution of the Hodge numbers", sample, data))


def _read_history(history) -> pd.DataFrame:
    if isinstance(history, (str, Path)):
        history = pd.read_csv(history)
    if not isinstance(history, pd.DataFrame):
        history = pd.DataFrame(history)
    missing = {"train_loss", "val_loss"} - set(history.columns)
    if missing:
        raise ValueError(f"training history needs columns train_loss and val_loss; missing {sorted(missing)}")
    history = history.reset_index(drop=True)
    if "epoch" not in history.columns:
        history = history.assign(epoch=np.arange(1, len(history) + 1))
    return history


def _loss_axis(ax, values, reference=None) -> None:
    """Plain-number loss axis: linear, or log only when the values span > 2 decades (then with
    plain-number labels, never "2.8×10¹")."""
    vals = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    if reference is not None and np.isfinite(reference) and reference > 0:
        vals = np.append(vals, reference)
    if vals.size and vals.max() / vals.min() > 100:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        ax.set_ylim(bottom=0)


def _reference_line(ax, reference, label="constant predictor (train mean)") -> None:
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color=BASELINE_COLOR, linestyle="--", linewidth=1.2, label=f"{label}: {reference:.3g}")


def plot_training_curves(history, path, *, title=None, sample=False, data=None, reference=None,
                         ylabel: str = "Huber loss") -> Path:
    """Training and validation loss per epoch (the paper's Figs. 16-19, 43-47).

    Parameters
    ----------
    history : DataFrame with ``train_loss``, ``val_loss`` (and ``epoch``), or a ``log.csv`` path
    path : output PNG
    reference : float, optional
        The constant predictor's validation loss (:func:`cicy4lib.results.baselines.constant_loss`),
        drawn as a dashed grey line: a curve that stays there has learned nothing.
    ylabel : e.g. "Huber loss (standardised targets)" for runs trained on standardised targets
    """
    hist = _read_history(history)
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(hist["epoch"], hist["train_loss"], marker="o", markersize=3, label="train loss")
    ax.plot(hist["epoch"], hist["val_loss"], marker="o", markersize=3, label="validation loss")
    _reference_line(ax, reference)
    if len(hist):
        best = int(hist["val_loss"].idxmin())
        ax.axvline(hist["epoch"][best], color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"best val {hist['val_loss'][best]:.4g} (epoch {hist['epoch'][best]})",
                    xy=(hist["epoch"][best], hist["val_loss"][best]), xytext=(5, 12),
                    textcoords="offset points", fontsize=8)
    _loss_axis(ax, [*hist["train_loss"], *hist["val_loss"]], reference)
    _epoch_axis(ax, hist["epoch"])
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, make_title(title, "Training curves", sample, data))


def _epoch_axis(ax, epochs) -> None:
    """Integer epoch ticks; a short run (a few epochs) gets some room either side."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    epochs = np.asarray(list(epochs), dtype=float)
    if epochs.size and epochs.max() - epochs.min() < 4:
        ax.set_xlim(epochs.min() - 1, epochs.max() + 1)


def plot_curves_overview(histories: Mapping, path, *, title=None, sample=False, data=None,
                         reference=None) -> Path:
    """Validation (solid) and training (dashed) loss of several runs on one plot, with the
    constant predictor's loss (``reference``) as a dashed grey line.

    Parameters
    ----------
    histories : mapping run name -> history DataFrame or ``log.csv`` path
    """
    import seaborn as sns  # lazy: imports seaborn, scipy

    if not histories:
        raise ValueError("no training histories to plot")
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    palette = sns.color_palette("tab20", len(histories))
    epochs, values = [], []
    for color, (name, history) in zip(palette, histories.items()):
        hist = _read_history(history)
        ax.plot(hist["epoch"], hist["val_loss"], color=color, marker="o", markersize=3, label=str(name))
        ax.plot(hist["epoch"], hist["train_loss"], color=color, linestyle="--", marker=".", alpha=0.6)
        epochs += list(hist["epoch"])
        values += [*hist["val_loss"], *hist["train_loss"]]
    _reference_line(ax, reference)
    _loss_axis(ax, values, reference)
    _epoch_axis(ax, epochs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Huber loss (solid: validation, dashed: train)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    return _save(fig, path, make_title(title, "Training curves of all runs", sample, data))


def _hodge_column(table, hodge: str) -> pd.Series:
    if isinstance(table, pd.Series):
        return table.astype(float)
    if hodge not in table.columns:
        raise ValueError(f"accuracy table has no column {hodge!r}; columns: {list(table.columns)}")
    return table[hodge].astype(float)


def _group_of(name, groups: Mapping | None) -> str:
    """"baseline", "ensemble" or "model" for colouring a row."""
    if groups is not None and name in groups:
        g = str(groups[name])
        return "baseline" if g.startswith("baseline") else ("model" if g == "member" else "ensemble")

    text = str(name)
    if text in list_baselines() or text.startswith("baseline") or is_learned_baseline(text.rsplit("_", 1)[0]):
        return "baseline"
    return "ensemble" if _is_ensemble(name) else "model"


_GROUP_COLORS = {"model": MODEL_COLOR, "ensemble": ENSEMBLE_COLOR, "baseline": BASELINE_COLOR}


def _legend(fig, kinds, extra=()) -> None:
    labels = {"model": "model", "ensemble": "ensemble", "baseline": "baseline (same test rows)"}
    handles = [Patch(color=_GROUP_COLORS[k], label=labels[k]) for k in ("model", "ensemble", "baseline") if k in kinds]
    fig.legend(handles=handles + list(extra), loc="outside lower center", fontsize=8, ncol=4, frameon=False)


def _separate(separate_published, note) -> bool:
    """Published values go in their own panel for non-list data (or when asked)."""
    return bool(note) if separate_published is None else bool(separate_published)


# plot options, keyword only, the same for every figure function
def plot_ranking(table, hodge: str, path, *, published=None, metric="accuracy (%)", title=None,
                 sample=False, data=None, groups: Mapping | None = None, separate_published=None) -> Path:
    """Horizontal bars ranking models/ensembles by one Hodge number (the paper's Figs. 20-25).

    Parameters
    ----------
    table : DataFrame indexed by name with a column ``hodge`` (e.g. h11..h22), or a Series
    hodge : which column to rank by
    published : optional DataFrame/Series of the paper's values, same names/columns. For the real
        list they are black diamonds beside our bars; for other data (a data note is set) they
        go in a separate right-hand panel labelled "paper, real CICY4 list" -- pass them only
        when that comparison is wanted.
    metric : axis label (higher is better; bars are sorted descending)
    groups : optional name -> group ("member", "paper", "baseline", ...) for the bar colours;
        baselines are grey
    separate_published : force the separate panel (True) or the diamonds (False)
    """
    ours = _hodge_column(table, hodge).dropna().sort_values(ascending=True)
    if ours.empty:
        raise ValueError(f"no values to rank for {hodge}")
    note = _note(sample, data)
    ref = None
    if published is not None:
        ref = _hodge_column(published, hodge).reindex(ours.index)
        if not ref.notna().any():
            ref = None
    separate = ref is not None and _separate(separate_published, note)
    fig = Figure(figsize=(8 + (3.2 if separate else 0), 1.4 + 0.38 * len(ours)), layout="constrained")
    if separate:
        ax, ax_ref = fig.subplots(1, 2, sharey=True, width_ratios=[2.2, 1])
    else:
        ax, ax_ref = fig.subplots(), None
    y = np.arange(len(ours))
    kinds = [_group_of(n, groups) for n in ours.index]
    ax.barh(y, ours.to_numpy(), color=[_GROUP_COLORS[k] for k in kinds])
    left, right = _ranking_xlim(ours, ref if not separate else None)
    for yi, v in zip(y, ours.to_numpy()):
        if v - left > 0.15 * (right - left):  # inside the bar end: the paper's marker sits outside
            ax.text(v, yi, f"{v:.2f} ", va="center", ha="right", fontsize=7, color="white")
        else:  # a short bar: write the value just after it
            ax.text(max(v, left), yi, f" {v:.2f}", va="center", ha="left", fontsize=7, color="black")
    extra = []
    if ref is not None and not separate:
        known = ref.notna().to_numpy()
        extra = [ax.scatter(ref.to_numpy()[known], y[known], marker="D", color="black", zorder=3,
                            label="published (paper)")]
    if separate:
        known = ref.notna().to_numpy()
        ax_ref.barh(y[known], ref.to_numpy()[known], color=PAPER_COLOR)
        for yi, v in zip(y[known], ref.to_numpy()[known]):
            ax_ref.text(v, yi, f"{v:.2f} ", va="center", ha="right", fontsize=7, color="white")
        ax_ref.set_xlim(0, 100.5)
        ax_ref.set_title("paper, on the real CICY4 list\n(not comparable with the left panel)", fontsize=8)
        ax_ref.set_xlabel(f"{HODGE_LABELS.get(hodge, hodge)} {metric}")
        ax_ref.grid(True, axis="x", alpha=0.3)
    _legend(fig, set(kinds), extra)
    ax.set_yticks(y, [str(n) for n in ours.index])
    ax.set_xlim(left, right)
    zoom = f" (axis starts at {left:.0f})" if left > 0 else ""
    ax.set_xlabel(f"{HODGE_LABELS.get(hodge, hodge)} {metric}{zoom}")
    if separate:
        ax.set_title("ours" + (f" {note}" if note else ""), fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path, make_title(title, f"Ranking by {hodge} {metric}", sample, data))


def _ranking_xlim(ours: pd.Series, ref) -> tuple[float, float]:
    """Zoom like the paper's rankings when every value is high, but keep 100 % (the ceiling) in
    view; start at 0 when any value is below 50."""
    lo = float(np.nanmin(ours.to_numpy()))
    if ref is not None and ref.notna().any():
        lo = min(lo, float(ref.min()))
    left = 0.0 if lo < 50 else max(0.0, lo - 0.08 * (100 - lo) - 1)
    return left, max(100.0, float(ours.max())) + 0.5


def _is_ensemble(name) -> bool:
    text = str(name).lower()
    return (str(name) in ENSEMBLE_MEMBERS or text.startswith("ens") or "hill" in text
            or text.startswith("mean") or "ensemble" in text)


def _metric_label(metric: str) -> str:
    return {"accuracy": "accuracy (%)", "r2": "R²"}.get(metric, metric.upper())


def _plain(v: float) -> str:
    """A plain number for a bar label: 16,512 / 7.41 / 0.593 (never 1.65e+04)."""
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if abs(v) > 1.0005 else f"{v:.3f}"


def _metric_panel(ax, values: pd.Series, colors, metric: str) -> None:
    """Bars of one metric; R² clipped at R2_FLOOR and accuracy at [0, 100], with the value of an
    off-scale bar written beside it; MSE/MAE on a log axis only over > 3 decades."""
    v = values.to_numpy(dtype=float)
    y = np.arange(len(v))
    shown = v.copy()
    if metric == "r2":
        shown = np.maximum(v, R2_FLOOR)
        ax.set_xlim(R2_FLOOR - 0.05, 1.05)
        ax.axvline(0, color="black", linewidth=0.6)
    ax.barh(y, np.nan_to_num(shown), color=colors)
    for yi, raw, sh in zip(y, v, shown):
        if np.isnan(raw):
            ax.text(0, yi, " n/a", va="center", fontsize=7)
        elif raw != sh:  # off the axis
            ax.text(R2_FLOOR - 0.03, yi, f"← {_plain(raw)}", va="center",
                    ha="left", fontsize=7, color="white", fontweight="bold")
        else:
            ax.text(sh, yi, f" {_plain(raw)} ", va="center", ha="left" if sh >= 0 else "right", fontsize=7)
    if metric in ("mse", "mae"):
        pos = v[np.isfinite(v) & (v > 0)]
        if pos.size and pos.max() / pos.min() > 1000:
            ax.set_xscale("log")  # only when linear bars would be invisible
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
        else:
            ax.set_xlim(0, (np.nanmax(v) if np.isfinite(v).any() else 1) * 1.25 or 1)
    if metric == "accuracy":
        ax.set_xlim(0, 105)
    ax.grid(True, axis="x", alpha=0.3)


# plot options, keyword only, the same for every figure function
def plot_metric_comparison(ours, path, *, published=None, metric="mse", title=None,
                           sample=False, data=None, groups: Mapping | None = None,
                           separate_published=None) -> Path:
    """Bars of one metric per Hodge number (the paper's Figs. 26-37); baselines in grey.

    Parameters
    ----------
    ours : DataFrame indexed by name, columns among h11, h21, h31, h22 (and ``mean``)
    published : optional DataFrame of the paper's values (e.g. ``published.metric_table``);
        rows whose name is also in ``ours`` are drawn: for the real list beside ours (hatched
        "(paper)" bars), for other data in a separate lower row labelled "paper, on the real
        CICY4 list" -- pass them only when that comparison is wanted.
    metric : "mse", "mae", "r2" or "accuracy". R² axes stop at −1 (the paper's values are all
        above 0.9; a sample model can reach −1,000): worse values are written beside the bar.
    """
    columns = [c for c in (*HODGE, "mean") if c in ours.columns]
    if not columns:
        raise ValueError("the metric table needs columns among h11, h21, h31, h22, mean")
    ours = ours[columns].astype(float)
    if ours.isna().all().all():
        raise ValueError("nothing to plot: every value is missing")
    note = _note(sample, data)
    ref = None
    if published is not None:
        shared = [n for n in ours.index if n in published.index]
        if shared:
            ref = published.reindex(index=shared, columns=columns).astype(float)
            ref = ref[ref.notna().any(axis=1)]  # rows the paper has values for
            if ref.empty:
                ref = None
    separate = ref is not None and _separate(separate_published, note)
    rows = ours
    labels = [str(n) for n in ours.index]
    kinds = [_group_of(n, groups) for n in ours.index]
    colors = [_GROUP_COLORS[k] for k in kinds]
    if ref is not None and not separate:  # the paper's bars interleaved, hatched
        order, lab, col = [], [], []
        for name, kind in zip(ours.index, kinds):
            order.append(ours.loc[name])
            lab.append(str(name))
            col.append(_GROUP_COLORS[kind])
            if name in ref.index:
                order.append(ref.loc[name])
                lab.append(f"{name} (paper)")
                col.append(PAPER_COLOR)
        rows, labels, colors = pd.DataFrame(order), lab, col
    n_rows = 2 if separate else 1
    height = 1.8 + 0.33 * len(rows) + (0.33 * len(ref) + 0.8 if separate else 0)
    fig = Figure(figsize=(4.2 * len(columns), height), layout="constrained")
    grid = fig.subplots(n_rows, len(columns), squeeze=False,
                        height_ratios=[len(rows), max(1, len(ref))] if separate else None)
    for j, target in enumerate(columns):
        ax = grid[0, j]
        _metric_panel(ax, rows[target], colors, metric)
        ax.set_yticks(np.arange(len(rows)), labels if j == 0 else [""] * len(rows))
        ax.invert_yaxis()
        ax.set_title(HODGE_LABELS.get(target, target) + (" (ours)" if separate else ""))
        ax.set_xlabel(_metric_label(metric) + (" (axis stops at −1)" if metric == "r2" else ""))
        if separate:
            axr = grid[1, j]
            _metric_panel(axr, ref[target], [PAPER_COLOR] * len(ref), metric)
            axr.set_yticks(np.arange(len(ref)), [str(n) for n in ref.index] if j == 0 else [""] * len(ref))
            axr.invert_yaxis()
            axr.set_title(f"{HODGE_LABELS.get(target, target)}: paper, on the real CICY4 list", fontsize=8)
            axr.set_xlabel(_metric_label(metric))

    extra = [Patch(color=PAPER_COLOR, label="published (paper, real list)")] if ref is not None else []
    _legend(fig, set(kinds), extra)
    return _save(fig, path, make_title(title, f"Test {_metric_label(metric)} per Hodge number", sample, data))
