"""Numerical CY metrics (issue 22): sampler speed and accuracy, the Fubini–Study baseline, network
throughput float32 vs float64, and the trained networks' σ and Kähler defect.

    python benchmarks/bench_metricflow.py                      # everything, ~1-2 min on 2 vCPUs
    python benchmarks/bench_metricflow.py --report benchmarks/results/metricflow_bench.md
    python benchmarks/bench_metricflow.py --run Results_p2_Trained_models/metricflow/phi_quintic

Parts: ``points`` (100,000 quintic points with weights: best of 3 wall times, max |Q|, chart
shares), ``fs`` (σ_FS and κ on 100,000 points for seeds 0..4), ``throughput`` (forward+backward
points/s of both models at batch 1000, float32 and float64, one thread), ``run`` (a run
directory: σ_val per epoch, the final σ on fresh points, Kähler defect), ``threefold`` (σ_FS of the
bicubic and the tetraquadric). Not timed tests: figures for the results file.
"""
from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_points(rows):
    from cicy4lib import metricflow as mf
    times = []
    for _ in range(3):
        t = time.perf_counter()
        z = mf.quintic_points(100_000, seed=0)
        data = mf.prepare(z)
        times.append(time.perf_counter() - t)
    q = np.abs(np.sum(z ** 5, axis=1)).max()
    share = np.bincount(data.charts.ids, minlength=20) / len(z)
    rows += [("100,000 quintic points + weights, wall time (best of 3)", f"{min(times):.2f} s", "<= 2 s"),
             ("max |Q(z)| over 100,000 points", f"{q:.1e}", "<= 1e-10"),
             ("chart shares (20 charts), min / max", f"{share.min():.2%} / {share.max():.2%}", "5 +- 0.5 %")]
    return data


def bench_fs(rows, data0):
    from cicy4lib import metricflow as mf
    from cicy4lib.metricflow.training import sigma_kappa
    s0, k0 = sigma_kappa(None, data0)
    sig, kap = [s0], [k0]
    for seed in range(1, 5):
        s, k = sigma_kappa(None, mf.prepare(mf.quintic_points(100_000, seed=seed)))
        sig.append(s)
        kap.append(k)
    rows += [("sigma_FS, 100,000 points, seed 0", f"{s0:.4f}", "0.3726 +- 0.003 (SPEC; cymetric 0.3722 at 20k)"),
             ("sigma_FS, 5 seeds x 100,000, mean +- std", f"{np.mean(sig):.4f} +- {np.std(sig):.4f}", "0.3726 +- 0.0006"),
             ("kappa_FS, 100,000 points, seed 0", f"{k0:.5f}", "0.0176 +- 0.0002 (cymetric 0.01759)"),
             ("kappa_FS, 5 seeds, mean +- std", f"{np.mean(kap):.5f} +- {np.std(kap):.5f}", "")]


def bench_throughput(rows, batch=1000, steps=5):
    import torch
    from cicy4lib import metricflow as mf
    from cicy4lib.metricflow.measures import ma_loss_of
    from cicy4lib.metricflow.models import build_metric_model, point_tensors
    torch.set_num_threads(1)
    data = mf.prepare(mf.quintic_points(batch, seed=1))
    for kind in ("phi", "multiplicative"):
        for dt in (torch.float64, torch.float32):
            m = build_metric_model(kind, seed=0, dtype=dt)
            pts = point_tensors(data, dtype=dt)
            opt = torch.optim.Adam(m.parameters(), 1e-3)
            best = float("inf")
            for _ in range(steps):
                t = time.perf_counter()
                det = torch.linalg.det(m(pts)).real
                loss = ma_loss_of(det, pts["omega_abs2"], pts["weights"], 0.0176)
                opt.zero_grad()
                loss.backward()
                opt.step()
                best = min(best, time.perf_counter() - t)
            rate = batch / best
            rows.append((f"{kind} model fwd+bwd+Adam, {str(dt)[6:]}, batch {batch}, 1 thread",
                         f"{rate:,.0f} points/s (90,000-point epoch: {90_000 / rate:.1f} s compute)",
                         "cymetric tutorial: 25-28 s/epoch, multiplicative, laptop"))


