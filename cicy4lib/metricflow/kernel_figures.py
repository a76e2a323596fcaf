"""The experiments of part 2 as functions the notebooks call (Figs. 2–3 of the paper, the NTK figure).

Each ``figure_*`` function runs one experiment at the sizes it is given, writes
``<figures_dir>/fig_metricflow_<name>.png`` and returns ``(numbers, path)``; the notebooks in
``Models_Metric-flows/`` are a parameters cell and one call each.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import clustering as C, ntk as N
from . import distances as D
from . import kernel_flow as F
from . import kernels as K
from .points import quintic_points

__all__ = ["figure_clustering", "figure_nearest_distance", "figure_gain_vs_distance", "figure_ntk_evolution",
           "extrapolate_points_for_gain", "PAPER_MU"]

PAPER_MU = (0.968, -0.184)  # eq. 3.6


def _save(fig, figures_dir, name) -> Path:
    out = Path(figures_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"fig_metricflow_{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def figure_clustering(n_points=1000, n_clusters=10, n_batches=5, *, chart=0, seed=0, figures_dir="Results_p1_Figures"):
    """Fig. 2: distance heatmaps unordered / batch-clustered / fully clustered, and the mean
    within-cluster FS distance of each beside random labels."""
    import matplotlib.pyplot as plt  # lazy: imports matplotlib

    z = quintic_points(n_points, seed=seed, chart=chart)
    d = D.fs_distance(z)
    batched = C.cluster_points(z, n_clusters, n_batches=n_batches, seed=seed)
    full = C.cluster_points(z, n_clusters)
    rand = np.random.default_rng(seed).integers(0, n_clusters, n_points)
    nums = {"random": C.within_cluster_distance(z, rand, d=d),
            "batched": C.within_cluster_distance(z, batched.labels, d=d),
            "full": C.within_cluster_distance(z, full.labels, d=d)}
    nums["batched/random"] = nums["batched"] / nums["random"]
    nums["batched/full"] = nums["batched"] / nums["full"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = [("no clustering", np.arange(n_points), nums["random"], "random labels"),
              (f"batch clustering ({n_batches} batches, eq. 3.3)", C.cluster_order(batched.labels), nums["batched"], ""),
              ("full clustering", C.cluster_order(full.labels), nums["full"], "")]
    for ax, (title, order, val, note) in zip(axes, panels):
        im = ax.imshow(d[np.ix_(order, order)], cmap="viridis", vmin=0, vmax=np.pi / 2, interpolation="nearest")
        ax.set_title(f"{title}\nmean within-cluster d = {val:.3f}" + (f" ({note})" if note else ""), fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8, label="FS geodesic distance")
    fig.suptitle(f"{n_points} points of chart {chart} of the Fermat quintic, {n_clusters} clusters", y=1.02)
    return nums, _save(fig, figures_dir, "clustering")


def figure_nearest_distance(ns=(1000, 2000, 5000, 10000, 20000), *, seed=11, chart=0, figures_dir="Results_p1_Figures"):
    """Fig. 3 right: mean (and max, min) nearest-neighbour FS distance vs number of points, in one
    chart and on the whole manifold, with power-law fits beside the paper's ``0.968 N^-0.184``."""
    import matplotlib.pyplot as plt  # lazy: imports matplotlib

    res = {}
    for label, ch in (("one chart", chart), ("whole manifold", None)):
        rows = []
        for n in ns:
            nd = D.nearest_distances(quintic_points(int(n), seed=seed, chart=ch))
            rows.append((int(n), float(nd.mean()), float(nd.max()), float(nd.min())))
        rows = np.array(rows)
        res[label] = {"n": rows[:, 0].tolist(), "mean": rows[:, 1].tolist(), "max": rows[:, 2].tolist(),
                      "min": rows[:, 3].tolist(), "fit": D.fit_power_law(rows[:, 0], rows[:, 1])}
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    grid = np.geomspace(min(ns), max(ns), 50)
    for (label, r), col in zip(res.items(), ("C0", "C1")):
        a, b = r["fit"]
        ax.plot(r["n"], r["mean"], "o", color=col, label=f"{label}: mean")
        ax.fill_between(r["n"], r["min"], r["max"], color=col, alpha=0.12, label=f"{label}: min-max")
        ax.plot(grid, a * grid ** b, "-", color=col, lw=1, label=f"fit {a:.3f} N^{b:.3f}")
    ax.plot(grid, PAPER_MU[0] * grid ** PAPER_MU[1], "k--", label="paper 0.968 N^-0.184")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of points N")
    ax.set_ylabel("nearest-neighbour FS distance")
    ax.legend(fontsize=8)
    ax.set_title("Fig. 3 right: nearest-neighbour distance vs N")
    return res, _save(fig, figures_dir, "nearest_distance")


