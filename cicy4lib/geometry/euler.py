"""
A configuration is stored as its integer *degree block* ``P`` (m rows = projective factors
P^{n_i}, K columns = polynomials, ``P[i, j]`` = degree of polynomial j in the coordinates of
P^{n_i}). The dimensions follow from the Calabi-Yau condition, ``n_i = sum_j P[i, j] - 1``,
and a four-fold needs ``sum_i n_i - K = 4``.

The Euler number is the integral of the fourth Chern class. With
``c(X) = prod_i (1 + J_i)^(n_i + 1) / prod_j (1 + D_j)``, ``D_j = sum_i P[i, j] J_i``, and
``c_1 = 0``, taking logarithms gives (power sums ``p_k = sum_i (n_i+1) J_i^k - sum_j D_j^k``)::

    c2 = -p2 / 2,   c3 = p3 / 3,   c4 = p2^2 / 8 - p4 / 4,

and ``chi = int_A c4 * prod_j D_j`` on the ambient space A, where ``J_i^(n_i+1) = 0`` and
``int_A prod_i J_i^(n_i) = 1``. The fast path computes the coefficients
``q(a) = [J^(n - a)] prod_j D_j`` for every degree-4 deficit ``a`` with a sparse dynamic
programme over the columns, vectorised over many configurations at once, then contracts them
with the coefficients of ``8 c4``. Everything is exact integer arithmetic.
"""
from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import os

import numpy as np

from ..constants import DIMENSION

_MIN_PARALLEL = 20_000  # euler_numbers uses worker processes from this many entries on


from ..errors import ConfigurationError
from .validate import INT64_SAFE, as_array_batch, as_degree_matrix, validate_padded_batch


# --------------------------------------------------------------------------------------
# Euler number: slow reference (direct expansion of the total Chern class)
# --------------------------------------------------------------------------------------
def _poly_mul(a: dict, b: dict, n: tuple, max_degree: int | None = None) -> dict:
    """Product of polynomials {exponent tuple: int} modulo J_i^(n_i+1) (and a degree cap)."""
    out: dict = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb))
            if any(x > ni for x, ni in zip(e, n)):
                continue
            if max_degree is not None and sum(e) > max_degree:
                continue
            out[e] = out.get(e, 0) + ca * cb
    return out


def euler_number_reference(P: np.ndarray) -> int:
    """Euler number by expanding c(X) term by term (slow, Python integers).

    Independent of the power-sum formula of the fast path: it multiplies out
    ``prod_i (1+J_i)^(n_i+1) * prod_j sum_k (-D_j)^k`` up to degree 4.
    """
    P = np.asarray(P, dtype=np.int64)
    m, K = P.shape
    n = tuple(int(v) - 1 for v in P.sum(axis=1))
    zero = (0,) * m
    unit = [tuple(int(r == i) for r in range(m)) for i in range(m)]
    total = {zero: 1}
    for i in range(m):  # (1 + J_i)^(n_i+1) by the binomial theorem
        factor = {tuple(k * x for x in unit[i]): math.comb(n[i] + 1, k)
                  for k in range(min(n[i], DIMENSION) + 1)}
        total = _poly_mul(total, factor, n, DIMENSION)
    divisors = [{unit[i]: int(P[i, j]) for i in range(m) if P[i, j]} for j in range(K)]
    for D in divisors:
        inverse, power = {zero: 1}, {zero: 1}  # 1/(1+D) = sum_k (-D)^k
        minus_d = {e: -c for e, c in D.items()}
        for _ in range(DIMENSION):
            power = _poly_mul(power, minus_d, n, DIMENSION)
            for e, c in power.items():
                inverse[e] = inverse.get(e, 0) + c
        total = _poly_mul(total, inverse, n, DIMENSION)
    c4 = {e: c for e, c in total.items() if sum(e) == DIMENSION}
    volume = {zero: 1}
    for D in divisors:
        volume = _poly_mul(volume, D, n)
    return int(sum(c * volume.get(tuple(ni - x for ni, x in zip(n, e)), 0)
                   for e, c in c4.items()))


