"""Čech cochains: the Koszul differential, a Čech contracting homotopy and the projection to
cohomology on cochains (for Koszul ``d2`` and the transferred complex), with a work budget."""
from __future__ import annotations

import time

import numpy as np

from ..modp import PRIME
from .outcome import Undetermined

# On P^n with the cover {x_v != 0}, the Čech complex of O(k) splits over Laurent monomials
# x^a: x^a lives on the faces sigma that contain neg(a) = {v: a_v < 0}.  That complex is
# acyclic unless neg(a) is empty (cohomology in degree 0: constant cochains) or everything
# (degree n: the inverse monomials).  A contracting homotopy h (cone at a vertex) with
# d h + h d = 1 - iota pi exists per factor; on the product A the Čech complex is the tensor
# product and H = sum_r (-1)^{deg<r} (iota pi)^{<r} (x) h_r (x) 1 is a homotopy for it.
# A cochain is a dict {(S, monomial, faces): coefficient mod p}, S the Koszul index.

# Representation.  A cochain is a dict {key: coefficient mod p}; a key is one Python int
# holding three bit fields, from low to high:
#   monomial  8 bits per variable (exponent + 128): multiplying monomials adds ints, and bit
#             8v+7 is clear exactly when x_v has a negative exponent;
#   faces     one vertex bitmask per factor (n_r + 1 bits each);
#   S         the Koszul index as a column bitmask: the Koszul map subtracts a bit.
# So the Koszul map and multiplication are integer additions on keys (no tuples to build
# and hash).  An H^0 factor (all exponents of the factor's variables >= 0) of a cocycle
# iota(x^a) is the constant 0-cochain (x^a on every U_v).  Exponents only grow along a
# zig-zag (Koszul maps multiply by polynomials, the homotopy keeps monomials), h kills
# 0-cochains and iota pi fixes constant ones, so such a factor stays constant: it is stored
# as the empty face IOTA (Čech degree 0) instead of n+1 vertices.
IOTA = 0
_BIAS = 128
MAX_COCHAIN_TERMS = 3_000_000
CECH_WORK_BUDGET = 10_000_000  # terms made + Koszul products per configuration (~1 M/s)
CECH_TIME_BUDGET = 15.0  # CPU seconds of cochain work per configuration (safety net; the
                         # work budget binds first on an unloaded core and is deterministic)


def _pack(mono, bias=_BIAS):
    """Packed int of an exponent vector (see above); ``bias=0`` for a polynomial's monomial."""
    vals = [int(v) + bias for v in mono]
    if min(vals, default=0) < 0 or max(vals, default=0) > 255:
        raise Undetermined("exponent out of the packed range")
    return int.from_bytes(bytes(vals), "little")


_popcount = getattr(int, "bit_count", None) or (lambda x: bin(x).count("1"))


def _face_degree(f):
    return _popcount(f) - 1 if f else 0