def extrapolate_points_for_gain(rows, mu_fit, target=100.0):
    """The paper's extrapolation: from gain-vs-distance ``rows`` (dicts with mean_distance, gain_test),
    fit ``log gain = c + s log d`` on the falling part (gain > 1.05), solve for the distance of gain
    ``target`` and, with ``mu = a N^b``, the number of points whose mean nearest-neighbour distance
    equals it. Returns ``{"slope", "distance", "points"}`` (NaN where the fit is impossible)."""
    d = np.array([r["mean_distance"] for r in rows], float)
    g = np.array([r["gain_test"] for r in rows], float)
    ok = np.isfinite(d) & np.isfinite(g) & (d > 0) & (g > 1.05)
    if ok.sum() < 2:
        return {"slope": float("nan"), "distance": float("nan"), "points": float("nan")}
    s, c = np.polyfit(np.log(d[ok]), np.log(g[ok]), 1)
    if s >= 0:
        return {"slope": float(s), "distance": float("nan"), "points": float("nan")}
    dist = float(np.exp((np.log(target) - c) / s))
    a, b = mu_fit
    # a nearly flat fit puts gain 100 at a vanishing distance: the count of points overflows a float
    # (reported as inf, i.e. beyond any sampler), computed in logs so nothing raises
    log_points = (np.log(dist) - np.log(a)) / b if dist > 0 else np.inf
    points = float(np.exp(log_points)) if log_points < 700 else float("inf")
    return {"slope": float(s), "distance": dist, "points": points}


# the figure notebook's parameters, one keyword each
def figure_gain_vs_distance(n_train=1000, scales=(0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.4, 0.8), *,
                            steps=1000, net_steps=1500, chart=0, seed=0, kernels=None,
                            figures_dir="Results_p1_Figures", results=None):
    """Fig. 3 left: gain in σ on noised training points (projected back onto X, same chart) vs their
    mean FS distance to the training set, for the kernels and the finite 3x64 network.
    ``results``: a precomputed ``{kernel name: rows}`` (e.g. the benchmark's) to plot instead."""
    import matplotlib.pyplot as plt  # lazy: imports matplotlib

    if results is None:
        z = quintic_points(n_train, seed=seed, chart=chart)
        kernels = kernels or {"delta": (K.DeltaKernel(), K.TABLE1["delta"]["lr"]),
                              "gaussian (eq. 3.5, sigma=30)": (K.GaussianKernel(30.0), K.TABLE1["gaussian"]["lr"]),
                              "gaussian exp(-30 d/2)": (K.GaussianKernel(30.0, form="rate"), K.TABLE1["gaussian"]["lr"]),
                              "relu NTK (Table 1)": (K.ReluNTK(), K.TABLE1["relu"]["lr"])}
        results = {name: F.gain_vs_distance(z, kern, scales, lr=lr, steps=steps, seed=seed, on_stop="return")
                   for name, (kern, lr) in kernels.items()}
        if net_steps:
            results["finite network 3x64"] = _network_rows(z, scales, net_steps, seed, chart)
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    for name, rows in results.items():
        d = [r["mean_distance"] for r in rows]
        g = [r["gain_test"] for r in rows]
        ax.plot(d, g, "o-", label=name, ms=4)
    ax.axhline(1, color="grey", lw=0.8)
    ax.set_xscale("symlog", linthresh=1e-3)  # symlog: the training points themselves sit at distance 0
    ax.set_xlim(left=0)
    ax.set_yscale("log")
    ax.set_xlabel("mean FS distance of noised points to the training set (0: the training points)")
    ax.set_ylabel("gain in σ (σ_FS / σ after the flow)")
    ax.legend(fontsize=8)
    ax.set_title("Fig. 3 left: gain vs distance to the training set\n"
                 "(1,000 training points of one chart; ReLU NTK and Gaussian as printed overlap)", fontsize=10)
    return results, _save(fig, figures_dir, "gain_vs_distance")


