"""The generated data files: the chunk folders of the large set and the embedded sample.

Chunks (``chunk_NNNNN.npz``, made by :func:`cicy4lib.geometry.walks.generate_chunk`) are written
atomically with byte-deterministic contents (:func:`write_npz_deterministic`); :func:`run_generation`
skips the chunks present (a damaged one is moved aside and made again), so a killed run resumes
without duplicates or gaps and ends with the same files as an uninterrupted one.
:func:`release_chunks` declares the served set, :func:`load_generated` reads it;
:func:`save_sample`/:func:`load_sample` write and read ``sample.npz``. The command:
``python -m cicy4lib.jobs.generate``.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from .. import outputs
from ..chunked import run_chunks
from ..errors import ConfigurationError, DataError
from ..fileio import append_text, atomic_write, atomic_write_json, remove_stale_temp_files
from ..geometry.labelling import labeller_version
from ..geometry.sample_generator import DEFAULT_N, DEFAULT_SEED
from ..geometry.walks import (CHUNK_FORMAT, CHUNKED_GENERATOR_VERSION, chunk_seeds, default_chunk_settings,
                              generate_chunk, settings_key)

DATA_DIR = Path(__file__).resolve().parent.parent / "_data"
SAMPLE_PATH = DATA_DIR / "sample.npz"
CARD_PATH = DATA_DIR / "SAMPLE_CARD.md"
GENERATED_DIR = DATA_DIR / "generated-r3"  # release 3 (minimal descriptions): load_dataset("generated")
GENERATED_CARD = GENERATED_DIR / "CARD.md"
GENERATED_R2_DIR = DATA_DIR / "generated"  # release 2, kept for reproducibility: load_dataset("generated-r2")
GENERATED_R4_DIR = DATA_DIR / "generated-r4"  # release 4, the Hodge rule (opt-in): load_dataset("generated-r4")

# one verdict per release-2 entry under "the same manifold = same χ and same Hodge numbers"
# (benchmarks/bench_hodge_rule_release2.py): load_dataset("generated-hodge-rule")
HODGE_RULE_FILE = "hodge_rule.npz"
HODGE_RULE_KEEP = (0, 2)  # 0: minimal under the Euler rule; 2: every χ-equal contraction another manifold

GENERATED_MIN_ENTRIES = 50_000  # served by load_dataset("generated") from this size on
PARTIAL_ENV = "CICY4_GENERATED_PARTIAL"  # =1: serve a smaller (partial) generated set anyway
RELEASE_FILE = "release.json"


def write_npz_deterministic(path, arrays):
    """Write a compressed .npz whose bytes depend only on the arrays (fixed zip timestamps), atomically.

    Parameters
    ----------
    path : path
    arrays : dict
        name -> array (no object arrays).

    Returns
    -------
    pathlib.Path
        The file written (``np.load`` reads it like any .npz).
    """
    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, a in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asanyarray(a), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, buf.getvalue())

    return atomic_write(path, write)


def chunk_path(out_dir, index):
    """The file of chunk ``index`` in ``out_dir`` (``chunk_NNNNN.npz``).

    Parameters
    ----------
    out_dir : path
    index : int

    Returns
    -------
    pathlib.Path
    """
    return Path(out_dir) / f"chunk_{index:05d}.npz"


def completed_chunks(out_dir):
    """Indices of the chunk files present in ``out_dir``, sorted (complete or not: see
    :func:`cicy4lib.outputs.verified_chunks`).

    Parameters
    ----------
    out_dir : path

    Returns
    -------
    list of int
    """
    out = []
    for p in Path(out_dir).glob("chunk_*.npz"):
        try:
            out.append(int(p.stem.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return sorted(out)


def _check_manifest(out_dir, settings, force=False):
    path = Path(out_dir) / "manifest.json"
    want = {"format": CHUNK_FORMAT, "settings": json.loads(settings_key(settings))}
    if path.exists() and not force:
        have = json.loads(path.read_text(encoding="utf-8"))
        if have.get("settings") != want["settings"]:
            raise ConfigurationError(
                f"{out_dir} holds chunks made with other settings ({path}); use the same settings "
                f"to resume, another --out-dir, or --force to overwrite the manifest")
        return
    atomic_write_json(want, path, sort_keys=True)


def run_generation(out_dir=GENERATED_DIR, n_chunks=1, settings=None, workers=None, scheduler=None,
                   progress=True, force=False, log=None):
    """Generate chunks ``0 .. n_chunks-1`` into ``out_dir``, skipping the complete ones already there.

    A damaged chunk file (cut by a crash, unreadable) is moved aside by
    :func:`cicy4lib.outputs.verified_chunks` and made again.

    Parameters
    ----------
    out_dir : path
        Chunk folder (its ``manifest.json`` must hold the same settings unless ``force``).
    n_chunks : int
    settings : dict, optional
        :func:`cicy4lib.geometry.walks.default_chunk_settings` (default: release 3).
    workers : int, optional
        Local processes (default: every core this process may use).
    scheduler : str, optional
        Dask scheduler address.
    progress : bool
    force : bool
        Overwrite a manifest with other settings.
    log : callable, optional
        Progress lines.

    Returns
    -------
    list of int
        The chunk indices written by this call.

    Raises
    ------
    ConfigurationError
        When ``out_dir`` holds chunks made with other settings.
    """
    settings = settings or default_chunk_settings()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out_dir)
    _check_manifest(out_dir, settings, force)
    chunk_seeds(settings)  # once here: forked local workers inherit it
    labeller_version()  # and the labeller, imported once, with its version
    have = set(outputs.verified_chunks(out_dir, completed_chunks(out_dir), lambda i: chunk_path(out_dir, i),
                                       say=log))
    todo = [i for i in range(n_chunks) if i not in have]
    written = []
    timing_path = out_dir / "timings.jsonl"

    def on_result(index, result):
        arrays, seconds = result
        write_npz_deterministic(chunk_path(out_dir, index), arrays)
        written.append(index)
        line = {"chunk": index, "n": int(len(arrays["conf"])), **seconds,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "labeller_version": json.loads(str(arrays["meta"]))["labeller_version"]}
        append_text(timing_path, json.dumps(line) + "\n")  # never through a link; a full disk names the file
        if log:
            log(f"chunk {index}: {line['n']} entries in {seconds['total']:.0f} s")

    run_chunks(generate_chunk, ((i, (settings, i)) for i in todo), on_result, workers=workers,
               scheduler=scheduler, total=n_chunks, done=len(have & set(range(n_chunks))),
               progress=progress, desc="generate", name="cicy4-generate")
    return sorted(written)


def release_chunks(out_dir=GENERATED_DIR, n_chunks=None):
    """Declare chunks ``0 .. n_chunks-1`` the served set: ``release.json`` in ``out_dir``.

    ``load_dataset("generated")`` then serves exactly these (the folder may keep growing: results
    and run fingerprints stay valid until the next release).

    Parameters
    ----------
    out_dir : path
    n_chunks : int, optional
        Default: the longest run of chunks present from 0.

    Returns
    -------
    dict
        The release record (``chunks``, ``n``, ``sha256_of_chunks``, ``released``).

    Raises
    ------
    DataError
        When a chunk of the release is missing.
    """
    out_dir = Path(out_dir)
    have = set(completed_chunks(out_dir))
    if n_chunks is None:
        n_chunks = 0
        while n_chunks in have:
            n_chunks += 1
    missing = sorted(set(range(n_chunks)) - have)
    if missing or n_chunks < 1:
        raise DataError(f"{out_dir}: cannot release chunks 0..{n_chunks - 1}: missing {missing[:10]}")
    arrays = load_generated(out_dir, chunks=n_chunks, allow_partial=True)
    digest = hashlib.sha256()
    for i in range(n_chunks):
        digest.update(chunk_path(out_dir, i).read_bytes())
    record = {"chunks": n_chunks, "n": int(len(arrays["conf"])), "sha256_of_chunks": digest.hexdigest(),
              "released": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_json(record, out_dir / RELEASE_FILE, sort_keys=True)
    return record


def load_generated(out_dir=GENERATED_DIR, labelled_only=True, allow_partial=None, chunks=None):
    """The generated set as arrays: chunks in index order, de-duplicated across chunks (the
    first chunk holding a canonical form keeps it).

    While the set is being generated it starts with the complete enumeration of <= 4 rows, a
    shape distribution unlike the list's: below ``GENERATED_MIN_ENTRIES`` entries it is refused
    (so ``--data auto`` falls back to the sample) unless ``allow_partial``.

    Parameters
    ----------
    out_dir : path
        Chunk folder.
    labelled_only : bool
        Only entries whose Hodge numbers were determined (``method`` says how).
    allow_partial : bool, optional
        Serve a set below ``GENERATED_MIN_ENTRIES`` (default: the environment variable
        ``CICY4_GENERATED_PARTIAL=1``; a release is served whatever its size).
    chunks : int, optional
        Chunks 0..chunks-1, all required; default: the release (``release.json``, see
        :func:`release_chunks`) when there is one, else every chunk present.

    Returns
    -------
    dict
        ``conf`` int8 (N,16,20), ``euler``, ``hodge`` (N,4), ``method``, ``chunk`` (source chunk
        index), ``meta`` (dict: settings, versions, counts, methods of all distinct candidates).

    Raises
    ------
    DataError
        No chunks, a chunk of the release missing, or a partial set not allowed.
    """
    out_dir = Path(out_dir)
    idx = completed_chunks(out_dir)
    if not idx:
        raise DataError(f"{out_dir}: no generated chunks (chunk_*.npz); make them with "
                        f"`python -m cicy4lib.jobs.generate --chunks N --out-dir {out_dir}`")
    release = None
    if chunks is None and (out_dir / RELEASE_FILE).exists():
        release = json.loads((out_dir / RELEASE_FILE).read_text(encoding="utf-8"))
        chunks = int(release["chunks"])
    if chunks is not None:
        missing = sorted(set(range(chunks)) - set(idx))
        if missing:
            raise DataError(f"{out_dir}: chunks {missing[:10]} of the {'release' if release else 'requested'} "
                            f"0..{chunks - 1} are missing")
        idx = list(range(chunks))
        if release is not None:
            allow_partial = True  # a release is served whatever its size
    arrays, versions, settings = _read_chunks(out_dir, idx)
    _, first = np.unique(_matrix_keys(arrays["conf"]), return_index=True)
    keep = np.zeros(len(arrays["conf"]), bool)
    keep[first] = True
    n_all, n_dup = len(keep), int(len(keep) - len(first))
    methods_all = dict(sorted(Counter(arrays["method"][keep].tolist()).items()))
    if labelled_only:
        keep &= (arrays["hodge"] >= 0).all(1)
    arrays = {k: v[keep] for k, v in arrays.items()}
    if allow_partial is None:
        allow_partial = os.environ.get(PARTIAL_ENV, "") not in ("", "0")
    if len(arrays["conf"]) < GENERATED_MIN_ENTRIES and not allow_partial:
        raise DataError(f"{out_dir}: the generated set holds {len(arrays['conf'])} entries so far (generation in "
                        f"progress; {len(idx)} chunks); it is served from {GENERATED_MIN_ENTRIES} on. Continue it with "
                        f"`python -m cicy4lib.jobs.generate --chunks N` (see CARD.md), or set "
                        f"{PARTIAL_ENV}=1 to load the partial set")
    arrays["meta"] = {"settings": settings, "chunks": idx, "n_chunks": len(idx), "release": release,
                      "chunk_versions": dict(versions), "n_candidates": n_all, "n_duplicates_across_chunks": n_dup,
                      "methods_all": methods_all, "n": int(len(arrays["conf"]))}
    return arrays


def release_dir(release):
    """The chunk folder of a release (2, 3 or 4), read from this module when called (so a
    test or a user can point ``GENERATED_DIR`` and its siblings elsewhere).

    Parameters
    ----------
    release : int

    Returns
    -------
    pathlib.Path
    """
    return Path({2: GENERATED_R2_DIR, 3: GENERATED_DIR, 4: GENERATED_R4_DIR}[release])


def _matrix_keys(conf):
    """One hashable, sortable key per padded matrix (its int8 bytes): canonical matrices are equal
    configurations exactly when their keys are."""
    flat = np.ascontiguousarray(np.asarray(conf, dtype=np.int8)).reshape(len(conf), -1)
    return flat.view(np.dtype((np.void, flat.shape[1]))).ravel()


def _read_chunks(out_dir, idx):
    """The arrays of chunks ``idx`` concatenated (``chunk`` says where each entry came from), the
    count of generator/labeller versions, and the settings of the first."""
    parts = {k: [] for k in ("conf", "euler", "hodge", "method", "chunk")}
    versions = Counter()
    settings = None
    for i in idx:
        with np.load(chunk_path(out_dir, i), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            for k in ("conf", "euler", "hodge", "method"):
                parts[k].append(z[k])
        parts["chunk"].append(np.full(len(parts["conf"][-1]), i, np.int32))
        versions[f"{meta['generator_version']}/{meta['labeller_version']}"] += 1
        settings = settings or meta["settings"]
    return {k: np.concatenate(v) for k, v in parts.items()}, versions, settings


def sample_from_generated(out_dir=None, n=DEFAULT_N, seed=DEFAULT_SEED):
    """The embedded sample drawn from the generated set: ``n`` entries, uniformly at random
    (seeded) from its release, so the sample holds minimal descriptions only like the release.

    Parameters
    ----------
    out_dir : path, optional
        Chunk folder (default: release 3, :data:`GENERATED_DIR`).
    n : int
        Entries wanted (all of the release when it holds fewer).
    seed : int

    Returns
    -------
    dict
        Arrays with the keys of ``sample.npz`` (``meta`` a dict).
    """
    out_dir = Path(out_dir or GENERATED_DIR)
    t0 = time.perf_counter()
    arrays = load_generated(out_dir, allow_partial=True)
    gmeta = arrays["meta"]
    rng = np.random.default_rng(seed)
    take = np.sort(rng.permutation(len(arrays["conf"]))[:n])
    take = take[rng.permutation(len(take))]
    N = len(take)
    meta = {
        "description": "CICY four-folds generated by effective splittings, minimal descriptions only, "
                       "and labelled by cicy4lib (NOT the Oxford CICY4 list): a uniform draw from the "
                       "generated set's release",
        "seed": seed, "generator_version": CHUNKED_GENERATOR_VERSION, "n_requested": n,
        "drawn_from": {"folder": out_dir.name, "release": gmeta.get("release"), "n": gmeta["n"],
                       "settings": gmeta["settings"]},
        "n_generated": gmeta["n_candidates"], "n_labelled_ok": gmeta["n"], "n_shipped": N,
        "n_undetermined": gmeta["methods_all"].get("undetermined", 0),
        "n_timeout": gmeta["methods_all"].get("timeout", 0), "methods_generated": gmeta["methods_all"],
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(), "numpy": np.__version__,
    }
    return {"conf": arrays["conf"][take].astype(np.int8), "euler": arrays["euler"][take].astype(np.int64),
            "hodge": arrays["hodge"][take].astype(np.int64), "method": arrays["method"][take].astype("<U16"),
            "id": np.arange(N, dtype=np.int64), "is_product": np.zeros(N, dtype=bool), "meta": meta}


def save_sample(arrays, path=SAMPLE_PATH):
    """Write ``sample.npz`` atomically (``meta`` stored as a JSON string).

    Parameters
    ----------
    arrays : dict
        :func:`cicy4lib.geometry.sample_generator.build_sample` or :func:`sample_from_generated`.
    path : path

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(arrays)
    data["meta"] = np.array(json.dumps(arrays["meta"], sort_keys=True))
    return atomic_write(path, lambda f: np.savez_compressed(f, **data))