class _Cech:
    """Cochain-level Koszul differential, Čech homotopy and projection to cohomology."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.m = cfg.m
        self.ranges = [(int(cfg.offsets[r]), int(cfg.offsets[r + 1])) for r in range(cfg.m)]
        self.fullmask = [(1 << (n + 1)) - 1 for n in cfg.n]
        self.high = [sum(1 << (8 * v + 7) for v in range(lo, hi)) for lo, hi in self.ranges]
        self.mono_bits = 8 * cfg.nvar
        self.mono_mask = (1 << self.mono_bits) - 1
        self.face_shift = []
        off = self.mono_bits
        for n in cfg.n:
            self.face_shift.append(off)
            off += n + 1
        self.s_shift = off
        self.faces_mask = (1 << (off - self.mono_bits)) - 1
        self.polys = [[(_pack(mono, 0), int(c)) for mono, c in zip(mons, coef)]
                      for mons, coef in cfg.polys]
        self.high_all = sum(self.high)
        self.sigmask = self.high_all | (self.faces_mask << self.mono_bits)
        self._degrees = {}
        self._homotopy_plan = {}
        self._form = {}
        self._nonform = {}
        self._decisions = {}
        self.started = time.process_time()
        self._ticks = 0
        supports = [[r for r in range(cfg.m) if cfg.P[r, k]] for k in range(cfg.K)]
        self.minrow = [min(rows, default=cfg.m) for rows in supports]
        self.suppmask = [sum(1 << r for r in rows) for rows in supports]
        self.work = 0

    # ---- keys
    def key(self, S, packed, faces):
        k = packed
        for r, f in enumerate(faces):
            k |= f << self.face_shift[r]
        for s in S:
            k |= 1 << (self.s_shift + s)
        return k

    def level(self, key):
        """Koszul level j = |S|."""
        return _popcount(key >> self.s_shift)

    def columns(self, key):
        mask = key >> self.s_shift
        return tuple(s for s in range(mask.bit_length()) if mask >> s & 1)

    def degree(self, key):
        """Čech degree of the term's faces."""
        fields = (key >> self.mono_bits) & self.faces_mask
        d = self._degrees.get(fields)
        if d is None:
            d = self._degrees[fields] = sum(
                _face_degree((key >> self.face_shift[r]) & self.fullmask[r]) for r in range(self.m))
        return d

    def _spend(self, out, products=0):
        """Count work (terms made, Koszul products formed); Undetermined past the budget."""
        self.work += len(out) + products
        if self.work > CECH_WORK_BUDGET or len(out) > MAX_COCHAIN_TERMS:
            raise Undetermined("Čech zig-zag beyond this implementation's work budget")
        self._check_time()

    def _check_time(self):
        if time.process_time() - self.started > CECH_TIME_BUDGET:
            raise Undetermined("Čech zig-zag beyond this implementation's time budget")

    def iota(self, S, mono, coeff):
        """Cocycle representing the basis class ``mono`` of H^q(A, O(k_S)) (times coeff)."""
        packed = _pack(mono)
        faces = [self.fullmask[r] if (packed & self.high[r]) != self.high[r] else IOTA
                 for r in range(self.m)]
        return {self.key(S, packed, faces): coeff % PRIME}

    def koszul(self, cochain, twist=False):
        """Koszul differential e_S -> sum_pos (-1)^pos f_s e_{S - s} (multiplication).

        ``twist``: times (-1)^{Čech degree} (the perturbation P; faces are unchanged).
        """
        out = {}
        get = out.get
        sh = self.s_shift
        polys = self.polys
        for key, c in cochain.items():
            if twist and self.degree(key) % 2:
                c = PRIME - c
            S = key >> sh
            rest = S
            while rest:
                low = rest & -rest
                rest ^= low
                s = low.bit_length() - 1
                cs = PRIME - c if _popcount(S & (low - 1)) % 2 else c
                base = key - (low << sh)
                for b, beta in polys[s]:
                    k2 = base + b
                    out[k2] = (get(k2, 0) + cs * beta) % PRIME
            if len(out) + self.work > CECH_WORK_BUDGET:
                self._spend(out)
        self._spend(out)
        return {k: v for k, v in out.items() if v}

    def perturbation(self, cochain):
        """P = (-1)^{Čech degree} d_K, so that delta + P is the total differential."""
        return self.koszul(cochain, twist=True)

    def multiply(self, cochain, mons, coef):
        """Multiplication by the polynomial sum coef * x^mons (same S, same faces)."""
        poly = [(_pack(b, 0), int(c)) for b, c in zip(mons, coef)]
        out = {}
        get = out.get
        for key, c in cochain.items():
            for b, beta in poly:
                k2 = key + b
                out[k2] = (get(k2, 0) + c * beta) % PRIME
            if len(out) + self.work > CECH_WORK_BUDGET:
                self._spend(out)
        self._spend(out)
        return {k: v for k, v in out.items() if v}

    def _at_least(self, cochain, min_level):
        if min_level <= 0:
            return cochain
        return {k: v for k, v in cochain.items() if self.level(k) >= min_level}

    def lift(self, cochain, min_level=0):
        """iota_inf = sum_n (-H P)^n applied to an iota-cocycle (perturbation lemma).

        Each step lowers the Koszul level by one; terms below ``min_level`` are dropped
        (callers pass the lowest level the result is read at: nothing below it matters).
        """
        total = cur = self._at_least(dict(cochain), min_level)
        total = dict(total)
        while cur:
            cur = self._at_least(self._minus_hp(cur), min_level)
            _accumulate(total, cur)
        return total

    def _minus_hp(self, cochain):
        """-H(P(cochain)), applying H to each Koszul product as it is made (most die)."""
        out = {}
        get = out.get
        sh, polys, plan, sigmask = self.s_shift, self.polys, self._homotopy_plan, self.sigmask
        products = 0
        decisions, minrow = self._decisions, self.minrow
        for key, c in cochain.items():
            if self.degree(key) % 2:
                c = PRIME - c
            sig0 = key & sigmask
            dec = decisions.get(sig0)
            if dec is None:
                dec = decisions[sig0] = self._decision(key)
            r0, step0 = dec
            # the walk over the bits of S is koszul()'s, written out again on purpose: this is the
            # labeller's innermost loop, and a shared helper (a call per bit) costs more than the copy
            S = key >> sh
            rest = S
            while rest:
                low = rest & -rest
                rest ^= low
                s = low.bit_length() - 1
                cs = PRIME - c if _popcount(S & (low - 1)) % 2 else c
                base = key - (low << sh)
                if r0 < minrow[s]:
                    # f_s leaves the rows up to H's slot r0 alone: every product has the
                    # input's fate under H (zero, or the same face change and sign)
                    if step0 is False:
                        continue
                    products += len(polys[s])
                    base -= step0[0]
                    sgn = cs if step0[1] else PRIME - cs
                    for b, beta in polys[s]:
                        k3 = base + b
                        out[k3] = (get(k3, 0) + sgn * beta) % PRIME
                    continue
                products += len(polys[s])
                for b, beta in polys[s]:
                    k2 = base + b
                    sig = k2 & sigmask  # sign pattern and faces: all H looks at
                    step = plan.get(sig)
                    if step is None:
                        step = plan[sig] = self._plan(k2)
                    if step is False:
                        continue
                    k3 = k2 - step[0]
                    v = cs * beta if step[1] else -cs * beta  # -H: the sign of H, negated
                    out[k3] = (get(k3, 0) + v) % PRIME
            if len(out) + products + self.work > CECH_WORK_BUDGET:
                self._spend(out, products)
            self._ticks += 1
            if not self._ticks & 255:
                self._check_time()
        self._spend(out, products)
        return {k: v for k, v in out.items() if v}

    def descend(self, cochain, min_level=0):
        """sum_n (-P H)^n applied to a total cocycle (pi_inf = pi o descend); terms below
        Koszul level ``min_level`` are dropped (each step lowers the level by one)."""
        total = cur = self._at_least(dict(cochain), min_level)
        total = dict(total)
        while cur:
            cur = {k: (-v) % PRIME for k, v in self.perturbation(self.homotopy(cur)).items()}
            cur = self._at_least(cur, min_level)
            _accumulate(total, cur)
        return total

    def homotopy(self, cochain):
        """H = sum_r (-1)^{deg<r} (iota pi)^{<r} (x) h_r (x) 1 (h_r: cone at a vertex).

        iota pi is nonzero on a factor only in cohomology form (all exponents negative on
        the full face, or all >= 0 on vertex 0 / IOTA), where h_r vanishes; so only the
        first factor not in cohomology form can carry h_r.
        """
        out = {}
        get = out.get
        plan = self._homotopy_plan
        sigmask = self.sigmask
        for key, c in cochain.items():
            sig = key & sigmask
            step = plan.get(sig)
            if step is None:
                step = plan[sig] = self._plan(key)
            if step is not False:
                delta, odd = step
                k2 = key - delta
                out[k2] = (get(k2, 0) + (PRIME - c if odd else c)) % PRIME
        self._spend(out)
        return {k: v for k, v in out.items() if v}

    def _plan(self, key):
        """What H does to a term; depends only on its sign pattern and faces (cached):
        False (zero) or (key decrement, sign odd)."""
        return self._decision(key)[1]

    def _decision(self, key):
        """(row where H's fate is decided, _plan's answer); row m when every factor is in
        cohomology form."""
        high, full, shift, ranges = self.high, self.fullmask, self.face_shift, self.ranges
        deg = 0
        drop = 0  # vertex-0 faces of H^0 factors before the slot become IOTA
        for r in range(self.m):
            f = (key >> shift[r]) & full[r]
            hb = key & high[r]
            if hb == 0:  # all negative: full face, cohomology form
                deg += _popcount(f) - 1
                continue
            if hb == high[r]:  # all >= 0
                if f == IOTA:
                    continue
                if f == 1:
                    drop += 1 << shift[r]
                    continue
                v = 0
            else:  # mixed: the cone vertex is the first variable with exponent >= 0
                v = ((hb & -hb).bit_length() - 8) // 8 - ranges[r][0]
            bit = 1 << v
            if f & bit and f != bit:
                return r, (drop + (bit << shift[r]), (_popcount(f & (bit - 1)) + deg) % 2 == 1)
            return r, False
        return self.m, False

    def rows_not_in_form(self, key):
        """Bitmask of the factors not in cohomology form."""
        bad = 0
        for r in range(self.m):
            hb = key & self.high[r]
            if hb == 0:
                continue
            f = (key >> self.face_shift[r]) & self.fullmask[r]
            if hb == self.high[r] and (f == IOTA or f == 1):
                continue
            bad |= 1 << r
        return bad

    def in_cohomology_form(self, key):
        """Every factor all-negative (full face) or all >= 0 on vertex 0 / IOTA."""
        for r in range(self.m):
            hb = key & self.high[r]
            if hb == 0:
                continue
            f = (key >> self.face_shift[r]) & self.fullmask[r]
            if hb == self.high[r] and (f == IOTA or f == 1):
                continue
            return False
        return True

    def project(self, cochain, lb, j, q):
        """Cohomology class (coordinates in E1^{-j,q} of ``lb``) of a cocycle."""
        items, dim = lb.space(j, q)
        index = {}
        masks = set()
        for S, k, d, off in items:
            B = self.cfg.basis(k)[0]
            raw = (B + _BIAS).astype(np.uint8)
            smask = sum(1 << s for s in S)
            masks.add(smask)
            for row in range(B.shape[0]):
                index[(smask, int.from_bytes(raw[row].tobytes(), "little"))] = off + row
        vec = np.zeros(dim, dtype=np.int64)
        high, full, shift = self.high, self.fullmask, self.face_shift
        for key, c in cochain.items():
            ok = True
            for r in range(self.m):
                hb = key & high[r]
                if hb == 0:
                    continue  # full face (the only face an all-negative monomial lives on)
                f = (key >> shift[r]) & full[r]
                if hb == high[r] and (f == IOTA or f == 1):
                    continue
                ok = False
                break
            if ok:
                smask = key >> self.s_shift
                idx = index.get((smask, key & self.mono_mask))
                if idx is None:  # a class in a bundle/degree outside this position
                    if smask in masks:
                        raise RuntimeError("Čech projection outside the basis")
                    continue
                vec[idx] = (vec[idx] + c) % PRIME
        return vec


def _accumulate(total, more):
    for k, v in more.items():
        total[k] = (total.get(k, 0) + v) % PRIME
