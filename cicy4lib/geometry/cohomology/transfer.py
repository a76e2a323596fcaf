"""The transferred complex of one line bundle (homological perturbation lemma): its Koszul E1 terms
with the differential ``d_T = pi sum_n (-P H)^n P iota``, whose cohomology is ``H^*(X, L)``."""
from __future__ import annotations

import numpy as np

from ..modp import PRIME
from .cech import _accumulate, _popcount


class _Transferred:
    """The Koszul E1 terms of one line bundle with the transferred differential d_T.

    By the perturbation lemma (Čech homotopy H, perturbation P = +-d_K), the E1 terms
    with d_T = pi sum_n (-P H)^n P iota form a finite complex whose cohomology is
    H^*(X, L), and a map of Koszul resolutions G induces pi_inf G iota_inf on it.  This
    settles every higher differential and filtration question at once, at the cost of
    cochain-level zig-zags, so it is used only where the cheaper reasoning stops.
    """

    def __init__(self, lb, cech):
        self.lb, self.cech = lb, cech
        self._differentials = {}
        self.layout = {}  # total degree -> list of (position, offset), and dims
        for t in range(-1, 6):
            items, off = [], 0
            for (j, q), d in sorted(lb.e1.items()):
                if d and q - j == t:
                    items.append(((j, q), off))
                    off += d
            self.layout[t] = (items, off)

    def differential(self, t):
        """Matrix of d_T from total degree t to t + 1 (cached)."""
        if t not in self._differentials:
            self._differentials[t] = self._differential(t)
        return self._differentials[t]

    def min_level(self, t):
        """Lowest Koszul level of an E1 term of total degree t (0 when there is none)."""
        return min((j for (j, _), _ in self.layout[t][0]), default=0)

    def iota(self, t, vec):
        """iota of an E1 vector of total degree t (cochain)."""
        out = {}
        items, _ = self.layout[t]
        for (j, q), off in items:
            sub, _ = self.lb.space(j, q)
            for S, k, dim, o in sub:
                B = self.cech.cfg.basis(k)[0]
                for row in np.nonzero(vec[off + o:off + o + dim])[0]:
                    _accumulate(out, self.cech.iota(S, tuple(int(v) for v in B[row]),
                                                    int(vec[off + o + row])))
        return out

    def pi(self, cochain, t):
        """Projection of a cochain to the E1 terms of total degree t."""
        items, dim = self.layout[t]
        vec = np.zeros(dim, dtype=np.int64)
        cech = self.cech
        parts = {pos: {} for pos, _ in items}
        for k, v in cochain.items():
            part = parts.get((cech.level(k), cech.degree(k)))
            if part is not None:
                part[k] = v
        for (j, q), off in items:
            if parts[(j, q)]:
                sub = cech.project(parts[(j, q)], self.lb, j, q)
                vec[off:off + sub.size] = (vec[off:off + sub.size] + sub) % PRIME
        return vec

    def pi_of_perturbation(self, cochain, t):
        """pi(P(cochain), t) without building P(cochain): an input term's products keep its
        Čech degree and sit one Koszul level lower, so whole terms are skipped unless that
        is a position of degree t, and products not in cohomology form are dropped."""
        cech = self.cech
        wanted = {pos for pos, _ in self.layout[t][0]}
        keep = {}
        get = keep.get
        sh, polys, sigmask, form = cech.s_shift, cech.polys, cech.sigmask, cech._form
        products = 0
        nonform, supp = cech._nonform, cech.suppmask
        for key, c in cochain.items():
            deg = cech.degree(key)
            if (cech.level(key) - 1, deg) not in wanted:
                continue
            if deg % 2:
                c = PRIME - c
            sig0 = key & sigmask
            bad = nonform.get(sig0)
            if bad is None:
                bad = nonform[sig0] = cech.rows_not_in_form(key)
            # the bit walk of cech.koszul(), copied on purpose: the innermost loop (see cech.py)
            S = key >> sh
            rest = S
            while rest:
                low = rest & -rest
                rest ^= low
                s = low.bit_length() - 1
                if bad & ~supp[s]:  # a row f_s does not touch stays out of cohomology form
                    continue
                cs = PRIME - c if _popcount(S & (low - 1)) % 2 else c
                base = key - (low << sh)
                products += len(polys[s])
                for b, beta in polys[s]:
                    k2 = base + b
                    sig = k2 & sigmask
                    ok = form.get(sig)
                    if ok is None:
                        ok = form[sig] = cech.in_cohomology_form(k2)
                    if ok:
                        keep[k2] = (get(k2, 0) + cs * beta) % PRIME
        cech._spend(keep, products)
        return self.pi(keep, t)

    def _differential(self, t):
        _, ds = self.layout[t]
        _, dt = self.layout[t + 1]
        M = np.zeros((dt, ds), dtype=np.int64)
        if not dt:
            return M
        # P lowers the level by one: lift terms below the lowest target level + 1 are not read
        floor = self.min_level(t + 1) + 1
        for c in range(ds):
            e = np.zeros(ds, dtype=np.int64)
            e[c] = 1
            lifted = self.cech.lift(self.iota(t, e), floor)
            M[:, c] = self.pi_of_perturbation(lifted, t + 1)
        return M