# --------------------------------------------------------------------------------------
# Euler number: fast path (sparse DP over columns, vectorised over configurations)
# --------------------------------------------------------------------------------------
# prod a_i! of a degree-4 multiset r1 <= r2 <= r3 <= r4, indexed by its equalities
# 4 [r1 = r2] + 2 [r2 = r3] + [r3 = r4]: all distinct 1, r3 = r4: 2, r2 = r3: 2,
# r2 = r3 = r4: 6, r1 = r2: 2, r1 = r2 and r3 = r4: 4, r1 = r2 = r3: 6, all four: 24
_MULTISET_FACTORIAL = np.array([1, 2, 2, 6, 2, 4, 6, 24], dtype=np.int64)
_CFG_SHIFT = 24  # state key = configuration << 24 | packed exponent vector


def _bit_layout(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bit offsets and masks packing an exponent vector e <= n into one integer.

    Row i gets ``bit_length(n_i)`` bits; since bit_length(n) <= n and sum(n_i) <= 24,
    a whole vector fits in 24 bits (padding rows, n_i = 0, get none).
    """
    bits = np.zeros_like(n)
    for k in range(1, int(n.max(initial=0)).bit_length() + 1):
        bits += n >= (1 << (k - 1))
    offset = np.zeros_like(n)
    offset[:, 1:] = np.cumsum(bits[:, :-1], axis=1)
    if np.any(offset[:, -1] + bits[:, -1] > _CFG_SHIFT):
        raise ValueError("exponent vectors need more than 24 bits (sum of n_i > 24)")
    return offset, (1 << bits) - 1


def _merge_states(key, val, deficit):
    """Sum the values of equal (configuration, exponent) states."""
    if key.size == 0:
        return key, val, deficit
    order = np.argsort(key)
    key = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    val = np.add.reduceat(val[order], starts)
    first = order[starts]
    return key[starts], val, deficit[first]


def _column_edges(P_j, remaining, layout):
    """The edges of one column: (configuration, row) pairs with ``P[b, i, j] > 0``.

    Returns ``first, count`` (each configuration's run of edges) and, per edge, the row's
    bit offset, bit mask, dimension n_i, remaining support columns and degree.
    """
    offset, mask, n = layout
    support = P_j > 0
    count = support.sum(axis=1)
    first = np.cumsum(count) - count
    flat = np.flatnonzero(support)  # row-major: grouped by configuration
    per_edge = (offset.ravel()[flat], mask.ravel()[flat], n.ravel()[flat],
                remaining.ravel()[flat], P_j.ravel()[flat])
    return first, count, per_edge


def _advance(key, val, deficit, edges):
    """Multiply every state by one column ``D_j``: one successor per edge, then merge."""
    first, count, (e_off, e_mask, e_n, e_rem, e_p) = edges
    cfg = key >> _CFG_SHIFT
    cnt = count[cfg]
    starts = np.cumsum(cnt) - cnt
    pos = np.repeat(first[cfg] - starts, cnt) + np.arange(starts[-1] + cnt[-1])
    k_e = np.repeat(key, cnt)
    off, ne = e_off[pos], e_n[pos]
    e = (k_e >> off) & e_mask[pos]
    # giving column j to another row costs row i a unit of final deficit once its
    # remaining columns can no longer bring e_i up to n_i
    cost = (e + e_rem[pos] < ne).astype(np.int64)
    d = np.repeat(deficit + np.add.reduceat(cost, starts), cnt) - cost
    ok = (e < ne) & (d <= DIMENSION)  # J_i^(n_i+1) = 0; the deficits total exactly 4
    return _merge_states(k_e[ok] + (np.int64(1) << off[ok]),
                         np.repeat(val, cnt)[ok] * e_p[pos[ok]], d[ok])


def _deficit_states(P: np.ndarray, n: np.ndarray):
    """Coefficients ``q(a) = [J^(n-a)] prod_j D_j`` for all deficits ``a`` with |a| = 4.

    A dynamic programme over the columns: a state is an exponent vector e <= n of the
    partial product, packed into bits; each column gives one unit to one row of its
    support. Row i ends with deficit ``a_i >= n_i - e_i - (its columns still to come)``,
    and the deficits add up to exactly 4, so states whose lower bound exceeds 4 are
    dropped as early as possible.

    Parameters
    ----------
    P : int64 (B, R, K)
        Degree blocks of one column count K, rows padded with zero rows.
    n : int64 (B, R)
        Dimensions (0 for padding rows).

    Returns
    -------
    cfg, a, q : (S,), (S, R), (S,)
        One row per non-zero coefficient: its configuration, its deficit vector and value.
    """
    B, R, K = P.shape
    # columns with small support first: rows close early and fewer states stay alive
    order = np.argsort((P > 0).sum(axis=1), axis=1, kind="stable")
    P = np.take_along_axis(P, order[:, None, :], axis=2)
    offset, mask = _bit_layout(n)
    remaining = (P > 0).sum(axis=2)  # support columns of each row not processed yet
    key = np.arange(B, dtype=np.int64) << _CFG_SHIFT
    val = np.ones(B, dtype=np.int64)
    deficit = np.maximum(n - remaining, 0).sum(axis=1)
    for j in range(K):
        remaining = remaining - (P[:, :, j] > 0)
        edges = _column_edges(P[:, :, j], remaining, (offset, mask, n))
        key, val, deficit = _advance(key, val, deficit, edges)
        if key.size == 0:
            break
    cfg = key >> _CFG_SHIFT
    e = (key[:, None] >> offset[cfg]) & mask[cfg]
    a = n[cfg] - e
    if np.any(a.sum(axis=1) != DIMENSION):
        raise RuntimeError("internal error: deficit vectors do not have degree 4")
    return cfg, a, val


def _c4_coefficients(P, n, cfg, a):
    """Coefficients of ``8 c4`` at the monomials ``J^a`` (|a| = 4), exact int64.

    ``8 c4 = p2^2 - 2 p4`` with ``p2 = sum_ab M_ab J_a J_b``, ``M = diag(n+1) - P P^T``.
    For ``a`` = the multiset {r1, r2, r3, r4} and ``f = prod_i a_i!``:
    ``[J^a] p2^2 = (8/f) (M12 M34 + M13 M24 + M14 M23)`` and
    ``[J^a] sum_j D_j^4 = (24/f) sum_j P1j P2j P3j P4j``.
    """
    S, R = a.shape
    B, _, K = P.shape
    M = -np.einsum("bik,bjk->bij", P, P)
    M[:, np.arange(R), np.arange(R)] += n + 1
    rows = np.repeat(np.tile(np.arange(R), S), a.ravel()).reshape(S, 4)
    base = cfg * R
    r1, r2, r3, r4 = (base + rows[:, k] for k in range(4))  # flat row indices
    M = M.reshape(B * R, R)
    c1, c2, c3, c4 = (rows[:, k] for k in range(4))
    pairs = (M[r1, c2] * M[r3, c4] + M[r1, c3] * M[r2, c4] + M[r1, c4] * M[r2, c3])
    # sum over columns of four entries: int32 holds it exactly (entries <= 25 in a valid
    # block: 25^4 * 20 < 2^31) at half the memory traffic of int64
    Pf = P.reshape(B * R, K).astype(np.int32 if P.size and P.max() <= 40 else np.int64)
    quartic = np.einsum("sk,sk->s", Pf[r1] * Pf[r2], Pf[r3] * Pf[r4]).astype(np.int64)
    pure = np.where(c1 == c4, n.ravel()[r1] + 1, 0)  # a = 4 e_i: the (n_i+1) J_i^4 term
    numerator = 8 * pairs + 48 * quartic - 48 * pure
    # f = prod a_i! from the equalities of the sorted rows r1 <= r2 <= r3 <= r4
    fact = _MULTISET_FACTORIAL[4 * (c1 == c2) + 2 * (c2 == c3) + (c3 == c4)]
    if np.any(numerator % fact):
        raise RuntimeError("internal error: non-integral coefficient of 8 c4")
    return numerator // fact


def _euler_same_k(P: np.ndarray) -> np.ndarray:
    """Euler numbers of validated degree blocks sharing K, rows zero-padded: (B, R, K)."""
    B = P.shape[0]
    n = np.maximum(P.sum(axis=2) - 1, 0)
    bound = np.prod(P.sum(axis=1).astype(np.float64), axis=1)  # >= every DP value
    cfg, a, q = _deficit_states(P, n)
    coef = _c4_coefficients(P, n, cfg, a)
    eight_chi = np.zeros(B, dtype=np.int64)
    if cfg.size:  # cfg is sorted: sum each configuration's run of states
        starts = np.flatnonzero(np.concatenate(([True], cfg[1:] != cfg[:-1])))
        eight_chi[cfg[starts]] = np.add.reduceat(coef * q, starts)
    size = np.bincount(cfg, np.abs(coef).astype(np.float64) * q, minlength=B)
    unsafe = (bound > INT64_SAFE) | (size > INT64_SAFE)
    for b in np.flatnonzero(unsafe):  # int64 could overflow: redo with Python integers
        rows = P[b].any(axis=1)
        eight_chi[b] = 8 * euler_number_reference(P[b][rows])
    if np.any(eight_chi % 8):
        raise RuntimeError("internal error: 8 * chi is not divisible by 8")
    return eight_chi // 8


# --------------------------------------------------------------------------------------
# Euler number: one configuration (the same programme without the batch bookkeeping)
# --------------------------------------------------------------------------------------
_SMALL_STATES = 32  # _euler_single: Python dicts up to this many states, numpy arrays beyond


def _euler_single(P: np.ndarray) -> int:
    """Euler number of one validated degree block ``P`` (m, K), exact.

    The programme of :func:`_deficit_states` for one configuration: while the states are
    few (the first columns; everything for small blocks) in Python integers, a dict from the
    packed exponent vector to (value, deficit bound); then in numpy, each column's
    successors as a (states, support) grid. Per-call numpy overhead, not arithmetic, is what
    a single configuration costs, so small cases never touch numpy arrays.
    """
    m, K = P.shape
    Pl = P.tolist()
    n = [sum(row) - 1 for row in Pl]
    supports = [[i for i in range(m) if Pl[i][j]] for j in range(K)]
    bound = 1
    for j in range(K):
        bound *= sum(Pl[i][j] for i in supports[j])
    if bound > INT64_SAFE:  # the numpy stage could overflow (as in _euler_same_k)
        return euler_number_reference(P)
    order = sorted(range(K), key=lambda j: len(supports[j]))  # stable: as _deficit_states
    offset, mask = (x[0].tolist() for x in _bit_layout(np.asarray([n], dtype=np.int64)))
    remaining = [sum(1 for v in row if v) for row in Pl]
    states = {0: (1, sum(max(n[i] - remaining[i], 0) for i in range(m)))}
    step = 0
    while step < K and len(states) <= _SMALL_STATES:
        j = order[step]
        step += 1
        rows = supports[j]
        for i in rows:
            remaining[i] -= 1
        edges = [(offset[i], mask[i], n[i], remaining[i], Pl[i][j]) for i in rows]
        new = {}
        for key, (v, d) in states.items():
            es = [(key >> off) & mk for off, mk, _, _, _ in edges]
            costs = [int(e + rem < ne) for e, (_, _, ne, rem, _) in zip(es, edges)]
            base = d + sum(costs)
            for e, c, (off, _, ne, _, p) in zip(es, costs, edges):
                if e < ne and base - c <= DIMENSION:  # J_i^(n_i+1) = 0; deficits total 4
                    k2 = key + (1 << off)
                    old = new.get(k2)
                    new[k2] = (v * p, base - c) if old is None else (old[0] + v * p, old[1])
        states = new
        if not states:
            return 0
    if step == K and len(states) <= _SMALL_STATES:
        return _euler_from_states_py(Pl, n, offset, mask, states)
    key = np.fromiter(states.keys(), dtype=np.int64, count=len(states))
    val = np.fromiter((v for v, _ in states.values()), dtype=np.int64, count=len(states))
    deficit = np.fromiter((d for _, d in states.values()), dtype=np.int64, count=len(states))
    n_a, off_a, mask_a = (np.asarray(x, dtype=np.int64) for x in (n, offset, mask))
    rem_a = np.asarray(remaining, dtype=np.int64)
    for j in order[step:]:
        rows = np.asarray(supports[j])
        rem_a[rows] -= 1
        off, ne = off_a[rows], n_a[rows]
        e = (key[:, None] >> off) & mask_a[rows]
        cost = (e + rem_a[rows] < ne).astype(np.int64)
        d = (deficit + cost.sum(axis=1))[:, None] - cost
        ok = (e < ne) & (d <= DIMENSION)
        key = (key[:, None] + (np.int64(1) << off))[ok]
        val = (val[:, None] * P[rows, j])[ok]
        deficit = d[ok]
        if key.size == 0:
            return 0
        key, val, deficit = _merge_states(key, val, deficit)
    a = n_a - ((key[:, None] >> off_a) & mask_a)
    if np.any(a.sum(axis=1) != DIMENSION):
        raise RuntimeError("internal error: deficit vectors do not have degree 4")
    coef = _c4_coefficients(P[None], n_a[None], np.zeros(key.size, dtype=np.int64), a)
    if float(np.abs(coef).astype(np.float64) @ val.astype(np.float64)) > INT64_SAFE:
        return euler_number_reference(P)
    return _eighth(int(coef @ val))


def _euler_from_states_py(Pl, n, offset, mask, states) -> int:
    """chi from the final states in Python integers (:func:`_c4_coefficients`, one by one)."""
    m = len(Pl)
    M = [[(n[i] + 1 if i == k else 0) - sum(x * y for x, y in zip(Pl[i], Pl[k])) for k in range(m)]
         for i in range(m)]
    total = 0
    for key, (v, _) in states.items():
        rows, fact = [], 1
        for i in range(m):
            ai = n[i] - ((key >> offset[i]) & mask[i])
            if ai:
                rows += [i] * ai
                fact *= math.factorial(ai)
        if len(rows) != DIMENSION:
            raise RuntimeError("internal error: deficit vectors do not have degree 4")
        r1, r2, r3, r4 = rows
        pairs = M[r1][r2] * M[r3][r4] + M[r1][r3] * M[r2][r4] + M[r1][r4] * M[r2][r3]
        quartic = sum(a * b * c * d for a, b, c, d in zip(Pl[r1], Pl[r2], Pl[r3], Pl[r4]))
        numerator = 8 * pairs + 48 * quartic - (48 * (n[r1] + 1) if r1 == r4 else 0)
        if numerator % fact:
            raise RuntimeError("internal error: non-integral coefficient of 8 c4")
        total += numerator // fact * v
    return _eighth(total)


def _eighth(eight_chi: int) -> int:
    if eight_chi % 8:
        raise RuntimeError("internal error: 8 * chi is not divisible by 8")
    return eight_chi // 8


def _euler_padded(A: np.ndarray, m: np.ndarray, K: np.ndarray,
                  max_batch: int = 2048) -> np.ndarray:
    """Euler numbers of validated padded blocks ``A`` (N, rows, cols) with shapes (m, K)."""
    out = np.zeros(len(A), dtype=np.int64)
    for k in np.unique(K):
        idx = np.flatnonzero(K == k)
        idx = idx[np.argsort(m[idx], kind="stable")]  # similar row counts share a batch
        for start in range(0, idx.size, max_batch):
            part = idx[start: start + max_batch]
            R = int(m[part].max())
            out[part] = _euler_same_k(A[part, :R, :k].astype(np.int64))
    return out


def _euler_array_chunk(args) -> np.ndarray:
    """Worker: validate (the one edge, two readings for floats) and evaluate one chunk."""
    X, scale, offset = args
    A, m, K = validate_padded_batch(X, scale, offset)
    return _euler_padded(A, m, K)


def _run_chunks(X: np.ndarray, scale, n_jobs: int, chunk: int = 50_000) -> np.ndarray:
    """Evaluate ``X`` in chunks, in ``n_jobs`` worker processes when more than one."""
    if n_jobs > 1:  # at least two chunks per worker keeps both busy
        chunk = max(1, min(chunk, -(-len(X) // (2 * n_jobs))))
    tasks = [(X[s: s + chunk], scale, s) for s in range(0, len(X), chunk)]
    if n_jobs <= 1 or len(tasks) == 1:
        return np.concatenate([_euler_array_chunk(t) for t in tasks])
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    ctx = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(n_jobs, mp_context=ctx) as pool:
        return np.concatenate(list(pool.map(_euler_array_chunk, tasks)))


def euler_number(conf, scale=None) -> int:
    """Euler number ``chi = int_X c4`` of one configuration, exact.

    Parameters
    ----------
    conf : array_like
        Any form accepted by :func:`as_degree_matrix`.
    scale : float, optional
        Declared scale of a float matrix (default 6): a float matrix is read as integers
        and as ``integer / scale``, and exactly one reading must be valid.

    Returns
    -------
    int

    Examples
    --------
    >>> euler_number([[6]])
    2610
    """
    return _euler_single(as_degree_matrix(conf, scale=scale))


def euler_numbers(confs, *, scale=None, n_jobs: int | None = 1) -> np.ndarray:
    """Euler numbers of many configurations, batched and exact.

    Parameters
    ----------
    confs : array_like or list
        An array (N, rows, cols) of padded blocks (int, or rescaled float like conf.npy),
        or a list of configurations in any form :func:`as_degree_matrix` accepts.
    scale : float, optional
        Declared scale of float input (default 6); each float matrix is read as integers
        and as ``integer / scale``, and exactly one reading must be valid.
    n_jobs : int or None
        Worker processes for arrays of 20,000 or more configurations (None: one per
        CPU core). One core evaluates about 8,000 configurations per second.

    Returns
    -------
    numpy.ndarray
        int64 (N,).

    Raises
    ------
    ConfigurationError
        For the first invalid configuration, naming its index.
    """
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else int(n_jobs)
    confs = as_array_batch(confs)  # every entry checked; equal shapes stack to one array
    if isinstance(confs, np.ndarray):
        if len(confs) == 0:
            return np.zeros(0, dtype=np.int64)
        if len(confs) < _MIN_PARALLEL:  # starting workers costs more than it saves
            n_jobs = 1
        return _run_chunks(confs, scale, n_jobs)
    blocks = []
    for i, conf in enumerate(confs):
        try:
            blocks.append(as_degree_matrix(conf, scale=scale))
        except ConfigurationError as exc:
            raise ConfigurationError(f"configuration {i}: {exc}") from None
    if not blocks:
        return np.zeros(0, dtype=np.int64)
    shapes = np.array([b.shape for b in blocks], dtype=np.int64)
    A = np.zeros((len(blocks), shapes[:, 0].max(), shapes[:, 1].max()), dtype=np.int64)
    for i, b in enumerate(blocks):
        A[i, : b.shape[0], : b.shape[1]] = b
    return _euler_padded(A, shapes[:, 0], shapes[:, 1])


