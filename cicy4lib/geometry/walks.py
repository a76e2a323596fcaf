"""The chunked random-walk generator of the large generated set (``load_dataset("generated")``).

The same construction as the sample (:mod:`.sample_generator`), cut into numbered chunks that
are generated and labelled independently, each a pure function of (settings, chunk index), so a
run can be spread over cores or a Dask cluster, killed and resumed, and gives the same files
whichever way it ran (writing, resuming and loading them: :mod:`cicy4lib.data.generated`).

Chunks 0 .. n_seed_chunks-1 hold the complete enumeration of configurations with at most
``seed_rows`` rows (in canonical order). Every later chunk is ``chunk_size`` random walks of
effective splittings from random ``seed_rows``-row seeds, each to a target row count drawn from
``row_weights`` (rng = default_rng([seed, chunk])). De-duplication: within a chunk, the first
occurrence of a canonical form is kept; across chunks, the loader keeps the first chunk (lowest
index) in which a canonical form occurs: every chunk stores its canonical padded matrices
(``conf``), which are the keys.
"""
from __future__ import annotations

import json
import time
from collections import Counter

import numpy as np

from ..constants import MAX_COLS, MAX_ROWS
from ..errors import CanonicalFormError
from .canonical import canonical_form
from .enumeration import SEED_ROWS, enumerate_configurations, ineffective_mask
from .equivalence import hodge_rule_minimal
from .euler import euler_numbers
from .labelling import LABEL_TIMEOUT_S, index_relations_hold, label_with_limit, labeller_version
from .products import is_product
from .sample_generator import LAYER_BATCH, MAX_ROUNDS, PARENT_FACTOR
from .splitting import redundant_mask, split

CHUNK_FORMAT = "cicy4-generated-chunk/1"
CHUNKED_GENERATOR_VERSION = "2.0"
DEFAULT_CHUNK_SEED = 20261202
RELEASE3_CHUNK_SEED = 20261205
RELEASE4_CHUNK_SEED = 20261206
# target row counts of the random walks (relative weights; rows <= seed_rows come from the
# complete enumeration). Peaks at 9-10 rows, tail to 16: the list's mean h11 is 10.1
CHUNK_ROW_WEIGHTS = {5: 3, 6: 5, 7: 7, 8: 9, 9: 10, 10: 10, 11: 9, 12: 7, 13: 5, 14: 3, 15: 2, 16: 1}
# dimension n of the new P^n row: the list's configurations are mostly P^1 and P^2 rows
CHUNK_SPLIT_DIMS = {1: 0.6, 2: 0.28, 3: 0.09, 4: 0.03}


def default_chunk_settings(release=3, **overrides):
    """Settings of a chunked run (a plain JSON-able dict; every key enters the chunk files).

    Parameters
    ----------
    release : int
        2: the settings that made release 2 (kept so it can be resumed and reproduced);
        3 (default): minimal descriptions only (the Euler rule: no contraction keeps χ);
        4: minimal under the Hodge rule (a child whose every χ-equal contraction has other
        Hodge numbers is another manifold and is kept; :mod:`.equivalence`).
    **overrides
        Any of the keys (``seed``, ``chunk_size``, ``max_rows``, ``block_share``, ``timeout``, ...).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        For a key that is not a setting.
    """
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
    if release >= 4:
        # a new key only here: release 3's settings, and so its chunk files, stay as they were
        s.update(seed=RELEASE4_CHUNK_SEED, minimal_rule="hodge")
    unknown = set(overrides) - set(s)
    if unknown:
        raise ValueError(f"unknown chunk settings {sorted(unknown)}")
    s.update(overrides)
    s["row_weights"] = {int(k): float(v) for k, v in s["row_weights"].items() if int(k) <= s["max_rows"]}
    s["split_dims"] = {int(k): float(v) for k, v in s["split_dims"].items()}
    return s