def load_sample(path=SAMPLE_PATH):
    """The arrays of ``sample.npz``.

    Parameters
    ----------
    path : path

    Returns
    -------
    dict
        name -> array; ``meta`` parsed from JSON.
    """
    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out




def conf_digest(conf):
    """SHA-256 of padded int8 matrices: ties a file of per-entry values to the entries' order.

    Parameters
    ----------
    conf : int array (N, 16, 20)

    Returns
    -------
    str
    """
    return hashlib.sha256(np.ascontiguousarray(np.asarray(conf, dtype=np.int8)).tobytes()).hexdigest()


def write_hodge_rule(verdict, out_dir=GENERATED_R2_DIR, meta=None):
    """Store one Hodge-rule verdict per entry of the chunk set in ``out_dir`` (``hodge_rule.npz``).

    Parameters
    ----------
    verdict : int array (N,)
        0 minimal under the Euler rule, 1 redundant (a contraction with the same χ and Hodge
        numbers), 2 distinct (every χ-equal contraction has other Hodge numbers), 3 undetermined.
    out_dir : path
        The chunk folder whose served entries (in load order) the verdicts describe.
    meta : dict, optional
        Command, date, counts: stored as JSON.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataError
        If the verdicts are not one per entry or hold a value outside 0..3.
    """
    arrays = load_generated(out_dir, allow_partial=True)
    verdict = np.asarray(verdict)
    if verdict.shape != (len(arrays["conf"]),) or not np.isin(verdict, (0, 1, 2, 3)).all():
        raise DataError(f"{out_dir}: need one verdict in 0..3 per entry ({len(arrays['conf'])}), got shape "
                        f"{verdict.shape} with values {sorted(set(np.unique(verdict).tolist()))[:6]}")
    return write_npz_deterministic(Path(out_dir) / HODGE_RULE_FILE, {
        "verdict": verdict.astype(np.int8), "conf_sha256": np.array(conf_digest(arrays["conf"])),
        "meta": np.array(json.dumps(meta or {}, sort_keys=True))})


