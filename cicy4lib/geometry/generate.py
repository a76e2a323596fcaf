"""The embedded sample: genuine CICY four-folds generated and labelled by cicy4lib.

The real CICY four-fold list (Gray–Haupt–Lukas, arXiv:1303.1832) cannot be downloaded
here, so the package ships a sample built the way the list was built:

1. *Seeds*: every Calabi–Yau four-fold configuration with at most ``SEED_ROWS`` rows
   (complete enumeration, so small row counts are sampled from all that exist), except those
   that only ineffective splittings lead to (every contraction keeps the Euler number).
2. *Effective splittings*: a column ``c`` of ``[A | c, M]`` is split into ``n+1`` nonzero
   columns ``c_1 + ... + c_{n+1} = c`` and a new ``P^n`` row with a 1 in each new column is
   added. Row sums and ``sum(n_i) - K`` are unchanged, so the result is again a Calabi–Yau
   four-fold. A splitting counts only when the Euler number changes; ineffective ones (the
   same manifold again) are discarded. Each row count is grown from random configurations
   one row smaller (a random walk from the seeds, layer by layer).
3. De-duplication under row and column permutations (an exact canonical form), direct
   products excluded.
4. Labels: ``geometry.euler_number`` and ``cohomology.hodge_from_degree_matrix``; only
   entries whose Hodge numbers are determined and satisfy both index relations are shipped.

Run ``python -m cicy4lib.geometry.generate`` to regenerate ``_data/sample.npz`` and ``_data/SAMPLE_CARD.md``.

**Chunked mode** (the large set served as ``load_dataset("generated")``, ``_data/generated/``)::

    python -m cicy4lib.geometry.generate --chunks 600 --chunk-size 500            # every local core
    python -m cicy4lib.geometry.generate --chunks 600 --chunk-size 500 --scheduler tcp://host:8786

Chunk ``i`` is a pure function of (settings, i): chunks are made in parallel (local processes or a
Dask cluster, :mod:`cicy4lib.chunked`), each written atomically as ``chunk_NNNNN.npz`` with
byte-deterministic contents; rerunning the command skips what is there, so a killed run resumes
without duplicates or gaps and ends with the same files as an uninterrupted one. See
:func:`run_generation`, :func:`load_generated` and ``_data/generated/CARD.md``.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import platform
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ..constants import MAX_COLS, MAX_ROWS
from ..errors import CanonicalFormError
from ..fileio import atomic_write
from .splitting import contractions, redundant_mask, split  # noqa: F401  (public here too)

GENERATOR_VERSION = "1.0"
DEFAULT_SEED = 2024
DEFAULT_N = 10000
DATA_DIR = Path(__file__).resolve().parent.parent / "_data"
SAMPLE_PATH = DATA_DIR / "sample.npz"
CARD_PATH = DATA_DIR / "SAMPLE_CARD.md"

SEED_ROWS = 4  # configurations with at most this many rows are enumerated completely
# Weight of each row count in the sample (relative; row counts <= SEED_ROWS are capped by
# how many configurations exist). The real list's mean h11 is 10.1; effective splittings
# get rare beyond ~14 rows, so the weights peak a little lower (7-9 rows).
ROW_WEIGHTS = {1: 1, 2: 2, 3: 3, 4: 5, 5: 7, 6: 9, 7: 10, 8: 10, 9: 10, 10: 9, 11: 7,
               12: 5, 13: 3, 14: 2, 15: 1, 16: 1}
# dimension n of the new P^n row in a random splitting: mostly P^1 and P^2, as in the list
SPLIT_DIMS = {1: 0.6, 2: 0.28, 3: 0.09, 4: 0.03}
LABEL_TIMEOUT_S = 20.0  # per configuration; a timed-out configuration is not shipped
SPLIT_TRIES = 8  # random splittings tried per parent in a batch
MAX_STALLS = 3  # rounds without a new configuration before a row count is given up
MAX_ROUNDS = 60  # batches per row count
LAYER_BATCH = 400  # parents split per batch
PARENT_FACTOR = 2.0  # layer width relative to the next layer's quota
OVERSHOOT = 1.4  # candidates labelled per requested entry (spare for the h21 > 0 preference)
H21_SHARE = 0.30  # preferred share of h21 > 0 within each row count (the list: ~30%)
META_KEYS = ("conf", "euler", "hodge", "method", "id", "is_product", "meta")


# --------------------------------------------------------------------------- canonical form
def _rank(signatures):
    """Dense ranks of hashable, orderable signatures (equal signature -> equal rank)."""
    order = {s: r for r, s in enumerate(sorted(set(signatures)))}
    return np.fromiter((order[s] for s in signatures), dtype=np.int64, count=len(signatures))


def _refine(P, rows, cols, nz_rows, nz_cols):
    """Colour refinement of the weighted bipartite row/column graph until it is stable.

    Colours are ranks of sorted signatures, so they are invariant under permutations:
    isomorphic configurations get corresponding colours.
    """
    while True:
        new_rows = _rank([(rows[i], tuple(sorted((P[i, j], cols[j]) for j in nz_rows[i])))
                          for i in range(P.shape[0])])
        new_cols = _rank([(cols[j], tuple(sorted((P[i, j], new_rows[i]) for i in nz_cols[j])))
                          for j in range(P.shape[1])])
        stable = (new_rows.max() == rows.max() and new_cols.max() == cols.max())
        rows, cols = new_rows, new_cols
        if stable:
            return rows, cols


def _leaf(P, rows):
    """Matrix for a discrete row colouring: rows by colour, columns sorted descending."""
    Q = P[np.argsort(rows, kind="stable")]
    return Q[:, np.lexsort(-Q[::-1])]


def canonical_form(P, max_leaves=20000):
    """Canonical representative of ``P`` under row and column permutations.

    Two degree matrices are equivalent (equal up to permuting rows and columns) exactly
    when their canonical forms are equal. Method: colour refinement, then individualisation
    of one row of the smallest ambiguous colour class at a time (rows with identical
    entries are interchangeable, so only one of them is tried); each discrete colouring
    orders the rows, columns are sorted, and the lexicographically smallest matrix wins.

    Parameters
    ----------
    P : array_like of int, shape (m, K)
        Degree block.
    max_leaves : int
        Search budget; :class:`CanonicalFormError` beyond it (never seen in practice).

    Returns
    -------
    numpy.ndarray of int64, shape (m, K)
    """
    P = np.asarray(P, dtype=np.int64)
    m, K = P.shape
    nz_rows = [np.flatnonzero(P[i]) for i in range(m)]
    nz_cols = [np.flatnonzero(P[:, j]) for j in range(K)]
    # start from the dimensions (bigger projective spaces first) and column degrees
    rows0 = _rank([-int(s) for s in P.sum(1)])
    cols0 = _rank([-int(s) for s in P.sum(0)])
    best = [None]
    budget = [max_leaves]

    def search(rows, cols):
        rows, cols = _refine(P, rows, cols, nz_rows, nz_cols)
        sizes = np.bincount(rows)
        if sizes.max() == 1:
            leaf = _leaf(P, rows)
            key = leaf.astype(np.int8).tobytes()
            if best[0] is None or key < best[0][0]:
                best[0] = (key, leaf)
            budget[0] -= 1
            if budget[0] < 0:
                raise CanonicalFormError("configuration too symmetric for the canonical-form budget")
            return
        # individualise within the smallest ambiguous class (fewest branches)
        target = min((s, c) for c, s in enumerate(sizes) if s > 1)[1]
        tried = set()
        for r in np.flatnonzero(rows == target):
            key = P[r].tobytes()
            if key in tried:  # identical rows: swapping them is an automorphism
                continue
            tried.add(key)
            bumped = (rows == target) & (np.arange(m) != r)
            search(rows * 2 + bumped, cols)

    search(rows0, cols0)
    return best[0][1]


def canonical_key(P):
    """Hashable canonical key: shape plus the canonical matrix's bytes."""
    C = canonical_form(P)
    return (C.shape, C.astype(np.int8).tobytes())


def equivalent(P, Q):
    """True when ``Q`` is ``P`` with rows and columns permuted."""
    P, Q = np.asarray(P), np.asarray(Q)
    return P.shape == Q.shape and canonical_key(P) == canonical_key(Q)


# --------------------------------------------------------------------------- configurations
def is_valid_cy4(P):
    """Calabi–Yau four-fold degree block within the list's limits (no linear columns)."""
    P = np.asarray(P)
    m, K = P.shape
    if not (1 <= m <= MAX_ROWS and 1 <= K <= MAX_COLS) or (P < 0).any():
        return False
    n = P.sum(1) - 1
    # a column of total degree 1 is a hyperplane: the configuration is a smaller one in disguise
    return bool((n >= 1).all() and (P.sum(0) >= 2).all() and n.sum() - K == 4)


def random_splitting(P, rng, dims=SPLIT_DIMS):
    """One random splitting of ``P`` (or None when no splitting fits the size limits)."""
    m, K = P.shape
    if m >= MAX_ROWS:
        return None
    colsum = P.sum(0)
    ok_cols = np.flatnonzero(colsum >= 2)
    if len(ok_cols) == 0:
        return None
    col = int(rng.choice(ok_cols, p=(colsum[ok_cols] - 1) / (colsum[ok_cols] - 1).sum()))
    n_max = min(int(colsum[col]) - 1, MAX_COLS - K)
    choices = [d for d in dims if d <= n_max]
    if not choices:
        return None
    w = np.array([dims[d] for d in choices], dtype=float)
    n = int(rng.choice(choices, p=w / w.sum()))
    # deal the units of degree in column `col` to n+1 parts, every part nonempty
    units = np.repeat(np.arange(m), P[:, col])
    rng.shuffle(units)
    owner = np.concatenate([np.arange(n + 1), rng.integers(0, n + 1, size=len(units) - n - 1)])
    parts = np.zeros((n + 1, m), dtype=np.int64)
    np.add.at(parts, (owner, units), 1)
    return split(P, col, parts)


