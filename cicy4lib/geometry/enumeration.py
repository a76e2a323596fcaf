"""The complete enumeration of small Calabi–Yau four-fold configurations.

:func:`enumerate_configurations` lists every configuration with at most a few rows (up to
permutations, without direct products and columns of degree 1): the seeds both generators grow
from. :func:`ineffective_mask` finds the ones that are ineffective splittings (the same manifold
as a smaller configuration) by comparing Euler numbers with their contractions.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..constants import MAX_COLS, MAX_ROWS
from .canonical import canonical_form, canonical_key
from .products import is_product
from .splitting import contraction_matches

SEED_ROWS = 4  # configurations with at most this many rows are enumerated completely


def is_valid_cy4(P):
    """Whether ``P`` is a Calabi–Yau four-fold degree block within the list's limits.

    Parameters
    ----------
    P : array_like of int, shape (m, K)
        Degree block.

    Returns
    -------
    bool
        At most ``MAX_ROWS`` rows and ``MAX_COLS`` columns, no negative entry, every row a
        ``P^n`` with n >= 1, no linear column (total degree 1), and ``sum(n_i) - K == 4``.
    """
    P = np.asarray(P)
    m, K = P.shape
    if not (1 <= m <= MAX_ROWS and 1 <= K <= MAX_COLS) or (P < 0).any():
        return False
    n = P.sum(1) - 1
    # a column of total degree 1 is a hyperplane: the configuration is a smaller one in disguise
    return bool((n >= 1).all() and (P.sum(0) >= 2).all() and n.sum() - K == 4)


def _columns(caps, k, prev):
    """Multisets of k columns (non-increasing tuples, each of total degree >= 2) that use
    up the row capacities ``caps`` exactly."""
    if k == 0:
        if not any(caps):
            yield []
        return
    if sum(caps) < 2 * k:
        return
    for v in itertools.product(*(range(c, -1, -1) for c in caps)):
        if sum(v) < 2 or (prev is not None and v > prev):
            continue
        rest = tuple(c - x for c, x in zip(caps, v))
        if k == 1 and any(rest):
            continue
        for tail in _columns(rest, k - 1, v):
            yield [v] + tail


def enumerate_configurations(max_rows=SEED_ROWS):
    """Every Calabi–Yau four-fold configuration with at most ``max_rows`` rows, up to
    permutations, without direct products (block-diagonal ones) and columns of degree 1.

    Parameters
    ----------
    max_rows : int
        Largest row count.

    Returns
    -------
    dict
        rows -> list of canonical degree matrices (int64), in a deterministic order.
    """
    out = {}
    for m in range(1, max_rows + 1):
        seen = {}
        # 2K <= total degree = K + 4 + m, so K <= m + 4 and sum(n) = K + 4
        for K in range(1, m + 5):
            for dims in _partitions(K + 4, m):
                caps = tuple(d + 1 for d in dims)
                for cols in _columns(caps, K, None):
                    P = np.array(cols, dtype=np.int64).T
                    if is_product(P):
                        continue
                    key = canonical_key(P)
                    seen.setdefault(key, canonical_form(P))
        out[m] = [seen[k] for k in sorted(seen)]
    return out


def _partitions(total, parts):
    """Non-increasing tuples of ``parts`` positive integers summing to ``total``."""
    def rec(left, k, cap):
        if k == 0:
            if left == 0:
                yield ()
            return
        for x in range(min(cap, left - (k - 1)), 0, -1):
            for rest in rec(left - x, k - 1, x):
                yield (x,) + rest
    yield from rec(total, parts, total)



def ineffective_mask(mats, chis, rule="any"):
    """Which of ``mats`` are ineffective splittings (Euler numbers batched over all contractions).

    Parameters
    ----------
    mats : list of array_like
        Degree blocks.
    chis : sequence of int
        Their Euler numbers.
    rule : {"any", "all"}
        ``"any"``: some contraction has the same Euler number (the configuration is an
        ineffective splitting of a smaller one). ``"all"``: it has contractions and every one
        has the same Euler number (no effective splitting leads to it).

    Returns
    -------
    numpy.ndarray of bool, shape (len(mats),)
    """
    owners, _, same = contraction_matches(mats, chis)
    n_same = np.bincount(owners[same], minlength=len(mats))
    if rule == "any":
        return n_same > 0
    n_all = np.bincount(owners, minlength=len(mats))
    return (n_all > 0) & (n_same == n_all)


