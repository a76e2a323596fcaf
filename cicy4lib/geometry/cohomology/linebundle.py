"""Cohomology of one line bundle ``O_X(L)`` through its Koszul spectral sequence (E1 from the
ambient cohomology; ``d1`` and ``d2`` by dimensions, by generic ranks, or on Čech cochains)."""
from __future__ import annotations

import numpy as np

from ..modp import PRIME, intersect as _intersect, kernel_basis as _kernel_basis, matmul_mod as _matmul_mod, rank_mod_p
from .outcome import Undetermined
from .transfer import _Transferred


def _sign(t):
    """(-1)^t as an int, also for negative t."""
    return -1 if t % 2 else 1


def _fmt(L):
    return ",".join(str(int(v)) for v in L)


def _row_major(p):
    """Sort key of a position (j, q): by row q, then j."""
    return p[1], p[0]


def _negative_pattern(k):
    return tuple(v < 0 for v in k)


class _LineBundle:
    """Cohomology of O_X(L) through the Koszul spectral sequence.

    Attributes after construction: ``h`` (h^t for t = 0..4), ``levels[t]`` (Koszul levels j
    whose E_inf term contributes to H^t), ``computed`` (ranks that were computed).
    """

    def __init__(self, cfg, L, allow_compute=True, force_transfer=False):
        self.cfg = cfg
        self.L = tuple(map(int, L))
        self.terms = cfg.koszul_terms(self.L)
        self.computed = []  # ranks computed for random coefficients
        self.forced = []  # maps fixed by dimension arguments (do not make a result generic)
        # group terms by position (j, q); e1: their total dimension
        self.pos, self.e1 = pos, e1 = {}, {}
        for S, k, q, dim in self.terms:
            p = (len(S), q)
            if p in pos:
                pos[p].append((S, k, dim))
                e1[p] += dim
            else:
                pos[p] = [(S, k, dim)]
                e1[p] = dim
        self._d1_cache = {}
        self.touched = set()  # positions changed by higher differentials
        self.extra_levels = {}  # degree -> levels that may carry classes (touched groups)
        self.d2_cycles = {}  # position -> E1 vectors spanning the d2-cycles (E3 numerator)
        self.d2_images = {}  # position -> list of d2 image matrices (added to the E3 denominator)
        self.einf = self._transfer_all() if force_transfer else self._evaluate(allow_compute)
        self.h = h = [0] * 5
        self.levels = levels = {0: [], 1: [], 2: [], 3: [], 4: []}
        for (j, q), d in self.einf.items():
            if d:
                t = q - j
                if not 0 <= t <= 4:
                    raise Undetermined(f"Koszul sequence for O({_fmt(self.L)}) leaves a term in degree {t}")
                h[t] += d
                levels[t].append(j)
        for t, js in self.extra_levels.items():
            self.levels[t] = sorted(set(self.levels[t]) | js)

    # ---- spectral sequence bookkeeping
    @staticmethod
    def _higher_links(dims):
        """True if some d_r (r >= 2) could connect two nonzero positions."""
        nz = [p for p, d in dims.items() if d]
        for (j, q) in nz:
            for (j2, q2) in nz:
                r = j - j2
                if r >= 2 and q - q2 == r - 1:
                    return True
        return False

    @staticmethod
    def _links(dims):
        """(some d1, some d_r with r >= 2) that could connect two nonzero positions."""
        nz = [p for p, d in dims.items() if d]
        d1 = higher = False
        for (j, q) in nz:
            for (j2, q2) in nz:
                r = j - j2
                if r == 1 and q == q2:
                    d1 = True
                elif r >= 2 and q - q2 == r - 1:
                    return d1, True
        return d1, higher

    def _evaluate(self, allow_compute):
        e1 = dict(self.e1)
        d1, higher = self._links(e1) if len(e1) > 1 else (False, False)
        if not d1 and not higher:  # E1 = E_inf (the common case), in the order _rows gives
            return {p: e1[p] for p in sorted(e1, key=_row_major) if e1[p]}
        if not higher:
            e2 = self._rows(e1, allow_compute, force_range=True)
            return e2
        e2 = self._rows(e1, allow_compute, force_range=False)
        if not self._higher_links(e2):
            return e2
        try:
            return self._force_higher(e2)
        except Undetermined:
            if not allow_compute:
                raise
        try:
            return self._with_d2(e2)
        except Undetermined as exc:
            if "work budget" in str(exc):
                raise
        # d_r with r >= 3 (or d2s that dimensions do not settle): the whole transferred complex
        return self._transfer_all()

    def _reset_higher(self):
        self.touched.clear()
        self.extra_levels.clear()
        self.forced.clear()
        self.d2_cycles, self.d2_images = {}, {}
        self.computed = [c for c in self.computed if "Koszul d2" not in c]

    def _transfer_all(self):
        """h^t(X, L) from the transferred complex (perturbation lemma), every d_r at once.

        The E1 terms with d_T form a complex whose cohomology is H^*(X, L); where the
        classes sit (Koszul level) is not tracked, so every in-range position is marked
        touched (maps out of this bundle then use the transferred Jacobian as well).
        """
        self._reset_higher()
        T = self.transferred()
        ranks = {}
        for t in range(-1, 5):
            if T.layout[t][1] and T.layout[t + 1][1]:
                ranks[t] = rank_mod_p(T.differential(t))
            else:
                ranks[t] = 0
        h = [T.layout[t][1] - ranks[t] - ranks[t - 1] for t in range(5)]
        euler = sum(_sign(q - j) * d for (j, q), d in self.e1.items())
        if min(h) < 0 or sum(_sign(t) * h[t] for t in range(5)) != euler:
            raise Undetermined(f"transferred Koszul complex of O({_fmt(self.L)}) has cohomology "
                               "outside degrees 0..4")
        out = {p: 0 for p in self.e1}
        for t in range(5):
            alive = sorted(p for p, d in self.e1.items() if d and p[1] - p[0] == t)
            self.touched |= set(alive)
            if alive:
                self.extra_levels.setdefault(t, set()).update(x[0] for x in alive)
                out[alive[0]] = h[t]
        self.computed.append(f"Koszul differentials of O({_fmt(self.L)}) by perturbation-lemma transfer")
        return out

    def _with_d2(self, e2):
        """Compute the d2 inside groups that dimensions do not fix, then force what is left."""
        self._reset_higher()
        e3 = dict(e2)
        done = set()
        for group in self._groups(e2):
            if len({x[1] - x[0] for x in group if 0 <= x[1] - x[0] <= 4}) < 2:
                continue
            for (j, q) in sorted(group):
                if (j - 2, q - 1) in group:
                    rank = self.d2_rank(j, q)
                    e3[(j, q)] -= rank
                    e3[(j - 2, q - 1)] -= rank
                    done.add(((j, q), (j - 2, q - 1)))
                    self.computed.append(f"Koszul d2 of O({_fmt(self.L)}) from H^{q} (Čech zig-zag)")
        return self._force_higher(e3, skip=done)

    def _groups(self, e2, skip=frozenset()):
        """Connected groups of nonzero positions linked by possible d_r, r >= 2."""
        nz = [p for p, d in e2.items() if d]
        links = {p: set() for p in nz}
        for (j, q) in nz:
            for (j2, q2) in nz:
                r = j - j2
                if r >= 2 and q - q2 == r - 1 and ((j, q), (j2, q2)) not in skip:
                    links[(j, q)].add((j2, q2))
                    links[(j2, q2)].add((j, q))
        groups, seen = [], set()
        for p in nz:
            if not links[p] or p in seen:
                continue
            group, stack = {p}, [p]
            while stack:
                for x in links[stack.pop()]:
                    if x not in group:
                        group.add(x)
                        stack.append(x)
            seen |= group
            groups.append(group)
        return groups

    def _force_higher(self, e2, skip=frozenset()):
        """Resolve d_r (r >= 2) whose effect is fixed because H^t(X, L) = 0 outside [0, 4].

        Positions linked by possible higher differentials form groups.  A group whose
        positions lie in at most one total degree t0 inside [0, 4] ends with all of its
        E_inf in degree t0, and differentials keep the Euler characteristic, so it adds
        ``(-1)^t0 * sum (-1)^t dim`` to h^t0.  Where the surviving classes sit (which
        level) is unknown: the in-range positions are marked touched and their level is
        reported conservatively.  Other groups need d_r ranks: Undetermined.
        """
        out = dict(e2)
        for group in self._groups(e2, skip):
            degrees = {x[1] - x[0] for x in group}
            inside = [t for t in degrees if 0 <= t <= 4]
            if len(inside) > 1:
                raise Undetermined(f"higher differentials in the Koszul sequence of O({_fmt(self.L)})")
            euler = sum(_sign(x[1] - x[0]) * e2[x] for x in group)
            for x in group:
                out[x] = 0
            if inside:
                t0 = inside[0]
                total = _sign(t0) * euler
                if total < 0:
                    raise Undetermined(f"inconsistent higher differentials for O({_fmt(self.L)})")
                if total:
                    alive = sorted(x for x in group if x[1] - x[0] == t0)
                    out[alive[0]] = total  # total is right; its level is not known
                    self.touched |= set(alive)
                    self.extra_levels.setdefault(t0, set()).update(x[0] for x in alive)
            elif euler:
                raise Undetermined(f"inconsistent higher differentials for O({_fmt(self.L)})")
            self.forced.append(f"d_r (r>=2) of O({_fmt(self.L)}) fixed by vanishing outside "
                               "degrees 0..4")
        return out

    def _rows(self, e1, allow_compute, force_range):
        """E2 from E1: each row q is a complex in j; segments of consecutive nonzero terms.

        With ``force_range`` (E2 = E_inf), cohomology in total degrees outside [0, 4] vanishes,
        which fixes a segment with at most one in-range position by its Euler characteristic.
        """
        e2 = {}
        rows = {}
        for (j, q), d in e1.items():
            if d:
                rows.setdefault(q, []).append(j)
        for q in sorted(rows):
            js = sorted(rows[q])
            segments, cur = [], []
            for j in js:
                if cur and j != cur[-1] + 1:
                    segments.append(cur)
                    cur = []
                cur.append(j)
            if cur:
                segments.append(cur)
            for seg in segments:
                if len(seg) == 1:
                    e2[(seg[0], q)] = e1[(seg[0], q)]
                    continue
                inrange = [j for j in seg if 0 <= q - j <= 4]
                if force_range and len(inrange) <= 1:
                    euler = sum(_sign(j) * e1[(j, q)] for j in seg)
                    for j in seg:
                        e2[(j, q)] = 0
                    if inrange:
                        val = _sign(inrange[0]) * euler
                        if val < 0:
                            raise Undetermined(f"inconsistent Koszul dimensions for O({_fmt(self.L)})")
                        e2[(inrange[0], q)] = val
                    elif euler != 0:
                        raise Undetermined(f"inconsistent Koszul dimensions for O({_fmt(self.L)})")
                    continue
                if not allow_compute:
                    raise Undetermined(f"Koszul map ranks needed for O({_fmt(self.L)})")
                ranks = {j: self.d1_rank(j, q) for j in seg if j - 1 in seg}
                for j in seg:
                    e2[(j, q)] = e1[(j, q)] - ranks.get(j, 0) - ranks.get(j + 1, 0)
                self.computed.append(f"Koszul d1 of O({_fmt(self.L)}) in H^{q}")
        return e2

    # ---- explicit maps
    def transferred(self):
        """The (cached) transferred complex of this bundle (see _Transferred)."""
        if getattr(self, "_transferred", None) is None:
            self._transferred = _Transferred(self, self.cfg.cech())
        return self._transferred

    def space(self, j, q):
        """Ordered summands (S, k, dim, offset) of E1^{-j,q} and its total dimension."""
        items, off = [], 0
        for S, k, dim in self.pos.get((j, q), []):
            items.append((S, k, dim, off))
            off += dim
        return items, off

    def d1(self, j, q):
        """Matrix of d1: E1^{-j,q} -> E1^{-j+1,q} (Koszul map, multiplication by f_s)."""
        key = (j, q)
        if key in self._d1_cache:
            return self._d1_cache[key]
        src, ds = self.space(j, q)
        dst, dd = self.space(j - 1, q)
        M = np.zeros((dd, ds), dtype=np.int64)
        where = {S: (k, dim, off) for S, k, dim, off in dst}
        for S, k, dim, off in src:
            for pos_s, s in enumerate(S):
                T = S[:pos_s] + S[pos_s + 1:]
                if T not in where:
                    continue
                kt, dimt, offt = where[T]
                if _negative_pattern(kt) != _negative_pattern(k):
                    continue
                mons, coef = self.cfg.polys[s]
                block = self.cfg.multiply(k, kt, mons, coef)
                if pos_s % 2:
                    block = (-block) % PRIME
                M[offt:offt + dimt, off:off + dim] = (M[offt:offt + dimt, off:off + dim] + block) % PRIME
        self._d1_cache[key] = M
        return M

    def d1_rank(self, j, q):
        return rank_mod_p(self.d1(j, q))

    def d2_rank(self, j, q):
        """Rank of d2: E2^{-j,q} -> E2^{-j+2,q-1}, from Čech cochains (zig-zag).

        For x in ker d1: z = d_K iota(x) is a coboundary (its class d1 x is 0), y = H z
        with the Čech homotopy, and d2 x = pi(d_K y) modulo the image of d1.
        """
        _, ds = self.space(j, q)
        items, _ = self.space(j, q)
        if self.e1.get((j - 1, q)):
            Kb = _kernel_basis(self.d1(j, q), ds)
        else:
            Kb = np.eye(ds, dtype=np.int64)
        _, dt = self.space(j - 2, q - 1)
        if self.e1.get((j - 1, q - 1)):
            It = self.d1(j - 1, q - 1)
        else:
            It = np.zeros((dt, 0), dtype=np.int64)
        cech = self.cfg.cech()
        cols = []
        for c in range(Kb.shape[1]):
            cochain = {}
            for S, k, dim, off in items:
                B = self.cfg.basis(k)[0]
                for row in np.nonzero(Kb[off:off + dim, c])[0]:
                    term = cech.iota(S, tuple(int(v) for v in B[row]), int(Kb[off + row, c]))
                    for key, v in term.items():
                        cochain[key] = (cochain.get(key, 0) + v) % PRIME
            z = cech.koszul(cochain)
            if self.e1.get((j - 1, q)) and cech.project(z, self, j - 1, q).any():
                raise RuntimeError("Koszul d2: the lifted class is not a d1-cycle")
            w = cech.koszul(cech.homotopy(z))
            cols.append(cech.project(w, self, j - 2, q - 1))
        D2 = np.array(cols, dtype=np.int64).T.reshape(dt, len(cols))
        r_image = rank_mod_p(It) if It.shape[1] else 0
        rank = rank_mod_p(np.hstack([D2, It])) - r_image
        # E3 as subquotients of E1: d2-cycles at the source, d2-images added at the target
        M = np.hstack([D2, It])
        ker = _kernel_basis(M, M.shape[1]) if M.size else np.eye(M.shape[1], dtype=np.int64)
        cycles = _matmul_mod(Kb, ker[:Kb.shape[1]]) if Kb.shape[1] else Kb
        prev = self.d2_cycles.get((j, q))
        self.d2_cycles[(j, q)] = cycles if prev is None else _intersect(prev, cycles)
        self.d2_images.setdefault((j - 2, q - 1), []).append(D2)
        return rank

    def piece(self, t, j):
        """E_inf piece of H^t(X, L) at Koszul level j as a subquotient of E1^{-j, q=t+j}.

        Returns (q, K, I): columns of K span ker(d1 out), columns of I span im(d1 in), so the
        piece is span(K) / span(I).  Valid when no higher differential touched it.
        """
        key = ("piece", t, j)
        if key not in self._d1_cache:
            self._d1_cache[key] = self._piece(t, j)
        return self._d1_cache[key]

    def _piece(self, t, j):
        q = t + j
        if (j, q) in self.touched:
            raise Undetermined(f"H^{t}(X, O({_fmt(self.L)})) is a quotient by a higher differential")
        _, dim = self.space(j, q)
        if (j, q) in self.d2_cycles:
            Kb = self.d2_cycles[(j, q)]
        elif self.e1.get((j - 1, q)):
            Kb = _kernel_basis(self.d1(j, q), dim)
        else:
            Kb = np.eye(dim, dtype=np.int64)
        if self.e1.get((j + 1, q)):
            Ib = self.d1(j + 1, q)
        else:
            Ib = np.zeros((dim, 0), dtype=np.int64)
        if (j, q) in self.d2_images:
            Ib = np.hstack([Ib] + self.d2_images[(j, q)])
        return q, Kb, Ib
