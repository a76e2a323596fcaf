"""Ambient cohomology: Bott + Künneth on ``A = P^{n_1} x ... x P^{n_m}``, with explicit (inverse)
monomial bases (``H^n(P^n, O(k))`` for ``k < 0`` is spanned by Laurent monomials with all
exponents ``<= -1``)."""
from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np


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