def load_hodge_rule(out_dir=GENERATED_R2_DIR):
    """The entries of a chunk set kept by the Hodge rule: minimal under the Euler rule, or with
    every χ-equal contraction another manifold (other Hodge numbers).

    Parameters
    ----------
    out_dir : path
        Chunk folder holding ``hodge_rule.npz`` (default: release 2's).

    Returns
    -------
    dict
        Like :func:`load_generated`, the kept entries only; ``meta["hodge_rule"]`` holds the
        verdict counts and the file's own meta.

    Raises
    ------
    DataError
        When the verdict file is missing or was made for other entries.
    """
    out_dir = Path(out_dir)
    path = out_dir / HODGE_RULE_FILE
    if not path.exists():
        raise DataError(f"{path} is missing: make it with `python benchmarks/bench_hodge_rule_release2.py` "
                        "(labels the χ-equal contractions of every entry; resumable)")
    arrays = load_generated(out_dir, allow_partial=True)
    with np.load(path, allow_pickle=False) as z:
        verdict, digest, fmeta = z["verdict"], str(z["conf_sha256"]), json.loads(str(z["meta"]))
    if len(verdict) != len(arrays["conf"]) or digest != conf_digest(arrays["conf"]):
        raise DataError(f"{path} was made for other entries ({len(verdict)} verdicts, digest {digest[:12]}) "
                        f"than {out_dir} serves ({len(arrays['conf'])}); remake it")
    keep = np.isin(verdict, HODGE_RULE_KEEP)
    meta = dict(arrays.pop("meta"))
    out = {k: v[keep] for k, v in arrays.items()}
    meta["hodge_rule"] = {"counts": {str(k): int(c) for k, c in zip(*np.unique(verdict, return_counts=True))},
                          "kept": int(keep.sum()), "file": fmeta}
    meta["n"] = int(keep.sum())
    out["meta"] = meta
    return out