def _columns(caps, k, prev):
    """Multisets of k columns (non-increasing tuples, each of total degree >= 2) that use
    up the row capacities ``caps`` exactly."""
    if k == 0:
        if not any(caps):
            yield []
        return
    if sum(caps) < 2 * k:
        return
    for v in itertools.product(*(range(c, -1, -1) for c in caps)):
        if sum(v) < 2 or (prev is not None and v > prev):
            continue
        rest = tuple(c - x for c, x in zip(caps, v))
        if k == 1 and any(rest):
            continue
        for tail in _columns(rest, k - 1, v):
            yield [v] + tail


def enumerate_configurations(max_rows=SEED_ROWS):
    """Every Calabi–Yau four-fold configuration with at most ``max_rows`` rows, up to
    permutations, without direct products (block-diagonal ones) and columns of degree 1.

    Returns
    -------
    dict rows -> list of canonical degree matrices (int64), in a deterministic order.
    """
    from .products import is_product

    out = {}
    for m in range(1, max_rows + 1):
        seen = {}
        # 2K <= total degree = K + 4 + m, so K <= m + 4 and sum(n) = K + 4
        for K in range(1, m + 5):
            for dims in _partitions(K + 4, m):
                caps = tuple(d + 1 for d in dims)
                for cols in _columns(caps, K, None):
                    P = np.array(cols, dtype=np.int64).T
                    if is_product(P):
                        continue
                    key = canonical_key(P)
                    seen.setdefault(key, canonical_form(P))
        out[m] = [seen[k] for k in sorted(seen)]
    return out


def _partitions(total, parts):
    """Non-increasing tuples of ``parts`` positive integers summing to ``total``."""
    def rec(left, k, cap):
        if k == 0:
            if left == 0:
                yield ()
            return
        for x in range(min(cap, left - (k - 1)), 0, -1):
            for rest in rec(left - x, k - 1, x):
                yield (x,) + rest
    yield from rec(total, parts, total)


# --------------------------------------------------------------------------- generation
def _row_quotas(n, max_rows, available):
    """Entries wanted per row count: ``n`` spread by ROW_WEIGHTS, capped where fewer exist."""
    rows = [r for r in ROW_WEIGHTS if r <= max_rows]
    w = np.array([ROW_WEIGHTS[r] for r in rows], dtype=float)
    quotas = {}
    left, wleft = n, w.sum()
    # fill capped (small) row counts first, spread the remainder over the rest
    for r, wr in sorted(zip(rows, w), key=lambda t: available.get(t[0], np.inf)):
        q = int(round(left * wr / wleft)) if wleft > 0 else 0
        q = min(q, available.get(r, q))
        quotas[r] = q
        left -= q
        wleft -= wr
    return dict(sorted(quotas.items()))


def _redundant_mask(mats, chis, rule="any"):
    """Which of ``mats`` are ineffective splittings (batched Euler numbers).

    ``rule="any"``: some contraction has the same Euler number (the configuration is an
    ineffective splitting of a smaller one). ``rule="all"``: it has contractions and every
    one has the same Euler number (no effective splitting leads to it).
    """
    from .euler import euler_numbers

    owners, smaller = [], []
    for k, P in enumerate(mats):
        for _, Q in contractions(P):
            owners.append(k)
            smaller.append(Q)
    owners = np.asarray(owners, dtype=np.int64)
    if not smaller:
        return np.zeros(len(mats), dtype=bool)
    same = euler_numbers(smaller) == np.asarray(chis, dtype=np.int64)[owners]
    n_same = np.bincount(owners[same], minlength=len(mats))
    if rule == "any":
        return n_same > 0
    n_all = np.bincount(owners, minlength=len(mats))
    return (n_all > 0) & (n_same == n_all)


def _split_layer(parents, quota, rng, seen):
    """Up to ``quota`` new configurations one row larger than ``parents`` (list of
    (P, chi)), each made by an *effective* random splitting of a random parent.

    Work is batched (``LAYER_BATCH`` parents x ``SPLIT_TRIES`` splittings per Euler-number
    call, which is much faster than one call each); a parent's first effective splitting
    in a batch is taken, ineffective ones (same Euler number) are discarded, and so are
    configurations already in ``seen`` (canonical keys, updated in place) and products.
    Stops after ``MAX_STALLS`` batches in a row without a new configuration.
    """
    from .euler import euler_numbers
    from .products import is_product

    kept = []
    stalls = 0
    for _ in range(MAX_ROUNDS):
        if len(kept) >= quota or stalls >= MAX_STALLS or not parents:
            break
        picks = rng.integers(len(parents), size=min(LAYER_BATCH, 2 * (quota - len(kept)) + 16))
        tries, owner = [], []
        for k, i in enumerate(picks):
            for _ in range(SPLIT_TRIES):
                Q = random_splitting(parents[i][0], rng)
                if Q is not None:
                    tries.append(Q)
                    owner.append(k)
        if not tries:
            break
        chis = euler_numbers(tries)
        owner = np.asarray(owner)
        found = 0
        for k, i in enumerate(picks):
            hit = np.flatnonzero((owner == k) & (chis != parents[i][1]))
            if len(hit) == 0 or len(kept) >= quota:
                continue
            Q, c = tries[hit[0]], int(chis[hit[0]])
            try:
                C = canonical_form(Q)
            except CanonicalFormError:  # too symmetric to de-duplicate cheaply: skip it
                continue
            key = (C.shape, C.astype(np.int8).tobytes())
            if key in seen or is_product(Q):
                continue
            seen.add(key)
            kept.append((C, c))
            found += 1
        stalls = 0 if found else stalls + 1
    return kept


def generate_candidates(n, seed, max_rows=14, seeds=None, log=None):
    """Distinct, non-product configurations reached by effective splittings, about ``n`` in all.

    Row counts up to SEED_ROWS are drawn from the complete enumeration; each larger row
    count comes from effective random splittings of random configurations one row smaller
    (a random walk from the seeds, grown layer by layer).

    Returns
    -------
    (list of (canonical matrix, euler number) in a seeded random order, quotas per row count)
    """
    from .euler import euler_numbers

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    if seeds is None:
        seeds = enumerate_configurations(min(SEED_ROWS, max_rows))
    seed_rows = max(seeds)
    # a seed that every contraction maps to the same Euler number can only be reached by
    # ineffective splittings: the same manifold as a smaller configuration, so it is dropped
    layers = {m: list(zip(Ps, euler_numbers(list(Ps)).tolist())) for m, Ps in seeds.items()}
    clean = {}
    for m, items in layers.items():
        red = _redundant_mask([P for P, _ in items], [c for _, c in items], rule="all")
        clean[m] = [item for item, r in zip(items, red) if not r]
    quotas = _row_quotas(n, max_rows, {m: len(v) for m, v in clean.items()})
    chosen = {}
    for m, items in clean.items():
        take = np.sort(rng.permutation(len(items))[:quotas.get(m, 0)])
        chosen[m] = [items[t] for t in take]
    seen = {canonical_key(P) for items in layers.values() for P, _ in items}
    parents = {seed_rows: clean[seed_rows]}
    spare = {}
    for r in range(seed_rows + 1, max_rows + 1):
        # effective splittings get rarer with every row and each parent has only a few:
        # grow each layer wider than its quota so the next one has parents enough
        width = max(quotas.get(r, 0), int(PARENT_FACTOR * quotas.get(r + 1, 0)))
        kept = _split_layer(parents[r - 1], width, rng, seen)
        parents[r] = kept
        order = rng.permutation(len(kept))
        chosen[r] = [kept[t] for t in np.sort(order[:quotas.get(r, 0)])]
        spare[r] = [kept[t] for t in order[quotas.get(r, 0):]]
        if log:
            log(f"  rows {r}: {len(chosen[r])}/{quotas.get(r, 0)} from {len(kept)} "
                f"({time.perf_counter() - t0:.0f} s)")
    # large row counts are reached less and less often: make up the total from the spare
    # configurations of the row counts that filled their quota, in proportion to their weights
    short = n - sum(len(v) for v in chosen.values())
    full = [r for r in spare if spare[r]]
    if short > 0 and full:
        w = np.array([ROW_WEIGHTS[r] for r in full], dtype=float)
        for r, extra in zip(full, np.ceil(short * w / w.sum()).astype(int)):
            chosen[r] += spare[r][:extra]
    items = [item for r in sorted(chosen) for item in chosen[r]]
    order = rng.permutation(len(items))
    return [items[i] for i in order], quotas


# --------------------------------------------------------------------------- labelling
class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def label_one(args):
    """Hodge numbers of one configuration: (hodge tuple or None, method, detail).

    ``args`` is ``(P, timeout)`` or ``(P, timeout, euler)``: with the (exact, e.g. batched)
    Euler number the labeller does not compute it again."""
    P, timeout, euler = (tuple(args) + (None,))[:3]
    from .cohomology import hodge_from_degree_matrix

    use_alarm = timeout and hasattr(signal, "setitimer")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        res = hodge_from_degree_matrix(np.asarray(P, dtype=np.int64), euler=euler)
        return (None if res.hodge is None else tuple(int(h) for h in res.hodge)), res.method, ""
    except _Timeout:
        return None, "timeout", f"> {timeout:g} s"
    except Exception as exc:  # a failure is counted and reported, never shipped
        return None, "error", f"{type(exc).__name__}: {exc}"[:200]
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def label_all(matrices, workers=2, timeout=LABEL_TIMEOUT_S, log=None, eulers=None):
    """Label every matrix (in order) with ``workers`` processes; ``eulers``: their exact Euler
    numbers when known (the labeller then skips its own χ)."""
    if eulers is None:
        eulers = [None] * len(matrices)
    tasks = [(P, timeout, chi) for P, chi in zip(matrices, eulers)]
    if workers <= 1:
        return [label_one(t) for t in tasks]
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    out = []
    t0 = time.perf_counter()
    with ctx.Pool(workers) as pool:
        for i, res in enumerate(pool.imap(label_one, tasks, chunksize=4)):
            out.append(res)
            if log and (i + 1) % 1000 == 0:
                log(f"  labelled {i + 1}/{len(tasks)} ({time.perf_counter() - t0:.0f} s)")
    return out


def _consistent(h, chi):
    h11, h21, h31, h22 = h
    return chi == 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22 and 44 == -4 * h11 + 2 * h21 - 4 * h31 + h22


def pad(P):
    """int8 (16, 20) padded degree block."""
    out = np.zeros((MAX_ROWS, MAX_COLS), dtype=np.int8)
    out[:P.shape[0], :P.shape[1]] = P
    return out