def bench_run(rows, run):
    from cicy4lib import metricflow as mf
    from cicy4lib.metricflow.models import metric_numpy
    model = mf.load_metric_model(run)
    h = model.history
    cfg = model.run_config
    s0 = h[0]["sigma_val"]
    best = min(h[1:], key=lambda e: e["sigma_val"]) if len(h) > 1 else h[0]
    wall = sum(e["seconds"] for e in h)
    rows.append((f"{Path(run).name}: sigma_val epoch 0 -> 1 -> last ({len(h) - 1} epochs)",
                 f"{s0:.4f} -> {h[1]['sigma_val']:.4f} -> {h[-1]['sigma_val']:.4f} "
                 f"(gain {s0 / h[-1]['sigma_val']:.1f}x; best {best['sigma_val']:.4f} at epoch {best['epoch']})",
                 "paper 10-100x in ~50 epochs; cymetric tutorial 0.369 -> 0.0167"))
    rows.append((f"{Path(run).name}: training time (sum of epoch times, {cfg.n_points:,} points, "
                 f"batch {cfg.batch_size})", f"{wall / 60:.1f} min, {wall / max(1, len(h) - 1):.1f} s/epoch", ""))
    z = mf.sample_points(100_000, model.variety, seed=12345)
    s_fs, s_nn = mf.sigma_measure(z, variety=model.variety), mf.sigma_measure(z, model)
    rows.append((f"{Path(run).name}: sigma on 100,000 fresh points (seed 12345), FS -> network",
                 f"{s_fs:.4f} -> {s_nn:.4f} ({s_fs / s_nn:.1f}x)", ""))
    exact = mf.load_metric_model(run).double()  # the same network in float64 for the finite differences
    d = mf.kahler_defect(z[:500], lambda data: metric_numpy(exact, data), variety=model.variety)
    rows.append((f"{Path(run).name}: Kahler defect max|d_a g_bc - d_b g_ac| / max|dg| (500 points)",
                 f"{d['max_rel']:.1e}", "0 for a Kahler metric (FD error ~1e-7)"))
    from cicy4lib.metricflow.measures import ricci_scalar
    r_fs = ricci_scalar(z[:300], variety=model.variety)
    r_nn = ricci_scalar(z[:300], lambda data: metric_numpy(exact, data), variety=model.variety)
    rows.append((f"{Path(run).name}: Ricci scalar mean |R| on 300 points, FS -> network",
                 f"{np.abs(r_fs).mean():.2f} -> {np.abs(r_nn).mean():.2f}", "Ricci-flat: 0"))


def bench_threefold(rows):
    from cicy4lib import metricflow as mf
    for conf in ([[3], [3]], [[2], [2], [2], [2]]):
        var = mf.from_configuration(conf)
        t = time.perf_counter()
        y = mf.sample_points(100_000, var, seed=0)
        data = mf.prepare(y, var)
        dt = time.perf_counter() - t
        from cicy4lib.metricflow.training import sigma_kappa
        s, k = sigma_kappa(None, data)
        rows.append((f"{conf} ({var.name}, random coefficients seed 0): sigma_FS, kappa, 100,000 points",
                     f"{s:.4f}, {k:.5f} (points+weights {dt:.1f} s, max|Q| {np.abs(var.evaluate(y)).max():.0e})",
                     "no published figure"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", nargs="*", default=["points", "fs", "throughput", "threefold"])
    ap.add_argument("--run", nargs="*", default=[], help="run directories to report")
    ap.add_argument("--report", help="write a markdown table here")
    args = ap.parse_args(argv)
    rows = []
    data0 = bench_points(rows) if "points" in args.parts or "fs" in args.parts else None
    if "fs" in args.parts:
        bench_fs(rows, data0)
    if "throughput" in args.parts:
        bench_throughput(rows)
    if "threefold" in args.parts:
        bench_threefold(rows)
    for run in args.run:
        bench_run(rows, run)
    head = (f"machine: {platform.node()} ({platform.processor() or platform.machine()}), "
            f"date {datetime.date.today()}, command: python benchmarks/bench_metricflow.py "
            + " ".join(argv if argv is not None else sys.argv[1:]))
    lines = [head, "", "| what | value | reference |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    text = "\n".join(lines)
    print(text)
    if args.report:
        Path(args.report).write_text(text + "\n")


if __name__ == "__main__":
    main()
