"""Hodge numbers of CICY four-folds from line-bundle cohomology.

The method is the standard one (Hübsch; Gray–Haupt–Lukas, arXiv:1405.2073):

* line bundles ``O_A(k)`` on the ambient space ``A = P^{n_1} x ... x P^{n_m}`` have their
  cohomology in a single degree (Bott formula on each factor, Künneth);
* a line bundle ``L`` restricted to ``X`` is resolved by the Koszul complex
  ``0 -> ^K N* (x) L -> ... -> N* (x) L -> L -> L|_X -> 0`` whose spectral sequence
  ``E1^{-j,q} = H^q(A, ^j N* (x) L) => H^{q-j}(X, L|_X)`` we evaluate;
* the Euler sequence ``0 -> O_X^m -> (+)_i O_X(e_i)^{n_i+1} -> TA|_X -> 0`` and the normal
  sequence ``0 -> TX -> TA|_X -> N_X -> 0`` give ``h^q(X, TX)``, and on a Calabi–Yau
  four-fold ``h31 = h^1(TX)``, ``h21 = h^2(TX)``, ``h11 = h^3(TX)``; ``h22`` follows from
  ``44 = -4 h11 + 2 h21 - 4 h31 + h22``.

Where a map's rank is not fixed by dimensions it is computed for the generic complete
intersection: the defining polynomials get random coefficients over the prime field
``F_p`` (``p = 2^31 - 1``, fixed seed), cohomology classes are written as (inverse)
monomials (Čech representatives: ``H^n(P^n, O(k))`` for ``k < 0`` is spanned by Laurent
monomials with all exponents ``<= -1``), and ranks come from Gaussian elimination mod p.
What is decided by dimensions alone ("exact"):

* a Koszul spectral sequence with no possible differential between nonzero terms, or whose
  rows/groups of linked terms have at most one total degree inside ``[0, 4]`` (everything
  outside must die, and differentials keep Euler characteristics);
* ``h^q(O_X) = (1, 0, 0, 0, 1)`` is checked, not assumed (direct products fail it);
  then the Euler sequence is fixed (``C^m -> H^0`` is injective since the ``x_{i,a}`` never
  vanish together, ``H^4(O_X)^m`` injects into ``H^3(TA|_X)``);
* in the normal sequence ``h^0(TX) = h^{3,0} = 0`` and ``h^4(TX) = h^{0,1} = 0`` fix the
  ranks of ``H^0(TA|_X) -> H^0(N)`` and ``H^3(TA|_X) -> H^3(N)``;
* linear columns (a single entry 1) are removed first: they cut ``P^n`` to ``P^{n-1}``.

What is computed for random coefficients ("generic-rank"): Koszul ``d1`` maps
(multiplication by ``f_j`` on monomial / inverse-monomial bases) in rows with several
possible survivors, and the maps ``H^q(TA|_X) -> H^q(N)`` for ``q = 1, 2`` (derivatives
``d f_k / d x_{i,a}``) when both sides are nonzero.  The latter is a morphism of
Koszul-filtered complexes: a class from Koszul level ``j`` maps to zero in a target whose
classes all sit on levels above ``j``, and to the induced map on ``E_inf`` pieces when the
target's lowest level is ``j``.

Where that bookkeeping stops (a Koszul ``d2`` between two terms inside ``[0, 4]``, a
``d_r`` with ``r >= 3``, a Jacobian class on a higher level than the target's) the maps are
computed on Čech cochains: ``d2`` by one zig-zag, and otherwise the whole *transferred
complex* of the bundle (homological perturbation lemma: E1 terms with
``d_T = pi sum_n (-P H)^n P iota``, ``H`` a Čech contracting homotopy, ``P`` the Koszul
differential), whose cohomology is ``H^*(X, L)`` and on which the Jacobian map is
``pi_inf G iota_inf``.  Cochains are dicts of packed-int keys (monomial, faces, Koszul
index), H^0 factors stay constant 0-cochains, and zig-zags stop at the lowest Koszul level
that is read.  Cochain work is bounded (``CECH_WORK_BUDGET``): past it the result is
"undetermined".  Setting ``_FORCE_TRANSFER`` evaluates every bundle this way (tests check
it against the known values).

Linear algebra over ``F_p`` is in :mod:`.modp`: python-flint ``nmod_mat`` by default, the
original numpy row echelon with ``rank_backend="numpy"`` (identical results).

Results say how they were obtained (``method``): ``"exact"`` when every sequence is fixed
by dimensions, ``"generic-rank"`` when a computed rank entered, ``"undetermined"`` (with
``hodge=None``) when a needed map is beyond this implementation.  Every accepted result
satisfies ``chi = 4 + 2 h11 - 4 h21 + 2 h31 + h22`` with ``chi`` from Chern classes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from math import comb

import numpy as np

from .euler import euler_number_reference as euler_from_degree_matrix, euler_number
from .modp import (BACKENDS, DEFAULT_BACKEND, PRIME, intersect, kernel_basis, matmul_mod, rank_mod_p,
                   using_backend)

DEFAULT_SEED = 0
_FORCE_TRANSFER = False  # tests only: evaluate every line bundle by the transferred complex
METHODS = ("exact", "generic-rank", "undetermined")

__all__ = ["HodgeResult", "hodge_from_degree_matrix", "euler_from_degree_matrix",
           "line_bundle_cohomology", "rank_mod_p", "PRIME", "METHODS", "BACKENDS", "DEFAULT_BACKEND"]


@dataclass(frozen=True)
class HodgeResult:
    """Hodge numbers ``(h11, h21, h31, h22)`` of one configuration and how they were found.

    ``hodge`` is None when ``method == "undetermined"``; ``detail`` says which maps were
    computed (generic-rank) or why the result is undetermined.
    """

    hodge: tuple[int, int, int, int] | None
    method: str
    euler: int
    detail: str = ""


class Undetermined(Exception):
    """A map whose rank matters could not be computed by this implementation."""


# Linear algebra mod p lives in .modp (python-flint or numpy backend)
_kernel_basis = kernel_basis
_matmul_mod = matmul_mod
_intersect = intersect


# --------------------------------------------------------------------------------------
# Ambient cohomology: Bott + Künneth, with explicit (inverse) monomial bases
# --------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _bott(n: int, k: int):
    """(degree, dimension) of the nonzero cohomology of O(k) on P^n, or (None, 0)."""
    if k >= 0:
        return 0, comb(n + k, n)
    if k <= -n - 1:
        return n, comb(-k - 1, n)
    return None, 0


@lru_cache(maxsize=None)
def _compositions(total: int, parts: int):
    """All exponent vectors of ``parts`` nonnegative integers summing to ``total`` (array)."""
    if parts == 1:
        return np.array([[total]], dtype=np.int64)
    blocks = []
    for first in range(total, -1, -1):
        rest = _compositions(total - first, parts - 1)
        blocks.append(np.hstack([np.full((rest.shape[0], 1), first, dtype=np.int64), rest]))
    return np.vstack(blocks)


@lru_cache(maxsize=None)
def _factor_basis(n: int, k: int):
    """Monomial basis of the nonzero cohomology of O(k) on P^n (rows = exponent vectors).

    H^0: monomials of degree k.  H^n (k <= -n-1): inverse monomials x^a, all a_l <= -1.
    """
    if k >= 0:
        return _compositions(k, n + 1)
    return -1 - _compositions(-k - n - 1, n + 1)


def _ambient_basis(n, k):
    """Künneth basis (rows = exponent vectors over all variables) of H^q(A, O(k)).

    Rows in C order of the factors' bases (the first factor varies slowest); a factor with
    a single basis element (O on that factor) is one constant block.
    """
    blocks = [_factor_basis(ni, int(ki)) for ni, ki in zip(n, k)]
    total = 1
    for b in blocks:
        total *= b.shape[0]
    out = np.zeros((total, sum(b.shape[1] for b in blocks)), dtype=np.int64)
    inner, col = total, 0
    for (ni, ki), b in zip(zip(n, k), blocks):
        size, width = b.shape
        if size > 1:
            inner //= size
            out[:, col:col + width] = np.tile(np.repeat(b, inner, axis=0), (total // (size * inner), 1))
        elif ki and total:  # a single monomial: x^0 (k = 0, the zeros already there) or x^-1
            out[:, col:col + width] = b[0]
        col += width
    return out


def ambient_cohomology(n, k):
    """(q, dim) of the only nonzero cohomology group of O_A(k), or (None, 0)."""
    q, dim = 0, 1
    for ni, ki in zip(n, k):
        qi, di = _bott(int(ni), int(ki))
        if qi is None:
            return None, 0
        q += qi
        dim *= di
    return q, dim


# --------------------------------------------------------------------------------------
# The configuration with its random (generic) defining polynomials
# --------------------------------------------------------------------------------------

class _Config:
    """Degree block, dimensions and random defining polynomials over F_p."""

    def __init__(self, P, seed=DEFAULT_SEED):
        self.P = np.asarray(P, dtype=np.int64)
        self.m, self.K = self.P.shape
        self.n = tuple((self.P.sum(axis=1) - 1).tolist())
        self.nvar = sum(ni + 1 for ni in self.n)
        self.offsets = np.cumsum((0,) + tuple(ni + 1 for ni in self.n))
        self.seed = seed
        self._random = None  # (polys, hash codes), drawn on first use: exact cases never need them
        self._basis_cache = {}
        self._line_bundles = {}  # L -> _LineBundle: each line bundle is evaluated once per configuration
        self._derivatives = {}
        self._terms = {}  # L -> Koszul terms (see koszul_terms)
        self.force_transfer = _FORCE_TRANSFER

    def _draw(self):
        """Random coefficients of the defining polynomials and the monomial hash (fixed seed).

        Column j's coefficients are drawn in column order, one per monomial of degree
        P[:, j] (binom(n_i + P_ij, n_i) on each factor); its monomials are built when the
        column is first used (:class:`_Polys`)."""
        if self._random is None:
            rng = np.random.default_rng(self.seed)
            coefs = []
            for col in self.P.T.tolist():
                size = 1
                for ni, ki in zip(self.n, col):
                    size *= comb(ni + ki, ni)
                coefs.append(rng.integers(1, PRIME, size=size, dtype=np.int64))
            self._random = (_Polys(self, coefs), rng.integers(1, 2**62, size=self.nvar, dtype=np.int64))
        return self._random

    @property
    def polys(self):
        return self._draw()[0]

    @property
    def _hash(self):
        return self._draw()[1]

    def koszul_terms(self, L):
        """The Koszul terms (S, k, q, dim) of O(L) (see :func:`_koszul_subsets`), cached."""
        terms = self._terms.get(L)
        if terms is None:
            terms = self._terms[L] = _koszul_subsets(self.P, self.n, L)
        return terms

    def prepare_terms(self, bundles):
        """Compute the Koszul terms of several bundles L >= 0 (tuples of ints) in one batch."""
        todo = [L for L in dict.fromkeys(bundles) if L not in self._terms]
        if todo:
            self._terms.update(zip(todo, _koszul_subsets_many(self.P, self.n, todo)))

    def line_bundle(self, L):
        """The (cached) Koszul evaluation of O_X(L)."""
        key = tuple(map(int, L))
        lb = self._line_bundles.get(key)
        if lb is None:
            lb = self._line_bundles[key] = _LineBundle(self, key, force_transfer=self.force_transfer)
        return lb

    def basis(self, k):
        """Basis of H^q(A, O(k)) and its hash codes (sorted order index)."""
        key = tuple(int(v) for v in k)
        if key not in self._basis_cache:
            B = _ambient_basis(self.n, key)
            codes = B @ self._hash  # wraps mod 2^64: a hash, checked on lookup
            order = np.argsort(codes, kind="stable")
            self._basis_cache[key] = (B, codes[order], order)
        return self._basis_cache[key]

    def multiply(self, k_src, k_dst, mons, coef):
        """Matrix (dim_dst x dim_src) of multiplication by sum coef * x^mons from
        H^q(A, O(k_src)) to H^q(A, O(k_dst)) (same q, same negative rows)."""
        Bs, _, _ = self.basis(k_src)
        Bd, codes, order = self.basis(k_dst)
        M = np.zeros((Bd.shape[0], Bs.shape[0]), dtype=np.int64)
        if Bs.shape[0] == 0 or Bd.shape[0] == 0 or mons.shape[0] == 0:
            return M
        neg_vars = self._negative_vars(k_dst)
        # chunks of source monomials keep the (chunk, nb, nvar) exponent array small
        step = max(1, 4_000_000 // (mons.shape[0] * self.nvar))
        for start in range(0, Bs.shape[0], step):
            W = Bs[start:start + step, None, :] + mons[None, :, :]
            if neg_vars.size:
                valid = np.all(W[:, :, neg_vars] <= -1, axis=2)
            else:
                valid = np.ones(W.shape[:2], dtype=bool)
            src_idx, mon_idx = np.nonzero(valid)
            if src_idx.size == 0:
                continue
            Wv = W[src_idx, mon_idx]
            wc = Wv @ self._hash
            pos = np.minimum(np.searchsorted(codes, wc), codes.size - 1)
            if not (codes[pos] == wc).all() or not np.array_equal(Bd[order[pos]], Wv):
                # every product lands in the target basis (same degree, same negative rows)
                raise RuntimeError("monomial lookup failed (hash collision?)")
            M[order[pos], src_idx + start] = coef[mon_idx]  # distinct monomials: distinct targets
        return M % PRIME

    def cech(self):
        """The configuration's Čech helper; its work budget is shared by all zig-zags."""
        if getattr(self, "_cech", None) is None:
            self._cech = _Cech(self)
        return self._cech

    def _negative_vars(self, k):
        cols = [np.arange(self.offsets[i], self.offsets[i + 1]) for i in range(self.m) if k[i] < 0]
        return np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)

    def derivative(self, j, var):
        """d f_j / d x_var as (monomials, coefficients) (cached)."""
        key = (j, var)
        if key not in self._derivatives:
            mons, coef = self.polys[j]
            keep = mons[:, var] > 0
            d = mons[keep].copy()
            c = (coef[keep] * d[:, var]) % PRIME
            d[:, var] -= 1
            self._derivatives[key] = (d, c)
        return self._derivatives[key]