def load_hodge_rule_union(release_dir=GENERATED_DIR, r2_dir=GENERATED_R2_DIR, r4_dir=None):
    """Every entry kept by the Hodge rule in the releases: release 3 (minimal under the Euler rule,
    hence under the Hodge rule too), then release 2's Hodge-rule entries that release 3 lacks, then
    release 4's (the walk under the Hodge rule) that neither holds.

    Parameters
    ----------
    release_dir : path
        Release 3's chunk folder (its entries come first, in their own order).
    r2_dir : path
        Release 2's chunk folder with its ``hodge_rule.npz`` (see :func:`load_hodge_rule`).
    r4_dir : path, optional
        Release 4's chunk folder; its release, or every chunk present, is added when it has chunks.

    Returns
    -------
    dict
        Like :func:`load_generated`; ``meta["union"]`` counts the entries from each release.

    Raises
    ------
    DataError
        As :func:`load_generated` and :func:`load_hodge_rule`.
    """
    out = load_generated(release_dir)
    second = load_hodge_rule(r2_dir)
    third = load_generated(r4_dir, allow_partial=True) if r4_dir and completed_chunks(r4_dir) else None
    meta, meta_second = out.pop("meta"), second.pop("meta")
    union = {"release_3": int(len(out["conf"])), "release_2_hodge_rule": int(len(second["conf"]))}

    def append(part):
        """``out`` with the entries of ``part`` it lacks (all are stored canonical); how many."""
        new = ~np.isin(_matrix_keys(part["conf"]), _matrix_keys(out["conf"]))
        return {k: np.concatenate([out[k], part[k][new]]) for k in out}, int(new.sum())

    out, union["release_2_added"] = append(second)
    if third is not None:
        meta_third = third.pop("meta")
        union.update(release_4=int(len(third["conf"])), release_4_chunks=meta_third["n_chunks"])
        out, union["release_4_added"] = append(third)
    out["meta"] = {**meta, "n": int(len(out["conf"])), "hodge_rule": meta_second["hodge_rule"], "union": union}
    return out