def _network_rows(z, scales, steps, seed, chart):
    import torch  # lazy: imports torch

    sets = [F.noised_points(z, s, seed=seed + i, chart=chart)[0] for i, s in enumerate(scales)]
    torch.manual_seed(seed)
    m = N.MetricMLP(seed=seed, dtype=torch.float64)
    T = {k: torch.as_tensor(v) for k, v in N.prepared_inputs(z).items()}
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        opt.zero_grad()
        N.sigma_loss_torch(m(T["x"], T["v_fs"]), T["omega_abs2"], T["w"]).backward()
        opt.step()
        sched.step()
    rows = []
    for s, zs in zip(scales, sets):
        E = {k: torch.as_tensor(v) for k, v in N.prepared_inputs(zs).items()}
        with torch.no_grad():
            s0 = float(N.sigma_loss_torch(E["v_fs"], E["omega_abs2"], E["w"]))
            s1 = float(N.sigma_loss_torch(m(E["x"], E["v_fs"]), E["omega_abs2"], E["w"]))
        rows.append({"scale": s, "n_test": len(zs), "mean_distance": K.mean_distance_to(zs, z), "gain_test": s0 / s1})
    return rows


# the figure notebook's parameters, one keyword each
def figure_ntk_evolution(n_train=2000, n_val=1000, *, epochs=30, steps_per_epoch=10, probe=100, seed=0,
                         wide_width=2048, figures_dir="Results_p1_Figures", log=None):
    """Frozen vs evolving kernel: the 3x64 network (standard parameterisation, Adam) and a wide
    one-hidden-layer network (NTK parameterisation, plain gradient descent), both trained with the
    σ-loss; per epoch the relative change of the empirical metric-NTK on ``probe`` training points
    beside σ_val."""
    import matplotlib.pyplot as plt  # lazy: imports matplotlib
    import torch  # lazy: imports torch

    tr = N.prepared_inputs(quintic_points(n_train, seed=seed))
    va = N.prepared_inputs(quintic_points(n_val, seed=seed + 1))
    runs = {}
    m = N.MetricMLP(hidden=(64, 64, 64), seed=seed, dtype=torch.float32, readout_scale=1.0)
    runs["3x64 GELU, Adam"] = N.train_with_ntk(m, tr, va, epochs=epochs, steps_per_epoch=steps_per_epoch, lr=3e-3,
                                              probe=probe, seed=seed, log=log)
    w = N.MetricMLP(hidden=(wide_width,), parameterization="ntk", seed=seed, dtype=torch.float32, readout_scale=1.0)
    runs[f"1x{wide_width} NTK param., GD"] = N.train_with_ntk(w, tr, va, epochs=epochs, steps_per_epoch=steps_per_epoch,
                                                               lr=0.05, optimizer="sgd", probe=probe, seed=seed, log=log)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4))
    for name, h in runs.items():
        a1.plot(h["epoch"][1:], h["ntk_change"][1:], "o-", ms=3, label=name)
        a2.plot(h["epoch"], h["sigma_val"], "o-", ms=3, label=name)
    a1.set_xlabel("epoch")
    a1.set_ylabel("||Θ_t − Θ_0|| / ||Θ_0||")
    a1.set_yscale("log")
    a1.set_title("empirical metric-NTK: relative change (log scale)")
    a2.set_xlabel("epoch")
    a2.set_ylabel("σ on validation points")
    a2.set_title("σ_val")
    for a in (a1, a2):
        a.legend(fontsize=8)
    return runs, _save(fig, figures_dir, "ntk_evolution")
