"""Raw-list parser benchmark: cicy4lib's streamed numpy parser vs create_data.py's approach.

Writes a synthetic list in the real format (921,497 entries by default: realistic shapes,
entries wrapped over lines as Mathematica exports them, 15,813 product entries whose Hodge
numbers and flag are ``Null``), then runs each parser in its own subprocess and reports wall
time, peak resident memory (``ru_maxrss``) and the speed ratio.

The baseline re-implements the CICYMiner ``create_data.py`` loop: read the whole file, mark
entry ends by string replacement, turn braces into brackets and ``Null`` into ``False``, split,
then one ``ast.literal_eval`` per entry filling int64 arrays, and finally ``conf / max``.

    python benchmarks/bench_parser.py                 # full size (a few minutes)
    python benchmarks/bench_parser.py --n 100000      # quicker
    python benchmarks/bench_parser.py --baseline-fraction 0.1   # baseline on 10%, extrapolated (labelled)
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FULL, N_PRODUCTS_FULL = 921_497, 15_813


# --------------------------------------------------------------------------- synthetic list

def _random_configuration(rng):
    """A random CY four-fold configuration (row sums n_i + 1, sum n_i - K = 4, no empty column)
    with a realistic shape (about 9 rows)."""
    while True:
        m = int(np.clip(np.rint(rng.normal(9.5, 3.0)), 1, 16))
        dims = rng.choice([1, 2, 3, 4, 5], size=m, p=[0.72, 0.16, 0.07, 0.04, 0.01])
        k = int(dims.sum()) - 4
        if 1 <= k <= 20:
            break
    P = np.zeros((m, k), np.int64)
    room = dims + 1  # degree units left in each row; k + 4 + m of them in all, so >= k
    for j in range(k):  # one unit per column first: no empty column
        i = rng.choice(np.flatnonzero(room > 0))
        P[i, j] += 1
        room[i] -= 1
    for i in range(m):
        for _ in range(room[i]):
            j = rng.integers(k)
            while P[i, j] >= 5:
                j = rng.integers(k)
            P[i, j] += 1
    return P


def _wrap(text: str, width: int = 78, indent: str = "   ") -> str:
    """Break after ", " like Mathematica's line output (the space stays before the newline)."""
    lines, line = [], ""
    for piece in text.split(", "):
        candidate = piece if not line else f"{line}, {piece}"
        if len(candidate) + 2 > width and line:
            lines.append(line + ", ")
            line = indent + piece
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)


def write_synthetic_list(path, n: int = N_FULL, n_products: int | None = None, seed: int = 0,
                         pool_size: int = 2_000) -> Path:
    """Write ``n`` entries in the cicy4list.txt format (products carry Null Hodge numbers)."""
    rng = np.random.default_rng(seed)
    n_products = round(n * N_PRODUCTS_FULL / N_FULL) if n_products is None else n_products
    pool = [np.array([[6]])] + [_random_configuration(rng) for _ in range(min(pool_size, n) - 1)]
    pool_text = ["{" + ", ".join("{" + ", ".join(map(str, row)) + "}" for row in P) + "}" for P in pool]
    product = np.zeros(n, bool)
    product[rng.choice(n, n_products, replace=False)] = True
    pick = rng.integers(len(pool), size=n)
    pick[0] = 0  # the list opens with the sextic, whose 6 is the largest degree
    h21 = np.where(rng.random(n) < 0.7, 0, rng.integers(0, 34, size=n))
    h31 = rng.integers(20, 427, size=n)
    with open(path, "w") as f:
        for i in range(n):
            P = pool[pick[i]]
            m, k = P.shape
            h11 = m if rng.random() < 0.545 else int(rng.integers(1, 25))
            euler = 48 + 6 * (h11 - h21[i] + h31[i])
            if product[i]:
                tail = f"{max(euler, 0)}, True, Null, Null, Null, Null, Null"
            else:
                h22 = 44 + 4 * h11 - 2 * h21[i] + 4 * h31[i]
                flag = "True" if h11 == m else "False"
                tail = f"{euler}, False, {h11}, {h21[i]}, {h31[i]}, {h22}, {flag}"
            entry = _wrap(f"{'{' if i == 0 else ' '}{{{i + 1}, {m}, {k}, {pool_text[pick[i]]}, {tail}}}")
            f.write(entry + ("}\n" if i == n - 1 else ", \n"))
    return Path(path)


# --------------------------------------------------------------------------- the two parsers