def build_sample(n=DEFAULT_N, seed=DEFAULT_SEED, workers=2, max_rows=14, timeout=LABEL_TIMEOUT_S,
                 seeds=None, log=None):
    """Generate, label and select the sample.

    Returns
    -------
    dict of arrays with the keys of ``sample.npz`` (``meta`` as a dict, not yet JSON).
    """
    t0 = time.perf_counter()
    cands, quotas = generate_candidates(int(np.ceil(n * OVERSHOOT)), seed, max_rows=max_rows,
                                        seeds=seeds, log=log)
    t_gen = time.perf_counter() - t0
    if log:
        log(f"generated {len(cands)} candidates in {t_gen:.0f} s; labelling with {workers} workers")
    labels = label_all([P for P, _ in cands], workers=workers, timeout=timeout, log=log,
                       eulers=[int(chi) for _, chi in cands])
    t_lab = time.perf_counter() - t0 - t_gen
    methods = Counter()
    keep = []
    inconsistent = 0
    for (P, chi), (h, method, _) in zip(cands, labels):
        methods[method] += 1
        if h is None or method in ("undetermined", "timeout", "error"):
            continue
        if not _consistent(h, chi):
            inconsistent += 1
            continue
        keep.append((P, chi, h, method))
    # the requested size, spread over row counts like the quotas. Splitting drives h21 to 0
    # much faster than in the list (~30% there have h21 > 0), so within each row count the
    # entries with h21 > 0 are taken first, up to H21_SHARE of its quota (labels untouched;
    # this only chooses which labelled configurations are kept)
    want = _row_quotas(n, max_rows, Counter(P.shape[0] for P, *_ in keep))
    chosen = []
    for r, q in want.items():
        here = [item for item in keep if item[0].shape[0] == r]
        pos = [item for item in here if item[2][1] > 0][: int(round(H21_SHARE * q))]
        rest = [item for item in here if item[2][1] == 0][: q - len(pos)]
        chosen += pos + rest
        if len(pos) + len(rest) < q:  # not enough with h21 = 0: more with h21 > 0
            chosen += [item for item in here if item[2][1] > 0][len(pos): len(pos) + q - len(pos) - len(rest)]
    rng = np.random.default_rng([seed, 1])
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]
    N = len(chosen)
    conf = np.stack([pad(P) for P, *_ in chosen]) if N else np.zeros((0, MAX_ROWS, MAX_COLS), np.int8)
    hodge = np.array([h for _, _, h, _ in chosen], dtype=np.int64).reshape(N, 4)
    meta = {
        "description": "CICY four-folds generated by effective splittings and labelled by "
                       "cicy4lib (NOT the Oxford CICY4 list)",
        "seed": seed, "generator_version": GENERATOR_VERSION, "n_requested": n,
        "max_rows": max_rows, "label_timeout_s": timeout, "workers": workers,
        "seed_rows": SEED_ROWS, "overshoot": OVERSHOOT, "h21_share_preference": H21_SHARE,
        "n_generated": len(cands), "n_labelled_ok": len(keep), "n_shipped": N,
        "n_undetermined": methods.get("undetermined", 0), "n_timeout": methods.get("timeout", 0),
        "n_error": methods.get("error", 0), "n_inconsistent": inconsistent,
        "methods_generated": dict(sorted(methods.items())),
        "quotas": {str(k): v for k, v in quotas.items()},
        "generation_seconds": round(t_gen, 1), "labelling_seconds": round(t_lab, 1),
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(), "numpy": np.__version__,
    }
    return {
        "conf": conf,
        "euler": np.array([c for _, c, _, _ in chosen], dtype=np.int64),
        "hodge": hodge,
        "method": np.array([mth for *_, mth in chosen], dtype="<U16"),
        "id": np.arange(N, dtype=np.int64),
        "is_product": np.zeros(N, dtype=bool),
        "meta": meta,
    }


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
    dict of arrays with the keys of ``sample.npz`` (``meta`` a dict).
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


# --------------------------------------------------------------------------- summaries, card
def summary(arrays):
    """Shares, shape and label distributions of a sample (plain dict)."""
    conf, hodge = arrays["conf"], arrays["hodge"]
    rows = (conf != 0).any(2).sum(1)
    cols = (conf != 0).any(1).sum(1)
    N = len(hodge)
    return {
        "n": N,
        "non_favourable": float(np.mean(hodge[:, 0] != rows)) if N else 0.0,
        "h21_positive": float(np.mean(hodge[:, 1] > 0)) if N else 0.0,
        "rows": dict(sorted(Counter(rows.tolist()).items())),
        "cols": dict(sorted(Counter(cols.tolist()).items())),
        "methods": dict(sorted(Counter(arrays["method"].tolist()).items())),
        "mean": {k: float(hodge[:, i].mean()) if N else 0.0
                 for i, k in enumerate(("h11", "h21", "h31", "h22"))},
        "range": {k: [int(hodge[:, i].min()), int(hodge[:, i].max())] if N else []
                  for i, k in enumerate(("h11", "h21", "h31", "h22"))},
        "euler_range": [int(arrays["euler"].min()), int(arrays["euler"].max())] if N else [],
    }


def _histogram(values, bins=None, width=40):
    """Text histogram rows: '| range | count | bar |'."""
    values = np.asarray(values)
    if bins is None:
        edges = None
        keys = sorted(Counter(values.tolist()).items())
        rows = [(str(k), c) for k, c in keys]
    else:
        counts, edges = np.histogram(values, bins=bins)
        rows = [(f"{int(edges[i])}–{int(edges[i + 1]) - (i < len(counts) - 1)}", int(c))
                for i, c in enumerate(counts) if c]
    top = max((c for _, c in rows), default=1)
    lines = ["| value | count | |", "|---:|---:|:---|"]
    lines += [f"| {k} | {c} | {'#' * max(1, round(width * c / top))} |" for k, c in rows]
    return "\n".join(lines)


def _bins(values, n_bins=15):
    lo, hi = int(np.min(values)), int(np.max(values))
    if hi - lo <= 40:  # small ranges (h11, h21): one row per value
        return None
    step = max(1, int(np.ceil((hi - lo + 1) / n_bins)))
    return np.arange(lo, hi + step + 1, step)


def _built_sample_head(meta, command):
    """Card lines of a sample made by :func:`build_sample`."""
    return [
        "**Provenance.** Generated and labelled by `cicy4lib` — this is **not** the Oxford CICY4 list",
        "(Gray–Haupt–Lukas, arXiv:1303.1832). Every entry is a genuine complete-intersection",
        "Calabi–Yau four-fold configuration, built the way the list was built: all configurations",
        f"with at most {SEED_ROWS} rows are enumerated, larger ones are reached from them by random",
        "*effective* splittings (a splitting that leaves the Euler number unchanged is discarded; so is",
        "a seed that only such splittings lead to), de-duplicated under row and column permutations by",
        "an exact canonical form, with direct products excluded.",
        "χ is `geometry.euler_number` (exact); the Hodge numbers come from line-bundle cohomology",
        "(`cohomology.hodge_from_degree_matrix`); only entries whose Hodge numbers were determined and",
        "satisfy χ = 4 + 2h11 − 4h21 + 2h31 + h22 and 44 = −4h11 + 2h21 − 4h31 + h22 are shipped.",
        "Statistics of this sample are *sample* statistics, not those of the CICY4 list.",
        "",
        f"**Selection.** Splitting drives h21 to 0 faster than in the list, so about {OVERSHOOT:g}x the",
        "requested number of configurations is generated and labelled, and within each row count the",
        f"ones with h21 > 0 are taken first, up to {100 * H21_SHARE:.0f}% of that row count's quota (the rest at",
        "random). This chooses which genuinely labelled configurations are kept; no label is altered.",
        "",
        "## Regenerate",
        "",
        "```",
        command or (f"python -m cicy4lib.geometry.generate --seed {meta['seed']} --n {meta['n_requested']} "
                    f"--workers {meta['workers']}"),
        "```",
        "",
        f"Seed {meta['seed']}, generator version {meta['generator_version']}, {meta['workers']} worker(s); "
        f"wall time {meta['wall_seconds']:.0f} s (generation {meta['generation_seconds']:.0f} s, "
        f"labelling {meta['labelling_seconds']:.0f} s) on {meta['machine']}, Python {meta['python']}, "
        f"numpy {meta['numpy']}. Labelling is capped at {meta['label_timeout_s']:g} s per configuration "
        "(a timed-out one is dropped), so on a much slower machine the selection can differ slightly.",
        "",
    ]


def _drawn_sample_head(meta, command):
    """Card lines of a sample drawn from the generated set (:func:`sample_from_generated`)."""
    src = meta["drawn_from"]
    return [
        "**Provenance.** Generated and labelled by `cicy4lib` — this is **not** the Oxford CICY4 list",
        "(Gray–Haupt–Lukas, arXiv:1303.1832). The sample is a uniform random draw (seed "
        f"{meta['seed']}) of {meta['n_shipped']} entries from the generated set in `cicy4lib/_data/{src['folder']}/`",
        f"({src['n']} entries" + (f", release of {src['release']['released']}" if src.get("release") else "")
        + "): minimal descriptions only (no entry is an ineffective splitting of a smaller",
        "configuration), de-duplicated under row and column permutations, no direct products, χ exact and",
        "Hodge numbers from line-bundle cohomology satisfying both index relations; see that folder's",
        "CARD.md for the construction. Statistics here are *sample* statistics, not the list's.",
        "",
        "## Regenerate",
        "",
        "```",
        command or f"python -m cicy4lib.geometry.generate --from-generated --seed {meta['seed']} --n {meta['n_requested']}",
        "```",
        "",
        f"Drawn in {meta['wall_seconds']:.0f} s on {meta['machine']}, Python {meta['python']}, numpy {meta['numpy']}.",
        "",
    ]