def release_of(settings):
    """The release whose settings these are: 4 (the Hodge rule), 3 (the Euler rule) or 2.

    Parameters
    ----------
    settings : dict
        Settings (:func:`default_chunk_settings`, or as stored in a chunk).

    Returns
    -------
    int
    """
    return 4 if settings.get("minimal_rule") == "hodge" else 3 if settings.get("minimal_only") else 2


def settings_key(s):
    """Canonical JSON of the settings (what must match for chunks to belong together).

    Parameters
    ----------
    s : dict
        Settings (:func:`default_chunk_settings`).

    Returns
    -------
    str
    """
    return json.dumps({k: ({str(a): b for a, b in v.items()} if isinstance(v, dict) else v)
                       for k, v in sorted(s.items())}, sort_keys=True)


_SEED_CACHE = {}


def seed_layers(seed_rows, minimal=False):
    """Clean seeds per row count, cached per process.

    Parameters
    ----------
    seed_rows : int
        Largest row count of the complete enumeration.
    minimal : bool
        False: without configurations that only ineffective splittings reach; True: without any
        ineffective splitting of a smaller configuration (every minimal configuration with at
        most ``seed_rows`` rows).

    Returns
    -------
    dict
        m -> list of (canonical P, chi).
    """
    if (seed_rows, minimal) not in _SEED_CACHE:
        layers = enumerate_configurations(seed_rows)
        clean = {}
        for m, Ps in layers.items():
            chis = euler_numbers(list(Ps)).tolist()
            red = ineffective_mask(list(Ps), chis, rule="any" if minimal else "all")
            clean[m] = [(P, c) for P, c, r in zip(Ps, chis, red) if not r]
        _SEED_CACHE[seed_rows, minimal] = clean
    return _SEED_CACHE[seed_rows, minimal]


def chunk_seeds(settings):
    """The seeds of a run: :func:`seed_layers` for its ``seed_rows`` and ``minimal_only`` settings.

    Parameters
    ----------
    settings : dict

    Returns
    -------
    dict
        m -> list of (canonical P, chi).
    """
    return seed_layers(settings["seed_rows"], bool(settings.get("minimal_only")))