def parse_baseline(path, n_entries: int):
    """create_data.py's loop (CICYMiner), kept faithful: string surgery + ast.literal_eval per entry."""
    h = np.zeros((n_entries, 4), dtype=np.int64)
    m = np.zeros((n_entries, 16, 20), dtype=np.int64)
    direct = np.zeros(n_entries, dtype=bool)
    with open(path, "r") as file:
        data = file.read()
    for word in ("True", "False", "Null"):
        data = data.replace(word + "}, \n", word + "};").replace(word + "},", word + "};")
    data = data.replace("{", "[").replace("}", "]")
    data = data.replace("Null", "False")
    data = data.replace("\n", "")
    data = data.split(";")
    for i, line in enumerate(data):
        line = line.strip()
        if i == 0:
            line = line[1:]
        if i >= n_entries - 1:
            line = line[:-1]
        lline = ast.literal_eval(line)
        direct[i] = lline[5]
        h[i] += np.array(lline[6:10])
        m[i, 0:lline[1], 0:lline[2]] += np.array(lline[3])
    m = m / np.max(m)
    return m, h, direct


def parse_ours(path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cicy4lib.data import read_cicy4_list

    # the synthetic list's Euler fields are not the configurations' chi (its Hodge numbers are
    # consistent with them): time the parser and its structural checks, not the chi check
    return read_cicy4_list(path, drop_products=False, check_euler=False)


def _worker(which: str, path: str, n_entries: int) -> dict:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    if which == "ours":
        data = parse_ours(path)
    else:
        m, h, direct = parse_baseline(path, n_entries)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the checks below allocate
    if which == "ours":
        summary = {"entries": len(data), "products": int(data.is_product.sum()),
                   "checksum": int(data.conf.sum(dtype=np.int64) + data.hodge[data.hodge > 0].sum())}
    else:
        summary = {"entries": len(m), "products": int(direct.sum()),
                   "checksum": int(sum(np.rint(block * 6).sum(dtype=np.int64) for block in np.array_split(m, 64))
                                   + h[h > 0].sum())}
    return {"parser": which, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_kb / 1024,
            "rss_before_mb": rss_before / 1024, **summary}


def _run_worker(which, path, n_entries) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", which, str(path), "--n", str(n_entries)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = float("nan")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{model}, {cores} usable cores, {mem_gb:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=N_FULL, help="entries in the synthetic list")
    parser.add_argument("--file", help="reuse / keep this list file instead of a temporary one")
    parser.add_argument("--baseline-fraction", type=float, default=1.0,
                        help="time the baseline on a list this fraction of the size and extrapolate "
                             "linearly (labelled EXTRAPOLATED in the output)")
    parser.add_argument("--worker", nargs=2, metavar=("PARSER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker[0], args.worker[1], args.n)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.file) if args.file else Path(tmp) / "cicy4list.txt"
        if not path.exists():
            t = time.perf_counter()
            write_synthetic_list(path, args.n)
            size_mib = path.stat().st_size / 2**20
            print(f"wrote {args.n:,} entries ({size_mib:.0f} MiB) in {time.perf_counter() - t:.0f} s")
        ours = _run_worker("ours", path, args.n)
        n_base = args.n
        base_path = path
        if args.baseline_fraction < 1.0:
            n_base = max(1, int(args.n * args.baseline_fraction))
            base_path = Path(tmp) / "smaller.txt"  # same generator, fewer entries
            write_synthetic_list(base_path, n_base)
        base = _run_worker("baseline", base_path, n_base)
        scale = args.n / n_base
        base_seconds = base["seconds"] * scale
        label = "" if scale == 1 else f" (EXTRAPOLATED from {n_base:,} entries x {scale:.1f})"
        base_cpu = base["cpu_seconds"] * scale
        print(f"machine: {_machine()}")
        print(f"command: python benchmarks/bench_parser.py {' '.join(argv if argv is not None else sys.argv[1:])}")
        print(f"entries: {args.n:,} ({ours['products']:,} products), {path.stat().st_size / 2**20:.0f} MiB")
        print(f"ours     {ours['seconds']:8.1f} s wall ({ours['cpu_seconds']:.1f} s CPU)   peak RSS "
              f"{ours['peak_rss_mb']:6.0f} MiB (interpreter before parsing {ours['rss_before_mb']:.0f} MiB)")
        print(f"baseline {base_seconds:8.1f} s wall ({base_cpu:.1f} s CPU){label}   peak RSS "
              f"{base['peak_rss_mb']:6.0f} MiB{' on the smaller list' if label else ''} "
              f"(interpreter before parsing {base['rss_before_mb']:.0f} MiB)")
        print(f"ratio    {base_seconds / ours['seconds']:8.1f} x faster (wall), "
              f"{base_cpu / ours['cpu_seconds']:.1f} x (CPU)")
        if scale == 1 and ours["checksum"] != base["checksum"]:
            print("WARNING: the parsers disagree on the data (checksums differ)")
        elif scale == 1:
            print("outputs agree (matrix and Hodge checksums equal)")


if __name__ == "__main__":
    main()
