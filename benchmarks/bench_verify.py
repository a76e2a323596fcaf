"""Throughput of the verifier (``python -m cicy4lib verify``) and its projection to the real list.

Measures, on one core, (1) the Euler-number check (every entry: χ recomputed, stored Hodge numbers
checked against both index relations) and (2) the Hodge recomputation (line-bundle cohomology)
on a seeded random subset, per configuration (median, p90, max, by row count); then runs the
verifier end to end (chunks, worker processes, files) on a subset, and projects the wall time
for the 905,684 non-product entries of the CICY4 list on 2 and on 64 cores:

    T(cores) = N / (rate_chi * cores) + N / (rate_hodge * cores)

(perfect scaling over chunks, which are independent; the Hodge rate measured on SOURCE stands in
for the list's, whose row counts are similar to the generated set's: mean h11 10.1 vs ~10).

    python benchmarks/bench_verify.py [--source generated|sample|PATH] [--hodge 300] [--chi 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_LIST = 905_684


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=None, help="default: 'generated' if present, else 'sample'")
    ap.add_argument("--hodge", type=int, default=300, help="entries whose Hodge numbers are recomputed (one core)")
    ap.add_argument("--chi", type=int, default=10000, help="entries for the χ rate")
    ap.add_argument("--e2e", type=int, default=200, help="Hodge entries in the end-to-end verify run (0: skip)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--min-rows", type=int, default=1, help="only entries with at least this many rows")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)

    from cicy4lib.chunked import default_workers
    from cicy4lib.data import load_dataset
    from cicy4lib.geometry.euler import euler_numbers
    from cicy4lib.jobs.verify import verify, verify_chunk

    source = args.source
    if source is None:
        from cicy4lib.data.generated import GENERATED_DIR, completed_chunks

        source = "generated" if completed_chunks(GENERATED_DIR) else "sample"
    os.environ.setdefault("CICY4_GENERATED_PARTIAL", "1")  # the generated set while it grows, too
    data = load_dataset(source)
    if args.min_rows > 1:
        data = data.subset((data.conf != 0).any(2).sum(1) >= args.min_rows)
    rng = np.random.default_rng(0)
    n = len(data)
    load0 = os.getloadavg()

    # (1) χ for every entry (vectorised, one process)
    idx = np.sort(rng.choice(n, min(args.chi, n), replace=False))
    conf = data.conf[idx].astype(np.int64)
    t, c = time.perf_counter(), time.process_time()
    euler_numbers(conf, n_jobs=1)
    t_chi, c_chi = time.perf_counter() - t, time.process_time() - c
    rate_chi, cpu_rate_chi = len(idx) / t_chi, len(idx) / max(c_chi, 1e-9)

    # (2) Hodge numbers, one configuration at a time (what each worker does)
    hidx = np.sort(rng.choice(n, min(args.hodge, n), replace=False))
    # verify recomputes a chunk's χ in one batch (step 1's rate) and hands it to the labeller
    hidx_euler = euler_numbers(data.conf[hidx].astype(np.int64), n_jobs=1)
    times, methods = [], []
    c = time.process_time()
    from cicy4lib.geometry.labelling import label_with_limit

    for i, chi in zip(hidx, hidx_euler):
        P = data.conf[i]
        P = P[:(P != 0).any(1).sum(), :(P != 0).any(0).sum()].astype(np.int64)
        t = time.perf_counter()
        _, m = label_with_limit(P, args.timeout, euler=int(chi))
        times.append(time.perf_counter() - t)
        methods.append(m)
    c_hodge = time.process_time() - c
    times = np.array(times)
    rate_hodge, cpu_rate_hodge = len(times) / times.sum(), len(times) / max(c_hodge, 1e-9)
    rows = (data.conf[hidx] != 0).any(2).sum(1)
    by_rows = {}
    for lo, hi in ((1, 4), (5, 8), (9, 12), (13, 16)):
        sel = (rows >= lo) & (rows <= hi)
        if sel.any():
            by_rows[f"{lo}-{hi}"] = {"n": int(sel.sum()), "median_s": float(np.median(times[sel])),
                                     "p90_s": float(np.percentile(times[sel], 90)), "max_s": float(times[sel].max())}

    # (3) end to end: chunks, worker processes, result files, report
    e2e = None
    if args.e2e:
        workers = args.workers or default_workers()
        sub = data.subset(np.sort(rng.choice(n, min(n, max(args.e2e * 10, 2000)), replace=False)))
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            s = verify(sub, sample=min(args.e2e, len(sub)), out=Path(tmp) / "v", workers=workers,
                       chunk_size=max(100, len(sub) // (2 * workers)), progress=False, timeout=args.timeout)
            e2e = {"entries": len(sub), "hodge": s["hodge"]["recomputed"], "workers": workers,
                   "wall_s": round(time.perf_counter() - t, 2), "hodge_agree": s["hodge"]["agree"],
                   "all_agree": s["all_agree"]}

    def project(r_chi, r_hodge):
        out = {}
        for cores in (2, 64):
            t_all = N_LIST / (r_chi * cores) + N_LIST / (r_hodge * cores)
            t_chi_only = N_LIST / (r_chi * cores)
            t_1pct = N_LIST / (r_chi * cores) + 0.01 * N_LIST / (r_hodge * cores)
            out[cores] = {"all_hodge_h": round(t_all / 3600, 2), "chi_only_min": round(t_chi_only / 60, 2),
                          "sample_1pct_h": round(t_1pct / 3600, 3)}
        return out

    proj = project(rate_chi, rate_hodge)  # wall clock, as measured (shared machine)
    proj_cpu = project(cpu_rate_chi, cpu_rate_hodge)  # CPU time: what an unshared core does
    out = {
        "source": source, "min_rows": args.min_rows, "n_source": n,
        "mean_rows": round(float((data.conf != 0).any(2).sum(1).mean()), 2), "provenance_kind": (data.provenance or {}).get("kind"),
        "chi": {"entries": len(idx), "seconds": round(t_chi, 3), "per_s_per_core": round(rate_chi, 1),
                "cpu_seconds": round(c_chi, 3), "per_cpu_s": round(cpu_rate_chi, 1)},
        "hodge": {"entries": len(times), "seconds": round(float(times.sum()), 2),
                  "per_s_per_core": round(rate_hodge, 2), "cpu_seconds": round(c_hodge, 2),
                  "per_cpu_s": round(cpu_rate_hodge, 2), "median_s": float(np.median(times)),
                  "p90_s": float(np.percentile(times, 90)), "max_s": float(times.max()),
                  "methods": {m: methods.count(m) for m in sorted(set(methods))}, "by_rows": by_rows},
        "end_to_end": e2e,
        "projection_905684": proj, "projection_905684_cpu_time": proj_cpu,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs ({default_workers()} usable), "
                   f"{platform.system()}, Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in load0], "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "command": "python benchmarks/bench_verify.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    print(json.dumps(out, indent=1))
    for label, pr in (("wall clock as measured", proj), ("CPU time (unshared cores)", proj_cpu)):
        for cores, p in pr.items():
            print(f"[{label}] 905,684 entries on {cores} cores: χ + relations for all {p['chi_only_min']} min; "
                  f"+ Hodge for all {p['all_hodge_h']} h; + Hodge for a 1% sample {p['sample_1pct_h']} h")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