def write_card(arrays, path=CARD_PATH, command=None, npz_path=None):
    """Write the dataset card (markdown) describing a sample (``npz_path``: its file, for the size)."""
    meta = arrays["meta"] if isinstance(arrays["meta"], dict) else json.loads(str(arrays["meta"]))
    s = summary(arrays)
    hodge, euler = arrays["hodge"], arrays["euler"]
    npz_path = Path(npz_path or Path(path).with_name("sample.npz"))
    size = npz_path.stat().st_size if npz_path.exists() else None
    lines = ["# Embedded sample of CICY four-folds (`cicy4lib/_data/sample.npz`)", ""]
    lines += _drawn_sample_head(meta, command) if "drawn_from" in meta else _built_sample_head(meta, command)
    lines += [
        "## Contents",
        "",
        f"- {s['n']} entries" + (f", file size {size / 1e6:.2f} MB" if size else "") + ".",
        "- Keys: `conf` int8 (N,16,20) padded degree blocks (no dimension column), `euler` int64 (N,),",
        "  `hodge` int64 (N,4) (h11, h21, h31, h22), `method` str (N,), `id` int64 (N,),",
        "  `is_product` bool (N,) (all False), `meta` JSON string.",
        f"- Candidates generated and labelled: {meta['n_generated']}; Hodge numbers determined and",
        f"  consistent: {meta['n_labelled_ok']}; undetermined: {meta['n_undetermined']}; timed out: "
        f"{meta['n_timeout']}; errors: {meta.get('n_error', 0)}; inconsistent with χ: {meta.get('n_inconsistent', 0)}.",
        f"- Labelling methods over all candidates: {meta['methods_generated']}.",
        f"- Labelling methods of the shipped entries: {s['methods']}.",
        "",
        "## Shares (sample vs the real list)",
        "",
        "| | sample | CICY4 list |",
        "|---|---:|---:|",
        f"| non-favourable (h11 ≠ number of rows) | {100 * s['non_favourable']:.1f}% | 45.5% |",
        f"| h21 > 0 | {100 * s['h21_positive']:.1f}% | ~30% |",
        f"| mean h11 | {s['mean']['h11']:.2f} | 10.1 |",
        f"| mean h21 | {s['mean']['h21']:.3f} | 0.817 |",
        f"| mean h31 | {s['mean']['h31']:.1f} | 39.6 |",
        f"| mean h22 | {s['mean']['h22']:.1f} | 241 |",
        *_shape_rows(arrays),
        "",
        "## Shapes",
        "",
        "Rows (number of projective factors):",
        "",
        _histogram(((arrays["conf"] != 0).any(2).sum(1))),
        "",
        "Columns (number of polynomials):",
        "",
        _histogram(((arrays["conf"] != 0).any(1).sum(1))),
        "",
        "## Hodge numbers and Euler number",
        "",
    ]
    for i, name in enumerate(("h11", "h21", "h31", "h22")):
        lines += [f"{name} (range {s['range'][name]}):", "", _histogram(hodge[:, i], _bins(hodge[:, i])), ""]
    lines += [f"χ (range {s['euler_range']}):", "", _histogram(euler, _bins(euler)), ""]
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return Path(path)


