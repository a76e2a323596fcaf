"""Hodge numbers of a CICY four-fold: linear columns removed, ``h^q(TX)`` from the Euler and normal
sequences, ``h22`` from the index relation, and the Euler check (:func:`hodge_from_degree_matrix`)."""
from __future__ import annotations

import numpy as np

from ..euler import euler_number
from ..modp import using_backend
from .config import DEFAULT_SEED, _Config
from .jacobian import _jacobian_rank, _jacobian_rank_transferred
from .outcome import HodgeResult, Undetermined


def _tangent_cohomology(P, seed=DEFAULT_SEED):
    """(h^1(TX), h^2(TX), h^3(TX), computed-rank notes, forced-map notes) or raise Undetermined."""
    cfg = _Config(P, seed)
    notes, forced = [], []
    e_keys = [(0,) * i + (1,) + (0,) * (cfg.m - 1 - i) for i in range(cfg.m)]
    n_keys = [tuple(col) for col in cfg.P.T.tolist()]
    cfg.prepare_terms([(0,) * cfg.m] + e_keys + n_keys)  # all Koszul terms in one batch
    O = cfg.line_bundle((0,) * cfg.m)
    if O.h != [1, 0, 0, 0, 1]:
        raise Undetermined(f"h^q(O_X) = {O.h}, not (1,0,0,0,1): not a proper CY four-fold "
                           "(direct product?)")
    notes += O.computed
    forced += O.forced
    E = [cfg.line_bundle(L) for L in e_keys]
    N = [cfg.line_bundle(L) for L in n_keys]
    for lb in dict.fromkeys(E + N):  # a repeated column is one line bundle: note it once
        notes += lb.computed
        forced += lb.forced
    hE = [sum((cfg.n[i] + 1) * E[i].h[q] for i in range(cfg.m)) for q in range(5)]
    hN = [sum(lb.h[q] for lb in N) for q in range(5)]
    if hE[4] != 0:
        raise Undetermined("H^4(X, O(e_i)) != 0")
    # Euler sequence with h^q(O_X) = (1,0,0,0,1): the map C^m -> H^0(E) is injective
    # (x_{i,a} never vanish simultaneously), H^4(O_X)^m = C^m injects into H^3(TA|_X).
    hTA = [hE[0] - cfg.m, hE[1], hE[2], hE[3] + cfg.m, 0]
    # normal sequence: h^0(TX) = h^{3,0} = 0 and h^4(TX) = h^{3,4} = h^{0,1} = 0 fix
    # rank(alpha_0) = h^0(TA|_X) and rank(alpha_3) = h^3(N).
    if hTA[0] > hN[0] or hN[3] > hTA[3]:
        raise Undetermined("dimensions contradict h^0(TX) = h^4(TX) = 0")
    rank = {0: hTA[0], 3: hN[3]}
    for q in (1, 2):
        if hTA[q] == 0 or hN[q] == 0:
            rank[q] = 0
        else:
            try:
                rank[q] = _jacobian_rank(cfg, E, N, q)
            except Undetermined:  # filtration levels do not match: full transferred complexes
                rank[q] = _jacobian_rank_transferred(cfg, E, N, q)
                notes.append(f"perturbation-lemma transfer for H^{q}")
            notes.append(f"Jacobian map H^{q}(TA|_X) -> H^{q}(N) (rank {rank[q]} of "
                         f"{hTA[q]} -> {hN[q]})")
    h = [None] * 5
    for q in range(1, 4):
        h[q] = (hN[q - 1] - rank[q - 1]) + (hTA[q] - rank[q])
    return h[1], h[2], h[3], notes, forced


def reduce_linear_columns(P):
    """Remove linear constraints: a column whose only nonzero entry is a 1 in row i cuts
    P^{n_i} to P^{n_i - 1} without changing X, so drop it and lower n_i (rows reaching
    P^0 disappear).  Returns the reduced degree block, or None when X is empty (a column
    left constant).
    """
    P = np.asarray(P, dtype=np.int64)
    while True:
        linear = np.flatnonzero(P.sum(axis=0) == 1)
        if not linear.size:
            return P
        j = int(linear[0])
        i = int(np.nonzero(P[:, j])[0][0])
        P = np.delete(P, j, axis=1)
        if P[i].sum() == 1:  # P^1 cut to a point: the row's last degree-1 entry is a nonzero factor
            P = np.delete(P, i, axis=0)
        if P.shape[1] and (P.sum(axis=0) == 0).any():
            return None


def hodge_from_degree_matrix(P, seed: int = DEFAULT_SEED, rank_backend: str | None = None,
                             euler: int | None = None) -> HodgeResult:
    """Hodge numbers (h11, h21, h31, h22) of the CICY four-fold with degree block ``P``.

    Parameters
    ----------
    P : array-like of int, shape (m, K)
        Degree block; row i is the factor P^{n_i} with n_i = (row sum) - 1, sum n_i - K = 4.
    seed : int
        Seed of the random coefficients of the defining polynomials (generic-rank maps).
    rank_backend : {"flint", "numpy"}, optional
        Modular linear algebra backend (:mod:`cicy4lib.geometry.modp`); default python-flint
        when installed.  Both give identical results; "numpy" is the original path.
    euler : int, optional
        The Euler number of ``P`` when the caller already has it (e.g. from the batched
        :func:`cicy4lib.geometry.euler_numbers`, ~0.1 ms per configuration instead of ~2 ms
        one at a time).  It must be the true χ: it is the reference of the index check.

    Returns
    -------
    HodgeResult
    """
    P = np.asarray(P, dtype=np.int64)
    if P.ndim != 2 or P.size == 0 or (P < 0).any():
        raise ValueError("degree block must be a nonempty 2-d array of nonnegative integers")
    n = P.sum(axis=1) - 1
    if (n < 1).any() or int(n.sum()) - P.shape[1] != 4:
        raise ValueError("not a Calabi-Yau four-fold configuration (need n_i >= 1, sum n_i - K = 4)")
    chi = euler_number(P) if euler is None else int(euler)
    reduced = reduce_linear_columns(P)
    if reduced is None:
        return HodgeResult(None, "undetermined", chi, "empty: linear constraints cut a factor away")
    try:
        with using_backend(rank_backend):
            h31, h21, h11, notes, forced = _tangent_cohomology(reduced, seed)
    except Undetermined as exc:
        return HodgeResult(None, "undetermined", chi, str(exc))
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    if min(h11, h21, h31) < 0 or chi != 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22:
        return HodgeResult(None, "undetermined", chi,
                           f"Euler check failed: chi={chi}, candidate (h11,h21,h31)=({h11},{h21},{h31})")
    method = "generic-rank" if notes else "exact"
    detail = "; ".join(dict.fromkeys(notes)) if notes else "all sequences fixed by dimensions"
    if forced:
        detail += "; " + "; ".join(dict.fromkeys(forced))
    if reduced.shape != P.shape:
        detail = f"linear columns removed ({P.shape} -> {reduced.shape}); " + detail
    return HodgeResult((int(h11), int(h21), int(h31), int(h22)), method, chi, detail)
