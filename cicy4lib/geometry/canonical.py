"""Canonical form of a degree matrix under row and column permutations.

Two configurations are the same manifold description when one is the other with rows and
columns permuted; :func:`canonical_form` picks one representative of each class, so the
generators de-duplicate by comparing canonical forms (:func:`canonical_key`).
"""
from __future__ import annotations

import numpy as np

from ..errors import CanonicalFormError


def _rank(signatures):
    """Dense ranks of hashable, orderable signatures (equal signature -> equal rank)."""
    order = {s: r for r, s in enumerate(sorted(set(signatures)))}
    return np.fromiter((order[s] for s in signatures), dtype=np.int64, count=len(signatures))


def _refine(P, rows, cols, nz_rows, nz_cols):
    """Colour refinement of the weighted bipartite row/column graph until it is stable.

    Colours are ranks of sorted signatures, so they are invariant under permutations:
    isomorphic configurations get corresponding colours.
    """
    while True:
        new_rows = _rank([(rows[i], tuple(sorted((P[i, j], cols[j]) for j in nz_rows[i])))
                          for i in range(P.shape[0])])
        new_cols = _rank([(cols[j], tuple(sorted((P[i, j], new_rows[i]) for i in nz_cols[j])))
                          for j in range(P.shape[1])])
        stable = (new_rows.max() == rows.max() and new_cols.max() == cols.max())
        rows, cols = new_rows, new_cols
        if stable:
            return rows, cols


def _leaf(P, rows):
    """Matrix for a discrete row colouring: rows by colour, columns sorted descending."""
    Q = P[np.argsort(rows, kind="stable")]
    return Q[:, np.lexsort(-Q[::-1])]


def canonical_form(P, max_leaves=20000):
    """Canonical representative of ``P`` under row and column permutations.

    Two degree matrices are equivalent (equal up to permuting rows and columns) exactly
    when their canonical forms are equal. Method: colour refinement, then individualisation
    of one row of the smallest ambiguous colour class at a time (rows with identical
    entries are interchangeable, so only one of them is tried); each discrete colouring
    orders the rows, columns are sorted, and the lexicographically smallest matrix wins.

    Parameters
    ----------
    P : array_like of int, shape (m, K)
        Degree block.
    max_leaves : int
        Search budget; :class:`CanonicalFormError` beyond it (never seen in practice).

    Returns
    -------
    numpy.ndarray of int64, shape (m, K)
    """
    P = np.asarray(P, dtype=np.int64)
    m, K = P.shape
    nz_rows = [np.flatnonzero(P[i]) for i in range(m)]
    nz_cols = [np.flatnonzero(P[:, j]) for j in range(K)]
    # start from the dimensions (bigger projective spaces first) and column degrees
    rows0 = _rank([-int(s) for s in P.sum(1)])
    cols0 = _rank([-int(s) for s in P.sum(0)])
    best = [None]
    budget = [max_leaves]

    def search(rows, cols):
        rows, cols = _refine(P, rows, cols, nz_rows, nz_cols)
        sizes = np.bincount(rows)
        if sizes.max() == 1:
            leaf = _leaf(P, rows)
            key = leaf.astype(np.int8).tobytes()
            if best[0] is None or key < best[0][0]:
                best[0] = (key, leaf)
            budget[0] -= 1
            if budget[0] < 0:
                raise CanonicalFormError("configuration too symmetric for the canonical-form budget")
            return
        # individualise within the smallest ambiguous class (fewest branches)
        target = min((s, c) for c, s in enumerate(sizes) if s > 1)[1]
        tried = set()
        for r in np.flatnonzero(rows == target):
            key = P[r].tobytes()
            if key in tried:  # identical rows: swapping them is an automorphism
                continue
            tried.add(key)
            bumped = (rows == target) & (np.arange(m) != r)
            search(rows * 2 + bumped, cols)

    search(rows0, cols0)
    return best[0][1]


def canonical_key(P):
    """Hashable canonical key: shape plus the canonical matrix's bytes."""
    C = canonical_form(P)
    return (C.shape, C.astype(np.int8).tobytes())


def equivalent(P, Q):
    """True when ``Q`` is ``P`` with rows and columns permuted."""
    P, Q = np.asarray(P), np.asarray(Q)
    return P.shape == Q.shape and canonical_key(P) == canonical_key(Q)

