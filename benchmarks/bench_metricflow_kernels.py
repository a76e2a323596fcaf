"""Benchmarks of the metric-NTK half of seed 004 (issue: numerical CY metrics, part 2).

Sections (``--only a,b``), each written to ``--out`` (JSON) as soon as it finishes:

- ``clusters``: Fig. 2's numbers: 1,000 points of one chart, 10 clusters, 5 batches: mean
  within-cluster FS distance of batch clustering, full clustering and random labels (3 seeds).
- ``mu``: Fig. 3 right: mean nearest-neighbour FS distance mu(N), one chart and the whole manifold,
  power-law fits beside the paper's 0.968 N^-0.184.
- ``flows``: kernel flows (σ-loss) from Fubini–Study on 1,000 training points of one chart, gain
  in σ on them and on 1,000 fresh test points of the same chart.
- ``noise``: Fig. 3 left: gain on noised training points (projected back onto X) vs their mean
  FS distance to the training set, per kernel and for the finite 3x64 network.
- ``ntk``: empirical metric-NTK of 2,500 points for the 3x64 network: wall time, peak memory
  (run in a child process so that its peak RSS is its own).

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_metricflow_kernels.py [--only mu] [--quick]``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cicy4lib import metricflow as mf  # noqa: E402
from cicy4lib.metricflow import clustering as C  # noqa: E402
from cicy4lib.metricflow import distances as D  # noqa: E402
from cicy4lib.metricflow import kernel_flow as F  # noqa: E402
from cicy4lib.metricflow import kernels as K  # noqa: E402

PAPER_MU = (0.968, -0.184)


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def kernels_under_test():
    return {
        "delta": (K.DeltaKernel(), K.TABLE1["delta"]["lr"]),
        "gaussian (eq. 3.5 as printed, sigma=30)": (K.GaussianKernel(30.0, form="paper"), K.TABLE1["gaussian"]["lr"]),
        "gaussian (rate reading, exp(-30 d/2))": (K.GaussianKernel(30.0, form="rate"), K.TABLE1["gaussian"]["lr"]),
        "relu NTK (Table 1)": (K.ReluNTK(), K.TABLE1["relu"]["lr"]),
    }


def bench_clusters(quick):
    z = mf.quintic_points(1000, seed=0, chart=0)
    d = D.fs_distance(z)
    t = time.perf_counter()
    batched = [C.within_cluster_distance(z, C.cluster_points(z, 10, n_batches=5, seed=s).labels, d=d)
               for s in range(3)]
    t_b = (time.perf_counter() - t) / 3
    t = time.perf_counter()
    full = C.within_cluster_distance(z, C.cluster_points(z, 10).labels, d=d)
    t_f = time.perf_counter() - t
    rng = np.random.default_rng(0)
    rand = [C.within_cluster_distance(z, rng.integers(0, 10, 1000), d=d) for _ in range(3)]
    return {"batched": batched, "full": full, "random": rand, "batched_mean": float(np.mean(batched)),
            "random_mean": float(np.mean(rand)), "ratio_to_random": float(np.mean(batched) / np.mean(rand)),
            "ratio_to_full": float(np.mean(batched) / full), "time_batched_s": t_b, "time_full_s": t_f}


def bench_mu(quick):
    ns = [1000, 2000, 5000, 10000, 20000] + ([] if quick else [50000])
    out = {}
    for label, chart in (("one_chart", 0), ("whole", None)):
        rows = []
        for n in ns:
            t = time.perf_counter()
            z = mf.quintic_points(n, seed=11, chart=chart)
            nd = D.nearest_distances(z)
            rows.append({"n": n, "mean": float(nd.mean()), "max": float(nd.max()), "min": float(nd.min()),
                         "time_s": time.perf_counter() - t})
            print(label, rows[-1], flush=True)
        a, b = D.fit_power_law([r["n"] for r in rows], [r["mean"] for r in rows])
        sel = [r for r in rows if r["n"] <= 20000]
        a20, b20 = D.fit_power_law([r["n"] for r in sel], [r["mean"] for r in sel])
        dev = [r["mean"] / (PAPER_MU[0] * r["n"] ** PAPER_MU[1]) - 1 for r in sel]
        out[label] = {"rows": rows, "fit": [a, b], "fit_le_2e4": [a20, b20], "dev_from_paper_le_2e4": dev}
    return out


def bench_flows(quick):
    steps = 300 if quick else 2000
    z = mf.quintic_points(1000, seed=0, chart=0)
    zt = mf.quintic_points(1000, seed=1, chart=0)
    mean_d = K.mean_distance_to(zt, z)
    out = {"n_train": 1000, "n_test": 1000, "steps": steps, "test_mean_distance": mean_d, "kernels": {}}
    for name, (kern, lr) in kernels_under_test().items():
        t = time.perf_counter()
        r = F.flow_points(z, kern, z_test=zt, lr=lr, steps=steps, on_stop="return", eval_every=50)
        out["kernels"][name] = {"lr": lr, "params": kern.params(), "sigma_train0": r.sigma_train0,
                                "sigma_train": r.sigma_train, "gain_train": r.gain_train,
                                "sigma_test0": r.sigma_test0, "sigma_test": r.sigma_test, "gain_test": r.gain_test,
                                "best_test_gain": r.sigma_test0 / min(s for s in r.history["sigma_test"] if s is not None),
                                "stopped": r.stopped, "time_s": time.perf_counter() - t}
        print(name, out["kernels"][name], flush=True)
    return out


def train_network(z, z_eval_list, *, steps=1500, seed=0):
    """The finite 3x64 network (multiplicative, GELU) trained full-batch with Adam on the σ-loss;
    returns (σ before, σ after) on each evaluation set."""
    import torch

    from cicy4lib.metricflow import ntk as N

    torch.manual_seed(seed)
    tr = N.prepared_inputs(z)
    m = N.MetricMLP(seed=seed, dtype=torch.float64)
    T = {k: torch.as_tensor(v) for k, v in tr.items()}
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    evals = [{k: torch.as_tensor(v) for k, v in N.prepared_inputs(ze).items()} for ze in z_eval_list]

    def sig(D, model=True):
        with torch.no_grad():
            v = m(D["x"], D["v_fs"]) if model else D["v_fs"]
            return float(N.sigma_loss_torch(v, D["omega_abs2"], D["w"]))

    before = [sig(E, False) for E in evals]
    for _ in range(steps):
        opt.zero_grad()
        loss = N.sigma_loss_torch(m(T["x"], T["v_fs"]), T["omega_abs2"], T["w"])
        loss.backward()
        opt.step()
        sched.step()
    return before, [sig(E) for E in evals], sig(T)


def bench_noise(quick):
    steps = 200 if quick else 1000
    n = 300 if quick else 1000
    scales = [0.0, 0.003, 0.01, 0.03, 0.1, 0.3] if quick else [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.4, 0.8]
    z = mf.quintic_points(n, seed=0, chart=0)
    out = {"n_train": n, "steps": steps, "scales": scales, "kernels": {}}
    for name, (kern, lr) in kernels_under_test().items():
        t = time.perf_counter()
        rows = F.gain_vs_distance(z, kern, scales, lr=lr, steps=steps, on_stop="return")
        out["kernels"][name] = rows
        print(name, [(round(r["mean_distance"], 4), round(r["gain_test"], 2)) for r in rows],
              f"{time.perf_counter() - t:.0f} s", flush=True)
    sets = [F.noised_points(z, s, seed=i, chart=0)[0] for i, s in enumerate(scales)]
    before, after, s_train = train_network(z, sets, steps=300 if quick else 1500)
    out["kernels"]["finite network 3x64 (GELU, Adam)"] = [
        {"scale": s, "n_test": len(zs), "mean_distance": K.mean_distance_to(zs, z), "gain_test": b / a,
         "gain_train": None} for s, zs, b, a in zip(scales, sets, before, after)]
    out["network_sigma_train"] = s_train
    return out


def _ntk_child(n, chunk):
    import torch

    from cicy4lib.metricflow import ntk as N

    torch.set_num_threads(1)
    z = mf.quintic_points(n, seed=0)
    d = N.prepared_inputs(z)
    m = N.MetricMLP()  # 3 x 64, GELU, float32
    t = time.perf_counter()
    th = N.empirical_ntk(m, d["x"], d["v_fs"], chunk=chunk)
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"n": n, "chunk": chunk, "params": sum(p.numel() for p in m.parameters()),
                      "shape": list(th.shape), "dtype": str(th.dtype), "theta_gib": th.nbytes / 2 ** 30,
                      "wall_s": wall, "peak_rss_gib": rss / 2 ** 30, "torch_threads": torch.get_num_threads()}))


def bench_ntk(quick):
    n = 500 if quick else 2500
    res = subprocess.run([sys.executable, __file__, "--ntk-child", str(n)], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


SECTIONS = {"clusters": bench_clusters, "mu": bench_mu, "flows": bench_flows, "noise": bench_noise,
            "ntk": bench_ntk}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "metricflow_part2.json"))
    p.add_argument("--ntk-child", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--chunk", type=int, default=256)
    a = p.parse_args(argv)
    if a.ntk_child:
        _ntk_child(a.ntk_child, a.chunk)
        return 0
    import torch

    torch.set_num_threads(1)
    out_path = Path(a.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in a.only.split(","):
        t = time.perf_counter()
        res = SECTIONS[name](a.quick)
        results[name] = {"result": res, "wall_s": time.perf_counter() - t, "quick": a.quick, "machine": machine(),
                         "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                         "command": "nice -n 10 .venv/bin/python benchmarks/bench_metricflow_kernels.py "
                                    f"--only {name}" + (" --quick" if a.quick else "")}
        tmp = out_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1, default=float))
        os.replace(tmp, out_path)
        print(f"== {name} done in {time.perf_counter() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