def n_seed_chunks(settings):
    """How many chunks (from 0) hold the complete enumeration of the seeds.

    Parameters
    ----------
    settings : dict

    Returns
    -------
    int
    """
    n = sum(len(v) for v in chunk_seeds(settings).values())
    return -(-n // settings["chunk_size"])


def random_splitting_lumpy(P, rng, dims, block_share, max_new_cols):
    """A random splitting of ``P`` like :func:`.sample_generator.random_splitting`, except that with
    probability ``block_share`` each row's whole degree in the split column goes to one part
    (so degrees 2 and 3 survive the splitting instead of being dealt out unit by unit).

    Parameters
    ----------
    P : numpy.ndarray of int, shape (m, K)
    rng : numpy.random.Generator
    dims : dict
        n -> relative weight of a new ``P^n`` row.
    block_share : float
    max_new_cols : int
        Caps n (walks keep room for the splittings still to come).

    Returns
    -------
    numpy.ndarray of int64, or None
        None if no splitting fits (or a P^1 splitting is certainly ineffective).
    """
    m, K = P.shape
    if m >= MAX_ROWS:
        return None
    colsum = P.sum(0)
    ok_cols = np.flatnonzero(colsum >= 2)
    if len(ok_cols) == 0:
        return None
    col = int(rng.choice(ok_cols, p=(colsum[ok_cols] - 1) / (colsum[ok_cols] - 1).sum()))
    # the column draw of sample_generator.random_splitting, kept as a copy on purpose: each generator's
    # random stream is fixed by the data it released (chunks must be remade byte for byte)
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


def _grow_layer(parents, quota, rng, settings):  # one loop kept whole: its order of random draws makes the released chunks
    """Up to ``quota`` distinct configurations one row larger than ``parents`` (list of
    (P, chi)), each the first effective, non-product splitting of a random parent.

    Work is batched: a round picks up to ``LAYER_BATCH`` parents and tries splittings of each
    in waves (4, 8, 16, ... per parent, up to :func:`_tries_at`), the Euler numbers of a wave
    computed in one call; a parent stops at its first effective, non-product splitting, so
    nothing after it is made or evaluated. Stops after ``max_stalls`` rounds without a new one.
    """
    kept, seen = [], set()
    chi_cache, min_cache, label_cache = {}, {}, {}
    stalls = 0
    rows = parents[0][0].shape[0] if parents else 0
    n_try = _tries_at(rows, settings)
    hodge_rule = settings.get("minimal_rule") == "hodge"
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
            effective = chis != parent_chis
            ok = effective.copy()
            if settings.get("minimal_only"):
                # effective for its parent is not enough: no contraction along *any* row may
                # keep the Euler number (batched over the wave, cached per distinct matrix)
                ok = effective & ~_redundant_cached(batch, keys, chis, effective, min_cache)
            still = []
            for k in need:
                for j in np.flatnonzero(owner == k):
                    if not ok[j] and hodge_rule:
                        # χ-equal to its parent or to another contraction: the same manifold only if the
                        # Hodge numbers agree too. Labelled only here, for the first candidates of a
                        # parent (labels are costly)
                        ok[j] = hodge_rule_minimal([batch[j]], [chis[j]], [False], settings["timeout"],
                                                   label_cache)[0]
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
    top = chunk_seeds(settings)[settings["seed_rows"]]
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
    """The candidates of chunk ``index``: distinct, no products.

    Parameters
    ----------
    settings : dict
        :func:`default_chunk_settings`.
    index : int

    Returns
    -------
    list of tuple
        (canonical P, chi).
    """
    seeds = chunk_seeds(settings)
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
        red = ineffective_mask([P for P, _ in out], [c for _, c in out], rule="any")
        out = [item for item, r in zip(out, red) if not r]
    return out


def generate_chunk(settings, index):
    """Generate and label chunk ``index``: a pure function of its arguments, up to the
    per-configuration time limit.

    Parameters
    ----------
    settings : dict
        :func:`default_chunk_settings`.
    index : int

    Returns
    -------
    tuple
        (arrays of the chunk file: ``conf``, ``euler``, ``hodge``, ``method``, ``meta`` JSON;
        seconds: ``generate``, ``total``, ``cpu``).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    cands = chunk_candidates(settings, index)
    t_gen = time.perf_counter() - t0
    n = len(cands)
    conf = np.zeros((n, MAX_ROWS, MAX_COLS), np.int8)
    hodge = np.full((n, 4), -1, np.int64)
    methods = []
    for k, (P, chi) in enumerate(cands):
        conf[k, :P.shape[0], :P.shape[1]] = P
        h, method = label_with_limit(P, settings["timeout"], euler=chi)  # chi: batched, exact
        if h is not None and not index_relations_hold(h, chi):
            h, method = None, "inconsistent"
        if h is not None:
            hodge[k] = h
        methods.append(method)
    meta = {
        "format": CHUNK_FORMAT, "chunk": int(index),
        "kind": "seeds" if index < n_seed_chunks(settings) else "walks",
        "settings": json.loads(settings_key(settings)),
        "generator_version": CHUNKED_GENERATOR_VERSION, "labeller_version": labeller_version(),
        "n": n, "methods": dict(sorted(Counter(methods).items())),
    }
    arrays = {"conf": conf, "euler": np.array([c for _, c in cands], dtype=np.int64),
              "hodge": hodge, "method": np.array(methods, dtype="<U16"),
              "meta": np.array(json.dumps(meta, sort_keys=True))}
    seconds = {"generate": round(t_gen, 2), "total": round(time.perf_counter() - t0, 2),
               "cpu": round(time.process_time() - c0, 2)}
    return arrays, seconds