class _Polys:
    """The defining polynomials: ``polys[j]`` is (monomials (nb, nvar), coefficients (nb,))
    of column j, its monomials built on first use (most configurations need a few columns)."""

    def __init__(self, cfg, coefs):
        self._cfg, self._coefs = cfg, coefs
        self._items = [None] * len(coefs)

    def __len__(self):
        return len(self._coefs)

    def __getitem__(self, j):
        item = self._items[j]
        if item is None:
            mons = _ambient_basis(self._cfg.n, self._cfg.P[:, j])
            if mons.shape[0] != self._coefs[j].shape[0]:
                raise RuntimeError("internal error: monomial count of a defining polynomial")
            item = self._items[j] = (mons, self._coefs[j])
        return item

    def __iter__(self):
        return (self[j] for j in range(len(self)))


# --------------------------------------------------------------------------------------
# Čech cochains (for the d2 differentials of the Koszul spectral sequence)
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Koszul spectral sequence for a line bundle restricted to X
# --------------------------------------------------------------------------------------

def _koszul_subsets(P, n, L):
    """Subsets S of columns with H^*(A, O(L - D_S)) != 0, as (S, k, q, dim) tuples.

    In the order of the general search (indicator vectors in lexicographic order, 0 before
    1); for ``L >= 0`` see :func:`_koszul_subsets_many`.
    """
    L = tuple(int(v) for v in L)
    if min(L) < 0:
        return _koszul_subsets_general(P, n, L)
    return _koszul_subsets_many(P, n, [L])[0]


def _koszul_subsets_many(P, n, Ls):
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

    def __init__(self, cfg: _Config, L, allow_compute=True, force_transfer=False):
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


def line_bundle_cohomology(P, L, seed=DEFAULT_SEED, rank_backend=None):
    """``(h^0, ..., h^4)`` of ``O_X(L)`` on the CICY with degree block ``P``.

    Raises ``Undetermined`` when the Koszul spectral sequence is beyond this implementation.
    """
    with using_backend(rank_backend):
        return tuple(_Config(P, seed).line_bundle(L).h)


# --------------------------------------------------------------------------------------
# Tangent bundle cohomology
# --------------------------------------------------------------------------------------

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


def _jacobian_rank_transferred(cfg, E, N, q):
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
