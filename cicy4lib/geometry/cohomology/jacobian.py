"""The Jacobian maps ``H^q(TA|_X) -> H^q(N)`` (derivatives ``d f_k / d x_{i,a}``) of the normal
sequence: on Koszul-filtered E_inf pieces, or on the transferred complexes."""
from __future__ import annotations

import numpy as np

from ..modp import PRIME, kernel_basis as _kernel_basis, matmul_mod as _matmul_mod, rank_mod_p
from .linebundle import _negative_pattern
from .outcome import Undetermined


def _jacobian_rank(cfg, E, N, q):
    """Rank of H^q(X, (+)_i O(e_i)^{n_i+1}) -> H^q(X, (+)_k O(D_k)) given by d f_k / d x.

    The map is induced by multiplication with d f_k / d x_{i,a} on the Koszul resolutions,
    a morphism of filtered complexes (filtration by Koszul level j, F_j = levels <= j).
    In a basis adapted to the filtrations the block from the level-j piece of a source
    to a target whose lowest level is j_t is: zero if j < j_t (it lands in F_j = 0);
    the induced map on E_inf pieces at level j, landing in the lowest piece, if j == j_t;
    and not computed (Undetermined) if j > j_t.
    """
    sources = []  # (variable index, LineBundle, level j)
    for i, lb in enumerate(E):
        for j in sorted(set(lb.levels[q])):
            for a in range(cfg.n[i] + 1):
                sources.append((cfg.offsets[i] + a, lb, j))
    targets = []  # (column k, LineBundle, lowest level, (q, K, I)) with offsets
    off = 0
    for k, lb in enumerate(N):
        if lb.h[q] == 0:
            continue
        jt = min(lb.levels[q])
        qt, Kt, It = lb.piece(q, jt)
        targets.append((k, lb, jt, qt, Kt, It, off))
        off += Kt.shape[0]
    total_t = off
    image_cols = []
    for k, lb, jt, qt, Kt, It, o in targets:
        if It.shape[1]:
            C = np.zeros((total_t, It.shape[1]), dtype=np.int64)
            C[o:o + It.shape[0]] = It
            image_cols.append(C)
    image_part = np.hstack(image_cols) if image_cols else np.zeros((total_t, 0), dtype=np.int64)
    rank_image = rank_mod_p(image_part) if image_part.shape[1] else 0
    blocks = []
    for var, lbs, js in sources:
        relevant = [t for t in targets if js >= t[2] and cfg.derivative(t[0], var)[0].shape[0]]
        if not relevant:
            continue
        for k, lbt, jt, qt, Kt, It, o in relevant:
            if js > jt:
                raise Undetermined("Jacobian map between different Koszul levels "
                                   f"(H^{q}: level {js} -> O(D_{k}) level {jt})")
        qs, Ks, Is = lbs.piece(q, js)
        col = np.zeros((total_t, Ks.shape[1]), dtype=np.int64)
        src_items, ds = lbs.space(js, qs)
        for k, lbt, jt, qt, Kt, It, o in relevant:
            mons, coef = cfg.derivative(k, var)
            dst_items, dd = lbt.space(jt, qt)
            where = {S: (kk, dim, off2) for S, kk, dim, off2 in dst_items}
            G = np.zeros((dd, ds), dtype=np.int64)
            for S, kk, dim, off1 in src_items:
                if S not in where:
                    continue
                kd, dimd, offd = where[S]
                if _negative_pattern(kd) != _negative_pattern(kk):
                    continue
                G[offd:offd + dimd, off1:off1 + dim] = cfg.multiply(kk, kd, mons, coef)
            col[o:o + dd] = (col[o:o + dd] + _matmul_mod(G, Ks)) % PRIME
        blocks.append(col)
    if not blocks:
        return 0
    full = np.hstack(blocks + [image_part])
    return rank_mod_p(full) - rank_image


def _jacobian_rank_transferred(cfg, E, N, q):  # _jacobian_rank's image-rank step on transferred cochains: the two stay side by side so each reads alone
    """Rank of H^q(TA|_X) -> H^q(N) on the transferred complexes (see _Transferred)."""
    cech = cfg.cech()
    targets = []
    off = 0
    for k, lb in enumerate(N):
        if lb.h[q] == 0:
            continue
        T = lb.transferred()
        targets.append((k, T, off))
        off += T.layout[q][1]
    total_t = off
    image_cols = []
    for k, T, o in targets:
        B = T.differential(q - 1)
        if B.size:
            C = np.zeros((total_t, B.shape[1]), dtype=np.int64)
            C[o:o + B.shape[0]] = B
            image_cols.append(C)
    image_part = np.hstack(image_cols) if image_cols else np.zeros((total_t, 0), dtype=np.int64)
    rank_image = rank_mod_p(image_part) if image_part.shape[1] else 0
    blocks = []
    for i, lb in enumerate(E):
        if lb.h[q] == 0:
            continue
        S_ = lb.transferred()
        dim_q = S_.layout[q][1]
        Z = _kernel_basis(S_.differential(q), dim_q) if S_.layout[q + 1][1] else np.eye(dim_q, dtype=np.int64)
        # multiplication keeps the Koszul level, descending lowers it: read at >= floor
        floor = min((T.min_level(q) for _, T, _ in targets), default=0)
        lifts = [cech.lift(S_.iota(q, Z[:, c]), floor) for c in range(Z.shape[1])]
        for a in range(cfg.n[i] + 1):
            var = int(cfg.offsets[i]) + a
            col = np.zeros((total_t, Z.shape[1]), dtype=np.int64)
            for k, T, o in targets:
                mons, coef = cfg.derivative(k, var)
                if mons.shape[0] == 0:
                    continue
                for c, lifted in enumerate(lifts):
                    image = cech.descend(cech.multiply(lifted, mons, coef), T.min_level(q))
                    v = T.pi(image, q)
                    col[o:o + v.size, c] = (col[o:o + v.size, c] + v) % PRIME
            blocks.append(col)
    if not blocks:
        return 0
    return rank_mod_p(np.hstack(blocks + [image_part])) - rank_image