def save_sample(arrays, path=SAMPLE_PATH):
    """Write ``sample.npz`` (``meta`` stored as a JSON string)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(arrays)
    data["meta"] = np.array(json.dumps(arrays["meta"], sort_keys=True))
    return atomic_write(path, lambda f: np.savez_compressed(f, **data))


def load_sample(path=SAMPLE_PATH):
    """The arrays of ``sample.npz`` as a dict (``meta`` parsed from JSON)."""
    with np.load(path, allow_pickle=False) as z:
        out = {k: z[k] for k in z.files}
    out["meta"] = json.loads(str(out["meta"]))
    return out


# =========================================================================== chunked generation
# The large generated set (``load_dataset("generated")``): the same construction as the sample,
# cut into numbered chunks that are generated and labelled independently, each a pure function
# of (settings, chunk index), so the run can be spread over cores or a Dask cluster, killed and
# resumed, and gives the same files whichever way it ran.
#
# Chunks 0 .. n_seed_chunks-1 hold the complete enumeration of configurations with at most
# ``seed_rows`` rows (in canonical order). Every later chunk is ``chunk_size`` random walks of
# effective splittings from random ``seed_rows``-row seeds, each to a target row count drawn from
# ``row_weights`` (rng = default_rng([seed, chunk])). De-duplication: within a chunk, the first
# occurrence of a canonical form is kept; across chunks, :func:`load_generated` keeps the first
# chunk (lowest index) in which a canonical form occurs: every chunk stores its canonical padded
# matrices (``conf``), which are the keys.
CHUNK_FORMAT = "cicy4-generated-chunk/1"
CHUNKED_GENERATOR_VERSION = "2.0"
GENERATED_DIR = DATA_DIR / "generated-r3"  # release 3 (minimal descriptions): load_dataset("generated")
GENERATED_CARD = GENERATED_DIR / "CARD.md"
GENERATED_R2_DIR = DATA_DIR / "generated"  # release 2, kept for reproducibility: load_dataset("generated-r2")
DEFAULT_CHUNK_SEED = 20261202
RELEASE3_CHUNK_SEED = 20261205
# target row counts of the random walks (relative weights; rows <= seed_rows come from the
# complete enumeration). Peaks at 9-10 rows, tail to 16: the list's mean h11 is 10.1
CHUNK_ROW_WEIGHTS = {5: 3, 6: 5, 7: 7, 8: 9, 9: 10, 10: 10, 11: 9, 12: 7, 13: 5, 14: 3, 15: 2, 16: 1}
# dimension n of the new P^n row: the list's configurations are mostly P^1 and P^2 rows
CHUNK_SPLIT_DIMS = {1: 0.6, 2: 0.28, 3: 0.09, 4: 0.03}


def default_chunk_settings(release=3, **overrides):
    """Settings of a chunked run (a plain JSON-able dict; every key enters the chunk files).

    ``release=2`` gives the settings that made release 2 (kept so it can be resumed and
    reproduced); ``release=3`` (the default) keeps minimal descriptions only."""
    s = {
        "seed": DEFAULT_CHUNK_SEED,
        "chunk_size": 1000,
        "seed_rows": SEED_ROWS,
        "max_rows": MAX_ROWS,
        "row_weights": dict(CHUNK_ROW_WEIGHTS),
        "split_dims": dict(CHUNK_SPLIT_DIMS),
        "block_share": 0.9,
        "split_tries": 8,
        "max_stalls": 4,
        "drop_ineffective": False,
        "timeout": LABEL_TIMEOUT_S,
    }
    if release >= 3:
        # release 3: minimal descriptions only, in the walk itself (every layer, the parents of
        # the next one included, holds no ineffective splitting of a smaller configuration)
        s.update(seed=RELEASE3_CHUNK_SEED, chunk_size=500, minimal_only=True)
    unknown = set(overrides) - set(s)
    if unknown:
        raise ValueError(f"unknown chunk settings {sorted(unknown)}")
    s.update(overrides)
    s["row_weights"] = {int(k): float(v) for k, v in s["row_weights"].items() if int(k) <= s["max_rows"]}
    s["split_dims"] = {int(k): float(v) for k, v in s["split_dims"].items()}
    return s


def _settings_key(s):
    """Canonical JSON of the settings (what must match for chunks to belong together)."""
    return json.dumps({k: ({str(a): b for a, b in v.items()} if isinstance(v, dict) else v)
                       for k, v in sorted(s.items())}, sort_keys=True)


_SEED_CACHE = {}


def seed_layers(seed_rows, minimal=False):
    """Clean seeds per row count (dict m -> list of (canonical P, chi)), cached per process:
    the complete enumeration without configurations that only ineffective splittings reach
    (``minimal=True``: without any ineffective splitting of a smaller configuration, i.e. every
    minimal configuration with at most ``seed_rows`` rows)."""
    if (seed_rows, minimal) not in _SEED_CACHE:
        from .euler import euler_numbers

        layers = enumerate_configurations(seed_rows)
        clean = {}
        for m, Ps in layers.items():
            chis = euler_numbers(list(Ps)).tolist()
            red = _redundant_mask(list(Ps), chis, rule="any" if minimal else "all")
            clean[m] = [(P, c) for P, c, r in zip(Ps, chis, red) if not r]
        _SEED_CACHE[seed_rows, minimal] = clean
    return _SEED_CACHE[seed_rows, minimal]


def _seeds(settings):
    return seed_layers(settings["seed_rows"], bool(settings.get("minimal_only")))


def n_seed_chunks(settings):
    n = sum(len(v) for v in _seeds(settings).values())
    return -(-n // settings["chunk_size"])


_LABELLER_VERSION = []


def labeller_version():
    """Version of the code that labels: the cohomology module's own version string where it has
    one, plus a digest of the geometry modules the labels depend on (every ``geometry/*.py``
    except the generator itself), taken once per process right after importing them, so it
    describes the code in memory even if the files change while a long run goes on."""
    if not _LABELLER_VERSION:
        import hashlib

        from . import cohomology  # noqa: F401  (imported before hashing: the code in memory)

        here = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(here.glob("*.py")):
            if path.name in ("generate.py", "random.py", "__init__.py"):
                continue
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        version = getattr(cohomology, "LABELLER_VERSION", getattr(cohomology, "__version__", ""))
        _LABELLER_VERSION.append(f"{version or 'unversioned'}+{digest.hexdigest()[:12]}")
    return _LABELLER_VERSION[0]


def random_splitting_lumpy(P, rng, dims, block_share, max_new_cols):
    """A random splitting of ``P`` like :func:`random_splitting`, except that with
    probability ``block_share`` each row's whole degree in the split column goes to one part
    (so degrees 2 and 3 survive the splitting instead of being dealt out unit by unit).
    ``max_new_cols`` caps n (walks keep room for the splittings still to come). None if no
    splitting fits."""
    m, K = P.shape
    if m >= MAX_ROWS:
        return None
    colsum = P.sum(0)
    ok_cols = np.flatnonzero(colsum >= 2)
    if len(ok_cols) == 0:
        return None
    col = int(rng.choice(ok_cols, p=(colsum[ok_cols] - 1) / (colsum[ok_cols] - 1).sum()))
    n_max = min(int(colsum[col]) - 1, MAX_COLS - K, max_new_cols)
    choices = [d for d in sorted(dims) if d <= n_max]
    if not choices:
        return None
    w = np.array([dims[d] for d in choices], dtype=float)
    n = int(rng.choice(choices, p=w / w.sum()))
    degs = P[:, col]
    parts = np.zeros((n + 1, m), dtype=np.int64)
    lumps = rng.random(m) < block_share
    for i in np.flatnonzero(degs):
        if lumps[i]:
            parts[rng.integers(n + 1), i] += degs[i]
        else:
            np.add.at(parts[:, i], rng.integers(0, n + 1, size=degs[i]), 1)
    if (parts.sum(1) == 0).any():  # an empty part: deal unit by unit, every part nonempty
        units = np.repeat(np.arange(m), degs)
        rng.shuffle(units)
        owner = np.concatenate([np.arange(n + 1), rng.integers(0, n + 1, size=len(units) - n - 1)])
        parts = np.zeros((n + 1, m), dtype=np.int64)
        np.add.at(parts, (owner, units), 1)
    if n == 1:
        # a P^1 splitting is ineffective when a part lives on projective factors of total
        # dimension < 2: two generic sections of it have no common zero, so the conifold
        # locus is empty and the Euler number cannot change (no Euler number needed)
        dims_ = P.sum(1) - 1
        if any(dims_[part > 0].sum() < 2 for part in parts):
            return None
    return split(P, col, parts)


class _SplitPlan:
    """What :func:`random_splitting_lumpy` derives from a parent alone, computed once per parent
    (a parent is split many times). ``draw`` makes the same splittings from the same random
    stream as :func:`random_splitting_lumpy` (the test suite checks this), only faster."""

    __slots__ = ("P", "m", "K", "colsum", "ok_cols", "cdf_cols", "dims", "dims_list", "by_nmax", "by_col")

    def __init__(self, P):
        self.P = P
        self.m, self.K = P.shape
        self.colsum = P.sum(0)
        self.ok_cols = np.flatnonzero(self.colsum >= 2)
        if len(self.ok_cols):
            w = self.colsum[self.ok_cols] - 1
            p = w / w.sum()
            cdf = p.cumsum()
            cdf /= cdf[-1]  # Generator.choice(a, p=p) is a[searchsorted(cdf, random(), 'right')]
            self.cdf_cols = cdf
        self.dims = P.sum(1) - 1
        self.dims_list = self.dims.tolist()
        self.by_nmax = {}
        self.by_col = {}

    def _n_choices(self, n_max, dims):
        got = self.by_nmax.get(n_max)
        if got is None:
            choices = [d for d in sorted(dims) if d <= n_max]
            if choices:
                w = np.array([dims[d] for d in choices], dtype=float)
                p = w / w.sum()
                cdf = p.cumsum()
                cdf /= cdf[-1]
                got = (choices, cdf)
            else:
                got = (choices, None)
            self.by_nmax[n_max] = got
        return got

    def _col(self, col):
        got = self.by_col.get(col)
        if got is None:
            degs = self.P[:, col]
            got = ([(int(i), int(degs[i])) for i in np.flatnonzero(degs)], degs, np.delete(self.P, col, axis=1))
            self.by_col[col] = got
        return got

    def draw(self, rng, dims, block_share, max_new_cols):
        m, K = self.m, self.K
        if m >= MAX_ROWS or len(self.ok_cols) == 0:
            return None
        col = int(self.ok_cols[np.searchsorted(self.cdf_cols, rng.random(), side="right")])
        n_max = min(int(self.colsum[col]) - 1, MAX_COLS - K, max_new_cols)
        choices, cdf = self._n_choices(n_max, dims)
        if not choices:
            return None
        n = int(choices[np.searchsorted(cdf, rng.random(), side="right")])
        nz, degs, rest = self._col(col)
        parts = [[0] * m for _ in range(n + 1)]
        lumps = (rng.random(m) < block_share).tolist()
        for i, d in nz:
            if lumps[i]:
                parts[int(rng.integers(n + 1))][i] += d
            else:
                for r in rng.integers(0, n + 1, size=d).tolist():
                    parts[r][i] += 1
        if not all(any(row) for row in parts):  # an empty part: deal unit by unit, every part nonempty
            units = np.repeat(np.arange(m), degs)
            rng.shuffle(units)
            owner = np.concatenate([np.arange(n + 1), rng.integers(0, n + 1, size=len(units) - n - 1)])
            arr = np.zeros((n + 1, m), dtype=np.int64)
            np.add.at(arr, (owner, units), 1)
            parts = arr.tolist()
        if n == 1:  # certainly ineffective (see random_splitting_lumpy)
            dims_ = self.dims_list
            if (sum(dims_[i] for i in range(m) if parts[0][i]) < 2
                    or sum(dims_[i] for i in range(m) if parts[1][i]) < 2):
                return None
        # split(P, col, parts) without its checks: new P^n row on top, the parts first
        out = np.zeros((m + 1, K + n), dtype=np.int64)
        out[0, :n + 1] = 1
        out[1:, :n + 1] = np.array(parts, dtype=np.int64).T
        out[1:, n + 1:] = rest
        return out


def _tries_at(rows, settings):
    """Splittings tried per parent: effective ones get rarer with every row (~45% of tries at
    4 rows, ~10% at 10, a few % past 12), so more are tried where they are rare."""
    return int(min(96, settings["split_tries"] * max(1.0, 2.0 ** ((rows - 8) / 1.5))))


def _redundant_cached(batch, keys, chis, ask, cache):
    """Redundancy of ``batch[j]`` where ``ask[j]`` (False elsewhere), computed once per key."""
    new = [j for j in np.flatnonzero(ask) if keys[j] not in cache]
    new = list({keys[j]: j for j in new}.values())
    if new:
        red = redundant_mask([batch[j] for j in new], chis[new])
        for j, r in zip(new, red.tolist()):
            cache[keys[j]] = r
    return np.array([bool(a) and cache[k] for a, k in zip(ask, keys)], dtype=bool)


def _grow_layer(parents, quota, rng, settings):
    """Up to ``quota`` distinct configurations one row larger than ``parents`` (list of
    (P, chi)), each the first effective, non-product splitting of a random parent.

    Work is batched: a round picks up to ``LAYER_BATCH`` parents and tries splittings of each
    in waves (4, 8, 16, ... per parent, up to :func:`_tries_at`), the Euler numbers of a wave
    computed in one call; a parent stops at its first effective, non-product splitting, so
    nothing after it is made or evaluated. Stops after ``max_stalls`` rounds without a new one.
    """
    from .euler import euler_numbers
    from .products import is_product

    kept, seen = [], set()
    chi_cache, min_cache = {}, {}
    stalls = 0
    rows = parents[0][0].shape[0] if parents else 0
    n_try = _tries_at(rows, settings)
    for _ in range(MAX_ROUNDS):
        if len(kept) >= quota or stalls >= settings["max_stalls"] or not parents:
            break
        picks = rng.integers(len(parents), size=min(LAYER_BATCH, 2 * (quota - len(kept)) + 16))
        got = np.zeros(len(picks), np.int64)
        attempts = np.full(len(picks), 3 * n_try)  # a None is no fit or certainly ineffective
        first = {}
        need = list(range(len(picks)))
        wave = 4
        plans = {}
        while need:
            batch, owner = [], []
            for k in need:
                P = parents[picks[k]][0]
                room = max(1, MAX_COLS - P.shape[1] - (settings["max_rows"] - P.shape[0] - 1))
                plan = plans.get(int(picks[k]))
                if plan is None:
                    plan = plans[int(picks[k])] = _SplitPlan(P)
                made = 0
                while made < wave and got[k] < n_try and attempts[k] > 0:
                    attempts[k] -= 1
                    Q = plan.draw(rng, settings["split_dims"], settings["block_share"], room)
                    if Q is not None:
                        batch.append(Q)
                        owner.append(k)
                        made += 1
                        got[k] += 1
            if not batch:
                break
            # the same splitting comes up again and again where parents are few (high rows):
            # Euler numbers are computed once per distinct matrix in the layer
            keys = [Q.tobytes() + bytes(Q.shape) for Q in batch]
            new = {}
            for j, key in enumerate(keys):
                if key not in chi_cache and key not in new:
                    new[key] = j
            if new:
                padded = np.zeros((len(new), MAX_ROWS, MAX_COLS), np.int64)
                for r, j in enumerate(new.values()):
                    Q = batch[j]
                    padded[r, :Q.shape[0], :Q.shape[1]] = Q
                for key, chi in zip(new, euler_numbers(padded).tolist()):
                    chi_cache[key] = chi
            chis = np.array([chi_cache[key] for key in keys], dtype=np.int64)
            owner = np.asarray(owner)
            parent_chis = np.array([parents[picks[k]][1] for k in owner.tolist()], dtype=np.int64)
            ok = chis != parent_chis
            if settings.get("minimal_only"):
                # effective for its parent is not enough: no contraction along *any* row may
                # keep the Euler number (batched over the wave, cached per distinct matrix)
                ok &= ~_redundant_cached([batch[j] for j in range(len(batch))], keys, chis, ok, min_cache)
            still = []
            for k in need:
                for j in np.flatnonzero(owner == k):
                    if ok[j] and not is_product(batch[j]):
                        first[k] = (batch[j], int(chis[j]))
                        break
                else:
                    if got[k] < n_try and attempts[k] > 0:
                        still.append(k)
            need = still
            wave *= 2
        found = 0
        for k in range(len(picks)):
            if len(kept) >= quota:
                break
            if k not in first:
                continue
            Q, chi = first[k]
            try:
                C = canonical_form(Q)
            except CanonicalFormError:  # too symmetric to de-duplicate cheaply: skipped
                continue
            key = C.astype(np.int8).tobytes() + bytes(C.shape)
            if key not in seen:
                seen.add(key)
                kept.append((C, chi))
                found += 1
        stalls = 0 if found else stalls + 1
    return kept


def _layered(settings, rng):
    """Candidates of one random chunk: layer by layer from the ``seed_rows`` seeds, each layer
    grown by effective splittings of random configurations of the one below (a population
    random walk), ``chunk_size`` in all spread over row counts by ``row_weights``. A layer is
    grown wider than its quota so the next one has parents enough; row counts that fall short
    are made up from the spare configurations of the others, in proportion to their weights.
    Returns a list of (canonical P, chi) in a random order."""
    top = _seeds(settings)[settings["seed_rows"]]
    rows = sorted(settings["row_weights"])
    w = np.array([settings["row_weights"][r] for r in rows], dtype=float)
    quotas = dict(zip(rows, np.round(settings["chunk_size"] * w / w.sum()).astype(int).tolist()))
    parents = top
    chosen, spare = {}, {}
    for r in rows:
        width = max(quotas[r], int(PARENT_FACTOR * quotas.get(r + 1, 0)))
        kept = _grow_layer(parents, width, rng, settings)
        order = rng.permutation(len(kept))
        chosen[r] = [kept[t] for t in np.sort(order[:quotas[r]])]
        spare[r] = [kept[t] for t in np.sort(order[quotas[r]:])]
        parents = kept
        if not parents:
            break
    short = settings["chunk_size"] - sum(len(v) for v in chosen.values())
    full = [r for r in spare if spare[r]]
    if short > 0 and full:
        wf = np.array([settings["row_weights"][r] for r in full], dtype=float)
        for r, extra in zip(full, np.ceil(short * wf / wf.sum()).astype(int)):
            chosen[r] += spare[r][:extra]
    items = [item for r in sorted(chosen) for item in chosen[r]]
    return [items[i] for i in rng.permutation(len(items))]


def chunk_candidates(settings, index):
    """The candidates of chunk ``index``: list of (canonical P, chi), distinct, no products."""
    seeds = _seeds(settings)
    n_seed = n_seed_chunks(settings)
    if index < n_seed:
        flat = [item for m in sorted(seeds) for item in seeds[m]]
        cs = settings["chunk_size"]
        return flat[index * cs:(index + 1) * cs]
    rng = np.random.default_rng([int(settings["seed"]), int(index)])
    out = _layered(settings, rng)
    if settings["drop_ineffective"] and out:
        # an ineffective splitting of *some* smaller configuration (a contraction with the same
        # Euler number) is that smaller manifold again
        red = _redundant_mask([P for P, _ in out], [c for _, c in out], rule="any")
        out = [item for item, r in zip(out, red) if not r]
    return out


def _label_with_limit(P, timeout, euler=None):
    """(hodge tuple or None, method) of one configuration within ``timeout`` seconds.
    ``euler``: its exact Euler number when the caller has it (batched: generation and
    verification compute all of a chunk's at once), so the labeller does not redo it."""
    from ..chunked import TaskTimeout, time_limit
    from .cohomology import hodge_from_degree_matrix

    try:
        with time_limit(timeout):
            res = hodge_from_degree_matrix(np.asarray(P, dtype=np.int64), euler=euler)
        return (None if res.hodge is None else tuple(int(h) for h in res.hodge)), res.method
    except TaskTimeout:
        return None, "timeout"
    except Exception:  # a failure is recorded as such, never shipped
        return None, "error"


def generate_chunk(settings, index):
    """Generate and label chunk ``index`` (a pure function of its arguments, up to the
    per-configuration time limit). Returns (arrays, seconds)."""
    t0, c0 = time.perf_counter(), time.process_time()
    cands = chunk_candidates(settings, index)
    t_gen = time.perf_counter() - t0
    n = len(cands)
    conf = np.zeros((n, MAX_ROWS, MAX_COLS), np.int8)
    hodge = np.full((n, 4), -1, np.int64)
    methods = []
    for k, (P, chi) in enumerate(cands):
        conf[k, :P.shape[0], :P.shape[1]] = P
        h, method = _label_with_limit(P, settings["timeout"], euler=chi)  # chi: batched, exact
        if h is not None and not _consistent(h, chi):
            h, method = None, "inconsistent"
        if h is not None:
            hodge[k] = h
        methods.append(method)
    meta = {
        "format": CHUNK_FORMAT, "chunk": int(index),
        "kind": "seeds" if index < n_seed_chunks(settings) else "walks",
        "settings": json.loads(_settings_key(settings)),
        "generator_version": CHUNKED_GENERATOR_VERSION, "labeller_version": labeller_version(),
        "n": n, "methods": dict(sorted(Counter(methods).items())),
    }
    arrays = {"conf": conf, "euler": np.array([c for _, c in cands], dtype=np.int64),
              "hodge": hodge, "method": np.array(methods, dtype="<U16"),
              "meta": np.array(json.dumps(meta, sort_keys=True))}
    seconds = {"generate": round(t_gen, 2), "total": round(time.perf_counter() - t0, 2),
               "cpu": round(time.process_time() - c0, 2)}
    return arrays, seconds


def write_npz_deterministic(path, arrays):
    """Compressed .npz whose bytes depend only on the arrays (fixed zip timestamps), written
    atomically; ``np.load`` reads it like any .npz."""
    import io
    import zipfile

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
    return Path(out_dir) / f"chunk_{index:05d}.npz"


def completed_chunks(out_dir):
    """Indices of the chunk files present in ``out_dir`` (sorted)."""
    out = []
    for p in Path(out_dir).glob("chunk_*.npz"):
        try:
            out.append(int(p.stem.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return sorted(out)


def _check_manifest(out_dir, settings, force=False):
    from ..errors import ConfigurationError
    from ..fileio import atomic_write_json

    path = Path(out_dir) / "manifest.json"
    want = {"format": CHUNK_FORMAT, "settings": json.loads(_settings_key(settings))}
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
    """Generate chunks ``0 .. n_chunks-1`` into ``out_dir``, skipping those already there.

    Returns the list of chunk indices written by this call.
    """
    from ..chunked import run_chunks
    from ..fileio import remove_stale_temp_files

    settings = settings or default_chunk_settings()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out_dir)
    _check_manifest(out_dir, settings, force)
    _seeds(settings)  # once here: forked local workers inherit it
    labeller_version()  # and the labeller, imported once, with its version
    have = set(completed_chunks(out_dir))
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
        with open(timing_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        if log:
            log(f"chunk {index}: {line['n']} entries in {seconds['total']:.0f} s")

    run_chunks(generate_chunk, ((i, (settings, i)) for i in todo), on_result, workers=workers,
               scheduler=scheduler, total=n_chunks, done=len(have & set(range(n_chunks))),
               progress=progress, desc="generate", name="cicy4-generate")
    return sorted(written)


GENERATED_MIN_ENTRIES = 50_000  # served by load_dataset("generated") from this size on
PARTIAL_ENV = "CICY4_GENERATED_PARTIAL"  # =1: serve a smaller (partial) generated set anyway


RELEASE_FILE = "release.json"


def release_chunks(out_dir=GENERATED_DIR, n_chunks=None):
    """Declare chunks ``0 .. n_chunks-1`` (default: the longest run of chunks present from 0)
    the served set: ``release.json`` in ``out_dir``. ``load_dataset("generated")`` then serves
    exactly these (the folder may keep growing: results and run fingerprints stay valid until
    the next release). Returns the release record."""
    from ..errors import DataError
    from ..fileio import atomic_write_json

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
    first chunk holding a canonical form keeps it), by default only entries whose Hodge numbers
    were determined (``method`` says how).

    Which chunks: ``chunks`` (a count: chunks 0..chunks-1, all required), else the release
    (``release.json``, see :func:`release_chunks`) when there is one, else every chunk present.

    Returns dict with ``conf`` int8 (N,16,20), ``euler``, ``hodge`` (N,4), ``method``,
    ``chunk`` (source chunk index), ``meta`` (dict: settings, versions, counts, methods of all
    distinct candidates).

    While the set is being generated it starts with the complete enumeration of <= 4 rows, a
    shape distribution unlike the list's: below ``GENERATED_MIN_ENTRIES`` entries it is refused
    (DataError, so ``--data auto`` falls back to the sample) unless ``allow_partial`` (default:
    the environment variable ``CICY4_GENERATED_PARTIAL=1``).
    """
    from ..errors import DataError

    out_dir = Path(out_dir)
    idx = completed_chunks(out_dir)
    if not idx:
        raise DataError(f"{out_dir}: no generated chunks (chunk_*.npz); make them with "
                        f"`python -m cicy4lib.geometry.generate --chunks N --out-dir {out_dir}`")
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
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    flat = np.ascontiguousarray(arrays["conf"]).reshape(len(arrays["conf"]), -1)
    _, first = np.unique(flat.view(np.dtype((np.void, flat.shape[1]))).ravel(), return_index=True)
    keep = np.zeros(len(flat), bool)
    keep[first] = True
    n_all, n_dup = len(flat), int(len(flat) - len(first))
    methods_all = dict(sorted(Counter(arrays["method"][keep].tolist()).items()))
    if labelled_only:
        keep &= (arrays["hodge"] >= 0).all(1)
    arrays = {k: v[keep] for k, v in arrays.items()}
    if allow_partial is None:
        allow_partial = os.environ.get(PARTIAL_ENV, "") not in ("", "0")
    if len(arrays["conf"]) < GENERATED_MIN_ENTRIES and not allow_partial:
        raise DataError(f"{out_dir}: the generated set holds {len(arrays['conf'])} entries so far (generation in "
                        f"progress; {len(idx)} chunks); it is served from {GENERATED_MIN_ENTRIES} on. Continue it with "
                        f"`python -m cicy4lib.geometry.generate --chunks N` (see CARD.md), or set "
                        f"{PARTIAL_ENV}=1 to load the partial set")
    arrays["meta"] = {"settings": settings, "chunks": idx, "n_chunks": len(idx), "release": release,
                      "chunk_versions": dict(versions), "n_candidates": n_all, "n_duplicates_across_chunks": n_dup,
                      "methods_all": methods_all, "n": int(len(arrays["conf"]))}
    return arrays


def _timings(out_dir):
    path = Path(out_dir) / "timings.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:  # a line cut by a kill
                continue
    return rows


def _verified_line(out_dir):
    """The last `verify` of this set, when its summary was stored beside the chunks."""
    path = Path(out_dir) / "verify_summary.json"
    if not path.exists():
        return ""
    v = json.loads(path.read_text(encoding="utf-8"))
    e, r, h = v["euler"], v["relations"], v["hodge"]
    return (f"**Verified** (`{v.get('command') or 'python -m cicy4lib verify generated'}`, current labeller): "
            f"χ recomputed for all {e['recomputed']} entries, {e['mismatches']} mismatches; both index relations "
            f"hold for {r['checked'] - r['mismatches']} of {r['checked']}; Hodge numbers recomputed for "
            f"{h['recomputed']} random entries: {h['agree']} agree, {h['mismatches']} disagree, "
            f"{h['undetermined'] + h['timeout'] + h['error']} not determined ({v['wall_seconds']:.0f} s).")


def _projection_line(times, meta):
    """Core-hours per 100,000 / 250,000 entries from the recent random-walk chunks' CPU time."""
    recent = [t for t in times if "cpu" in t and t.get("generate", 0) > 1.0][-40:]  # walk chunks
    if not recent:
        return ""
    per_cand = sum(t["cpu"] for t in recent) / max(1, sum(t["n"] for t in recent))
    keep = meta["n"] / max(1, meta["n_candidates"])  # entries per candidate (duplicates, failures)
    hours = {k: k * per_cand / keep / 3600 for k in (100_000, 250_000)}
    return (f"Throughput (last {len(recent)} random chunks, CPU time): {per_cand:.3f} CPU-s per candidate, "
            f"{keep:.3f} entries per candidate; 100,000 entries ≈ {hours[100_000]:.1f} core-hours, "
            f"250,000 ≈ {hours[250_000]:.1f} core-hours (divide by the cores used).")


def _yield_line(arrays, times, n_seed):
    """Entries per CPU-hour of the random-walk chunks, overall and by row count."""
    walk_cpu = {t["chunk"]: t["cpu"] for t in times if "cpu" in t and t["chunk"] >= n_seed}
    if not walk_cpu:
        return ""
    hours = sum(walk_cpu.values()) / 3600
    in_walks = np.isin(arrays["chunk"], list(walk_cpu))
    rows = (arrays["conf"][in_walks] != 0).any(2).sum(1)
    counts = np.bincount(rows, minlength=MAX_ROWS + 1)
    by_row = ", ".join(f"{r}: {counts[r] / hours:,.0f}" for r in range(1, MAX_ROWS + 1) if counts[r])
    return (f"Yield of the random-walk chunks: {in_walks.sum() / hours:,.0f} distinct entries per CPU-hour "
            f"({len(walk_cpu)} chunks, {hours:.2f} CPU-hours; duplicates of earlier chunks not counted); "
            f"by row count: {by_row}.")


def _span_hours(times):
    stamps = sorted(t["finished"] for t in times if "finished" in t)
    if len(stamps) < 2:
        return 0.0
    import datetime as _dt

    parse = lambda x: _dt.datetime.strptime(x, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return (parse(stamps[-1]) - parse(stamps[0])).total_seconds() / 3600


def generated_summary(arrays):
    """Shares and distributions of the generated set (plain dict)."""
    conf, hodge = arrays["conf"], arrays["hodge"]
    rows = (conf != 0).any(2).sum(1)
    N = len(hodge)
    s = summary({"conf": conf, "hodge": hodge, "euler": arrays["euler"], "method": arrays["method"]})
    s["favourable"] = float(np.mean(hodge[:, 0] == rows)) if N else 0.0
    s["mean_rows"] = float(rows.mean()) if N else 0.0
    return s


def _shape_rows(arrays):
    """Card rows comparing shapes and χ quantiles with the list's (SPEC §1 statistics)."""
    conf, euler, hodge = np.asarray(arrays["conf"]), np.asarray(arrays["euler"]), np.asarray(arrays["hodge"])
    if not len(conf):
        return []
    occupied = conf != 0
    rows = occupied.any(2).sum(1)
    cols = occupied.any(1).sum(1)
    dims = conf.sum(2).astype(np.int64) - 1  # n_i per row (-1 on padding rows)
    q = (1, 10, 25, 50, 75, 90, 99)
    quant = lambda a: "/".join(str(int(v)) for v in np.percentile(a, q, method="lower"))  # noqa: E731
    return [
        f"| rows, quantiles {'/'.join(map(str, q))} % | {quant(rows)} | 5/7/8/9/10/11/13 |",
        f"| largest row count | {rows.max()} | 16 |",
        f"| mean number of columns | {cols.mean():.2f} | 10.01 |",
        f"| columns, quantiles | {quant(cols)} | 5/7/8/10/12/13/15 |",
        f"| mean P¹ rows / P² rows per matrix | {(dims == 1).sum(1).mean():.2f} / {(dims == 2).sum(1).mean():.2f} "
        f"| 4.88 / 3.31 |",
        f"| matrices of 0s and 1s only | {100 * np.mean(conf.max((1, 2)) <= 1):.1f}% | ~50% |",
        f"| mean χ; χ quantiles | {euler.mean():.0f}; {quant(euler)} | 335; 0/288/288/318/360/420/636 |",
        f"| h11 < number of rows | {int((hodge[:, 0] < rows).sum())} | 0 |",
    ]


def write_generated_card(out_dir=GENERATED_DIR, path=None):
    """Write ``CARD.md`` of the generated set in ``out_dir`` from the chunks present."""
    out_dir = Path(out_dir)
    arrays = load_generated(out_dir, allow_partial=True)
    meta = arrays["meta"]
    st = meta["settings"]
    s = generated_summary(arrays)
    hodge, euler = arrays["hodge"], arrays["euler"]
    times = _timings(out_dir)
    cpu_s = sum(t.get("total", 0.0) for t in times)  # worker wall seconds
    cpu_only = [t["cpu"] for t in times if "cpu" in t]
    n_cpu = sum(t.get("n", 0) for t in times if "cpu" in t)
    size = sum(chunk_path(out_dir, i).stat().st_size for i in meta["chunks"])
    command = (f"python -m cicy4lib.geometry.generate --chunks {max(meta['chunks']) + 1} "
               + ("" if st.get("minimal_only") else f"--settings-release 2 --out-dir {out_dir} ")
               + f"--chunk-size {st['chunk_size']} --chunk-seed {st['seed']} --block-share {st['block_share']:g}"
               + (f" --timeout {st['timeout']:g}" if st["timeout"] != LABEL_TIMEOUT_S else "")
               + (f" --max-rows {st['max_rows']}" if st["max_rows"] != MAX_ROWS else ""))
    missing = sorted(set(range(max(meta["chunks"]) + 1)) - set(meta["chunks"]))
    n_seed = n_seed_chunks(st)
    lines = [
        (f"# Generated CICY four-folds, release {3 if st.get('minimal_only') else 2} "
         f"(`load_dataset(\"{'generated' if st.get('minimal_only') else 'generated-r2'}\")`, "
         f"`cicy4lib/_data/{out_dir.name}/`)"),
        "",
        "**Provenance** (`provenance = {\"kind\": \"generated\", ...}`). Generated and labelled by `cicy4lib` —",
        "this is **not** the Oxford CICY4 list (Gray–Haupt–Lukas, arXiv:1303.1832), but every entry is a",
        "genuine complete-intersection Calabi–Yau four-fold configuration built the way the list was built,",
        "with exact labels:",
        "",
        f"- chunks 0–{(n_seed or 1) - 1}: the **complete** enumeration of configurations with at most "
        f"{st['seed_rows']} rows",
        ("  without direct products, columns of degree 1, and every ineffective splitting of a smaller"
         if st.get("minimal_only") else
         "  (without direct products, columns of degree 1, and configurations that only ineffective"),
        ("  configuration (complete under that rule: every minimal configuration with that many rows);"
         if st.get("minimal_only") else "  splittings reach);"),
        f"- every later chunk: {st['chunk_size']} configurations with {st['seed_rows'] + 1}–{st['max_rows']} rows, grown layer by layer",
        f"  from random {st['seed_rows']}-row seeds by random *effective* splittings (a splitting that leaves the",
        "  Euler number unchanged is the same manifold and is discarded), random numbers from",
        f"  `default_rng([{st['seed']}, chunk])`;",
        *(["- **minimal descriptions only** (release 3): a configuration with a row P^n of n + 1 ones is a",
           "  splitting of the configuration without that row and with those n + 1 columns added up; when",
           "  both have the same Euler number it is the same manifold (an ineffective splitting: Candelas et",
           "  al., Nucl. Phys. B298 (1988) 493 for three-folds; Gray–Haupt–Lukas, arXiv:1303.1832, who discard",
           "  such redundant matrices from the CICY4 list). Every entry is checked along *every* such row",
           "  (`geometry.splitting.redundant_mask`), in the walk itself, so the parents of each layer are",
           "  minimal too. The other equivalences used for the list are applied as well: permutations of rows",
           "  and columns (canonical form), block-diagonal matrices (direct products) and columns of total",
           "  degree 1 (a hyperplane: a smaller configuration in disguise) are not generated;"]
          if st.get("minimal_only") else []),
        "- de-duplicated under row and column permutations (exact canonical form) within each chunk and",
        "  across chunks (the lowest chunk holding a canonical form keeps it); no direct products;",
        "- χ exact (`geometry.euler_numbers`); Hodge numbers from line-bundle cohomology",
        "  (`cohomology.hodge_from_degree_matrix`), kept only when determined and consistent with both",
        "  index relations (χ = 4 + 2h11 − 4h21 + 2h31 + h22, 44 = −4h11 + 2h21 − 4h31 + h22); `method`",
        f"  says how (\"exact\" or \"generic-rank\"); at most {st['timeout']:g} s per configuration.",
        "",
        "**Construction choices, not selection.** No entry is chosen or dropped for its labels. The shares",
        "below are moved towards the list's only by how configurations are built: target row counts",
        "weighted " + ", ".join(f"{k}: {v:g}" for k, v in sorted((int(a), b) for a, b in st["row_weights"].items()))
        + " (peak at 9–10 rows: the list's mean h11 is 10.1),",
        "new P^n rows with n drawn from " + ", ".join(f"P^{k}: {v:g}" for k, v in sorted((int(a), b) for a, b in st["split_dims"].items()))
        + f", and with probability {st['block_share']:g}",
        "a row's whole degree in the split column goes to one part (\"lumpy\" splittings keep degrees 2 and 3,",
        "which raises the share with h21 > 0; unit-by-unit dealing drives h21 to 0).",
        "",
        "## Regenerate / extend / resume",
        "",
        "```",
        command,
        "```",
        "",
        "Every chunk is a pure function of the settings and its index (up to the per-configuration time",
        "limit), written atomically; rerunning the command skips the chunks present and fills any gaps, so",
        "a killed run resumes where it stopped and a larger `--chunks` extends the set. `--workers N` (default:",
        "all cores), `--scheduler tcp://host:8786` for a Dask cluster (see `cicy4lib/chunked.py`; SLURM/PBS",
        "through dask-jobqueue). `--card` rewrites this card.",
        "",
        "**What is served.** `load_dataset(\"generated\")` serves the *release* (`release.json`: chunks",
        "0..K−1, their digest): generation may go on in the folder without changing the served set (training",
        "runs fingerprint their data). `python -m cicy4lib.geometry.generate --release` declares all chunks",
        "present from 0 the new release and rewrites this card. Without a release, the chunks present are",
        f"served once they hold {GENERATED_MIN_ENTRIES:,} entries (or with `CICY4_GENERATED_PARTIAL=1`).",
        "",
        (f"Release: chunks 0–{meta['release']['chunks'] - 1}, {meta['release']['n']} entries, "
         f"released {meta['release']['released']}; chunk files in the folder: {len(completed_chunks(out_dir))}."
         if meta.get("release") else "No release yet: the card describes every chunk present."),
        "",
        f"Chunks present: {meta['n_chunks']} (indices 0–{max(meta['chunks'])}"
        + (f"; missing: {missing[:20]}{' ...' if len(missing) > 20 else ''}" if missing else "") + "); "
        f"chunk/labeller versions: {meta['chunk_versions']}.",
        f"Wall time: {_span_hours(times):.2f} h from the first to the last chunk written (worker processes at "
        "nice 10 on a 2-core machine shared with other jobs; the span includes pauses between restarts). "
        f"Worker time: {cpu_s / 3600:.1f} worker-hours over {len(times)} chunk runs "
        f"({cpu_s / max(1, meta['n_candidates']):.2f} worker-s per candidate)"
        + (f"; CPU time where recorded: {sum(cpu_only) / max(1, n_cpu):.3f} CPU-s per candidate "
           f"({len(cpu_only)} chunks, {n_cpu} candidates)" if cpu_only else "") + " on "
        f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs), Python {platform.python_version()}.",
        "",
        _projection_line(times, meta),
        "",
        _yield_line(arrays, times, n_seed),
        "",
        _verified_line(out_dir),
        "",
        "## Contents",
        "",
        f"- **{s['n']} entries**, {size / 1e6:.2f} MB in {meta['n_chunks']} chunk files.",
        f"- Candidates in the chunks: {meta['n_candidates']}; duplicates across chunks dropped: "
        f"{meta['n_duplicates_across_chunks']}; labelling methods over all distinct candidates: {meta['methods_all']}.",
        f"- Labelling methods of the entries: {s['methods']}.",
        "- Chunk files (`chunk_NNNNN.npz`): `conf` int8 (n,16,20) canonical padded degree blocks (no dimension",
        "  column; also the de-duplication keys), `euler` int64, `hodge` int64 (n,4) (−1: not determined),",
        "  `method` str, `meta` JSON (settings, chunk index, generator and labeller versions, counts).",
        "",
        "## Shares and means (generated set vs the CICY4 list's published statistics)",
        "",
        "| | generated | CICY4 list (905,684) |",
        "|---|---:|---:|",
        f"| favourable (h11 = number of rows) | {100 * s['favourable']:.1f}% | 54.5% |",
        f"| h21 > 0 | {100 * s['h21_positive']:.1f}% | ~30% |",
        f"| mean h11 | {s['mean']['h11']:.2f} | 10.1 |",
        f"| mean h21 | {s['mean']['h21']:.3f} | 0.817 |",
        f"| mean h31 | {s['mean']['h31']:.1f} | 39.6 |",
        f"| mean h22 | {s['mean']['h22']:.1f} | 241 |",
        f"| h11 range | {s['range']['h11']} | 1–24 |",
        f"| h21 range | {s['range']['h21']} | 0–33 |",
        f"| h31 range | {s['range']['h31']} | 20–426 |",
        f"| h22 range | {s['range']['h22']} | 204–1752 |",
        f"| χ range | {s['euler_range']} | 0–2610 |",
        f"| mean number of rows | {s['mean_rows']:.2f} | 8.97 |",
        *_shape_rows(arrays),
        "",
        "Where the shares still differ and why: random effective splittings of configurations with many",
        "rows are rarely minimal (a new row must leave the Euler number of *every* contraction changed):",
        "measured on random walks from minimal parents, the share of children that are minimal falls from",
        "~85 % at 5 rows to ~25 % at 10 and below 1 % at 11 (`benchmarks/bench_generator_yield.py`), so",
        "row counts above 10 are rare here while the list's median is 9 rows and its 99 % quantile 13.",
        "The list's large-row configurations come from its exhaustive construction, which a random walk",
        "does not reproduce; mean h11 and the favourable share follow the row counts.",
        "",
        "## Shapes",
        "",
        "Rows (number of projective factors):",
        "",
        _histogram((arrays["conf"] != 0).any(2).sum(1)),
        "",
        "Columns (number of polynomials):",
        "",
        _histogram((arrays["conf"] != 0).any(1).sum(1)),
        "",
        "## Hodge numbers and Euler number",
        "",
    ]
    for i, name in enumerate(("h11", "h21", "h31", "h22")):
        lines += [f"{name} (range {s['range'][name]}):", "", _histogram(hodge[:, i], _bins(hodge[:, i])), ""]
    lines += [f"χ (range {s['euler_range']}):", "", _histogram(euler, _bins(euler)), ""]
    from ..fileio import atomic_write_text

    return atomic_write_text("\n".join(lines), Path(path or out_dir / "CARD.md"))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cicy4lib.geometry.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--n", type=int, default=DEFAULT_N, help="entries to ship")
    ap.add_argument("--out", default=str(SAMPLE_PATH), help="output .npz (card written beside it)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes (sample: 2; chunked: every core this process may use)")
    ap.add_argument("--max-rows", type=int, default=None, help="largest row count (sample: 14; chunked: 16)")
    ap.add_argument("--timeout", type=float, default=LABEL_TIMEOUT_S, help="seconds per labelling")
    ap.add_argument("--from-generated", action="store_true",
                    help="draw the sample from the generated set's release in --out-dir (minimal descriptions "
                         "only) instead of building it with the sample generator")
    g = ap.add_argument_group("chunked mode (the large generated set; resumable, parallel, distributed)")
    g.add_argument("--chunks", type=int, default=None,
                   help="make chunks 0..CHUNKS-1 (those already in --out-dir are skipped); enables chunked mode")
    g.add_argument("--out-dir", default=str(GENERATED_DIR), help="chunk folder (default: cicy4lib/_data/generated)")
    g.add_argument("--settings-release", type=int, choices=(2, 3), default=3,
                   help="settings of release 2 (kept to reproduce it) or 3 (minimal descriptions only; default)")
    g.add_argument("--chunk-size", type=int, default=None, help="candidates per chunk (release 3: 500, 2: 1000)")
    g.add_argument("--chunk-seed", type=int, default=None, help="walk seed (default: the release's)")
    g.add_argument("--block-share", type=float, default=None,
                   help="share of rows whose degree a splitting keeps in one piece (default 0.9)")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    g.add_argument("--card", action="store_true", help="only (re)write CARD.md (for the release if there is one)")
    g.add_argument("--release", nargs="?", const=-1, type=int, default=None, metavar="K",
                   help="serve chunks 0..K-1 as load_dataset('generated') (default K: all present from 0); "
                        "writes release.json and the card")
    g.add_argument("--force", action="store_true", help="overwrite a manifest with other settings")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.chunks is not None or args.card or args.release is not None:
        return _main_chunked(args, log)
    args.workers = 2 if args.workers is None else args.workers
    args.max_rows = 14 if args.max_rows is None else args.max_rows

    if args.from_generated:
        arrays = sample_from_generated(args.out_dir, args.n, args.seed)
        command = (f"python -m cicy4lib.geometry.generate --from-generated --seed {args.seed} --n {args.n}"
                   + (f" --out-dir {args.out_dir}" if Path(args.out_dir) != GENERATED_DIR else ""))
    else:
        arrays = build_sample(args.n, args.seed, workers=args.workers, max_rows=args.max_rows,
                              timeout=args.timeout, log=log)
        command = "python -m cicy4lib.geometry.generate " + " ".join(
            [f"--seed {args.seed}", f"--n {args.n}", f"--workers {args.workers}"]
            + ([f"--max-rows {args.max_rows}"] if args.max_rows != 14 else [])
            + ([f"--timeout {args.timeout:g}"] if args.timeout != LABEL_TIMEOUT_S else []))
    out = save_sample(arrays, args.out)
    card = write_card(arrays, Path(out).with_name("SAMPLE_CARD.md"), command=command, npz_path=out)
    s = summary(arrays)
    print(json.dumps({"out": str(out), "card": str(card), "bytes": Path(out).stat().st_size,
                      "n": s["n"], "non_favourable": round(s["non_favourable"], 4),
                      "h21_positive": round(s["h21_positive"], 4), "methods": s["methods"],
                      "wall_seconds": arrays["meta"]["wall_seconds"]}, indent=1))


def _main_chunked(args, log):
    given = {k: v for k, v in (("seed", args.chunk_seed), ("chunk_size", args.chunk_size),
                                ("block_share", args.block_share)) if v is not None}
    settings = default_chunk_settings(release=args.settings_release, max_rows=args.max_rows or MAX_ROWS,
                                      timeout=args.timeout, **given)
    if args.release is not None:
        record = release_chunks(args.out_dir, None if args.release < 0 else args.release)
        log(f"released chunks 0..{record['chunks'] - 1}: {record['n']} entries")
    elif not args.card:
        t0 = time.perf_counter()
        written = run_generation(args.out_dir, args.chunks, settings, workers=args.workers,
                                 scheduler=args.scheduler, progress=not args.quiet, force=args.force, log=log)
        log(f"wrote {len(written)} chunks in {time.perf_counter() - t0:.0f} s")
    card = write_generated_card(args.out_dir)
    log(f"card: {card}")


if __name__ == "__main__":
    main()
