"""The embedded sample's generator: genuine CICY four-folds built the way the list was built.

1. *Seeds*: every configuration with at most ``SEED_ROWS`` rows (:mod:`.enumeration`), except
   those that only ineffective splittings lead to (every contraction keeps the Euler number).
2. *Effective splittings*: a column ``c`` of ``[A | c, M]`` is split into ``n+1`` nonzero
   columns ``c_1 + ... + c_{n+1} = c`` and a new ``P^n`` row with a 1 in each new column is
   added. Row sums and ``sum(n_i) - K`` are unchanged, so the result is again a Calabi–Yau
   four-fold. A splitting counts only when the Euler number changes; ineffective ones (the
   same manifold again) are discarded. Each row count is grown from random configurations
   one row smaller (a random walk from the seeds, layer by layer).
3. De-duplication under row and column permutations (:mod:`.canonical`), direct products excluded.
4. Labels: ``geometry.euler_number`` and ``cohomology.hodge_from_degree_matrix``
   (:mod:`.labelling`); only entries whose Hodge numbers are determined and satisfy both index
   relations are kept.

:func:`build_sample` returns the arrays; writing them and the card is :mod:`cicy4lib.data`'s,
the command ``python -m cicy4lib.jobs.generate``. The large chunked set is :mod:`.walks`'.
"""
from __future__ import annotations

import os
import platform
import time
from collections import Counter

import numpy as np

from ..constants import MAX_COLS, MAX_ROWS
from ..errors import CanonicalFormError
from .canonical import canonical_form, canonical_key
from .enumeration import SEED_ROWS, enumerate_configurations, ineffective_mask
from .euler import euler_numbers
from .labelling import LABEL_TIMEOUT_S, index_relations_hold, label_all
from .products import is_product
from .splitting import split

GENERATOR_VERSION = "1.0"
DEFAULT_SEED = 2024
DEFAULT_N = 10000

# Weight of each row count in the sample (relative; row counts <= SEED_ROWS are capped by
# how many configurations exist). The real list's mean h11 is 10.1; effective splittings
# get rare beyond ~14 rows, so the weights peak a little lower (7-9 rows).
ROW_WEIGHTS = {1: 1, 2: 2, 3: 3, 4: 5, 5: 7, 6: 9, 7: 10, 8: 10, 9: 10, 10: 9, 11: 7,
               12: 5, 13: 3, 14: 2, 15: 1, 16: 1}
# dimension n of the new P^n row in a random splitting: mostly P^1 and P^2, as in the list
SPLIT_DIMS = {1: 0.6, 2: 0.28, 3: 0.09, 4: 0.03}
SPLIT_TRIES = 8  # random splittings tried per parent in a batch
MAX_STALLS = 3  # rounds without a new configuration before a row count is given up
MAX_ROUNDS = 60  # batches per row count
LAYER_BATCH = 400  # parents split per batch
PARENT_FACTOR = 2.0  # layer width relative to the next layer's quota
OVERSHOOT = 1.4  # candidates labelled per requested entry (spare for the h21 > 0 preference)
H21_SHARE = 0.30  # preferred share of h21 > 0 within each row count (the list: ~30%)
META_KEYS = ("conf", "euler", "hodge", "method", "id", "is_product", "meta")


def random_splitting(P, rng, dims=SPLIT_DIMS):
    """One random splitting of ``P``: a column dealt unit by unit to the ``n+1`` parts of a new ``P^n`` row.

    Parameters
    ----------
    P : numpy.ndarray of int, shape (m, K)
        Degree block.
    rng : numpy.random.Generator
    dims : dict
        n -> relative weight of a new ``P^n`` row.

    Returns
    -------
    numpy.ndarray of int64, shape (m + 1, K + n), or None
        None when no splitting fits the size limits.
    """
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


def _split_layer(parents, quota, rng, seen):
    """Up to ``quota`` new configurations one row larger than ``parents`` (list of
    (P, chi)), each made by an *effective* random splitting of a random parent.

    Work is batched (``LAYER_BATCH`` parents x ``SPLIT_TRIES`` splittings per Euler-number
    call, which is much faster than one call each); a parent's first effective splitting
    in a batch is taken, ineffective ones (same Euler number) are discarded, and so are
    configurations already in ``seen`` (canonical keys, updated in place) and products.
    Stops after ``MAX_STALLS`` batches in a row without a new configuration.
    """
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

    Parameters
    ----------
    n : int
        Configurations wanted.
    seed : int
        Seed of the random walk.
    max_rows : int
        Largest row count.
    seeds : dict, optional
        rows -> canonical matrices (default: :func:`.enumeration.enumerate_configurations`).
    log : callable, optional
        Progress lines.

    Returns
    -------
    tuple
        (list of (canonical matrix, euler number) in a seeded random order, quotas per row count).
    """
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
        red = ineffective_mask([P for P, _ in items], [c for _, c in items], rule="all")
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

def pad(P):
    """int8 (16, 20) padded degree block."""
    out = np.zeros((MAX_ROWS, MAX_COLS), dtype=np.int8)
    out[:P.shape[0], :P.shape[1]] = P
    return out


def build_sample(n=DEFAULT_N, seed=DEFAULT_SEED, workers=2, max_rows=14, timeout=LABEL_TIMEOUT_S,  # kept whole:
                 seeds=None, log=None):  # its order of random draws makes the shipped sample
    """Generate, label and select the sample.

    Parameters
    ----------
    n : int
        Entries to ship.
    seed : int
    workers : int
        Labelling processes.
    max_rows : int
        Largest row count.
    timeout : float
        CPU seconds per labelling (a timed-out configuration is dropped).
    seeds : dict, optional
        Seed configurations (see :func:`generate_candidates`).
    log : callable, optional
        Progress lines.

    Returns
    -------
    dict
        Arrays with the keys of ``sample.npz`` (``meta`` as a dict, not yet JSON).
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
        if not index_relations_hold(h, chi):
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

