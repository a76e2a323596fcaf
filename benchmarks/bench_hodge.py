"""Coverage and speed of cicy4lib.geometry.cohomology.hodge_from_degree_matrix on random CY4 configurations.

Usage: python benchmarks/bench_hodge.py [--n 300] [--seed 0] [--max-rows 8]

Configurations are drawn by ``random_configuration`` (cicy4lib.geometry's generator when it
exists, otherwise the small one below): rows P^1..P^4 with every column of degree >= 2,
direct products skipped.  Reports the share labelled by each method, median and p90 seconds
per configuration, and the shares of non-favourable (h11 > rows) and h21 > 0 results.
"""
from __future__ import annotations

import argparse
import collections
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cicy4lib.geometry.cohomology import hodge_from_degree_matrix  # noqa: E402


def random_configuration(rng, max_rows=8):
    """A random Calabi–Yau four-fold degree block (m x K), every column of total degree >= 2."""
    while True:
        m = int(rng.integers(1, max_rows + 1))
        n = rng.choice([1, 1, 1, 2, 2, 3, 4], size=m)
        K = int(n.sum()) - 4
        if K < 1 or K > m + 4:  # column degrees >= 2 need sum(n_i + 1) >= 2K
            continue
        P = np.zeros((m, K), dtype=np.int64)
        for i in range(m):
            for _ in range(n[i] + 1):
                P[i, rng.integers(K)] += 1
        if (P.sum(axis=0) >= 2).all():
            return P


def _is_block_diagonal(P):
    """True if rows/columns split into two independent blocks (a direct product)."""
    m, K = P.shape
    seen_r, stack = {0}, [0]
    seen_c = set()
    while stack:
        r = stack.pop()
        for c in np.nonzero(P[r])[0]:
            if c not in seen_c:
                seen_c.add(c)
                for r2 in np.nonzero(P[:, c])[0]:
                    if r2 not in seen_r:
                        seen_r.add(r2)
                        stack.append(r2)
    return len(seen_r) < m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-rows", type=int, default=8)
    ap.add_argument("--own-generator", action="store_true",
                    help="use this file's generator even if cicy4lib.geometry has one")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    gen, source = random_configuration, "bench_hodge.random_configuration"
    if not args.own_generator:
        try:
            from cicy4lib import geometry
            geometry.random_configuration(np.random.default_rng(0), max_rows=args.max_rows)
            gen = lambda r, mr: geometry.random_configuration(r, max_rows=mr)  # noqa: E731
            source = "cicy4lib.geometry.random_configuration"
        except Exception:  # noqa: BLE001 - geometry helper absent or different: own generator
            pass
    methods = collections.Counter()
    times, rows = [], []
    nonfav = h21pos = labelled = 0
    undetermined = collections.Counter()
    while len(times) < args.n:
        P = np.asarray(gen(rng, args.max_rows), dtype=np.int64)
        if P.shape[0] > args.max_rows or _is_block_diagonal(P):
            continue
        t0 = time.perf_counter()
        res = hodge_from_degree_matrix(P)
        times.append(time.perf_counter() - t0)
        rows.append(P.shape[0])
        methods[res.method] += 1
        if res.hodge is None:
            reason = re.sub(r"\(-?\d+(,-?\d+)*\)", "(L)", res.detail)
            reason = re.sub(r"(e_|D_|level |H\^)\d+", r"\1*", reason)
            undetermined[reason[:90]] += 1
        else:
            labelled += 1
            nonfav += res.hodge[0] > P.shape[0]
            h21pos += res.hodge[1] > 0
    t = np.array(times)
    print(f"configurations: {len(t)} from {source} (seed {args.seed}, up to {args.max_rows} rows, "
          f"mean rows {np.mean(rows):.2f}, products skipped)")
    for m in ("exact", "generic-rank", "undetermined"):
        print(f"  {m:13s} {methods[m]:5d}  {100 * methods[m] / len(t):5.1f}%")
    print(f"labelled: {labelled}; non-favourable {100 * nonfav / max(labelled, 1):.1f}%, "
          f"h21>0 {100 * h21pos / max(labelled, 1):.1f}% of labelled")
    print(f"seconds per configuration: median {np.median(t):.4f}, p90 {np.quantile(t, 0.9):.4f}, "
          f"max {t.max():.3f}, total {t.sum():.1f}")
    if undetermined:
        print("undetermined reasons:")
        for k, v in undetermined.most_common(8):
            print(f"  {v:4d}  {k}")
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python {platform.python_version()} numpy {np.__version__}")


if __name__ == "__main__":
    main()
