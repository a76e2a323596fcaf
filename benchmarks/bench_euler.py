"""Throughput of the exact Euler number on generated CICY four-fold configurations.

Usage::

    python benchmarks/bench_euler.py [--n 50000] [--single 500] [--jobs 1 2] [--seed 0]

Prints the machine, the shapes of the generated configurations, configurations per second
for one-at-a-time ``euler_number`` and for batched ``euler_numbers`` (wall clock and CPU
time of this process: the machine may be shared), and the projected time for the whole
CICY4 list (921,497 configurations).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cicy4lib import geometry  # noqa: E402

LIST_SIZE = 921_497


def machine_info() -> str:
    """One line describing the machine and its current load."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{platform.platform()} | python {platform.python_version()} | numpy "
            f"{np.__version__} | cpu_count {os.cpu_count()} | processor "
            f"{platform.processor() or platform.machine()} | load avg {load[0]:.2f}")


def generate(n: int, seed: int) -> np.ndarray:
    """n random configurations (see geometry.random_configuration), padded int8."""
    rng = np.random.default_rng(seed)
    return np.stack([geometry.pad_configuration(geometry.random_configuration(rng))
                     for _ in range(n)])


def describe(padded: np.ndarray) -> str:
    rows = padded.any(axis=2).sum(axis=1)
    cols = padded.any(axis=1).sum(axis=1)
    dims = padded.sum(axis=2) - 1
    factors = dims[dims >= 1]
    share = {k: np.mean(factors == k) for k in (1, 2, 3)}
    return (f"rows: mean {rows.mean():.1f}, max {rows.max()}, share >= 12: "
            f"{np.mean(rows >= 12):.1%} | cols: mean {cols.mean():.1f}, max {cols.max()} | "
            f"factors P^1 {share[1]:.0%}, P^2 {share[2]:.0%}, P^3 {share[3]:.0%}")


def timed(fn):
    """(result, wall seconds, CPU seconds of this process and its children)."""
    t0, c0 = time.perf_counter(), os.times()
    out = fn()
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + (
        c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return out, time.perf_counter() - t0, cpu


def report(label: str, count: int, wall: float, cpu: float, workers: int = 1) -> None:
    """Print the rate and two projections for the whole list.

    ``wall`` projects the rate measured now (slower when other jobs share the cores);
    ``idle`` assumes each worker gets a whole core: count / CPU seconds per worker.
    """
    rate = count / wall
    idle_rate = count / cpu * min(workers, os.cpu_count() or 1)
    print(f"{label:<34} {count:>7} configs  wall {wall:6.2f} s = {rate:6.0f} configs/s, "
          f"CPU {cpu:6.2f} s = {count / cpu:6.0f} configs/CPU-s | {LIST_SIZE:,} configs: "
          f"{LIST_SIZE / rate / 60:5.1f} min at this wall rate, "
          f"{LIST_SIZE / idle_rate / 60:5.1f} min on idle cores")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="configurations (batched)")
    parser.add_argument("--single", type=int, default=500,
                        help="configurations timed one at a time")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2],
                        help="worker processes for euler_numbers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print(machine_info())
    padded, wall, _ = timed(lambda: generate(args.n, args.seed))
    print(f"generated {args.n} configurations in {wall:.1f} s (seed {args.seed})")
    print(describe(padded))

    subset = padded[: args.single]
    single, wall, cpu = timed(lambda: np.array([geometry.euler_number(P) for P in subset]))
    report("euler_number (one at a time)", len(subset), wall, cpu)
    results = {}
    for jobs in args.jobs:
        chi, wall, cpu = timed(lambda: geometry.euler_numbers(padded, n_jobs=jobs))
        report(f"euler_numbers (batched, n_jobs={jobs})", len(padded), wall, cpu, jobs)
        results[jobs] = chi
    first = results[args.jobs[0]]
    agree = all(np.array_equal(first, c) for c in results.values())
    agree &= np.array_equal(first[: len(single)], single)
    print(f"results agree across paths: {agree} | chi range {first.min()}..{first.max()}, "
          f"all divisible by 6: {bool(np.all(first % 6 == 0))}")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
