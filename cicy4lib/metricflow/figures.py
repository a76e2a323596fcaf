"""Figures of the metric-flow notebooks (matplotlib, written as PNG, names ``fig_metricflow_*``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .geometry import det_real, prepare
from .points import n_charts
from .variety import as_variety



def _save(fig, path):
    """Write ``fig`` to ``path`` (folders made), close it and return the path."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def _plt():
    import matplotlib  # lazy: imports matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        pass
    import matplotlib.pyplot as plt  # lazy: imports matplotlib
    return plt


def sample_figure(z, path, *, variety=None, title: str | None = None) -> Path:
    """Three panels: the points in one affine coordinate (chart-coloured), the chart shares, and
    the distribution of ``η/<η>`` under Fubini–Study (its spread is what σ measures)."""
    plt = _plt()
    variety = as_variety(variety)
    data = prepare(z, variety)
    ids = data.charts.ids
    nc = n_charts(variety)
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.4))
    rows = np.arange(len(z))
    x = data.z[rows, data.charts.free[:, 0]]
    m = min(len(z), 20000)
    sc = ax[0].scatter(x.real[:m], x.imag[:m], c=ids[:m], s=1.5, cmap="tab20", alpha=0.6, rasterized=True)
    ax[0].set_aspect("equal")
    ax[0].set_xlabel("Re x₁ (first affine coordinate of the point's chart)")
    ax[0].set_ylabel("Im x₁")
    ax[0].set_title(f"{m:,} of {len(z):,} points (colour: chart)")
    fig.colorbar(sc, ax=ax[0], label="chart")
    share = np.bincount(ids, minlength=nc) / len(z)
    ax[1].bar(np.arange(nc), 100 * share, color="tab:blue")
    ax[1].axhline(100 / nc, color="k", ls="--", lw=1, label=f"1/{nc}")
    ax[1].set_xlabel("chart (4·k + r: k set to 1, r eliminated)" if nc == 20 else "chart")
    ax[1].set_ylabel("% of points")
    ax[1].set_title(f"chart shares: {100 * share.min():.2f}–{100 * share.max():.2f} %")
    ax[1].legend()
    eta = det_real(data.g_fs) / data.omega_abs2
    w = data.weights
    ratio = eta / (np.sum(w * eta) / np.sum(w))
    ax[2].hist(ratio, bins=np.linspace(0, min(4, ratio.max()), 80), weights=w / w.sum(), color="tab:orange")
    ax[2].axvline(1, color="k", lw=1)
    sigma = float(np.sum(w * np.abs(1 - ratio)) / np.sum(w))
    ax[2].set_xlabel("η/⟨η⟩ = det g_FS / (|Ω|² ⟨η⟩)  (Ricci-flat: all at 1)")
    ax[2].set_ylabel("weighted fraction")
    ax[2].set_title(f"Fubini–Study: σ = {sigma:.4f}")
    fig.suptitle(title or f"{variety.name}: line-sampler points and the Fubini–Study baseline")
    return _save(fig, path)


def history_figure(history, path, *, title: str = "", sigma_fs: float | None = None) -> Path:
    """σ on training and validation points and the training loss, per epoch (log scale)."""
    plt = _plt()
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.2))
    ax[0].plot(ep, [h["sigma_train"] for h in history], "o-", ms=3, label="σ train (≤10k points)")
    ax[0].plot(ep, [h["sigma_val"] for h in history], "s-", ms=3, label="σ validation")
    if sigma_fs is None:
        sigma_fs = history[0]["sigma_val"]
    ax[0].axhline(sigma_fs, color="grey", ls="--", lw=1, label=f"Fubini–Study {sigma_fs:.4f}")
    ax[0].set_yscale("log")
    ax[0].set_xlabel("epoch")
    ax[0].set_ylabel("σ")
    last = history[-1]
    ax[0].set_title(f"σ_val {history[0]['sigma_val']:.4f} → {last['sigma_val']:.4f} "
                    f"({history[0]['sigma_val'] / last['sigma_val']:.1f}×)")
    ax[0].legend()
    tr = [(h["epoch"], h["loss"]) for h in history if h.get("loss") is not None]
    if tr:
        ax[1].plot(*zip(*tr), "o-", ms=3, color="tab:green", label="training loss (epoch mean)")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("loss")
    ax[1].legend()
    secs = sum(h.get("seconds", 0) for h in history)
    ax[1].set_title(f"{len(history) - 1} epochs, {secs / 60:.1f} min of training")
    fig.suptitle(title)
    return _save(fig, path)
