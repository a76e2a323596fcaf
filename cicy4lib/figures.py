"""Figures in the style of the paper, with matplotlib and seaborn.

Every function takes its data, the output ``path`` and keyword-only ``title=None`` and
``sample=False``; it writes one PNG at 150 dpi and returns the ``Path``. When ``sample`` is
true the title says "(embedded sample, not the CICY4 list)", so a figure made from the
embedded sample can never pass for a result on the real list. The title is also stored in
the PNG's ``Title`` text chunk (read it back with :func:`png_title`).

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
from matplotlib.ticker import MaxNLocator

HODGE = ("h11", "h21", "h31", "h22")
HODGE_LABELS = {"h11": "$h^{1,1}$", "h21": "$h^{2,1}$", "h31": "$h^{3,1}$", "h22": "$h^{2,2}$"}
SAMPLE_LABEL = "(embedded sample, not the CICY4 list)"
DPI = 150
MODEL_COLOR, ENSEMBLE_COLOR = "#4c72b0", "#dd8452"

__all__ = [
    "SAMPLE_LABEL", "figure_name", "png_title", "make_title", "plot_hodge_distributions",
    "plot_training_curves", "plot_curves_overview", "plot_ranking", "plot_metric_comparison",
]


def figure_name(kind: str, *parts) -> str:
    """Stable file name, e.g. ``figure_name("ranking", "72", "h11") -> "fig_ranking_72_h11.png"``."""
    words = [kind, *(str(p) for p in parts if p is not None and str(p) != "")]
    return "fig_" + "_".join(w.replace("/", "-").replace(" ", "-") for w in words) + ".png"


def make_title(title: str | None, default: str, sample: bool) -> str:
    """The figure title: ``title`` (or ``default``) plus the sample label when ``sample``."""
    text = title if title else default
    if sample and SAMPLE_LABEL not in text:
        text = f"{text}\n{SAMPLE_LABEL}"
    return text


def png_title(path) -> str:
    """Read back the title stored in a PNG written by this module."""
    from PIL import Image

    with Image.open(path) as image:
        return image.text.get("Title", "")


def _save(fig: Figure, path, title: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.suptitle(title)
    fig.savefig(path, dpi=DPI, metadata={"Title": title.replace("\n", " "), "Software": "cicy4lib"})
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


def plot_hodge_distributions(hodge, path, *, title=None, sample=False) -> Path:
    """Histograms of h11, h21, h31, h22 (the paper's Figs. 1-2 and 38-42).

    Parameters
    ----------
    hodge : (N, 4) int array or mapping subset -> (n, 4) array
        E.g. ``{"train": ..., "valid": ..., "test": ...}``; unknown values (-1) are ignored.
        Several subsets are drawn as overlaid step histograms of their *share* in percent, so
        subsets of different sizes compare directly.
    path : output PNG
    """
    import seaborn as sns

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
        ax.set_ylabel("share (%)" if several else "count")
        if h in ("h21", "h31", "h22"):  # long tails
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    return _save(fig, path, make_title(title, "Distribution of the Hodge numbers", sample))


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


def plot_training_curves(history, path, *, title=None, sample=False) -> Path:
    """Training and validation loss per epoch, log scale (the paper's Figs. 16-19, 43-47).

    Parameters
    ----------
    history : DataFrame with ``train_loss``, ``val_loss`` (and ``epoch``), or a ``log.csv`` path
    path : output PNG
    """
    hist = _read_history(history)
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(hist["epoch"], hist["train_loss"], marker="o", markersize=3, label="train loss")
    ax.plot(hist["epoch"], hist["val_loss"], marker="o", markersize=3, label="validation loss")
    if len(hist):
        best = int(hist["val_loss"].idxmin())
        ax.axvline(hist["epoch"][best], color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"best val {hist['val_loss'][best]:.4g} (epoch {hist['epoch'][best]})",
                    xy=(hist["epoch"][best], hist["val_loss"][best]), xytext=(5, 12),
                    textcoords="offset points", fontsize=8)
    ax.set_yscale("log")
    _epoch_axis(ax, hist["epoch"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("Huber loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _save(fig, path, make_title(title, "Training curves", sample))


def _epoch_axis(ax, epochs) -> None:
    """Integer epoch ticks; a short run (a few epochs) gets some room either side."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    epochs = np.asarray(list(epochs), dtype=float)
    if epochs.size and epochs.max() - epochs.min() < 4:
        ax.set_xlim(epochs.min() - 1, epochs.max() + 1)


def plot_curves_overview(histories: Mapping, path, *, title=None, sample=False) -> Path:
    """Validation (solid) and training (dashed) loss of several runs on one log-scale plot.

    Parameters
    ----------
    histories : mapping run name -> history DataFrame or ``log.csv`` path
    """
    import seaborn as sns

    if not histories:
        raise ValueError("no training histories to plot")
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    palette = sns.color_palette("tab20", len(histories))
    epochs = []
    for color, (name, history) in zip(palette, histories.items()):
        hist = _read_history(history)
        ax.plot(hist["epoch"], hist["val_loss"], color=color, marker="o", markersize=3, label=str(name))
        ax.plot(hist["epoch"], hist["train_loss"], color=color, linestyle="--", marker=".", alpha=0.6)
        epochs += list(hist["epoch"])
    ax.set_yscale("log")
    _epoch_axis(ax, epochs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Huber loss (solid: validation, dashed: train)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="upper right")
    return _save(fig, path, make_title(title, "Training curves of all runs", sample))


def _hodge_column(table, hodge: str) -> pd.Series:
    if isinstance(table, pd.Series):
        return table.astype(float)
    if hodge not in table.columns:
        raise ValueError(f"accuracy table has no column {hodge!r}; columns: {list(table.columns)}")
    return table[hodge].astype(float)


def plot_ranking(table, hodge: str, path, *, published=None, metric="accuracy (%)", title=None,
                 sample=False) -> Path:
    """Horizontal bars ranking models/ensembles by one Hodge number (the paper's Figs. 20-25).

    Parameters
    ----------
    table : DataFrame indexed by name with a column ``hodge`` (e.g. h11..h22), or a Series
    hodge : which column to rank by
    published : optional DataFrame/Series of the paper's values, same names/columns; drawn as
        black diamonds beside our bars where the name matches and the value is known
    metric : axis label (higher is better; bars are sorted descending)
    """
    ours = _hodge_column(table, hodge).dropna().sort_values(ascending=True)
    if ours.empty:
        raise ValueError(f"no values to rank for {hodge}")
    fig = Figure(figsize=(8, 1.2 + 0.38 * len(ours)), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(ours))
    is_ens = [_is_ensemble(n) for n in ours.index]
    ax.barh(y, ours.to_numpy(), color=[ENSEMBLE_COLOR if e else MODEL_COLOR for e in is_ens])
    left, right = _ranking_xlim(ours, published, hodge)
    for yi, v in zip(y, ours.to_numpy()):
        if v - left > 0.15 * (right - left):  # inside the bar end: the paper's marker sits outside
            ax.text(v, yi, f"{v:.2f} ", va="center", ha="right", fontsize=7, color="white")
        else:  # a short bar: write the value just after it
            ax.text(max(v, left), yi, f" {v:.2f}", va="center", ha="left", fontsize=7, color="black")
    if published is not None:
        ref = _hodge_column(published, hodge).reindex(ours.index)
        known = ref.notna().to_numpy()
        if known.any():
            ax.scatter(ref.to_numpy()[known], y[known], marker="D", color="black", zorder=3,
                       label="published (paper)")
    from matplotlib.patches import Patch

    handles = [Patch(color=MODEL_COLOR, label="model")]
    if any(is_ens):
        handles.append(Patch(color=ENSEMBLE_COLOR, label="ensemble"))
    fig.legend(handles=handles + ax.get_legend_handles_labels()[0], loc="outside lower center", fontsize=8,
               ncol=3, frameon=False)
    ax.set_yticks(y, [str(n) for n in ours.index])
    ax.set_xlim(left, right)
    ax.set_xlabel(f"{HODGE_LABELS.get(hodge, hodge)} {metric}")
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path, make_title(title, f"Ranking by {hodge} {metric}", sample))


def _ranking_xlim(ours: pd.Series, published, hodge) -> tuple[float, float]:
    """Zoom like the paper's rankings, but keep 100 % (the ceiling) in view."""
    lo = float(np.nanmin(ours.to_numpy()))
    if published is not None:
        ref = _hodge_column(published, hodge).reindex(ours.index).dropna()
        if len(ref):
            lo = min(lo, float(ref.min()))
    return max(0.0, lo - 0.08 * (100 - lo) - 1), max(100.0, float(ours.max())) + 0.5


def _is_ensemble(name) -> bool:
    from .published import ENSEMBLE_MEMBERS

    text = str(name).lower()
    return (str(name) in ENSEMBLE_MEMBERS or text.startswith("ens") or "hill" in text
            or text.startswith("mean") or "ensemble" in text)


def plot_metric_comparison(ours, path, *, published=None, metric="mse", title=None,
                           sample=False) -> Path:
    """Grouped bars of one metric per Hodge number, ours beside the paper's (Figs. 26-37).

    Parameters
    ----------
    ours : DataFrame indexed by name, columns among h11, h21, h31, h22 (and ``mean``)
    published : optional DataFrame of the paper's values (e.g. ``published.metric_table``);
        rows whose name is also in ``ours`` are drawn beside ours
    metric : "mse", "mae", "r2" or "accuracy"; MSE/MAE switch to a log scale only when the
        values of one panel span more than three decades
    """
    import seaborn as sns

    columns = [c for c in (*HODGE, "mean") if c in ours.columns]
    if not columns:
        raise ValueError("the metric table needs columns among h11, h21, h31, h22, mean")
    frames = [ours[columns].assign(source="ours")]
    if published is not None:
        shared = [n for n in ours.index if n in published.index]
        if shared:
            frames.append(published.reindex(index=shared, columns=columns).assign(source="published"))
    long = (pd.concat(frames).rename_axis("name").reset_index()
            .melt(id_vars=["name", "source"], var_name="target", value_name="value")
            .dropna(subset=["value"]))
    long["label"] = long["name"].astype(str) + np.where(long["source"] == "published", " (paper)", "")
    if long.empty:
        raise ValueError("nothing to plot: every value is missing")
    fig = Figure(figsize=(4.2 * len(columns), 1.8 + 0.33 * long["label"].nunique()), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(columns), sharey=True))
    order = list(dict.fromkeys(long.sort_values(["name", "source"])["label"]))
    for ax, target in zip(axes, columns):
        part = long[long["target"] == target]
        sns.barplot(data=part, y="label", x="value", hue="source", order=order, ax=ax, orient="h",
                    hue_order=["ours", "published"], dodge=False, legend=False)
        ax.set_title(HODGE_LABELS.get(target, target))
        ax.set_xlabel(metric.upper() if metric != "accuracy" else "accuracy (%)")
        ax.set_ylabel("")
        if metric in ("mse", "mae") and len(part) and part["value"].min() > 0 \
                and part["value"].max() / part["value"].min() > 1000:
            ax.set_xscale("log")  # only when linear bars would be invisible
        ax.grid(True, axis="x", alpha=0.3)
    from matplotlib.patches import Patch

    colors = sns.color_palette()[:2]
    fig.legend(handles=[Patch(color=colors[0], label="ours"), Patch(color=colors[1], label="published (paper)")],
               loc="outside lower center", ncol=2, frameon=False)
    return _save(fig, path, make_title(title, f"Test {metric.upper()} per Hodge number", sample))
