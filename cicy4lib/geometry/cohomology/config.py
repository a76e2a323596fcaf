"""The configuration with its random (generic) defining polynomials over ``F_p``: the object every
line bundle, Čech zig-zag and Jacobian map of one configuration shares; :func:`line_bundle_cohomology`."""
from __future__ import annotations

from math import comb

import numpy as np

from ..modp import PRIME, using_backend
from .ambient import _ambient_basis
from .cech import _Cech
from .koszul import _koszul_subsets, _koszul_subsets_many
from .linebundle import _LineBundle

DEFAULT_SEED = 0
_FORCE_TRANSFER = False  # tests only: evaluate every line bundle by the transferred complex


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


def line_bundle_cohomology(P, L, seed=DEFAULT_SEED, rank_backend=None):
    """``(h^0, ..., h^4)`` of ``O_X(L)`` on the CICY with degree block ``P``.

    Raises ``Undetermined`` when the Koszul spectral sequence is beyond this implementation.
    """
    with using_backend(rank_backend):
        return tuple(_Config(P, seed).line_bundle(L).h)
