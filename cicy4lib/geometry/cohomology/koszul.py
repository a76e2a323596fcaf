"""The Koszul terms of a line bundle restricted to X: the subsets S of columns with
``H^*(A, O(L - D_S)) != 0`` (by rows and blocks for ``L >= 0``, by search otherwise)."""
from __future__ import annotations

from math import comb

import numpy as np

from .ambient import ambient_cohomology


def _koszul_subsets(P, n, L):
    """Subsets S of columns with H^*(A, O(L - D_S)) != 0, as (S, k, q, dim) tuples.

    In the order of the general search (indicator vectors in lexicographic order, 0 before
    1); for ``L >= 0`` see :func:`_koszul_subsets_many`.
    """
    L = tuple(int(v) for v in L)
    if min(L) < 0:
        return _koszul_subsets_general(P, n, L)
    return _koszul_subsets_many(P, n, [L])[0]


def _koszul_subsets_many(P, n, Ls):  # one batched kernel: the block arrays feed the union step in place
    """:func:`_koszul_subsets` of several line bundles ``L >= 0`` at once (a list per L).

    Row r needs t_r = sum_{s in S} p_rs <= L_r or t_r >= L_r + n_r + 1, and t_r <= n_r + 1
    (the row sum).  For L >= 0 this says: a row with L_r = 0 is hit by all of its columns
    or by none (columns linked by such rows form *blocks* taken whole), and a row with
    L_r >= 1 has t_r <= L_r.  Every union of blocks within those caps has nonzero
    cohomology: k_r = -(n_r + 1) (H^{n_r}, dimension 1) on the zero rows it hits,
    k_r = L_r - t_r >= 0 (H^0, dimension binom(n_r + k_r, n_r)) on the capped rows.

    The blocks of all bundles come from one batched computation (the transitive closure of
    "shares a row with L_r = 0", by repeated squaring of 0/1 matrices); a block alone over
    a cap is in no allowed union, so only the blocks allowed alone are combined, in Python.
    """
    P = np.asarray(P, dtype=np.int64)
    m, K = P.shape
    n = [int(v) for v in n]
    Larr = np.asarray(Ls, dtype=np.int64).reshape(-1, m)
    B = Larr.shape[0]
    support = (P > 0).astype(np.float32)  # 0/1 matrices: float32 products are exact here
    zero = Larr == 0
    reach = np.matmul(np.swapaxes(zero[:, :, None] * support[None], 1, 2), support) + np.eye(K, dtype=np.float32)
    reach = (reach > 0).astype(np.float32)  # (B, K, K): column c' in the block of column c
    step = 1
    while step < K - 1:  # paths of length <= 2 * step
        longer = (np.matmul(reach, reach) > 0).astype(np.float32)
        if np.array_equal(longer, reach):
            break
        reach = longer
        step *= 2
    load = np.rint(reach @ P.T.astype(np.float32)).astype(np.int64)  # (B, K, m): t of the block
    first = reach.argmax(axis=2) == np.arange(K)  # a block is named by its lowest column
    alone = first & ((load <= Larr[:, None, :]) | zero[:, None, :]).all(axis=2)
    bs, cs = np.nonzero(alone)  # the blocks allowed alone (bundle b, lowest column c)
    member = reach[bs, cs] > 0
    keys = (member @ (1 << np.arange(K - 1, -1, -1))).tolist()  # indicator vector as a number
    qs = (((load[bs, cs] > 0) & zero[bs]) @ np.asarray(n, dtype=np.int64)).tolist()
    ks = [tuple(k) for k in (Larr[bs] - load[bs, cs]).tolist()]
    loads = load[bs, cs].tolist()
    cols = [[] for _ in keys]
    for t, c in zip(*(a.tolist() for a in np.nonzero(member))):
        cols[t].append(c)
    cols = [tuple(c) for c in cols]
    capped = [[] for _ in range(B)]
    for b, r in zip(*(a.tolist() for a in np.nonzero(Larr > 0))):
        capped[b].append(r)
    blocks = [[] for _ in range(B)]
    for t, b in enumerate(bs.tolist()):
        blocks[b].append(t)
    result = []
    for L, rows, items in zip(Larr.tolist(), capped, blocks):
        caps = [L[r] for r in rows]
        dim0 = 1
        for r, cap in zip(rows, caps):
            dim0 *= comb(n[r] + cap, n[r])
        out = [(0, ((), tuple(L), 0, dim0))]
        if items:
            # unions of the blocks allowed alone whose loads stay within the caps
            unions = []
            for t in items:
                load_t = [loads[t][r] for r in rows]
                for chosen, used in unions[:]:
                    new = [u + x for u, x in zip(used, load_t)]
                    if all(u <= cap for u, cap in zip(new, caps)):
                        unions.append((chosen + (t,), new))
                unions.append(((t,), load_t))
            for chosen, used in unions:
                dim = 1
                for r, cap, u in zip(rows, caps, used):
                    dim *= comb(n[r] + cap - u, n[r])
                if len(chosen) == 1:
                    t = chosen[0]
                    out.append((keys[t], (cols[t], ks[t], qs[t], dim)))
                    continue
                k = list(L)
                for t in chosen:
                    for r, v in enumerate(loads[t]):
                        k[r] -= v
                S = tuple(sorted(c for t in chosen for c in cols[t]))
                out.append((sum(keys[t] for t in chosen), (S, tuple(k), sum(qs[t] for t in chosen), dim)))
            out.sort(key=lambda item: item[0])
        result.append([item for _, item in out])
    return result


def _koszul_subsets_general(P, n, L):
    """Subsets S of columns with H^*(A, O(L - D_S)) != 0, as (S, k, q, dim) tuples (any L)."""
    m, K = P.shape
    L = np.asarray(L, dtype=np.int64)
    # per row: t_r = sum_{s in S} p_rs must satisfy t_r <= L_r or t_r >= L_r + n_r + 1
    remaining = np.concatenate([np.cumsum(P[:, ::-1], axis=1)[:, ::-1], np.zeros((m, 1), np.int64)], axis=1)
    hi = L + np.asarray(n) + 1
    out = []

    def rec(col, S, t):
        bad = (t > L) & (t + remaining[:, col] < hi)
        if bad.any():
            return
        if col == K:
            k = L - t
            q, dim = ambient_cohomology(n, k)
            if dim:
                out.append((tuple(S), tuple(int(v) for v in k), q, dim))
            return
        rec(col + 1, S, t)
        S.append(col)
        rec(col + 1, S, t + P[:, col])
        S.pop()

    rec(0, [], np.zeros(m, dtype=np.int64))
    return out
