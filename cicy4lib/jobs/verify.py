"""Check a CICY four-fold list against cicy4lib's own geometry: ``python -m cicy4lib verify SOURCE``.

For every entry of ``SOURCE`` (anything :func:`cicy4lib.data.load_dataset` reads: the raw list
``cicy4list.txt``/``.zip``, a numpy-trio folder, the Kaggle split files, ``"sample"``,
``"generated"``, an ``.npz``) the verifier

- recomputes the Euler number χ exactly (:func:`cicy4lib.geometry.euler_numbers`) and compares it
  with the stored one (where the source stores one), and checks the stored Hodge numbers against
  both index relations with the recomputed χ (every entry: a cheap, complete check);
- flags every entry that is an ineffective splitting of a smaller configuration by the Euler rule
  (a row P^n of n + 1 ones whose contraction keeps χ), :func:`cicy4lib.geometry.splitting.ineffective_rows`,
  and labels those contractions to judge them (:mod:`cicy4lib.geometry.equivalence`): the same
  Hodge numbers as the entry's stored ones make it a redundant description (kind ``redundant``);
  other Hodge numbers for every such contraction make it a different manifold that only the Euler
  rule calls redundant (kind ``chi-equal``; for four-folds equal χ is not the same manifold);
- recomputes the Hodge numbers by line-bundle cohomology
  (:func:`cicy4lib.geometry.cohomology.hodge_from_degree_matrix`) for every entry or for a
  seeded random ``--sample N`` of them, and compares them with the stored ones.

It writes to ``--out`` (default ``verify-<source name>``):

- ``mismatches.csv``: one line per disagreement (kind ``euler``, ``relation`` or ``hodge``), per
  redundant description (kind ``redundant``) and per
  entry whose Hodge numbers could not be recomputed (``undetermined``, ``timeout``, ``error``), with
  the matrix, the stored and the recomputed values;
- ``summary.json``: counts, agreement shares, methods, wall time and throughput, machine, command;
- ``chunks/part_NNNNN.npz``: the per-chunk results; a killed run resumes from them (the manifest
  records the source's fingerprint and the settings; another source or settings need ``--restart``).

Work is cut into chunks of ``--chunk-size`` entries and runs on every local core by default
(``--workers N``) or on a Dask cluster (``--scheduler tcp://host:8786``; see
:mod:`cicy4lib.chunked`, which also shows dask-jobqueue for SLURM/PBS); only a chunk's matrices
travel to a worker, results go straight to disk, and the final report is streamed from the chunk
files, so memory stays at the dataset's int8 matrices (320 bytes per entry) plus a few chunks.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..chunked import default_workers, run_chunks
from ..data import load_dataset
from ..errors import Cicy4Error, DataError
from ..fileio import atomic_open, atomic_write_json, atomic_write_text, remove_stale_temp_files

__all__ = ["verify", "verify_chunk", "add_arguments", "add_parser", "main"]

FORMAT = "cicy4-verify/3"  # /2: chunks also hold the redundancy check; /3: judged by Hodge numbers
DEFAULT_CHUNK = 2000
DEFAULT_TIMEOUT = 20.0
FAILED = ("undetermined", "timeout", "error", "inconsistent")
CSV_FIELDS = ("index", "id", "kind", "rows", "cols", "matrix", "stored_euler", "euler",
              "stored_h11", "stored_h21", "stored_h31", "stored_h22", "h11", "h21", "h31", "h22", "method")


def verify_chunk(conf, hodge_rows, timeout=DEFAULT_TIMEOUT, stored_hodge=None):
    """Recompute χ for every matrix of ``conf`` (int (n,16,20)) and the Hodge numbers of the rows
    ``hodge_rows`` (indices into ``conf``); judge χ-equal contractions by ``stored_hodge`` ((n,4),
    -1 where unknown). Returns a dict of arrays (``euler`` (n,), ``hidx`` (k,), ``hodge`` (k,4), -1
    where not determined, ``method`` (k,), ``redundant_row``/``chi_equal_row`` (n,): see
    :func:`_redundancy`)."""
    from ..geometry.euler import euler_numbers  # lazy: imports flint
    from ..geometry.labelling import index_relations_hold, label_with_limit  # lazy: imports flint

    conf = np.asarray(conf)
    euler = np.asarray(euler_numbers(conf.astype(np.int64)), dtype=np.int64) if len(conf) else np.zeros(0, np.int64)
    hidx = np.asarray(hodge_rows, dtype=np.int64)
    hodge = np.full((len(hidx), 4), -1, np.int64)
    methods = []
    for k, i in enumerate(hidx):
        P = conf[i]
        P = P[:(P != 0).any(1).sum(), :(P != 0).any(0).sum()].astype(np.int64)
        h, method = label_with_limit(P, timeout, euler=int(euler[i]))  # the χ just recomputed
        if h is not None and not index_relations_hold(h, int(euler[i])):
            h, method = None, "inconsistent"
        if h is not None:
            hodge[k] = h
        methods.append(method)
    redundant_row, chi_equal_row = _redundancy(conf, euler, stored_hodge, timeout)
    return {"euler": euler, "hidx": hidx, "hodge": hodge, "method": np.array(methods, dtype="<U16"),
            "redundant_row": redundant_row, "chi_equal_row": chi_equal_row}


def _redundancy(conf, euler, stored_hodge, timeout):
    """Per entry: ``redundant_row``, a row whose contraction keeps χ and the stored Hodge numbers
    (where they are unknown: χ alone) -- a redundant description; ``chi_equal_row``, a row whose
    contraction keeps χ while every such contraction has other Hodge numbers -- a different
    manifold only the Euler rule calls redundant. -1 where there is none."""
    from ..geometry.equivalence import contraction_verdicts  # lazy: imports flint
    from ..geometry.splitting import ineffective_rows  # lazy: imports flint

    n = len(conf)
    redundant_row = np.full(n, -1, np.int64)
    chi_equal_row = np.full(n, -1, np.int64)
    rows = ineffective_rows(list(conf), euler) if n else []
    hodge = np.full((n, 4), -1, np.int64) if stored_hodge is None else np.asarray(stored_hodge, np.int64)
    judge = [i for i, r in enumerate(rows) if r and (hodge[i] >= 0).all()]
    for i, r in enumerate(rows):
        if r and not (hodge[i] >= 0).all():
            redundant_row[i] = r[0]  # no labels to compare: the Euler rule alone
    if judge:
        v = contraction_verdicts([conf[i] for i in judge], euler[judge], hodge[judge], timeout,
                                 chi_equal_rows=[rows[i] for i in judge])
        for k, i in enumerate(judge):
            if v["same"][k]:
                redundant_row[i] = v["same"][k][0]
            elif v["unlabelled"][k]:
                redundant_row[i] = v["unlabelled"][k][0]  # not shown to differ: the Euler rule stands
            else:
                chi_equal_row[i] = v["different"][k][0]
    return redundant_row, chi_equal_row


def _fingerprint(data):
    h = hashlib.sha256()
    for a in (data.conf, data.hodge, data.euler):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _matrix_text(P):
    P = P[:(P != 0).any(1).sum(), :(P != 0).any(0).sum()]
    return "{" + ",".join("{" + ",".join(str(int(x)) for x in row) + "}" for row in P) + "}"


def _source_name(source):
    if isinstance(source, str) and source in ("sample", "generated", "kaggle"):
        return source
    return Path(str(source)).name or "source"


def _load_source(source):
    """(data, name) of ``source``: a loaded ``CICYData`` as it is, else read with the labels as stored."""
    if hasattr(source, "conf"):
        return source, getattr(source, "source", "data") or "data"
    # labels as stored: the readers' label checks stop at the first wrong one, the verifier lists them all
    return load_dataset(source, compute_euler=False, check_labels=False), str(source)


def _hodge_sample(n, sample, seed):
    """The sorted entry indices whose Hodge numbers are recomputed (all when ``sample`` is None or >= n)."""
    if sample is not None and not 0 <= int(sample):
        raise DataError(f"--sample must be >= 0, got {sample}")
    if sample is None or int(sample) >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, int(sample), replace=False))


def _open_out(out: Path, parts_dir: Path, manifest: dict, restart: bool) -> None:
    """Create ``out`` for ``manifest``; chunks of a verification with other settings are an error
    unless ``restart`` (then they are removed)."""
    man_path = out / "manifest.json"
    if man_path.exists():
        have = json.loads(man_path.read_text(encoding="utf-8"))
        if have != manifest:
            if not restart:
                raise DataError(f"{out} holds a verification of other data or settings ({man_path}: "
                                f"{have.get('source')}, n={have.get('n')}); pass --restart to start it afresh "
                                f"or choose another --out")
            shutil.rmtree(parts_dir, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    parts_dir.mkdir(exist_ok=True)
    remove_stale_temp_files(parts_dir)
    atomic_write_json(manifest, man_path, sort_keys=True)


def _report_chunk(w, data, part_path: Path, lo: int, hi: int, counts: Counter, methods: Counter) -> None:
    """Compare one chunk's recomputed values (``part_path``) with entries ``lo:hi`` of ``data``:
    add to ``counts``/``methods`` and write a row of ``mismatches.csv`` (writer ``w``) per finding."""
    with np.load(part_path, allow_pickle=False) as z:
        res = {k: z[k] for k in z.files}
    stored_e, stored_h = data.euler[lo:hi], data.hodge[lo:hi]
    euler = res["euler"]
    known_e = stored_e >= 0
    bad_e = known_e & (stored_e != euler)
    known_h = (stored_h >= 0).all(1)
    h11, h21, h31, h22 = stored_h.T
    rel_ok = (euler == 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22) & (-4 * h11 + 2 * h21 - 4 * h31 + h22 == 44)
    bad_rel = known_h & ~rel_ok
    counts["euler_compared"] += int(known_e.sum())
    counts["euler_mismatch"] += int(bad_e.sum())
    counts["relation_checked"] += int(known_h.sum())
    counts["relation_mismatch"] += int(bad_rel.sum())
    hk = {int(i): k for k, i in enumerate(res["hidx"])}
    for k in range(len(res["hidx"])):
        methods[str(res["method"][k])] += 1
    counts["hodge_recomputed"] += len(res["hidx"])
    redundant = res["redundant_row"] >= 0
    chi_equal = res["chi_equal_row"] >= 0
    counts["redundancy_checked"] += hi - lo
    counts["redundant"] += int(redundant.sum())
    counts["chi_equal_other_hodge"] += int(chi_equal.sum())

    def row(i, kind, computed=(None,) * 4, method=""):
        g = lo + i
        P = data.conf[g]
        w.writerow([g, int(data.ids[g]), kind, int((P != 0).any(1).sum()), int((P != 0).any(0).sum()),
                    _matrix_text(P), int(stored_e[i]), int(euler[i]), *map(int, stored_h[i]),
                    *["" if x is None else int(x) for x in computed], method])

    for i in np.flatnonzero(bad_e | bad_rel):
        k = hk.get(int(i))
        comp = tuple(res["hodge"][k]) if k is not None and (res["hodge"][k] >= 0).all() else (None,) * 4
        row(i, "euler" if bad_e[i] else "relation", comp, str(res["method"][k]) if k is not None else "")
    for i in np.flatnonzero(redundant):
        row(int(i), "redundant", (None,) * 4, f"contracts along row {int(res['redundant_row'][i])}")
    for i in np.flatnonzero(chi_equal):
        row(int(i), "chi-equal", (None,) * 4,
            f"contracts along row {int(res['chi_equal_row'][i])} to the same chi, other Hodge numbers")
    for k, i in enumerate(res["hidx"]):
        comp, method = res["hodge"][k], str(res["method"][k])
        if method in FAILED or (comp < 0).any():
            counts["hodge_" + (method if method in FAILED else "undetermined")] += 1
            row(int(i), method if method in FAILED else "undetermined", (None,) * 4, method)
        elif not known_h[i]:
            counts["hodge_stored_unknown"] += 1
        elif (comp == stored_h[i]).all():
            counts["hodge_agree"] += 1
        else:
            counts["hodge_mismatch"] += 1
            row(int(i), "hodge", tuple(comp), method)


def _findings(n: int, counts: Counter, methods: Counter) -> dict:
    """The ``euler``, ``relations``, ``hodge`` and ``redundancy`` sections and ``all_agree`` of the summary."""
    determined = counts["hodge_agree"] + counts["hodge_mismatch"]
    return {
        "euler": {"recomputed": n, "compared_with_stored": counts["euler_compared"],
                  "mismatches": counts["euler_mismatch"]},
        "relations": {"checked": counts["relation_checked"], "mismatches": counts["relation_mismatch"]},
        "hodge": {"recomputed": counts["hodge_recomputed"], "agree": counts["hodge_agree"],
                  "mismatches": counts["hodge_mismatch"], "stored_unknown": counts["hodge_stored_unknown"],
                  "undetermined": counts["hodge_undetermined"] + counts["hodge_inconsistent"],
                  "timeout": counts["hodge_timeout"], "error": counts["hodge_error"],
                  "agreement": (counts["hodge_agree"] / determined) if determined else None,
                  "methods": dict(sorted(methods.items()))},
        "redundancy": {"checked": counts["redundancy_checked"], "ineffective_splittings": counts["redundant"],
                       "chi_equal_other_hodge": counts["chi_equal_other_hodge"],
                       "euler_rule": counts["redundant"] + counts["chi_equal_other_hodge"],
                       "note": "ineffective_splittings: entries with a row P^n of n+1 ones whose contraction keeps "
                               "the Euler number and the stored Hodge numbers (chi alone where none are stored): "
                               "redundant descriptions of a smaller configuration, kind 'redundant' in "
                               "mismatches.csv. chi_equal_other_hodge: entries whose every chi-equal contraction "
                               "has other Hodge numbers (another manifold; the Euler rule alone would call them "
                               "redundant), kind 'chi-equal'. euler_rule: both together, the entries the Euler rule alone (a contraction "
                               "keeps chi) calls ineffective splittings. None counts in all_agree"},
        "all_agree": counts["euler_mismatch"] == 0 and counts["relation_mismatch"] == 0 and counts["hodge_mismatch"] == 0,
    }


def verify(source, *, sample=None, out=None, scheduler=None, workers=None, chunk_size=DEFAULT_CHUNK,  # the options of `cicy4 verify`
           seed=0, timeout=DEFAULT_TIMEOUT, restart=False, progress=True, command=None):
    """Verify ``source`` (a name/path for ``load_dataset`` or a loaded ``CICYData``); see the
    module docstring. Returns the summary (also written to ``<out>/summary.json``)."""
    from ..data.generated import write_npz_deterministic  # lazy: imports flint

    t0 = time.perf_counter()
    data, name = _load_source(source)
    out = Path(out or f"verify-{_source_name(name)}")
    n = len(data)
    hodge_set = _hodge_sample(n, sample, seed)
    chunk_size = max(1, int(chunk_size))
    manifest = {"format": FORMAT, "source": name, "n": n, "fingerprint": _fingerprint(data),
                "sample": None if sample is None else int(sample), "seed": int(seed),
                "chunk_size": chunk_size, "timeout": float(timeout)}
    parts_dir = out / "chunks"
    _open_out(out, parts_dir, manifest, restart)

    n_chunks = -(-n // chunk_size)
    bounds = [(c * chunk_size, min(n, (c + 1) * chunk_size)) for c in range(n_chunks)]
    have = {int(p.stem.split("_")[1]) for p in parts_dir.glob("part_*.npz")}
    todo = [c for c in range(n_chunks) if c not in have]

    def tasks():
        for c in todo:
            lo, hi = bounds[c]
            rows = hodge_set[(hodge_set >= lo) & (hodge_set < hi)] - lo
            yield c, (np.ascontiguousarray(data.conf[lo:hi]), rows, timeout, np.ascontiguousarray(data.hodge[lo:hi]))

    def on_result(c, res):
        write_npz_deterministic(parts_dir / f"part_{c:05d}.npz", res)

    workers = workers or default_workers()
    t_run = time.perf_counter()
    ran = run_chunks(verify_chunk, tasks(), on_result, workers=workers, scheduler=scheduler, total=n_chunks,
                     done=len(have & set(range(n_chunks))), progress=progress, desc="verify", name="cicy4-verify")
    t_run = time.perf_counter() - t_run

    # ---- report, streamed chunk by chunk
    counts = Counter()
    methods = Counter()
    csv_path = out / "mismatches.csv"
    # a fresh temporary name, created exclusively (a link planted at a fixed name is never written
    # through); mismatches.csv is replaced only when the whole report is written
    with atomic_open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_FIELDS)
        for c, (lo, hi) in enumerate(bounds):
            _report_chunk(w, data, parts_dir / f"part_{c:05d}.npz", lo, hi, counts, methods)
    wall = time.perf_counter() - t0
    summary = {
        "source": name, "provenance": getattr(data, "provenance", None) or data.meta.get("provenance"),
        "n_entries": n, "hodge_sample": None if sample is None else int(sample), "seed": int(seed),
        **_findings(n, counts, methods),
        "chunks": {"total": n_chunks, "run_now": ran, "resumed_from_disk": n_chunks - ran, "size": chunk_size},
        "wall_seconds": round(wall, 2), "compute_seconds_this_run": round(t_run, 2),
        "workers": None if scheduler is not None else workers, "scheduler": str(scheduler) if scheduler else None,
        "timeout_s": float(timeout),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()}",
        "command": command or "",
        "files": {"mismatches": str(csv_path), "summary": str(out / "summary.json")},
    }
    atomic_write_text(json.dumps(summary, indent=2) + "\n", out / "summary.json")
    return summary


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("source", help="'sample', 'generated', 'kaggle', cicy4list.txt/.zip, a trio or split-file folder, an .npz")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="recompute the Hodge numbers of N random entries (default: all); χ is always checked for all")
    p.add_argument("--out", default=None, help="output folder (default: verify-<source>)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: every core)")
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="entries per chunk (resume unit)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --sample draw")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per Hodge computation")
    p.add_argument("--restart", action="store_true", help="discard the chunk results of another source/settings in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def add_parser(sub) -> None:
    """Register the ``verify`` sub-command of ``python -m cicy4lib``."""
    p = sub.add_parser("verify", help="recompute χ and Hodge numbers of a list and compare with its labels")
    add_arguments(p)
    p.set_defaults(func=_cmd_verify)


def _cmd_verify(args) -> int:
    argv = [str(args.source)] + [f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                                 if k in ("sample", "out", "scheduler", "workers", "chunk_size", "seed", "timeout")
                                 and v not in (None, DEFAULT_CHUNK, DEFAULT_TIMEOUT, 0)]
    summary = run_from_args(args, argv)
    return 0 if summary["all_agree"] else 1


def run_from_args(args, argv=None) -> dict:
    command = "python -m cicy4lib verify " + " ".join(argv) if argv is not None else None
    summary = verify(args.source, sample=args.sample, out=args.out, scheduler=args.scheduler, workers=args.workers,
                     chunk_size=args.chunk_size, seed=args.seed, timeout=args.timeout, restart=args.restart,
                     progress=not args.quiet, command=command)
    e, r, h = summary["euler"], summary["relations"], summary["hodge"]
    print(f"{summary['source']}: {summary['n_entries']} entries in {summary['wall_seconds']:.1f} s")
    print(f"  χ: recomputed {e['recomputed']}, compared {e['compared_with_stored']}, mismatches {e['mismatches']}")
    print(f"  stored Hodge vs χ relations: checked {r['checked']}, mismatches {r['mismatches']}")
    print(f"  Hodge: recomputed {h['recomputed']}, agree {h['agree']}, mismatches {h['mismatches']}, "
          f"undetermined {h['undetermined']}, timeout {h['timeout']}, error {h['error']}")
    red = summary["redundancy"]
    print(f"  redundant descriptions (ineffective splittings of a smaller configuration): "
          f"{red['ineffective_splittings']} of {red['checked']}; same chi but other Hodge numbers "
          f"(other manifolds): {red['chi_equal_other_hodge']}; Euler rule (either): {red['euler_rule']}")
    print(f"  {'ALL AGREE' if summary['all_agree'] else 'DISAGREEMENTS FOUND'}: see {summary['files']['mismatches']}, "
          f"{summary['files']['summary']}")
    return summary


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = add_arguments(argparse.ArgumentParser(prog="python -m cicy4lib verify", description=__doc__.splitlines()[0]))
    args = p.parse_args(argv)

    try:
        summary = run_from_args(args, argv)
    except Cicy4Error as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if summary["all_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
