"""Exact Hodge labeller: old vs new rank paths on the same configurations, by row count.

Usage:
    OMP_NUM_THREADS=1 python benchmarks/bench_labeller.py [--n 10] [--rows 8-16]
        [--source random|split|both] [--timeout 20] [--paths old,numpy,flint,flint+chi] [--json FILE]

Paths (each configuration is labelled by every path, one after the other, in one process):
  old    the labeller before this rework (``cicy4lib/cohomology.py`` at git revision
         ``--baseline``, loaded from git history; its Euler number comes from the current
         ``geometry.euler_number`` so only the cohomology differs). Skipped without git.
  numpy  today's labeller with ``rank_backend="numpy"`` (hand-written row echelon)
  flint  today's labeller with ``rank_backend="flint"`` (python-flint ``nmod_mat``)
  flint+chi  the same with the Euler numbers of all configurations computed first in one
         batched ``geometry.euler_numbers`` call (passed as ``euler=``); each configuration
         is charged its share of that call. This is the production path: the chunked
         generator (``generate_chunk``, ``build_sample``) passes the χ it computed while
         generating, the verifier (``verify_chunk``) the χ it recomputes for the whole chunk

Configurations (seeded): ``random`` = ``geometry.random_configuration`` with the row count
fixed, every column of degree >= 2, products skipped; ``split`` = effective splittings
(the construction of the CICY list): random walks from random 3-4-row configurations,
each step splits a column onto a new P^1 row and is kept only when the Euler number changes.

Times are process CPU time by default (``--clock cpu``; the machine may be shared), each
fast configuration repeated until 50 ms have passed (the CPU clock ticks coarsely).

Reports per row count: median / p90 / max seconds per configuration and configurations per
second per core (n / total time; a timed-out configuration counts its full budget) for
each path, speedups, method shares, the undetermined share and the slowest case; checks
that numpy and flint give identical results and that old and new agree where both label.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cicy4lib.geometry import euler_number, is_product, random_configuration  # noqa: E402
from cicy4lib.geometry import modp  # noqa: E402
from cicy4lib.geometry.cohomology import hodge_from_degree_matrix  # noqa: E402

BASELINE_REV = "4de94db"  # last commit with the pre-rework labeller (cicy4lib/cohomology.py)


# --------------------------------------------------------------------------- configurations
def random_set(rows, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for m in rows:
        k = 0
        while k < n:
            P = random_configuration(rng, n_rows=m)
            if (P.sum(0) >= 2).all() and not is_product(P):
                out.append(P)
                k += 1
    return out


def _split_once(P, rng):
    """Split a random column (degree >= 2) into two nonzero parts on a new P^1 row."""
    cols = np.flatnonzero(P.sum(0) >= 2)
    c = int(rng.choice(cols))
    units = np.repeat(np.arange(P.shape[0]), P[:, c])
    rng.shuffle(units)
    cut = int(rng.integers(1, len(units)))
    a = np.bincount(units[:cut], minlength=P.shape[0])
    b = P[:, c] - a
    rest = np.delete(P, c, axis=1)
    body = np.concatenate([a[:, None], b[:, None], rest], axis=1)
    top = np.zeros((1, body.shape[1]), dtype=np.int64)
    top[0, :2] = 1
    return np.concatenate([top, body], axis=0)


def split_set(rows, n, seed, batch=8, max_fails=25):
    """``n`` configurations per row count reached by effective splittings.

    Each random walk starts from a random 3-4-row configuration and records the
    configuration it reaches at every wanted row count (so one walk serves all of them).
    """
    from cicy4lib.geometry import euler_numbers

    rng = np.random.default_rng(seed)
    want = {m: [] for m in rows}
    top = max(rows)
    walks = 0
    while any(len(v) < n for v in want.values()) and walks < 40 * n:  # 14-16 rows are rare
        walks += 1
        P = random_configuration(rng, n_rows=int(rng.integers(3, 5)))
        if not ((P.sum(0) >= 2).all() and not is_product(P)):
            continue
        chi, fails = euler_number(P), 0
        while P.shape[0] < top and fails < max_fails:
            cands = [Q for Q in (_split_once(P, rng) for _ in range(batch)) if Q.shape[1] <= 20]
            chis = euler_numbers(cands) if cands else []
            hit = [i for i, c in enumerate(chis) if c != chi]  # effective: a different manifold
            if not hit:
                fails += 1
                continue
            P, chi = cands[hit[0]], int(chis[hit[0]])
            if P.shape[0] in want and len(want[P.shape[0]]) < n:
                want[P.shape[0]].append(P)
    return [P for m in rows for P in want[m]]


# --------------------------------------------------------------------------- labellers
def load_old(rev):
    """The labeller at ``rev`` as a module (None when git or the revision is unavailable)."""
    try:
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:cicy4lib/cohomology.py"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType("cicy4_cohomology_old")
    sys.modules[mod.__name__] = mod
    exec(compile(src, f"{rev}:cicy4lib/cohomology.py", "exec"), mod.__dict__)  # noqa: S102
    mod._euler = lambda P: int(euler_number(P))  # same Euler number code as today's path
    return mod


MIN_MEASURE_S = 0.05  # repeat a configuration until this much clock time has passed ...
MAX_REPEATS = 25  # ... or this many runs


def _clear_caches():
    """Forget per-configuration memo tables so a repeat costs what a first run costs (the
    labeller keeps its tables on a per-call object now; names listed here are cleared if a
    module-level cache comes back)."""
    from cicy4lib.geometry import cohomology
    for name in ("_column_structure",):
        fn = getattr(cohomology, name, None)
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def timed(fn, P, timeout, clock="cpu"):
    """(seconds, method, hodge, detail, wall seconds); ``clock="cpu"`` measures this process's
    CPU time (fair on a shared machine) and enforces ``timeout`` on it, ``"wall"`` the wall
    clock. A run past ``timeout`` counts ``timeout`` seconds."""
    sig, itimer = ((signal.SIGPROF, signal.ITIMER_PROF) if clock == "cpu"
                   else (signal.SIGALRM, signal.ITIMER_REAL))
    tick = time.process_time if clock == "cpu" else time.perf_counter
    signal.signal(sig, _alarm)
    signal.setitimer(itimer, timeout)
    t0, w0 = tick(), time.perf_counter()
    try:
        r = fn(P)
        runs = 1
        # the CPU clock ticks coarsely (4 ms here): repeat fast cases, report the mean
        while tick() - t0 < MIN_MEASURE_S and runs < MAX_REPEATS:
            _clear_caches()
            r = fn(P)
            runs += 1
        out = ((tick() - t0) / runs, r.method, r.hodge, r.detail, (time.perf_counter() - w0) / runs)
    except _Timeout:
        out = (float(timeout), "timeout", None, f"> {timeout:g} s", time.perf_counter() - w0)
    finally:
        signal.setitimer(itimer, 0)
    return out


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}; {os.cpu_count()} logical cores (1 used); python {platform.python_version()}; "
            f"numpy {np.__version__}; python-flint {modp.FLINT_VERSION}; "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")


def _stats(ts):
    t = np.asarray(ts, dtype=float)
    return {"n": int(t.size), "median_s": float(np.median(t)), "p90_s": float(np.quantile(t, 0.9)),
            "max_s": float(t.max()), "total_s": float(t.sum()), "configs_per_s": float(t.size / t.sum())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="configurations per row count and source")
    ap.add_argument("--rows", default="8-16", help="row counts, e.g. 8-16 or 12,14,16")
    ap.add_argument("--source", choices=("random", "split", "both"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per configuration and path")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time per configuration as process CPU time (default; fair on a shared "
                         "machine) or wall-clock time")
    ap.add_argument("--paths", default="old,numpy,flint,flint+chi",
                    help="any of old,numpy,flint,flint+chi (flint+chi: the production path)")
    ap.add_argument("--baseline", default=BASELINE_REV, help="git revision of the old labeller")
    ap.add_argument("--json", help="write all figures and per-configuration results here")
    args = ap.parse_args(argv)
    if "-" in args.rows:
        lo, hi = (int(x) for x in args.rows.split("-"))
        rows = list(range(lo, hi + 1))
    else:
        rows = [int(x) for x in args.rows.split(",")]
    paths = [p for p in args.paths.split(",") if p]
    fns = {}
    if "old" in paths:
        old = load_old(args.baseline)
        if old is None:
            print(f"(old path skipped: git revision {args.baseline} unavailable)")
            paths.remove("old")
        else:
            fns["old"] = old.hodge_from_degree_matrix
    for b in ("numpy", "flint"):
        if b in paths:
            fns[b] = lambda P, b=b: hodge_from_degree_matrix(P, rank_backend=b)
    print("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    print("machine:", machine())
    t0 = time.perf_counter()
    sets = []
    if args.source in ("random", "both"):
        sets += [("random", P) for P in random_set(rows, args.n, args.seed)]
    if args.source in ("split", "both"):
        sets += [("split", P) for P in split_set(rows, args.n, args.seed)]
    print(f"configurations: {len(sets)} ({args.source}, rows {args.rows}, {args.n} per row count "
          f"and source, seed {args.seed}; made in {time.perf_counter() - t0:.1f} s)\n")

    chi_share = 0.0
    if "flint+chi" in paths:
        from cicy4lib.geometry import euler_numbers
        tick = time.process_time if args.clock == "cpu" else time.perf_counter
        t1 = tick()
        chis = [int(c) for c in euler_numbers([P for _, P in sets])]
        chi_share = (tick() - t1) / max(len(sets), 1)
        print(f"batched Euler numbers: {1e3 * chi_share:.3f} ms per configuration ({args.clock})")
    records = []
    for idx, (src, P) in enumerate(sets):
        rec = {"source": src, "rows": int(P.shape[0]), "cols": int(P.shape[1]), "conf": P.tolist()}
        for p in paths:
            if p == "flint+chi":
                t, *rest = timed(lambda Q: hodge_from_degree_matrix(Q, rank_backend="flint", euler=chis[idx]),
                                 P, args.timeout, args.clock)
                rec[p] = tuple([t + chi_share] + rest)
            else:
                rec[p] = timed(fns[p], P, args.timeout, args.clock)
        records.append(rec)

    mismatch_backends = sum(1 for r in records for a, b in (("numpy", "flint"), ("flint", "flint+chi"))
                            if a in r and b in r and r[a][1:3] != r[b][1:3])
    disagree_old = sum(1 for r in records if "old" in r and "flint" in r and r["old"][2] is not None
                       and r["flint"][2] is not None and r["old"][2] != r["flint"][2])
    new = "flint+chi" if "flint+chi" in paths else "flint" if "flint" in paths else paths[-1]
    summary = {"command": " ".join(sys.argv), "machine": machine(), "by_rows": {}, "groups": {}}

    def report(label, recs):
        line = f"{label:>8s} n={len(recs):4d}"
        entry = {}
        for p in paths:
            st = _stats([r[p][0] for r in recs])
            entry[p] = st
            line += f" | {p} med {st['median_s'] * 1e3:7.1f} ms p90 {st['p90_s'] * 1e3:7.1f} ms {st['configs_per_s']:6.1f}/s"
        if "old" in paths:
            o = entry["old"]
            for p in paths[1:]:
                nw = entry[p]
                sp = {"median": o["median_s"] / nw["median_s"], "p90": o["p90_s"] / nw["p90_s"],
                      "throughput": nw["configs_per_s"] / o["configs_per_s"]}
                entry[f"speedup_{p}"] = sp
                line += f" | {p}/old x{sp['median']:.1f} med x{sp['p90']:.1f} p90 x{sp['throughput']:.1f} thr"
        for p in paths:
            c = collections.Counter(r[p][1] for r in recs)
            entry[f"methods_{p}"] = {k: v / len(recs) for k, v in c.items()}
        und = lambda p: sum(r[p][1] in ("undetermined", "timeout") for r in recs) / len(recs)  # noqa: E731
        line += " | undetermined " + " ".join(f"{p} {100 * und(p):.1f}%" for p in paths)
        print(line)
        return entry

    for src in sorted({s for s, _ in sets}):
        print(f"source {src}: {args.clock} time per configuration (1 core), configs/s per core, "
              "speedups against old (median, p90, throughput)")
        for m in rows:
            recs = [r for r in records if r["source"] == src and r["rows"] == m]
            if recs:
                summary["by_rows"][f"{src}/{m}"] = report(f"{m} rows", recs)
        for lo, hi in ((8, 16), (12, 16)):
            recs = [r for r in records if r["source"] == src and lo <= r["rows"] <= hi]
            if recs:
                summary["groups"][f"{src}/{lo}-{hi}"] = report(f"{lo}-{hi}", recs)
        print()
    for lo, hi in ((8, 16), (12, 16)):
        recs = [r for r in records if lo <= r["rows"] <= hi]
        if recs:
            print(f"all sources, {lo}-{hi} rows:")
            summary["groups"][f"all/{lo}-{hi}"] = report(f"{lo}-{hi}", recs)
    print()
    for p in paths:
        c = collections.Counter(r[p][1] for r in records)
        print(f"methods ({p}): " + ", ".join(f"{k} {100 * v / len(records):.1f}%" for k, v in sorted(c.items())))
    slow = max(records, key=lambda r: r[new][0])
    print(f"slowest ({new}): {slow[new][0]:.2f} s, {slow['source']} {slow['rows']}x{slow['cols']}, "
          f"{slow[new][1]} {slow[new][2]}; conf {slow['conf']}")
    print(f"numpy vs flint vs flint+chi: {mismatch_backends} results differ (must be 0); "
          f"old vs new: {disagree_old} disagree where both label")
    left = [r for r in records if r[new][1] in ("undetermined", "timeout")]
    for r in left[:10]:
        print(f"  left undetermined ({r['source']} {r['rows']} rows): {r[new][3][:100]}  conf {r['conf']}")
    summary.update(slowest={"seconds": slow[new][0], "conf": slow["conf"], "method": slow[new][1]},
                   backend_mismatches=mismatch_backends, old_new_disagreements=disagree_old)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "records": records}, fh, indent=1, default=str)
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")
    return 1 if mismatch_backends or disagree_old else 0


if __name__ == "__main__":
    sys.exit(main())
