"""Splittings and contractions of configuration matrices; redundant (non-minimal) descriptions.

A configuration with a row ``P^n`` whose entries are ``n + 1`` ones (zeros elsewhere) is a
*splitting* of the configuration obtained by deleting that row and adding up the ``n + 1``
columns it meets into one (the *contraction*). The splitting is called *ineffective* here (the
Euler rule) when both have the same Euler number. For three-folds they are then the same manifold
(Candelas et al., Nucl. Phys. B298 (1988) 493, §3), and a list built like the CICY4 list
(Gray–Haupt–Lukas, arXiv:1303.1832) keeps only the smaller description. For four-folds equal χ is
necessary, not sufficient: :mod:`.equivalence` compares Hodge numbers too.

A configuration is *minimal* here when none of its contractions has its Euler number (the
stricter filter: minimal under it is minimal under the Hodge rule as well).
:func:`minimal_description` contracts along such rows until none is left.
"""
from __future__ import annotations

import numpy as np

from ..constants import MAX_COLS, MAX_ROWS
from .euler import euler_numbers


def split(P, col, parts):
    """Split column ``col`` of ``P`` into ``parts`` and add the new ``P^n`` row on top.

    Parameters
    ----------
    P : array_like of int, shape (m, K)
    col : int
        The column that is split.
    parts : sequence of n + 1 nonzero integer vectors of length m summing to ``P[:, col]``.

    Returns
    -------
    numpy.ndarray of int64, shape (m + 1, K + n)
        New row ``[1]*(n+1) + [0]*(K-1)`` then the old rows with the parts in place of column
        ``col`` (first), followed by the other columns.

    Raises
    ------
    ValueError
        If the parts do not sum to the column, one is zero, or there are fewer than two.
    """
    P = np.asarray(P, dtype=np.int64)
    parts = np.asarray(parts, dtype=np.int64).reshape(len(parts), P.shape[0])
    if (parts.sum(0) != P[:, col]).any() or (parts.sum(1) == 0).any() or len(parts) < 2:
        raise ValueError("parts must be at least two nonzero vectors summing to the column")
    rest = np.delete(P, col, axis=1)
    old = np.concatenate([parts.T, rest], axis=1)
    new_row = np.zeros((1, old.shape[1]), dtype=np.int64)
    new_row[0, :len(parts)] = 1
    return np.concatenate([new_row, old], axis=0)


def contractions(P):
    """The configurations ``P`` is a splitting of.

    Parameters
    ----------
    P : array_like of int, shape (m, K)

    Yields
    ------
    (int, numpy.ndarray)
        The removed row's index and the contracted matrix (its merged column first).
    """
    P = np.asarray(P, dtype=np.int64)
    if P.shape[0] < 2:
        return
    for i in range(P.shape[0]):
        if P[i].max() > 1:
            continue
        hit = np.flatnonzero(P[i])
        rest = np.delete(P, i, axis=0)
        merged = rest[:, hit].sum(1, keepdims=True)
        yield i, np.concatenate([merged, np.delete(rest, hit, axis=1)], axis=1)


def _padded(mats):
    out = np.zeros((len(mats), MAX_ROWS, MAX_COLS), np.int64)
    for r, Q in enumerate(mats):
        out[r, :Q.shape[0], :Q.shape[1]] = Q
    return out


def _trim(P):
    """Degree block of a zero-padded matrix."""
    P = np.asarray(P, dtype=np.int64)
    rows = np.flatnonzero(P.any(1))
    cols = np.flatnonzero(P.any(0))
    return P[:rows.max() + 1, :cols.max() + 1] if len(rows) else P[:0, :0]


def contraction_matches(mats, eulers=None):
    """Every contraction of every configuration, and whether it keeps the Euler number
    (Euler numbers computed in one batch).

    Parameters
    ----------
    mats : sequence of integer arrays (degree blocks, or zero-padded 16 x 20 matrices)
    eulers : sequence of int, optional
        Their exact Euler numbers (computed when not given).

    Returns
    -------
    (owners, rows, same) : three numpy arrays of equal length
        One entry per contraction: the index into ``mats``, the contracted row, and True where
        the contraction has the same Euler number (an ineffective splitting).
    """
    mats = [_trim(P) for P in mats]
    if eulers is None:
        eulers = euler_numbers(_padded(mats)) if mats else np.zeros(0, np.int64)
    eulers = np.asarray(eulers, dtype=np.int64)
    owners, rows, smaller = [], [], []
    for k, P in enumerate(mats):
        for i, Q in contractions(P):
            owners.append(k)
            rows.append(i)
            smaller.append(Q)
    owners = np.asarray(owners, dtype=np.int64)
    if not smaller:
        return owners, np.zeros(0, np.int64), np.zeros(0, bool)
    same = euler_numbers(_padded(smaller)) == eulers[owners]
    return owners, np.asarray(rows, dtype=np.int64), same


def ineffective_rows(mats, eulers=None):
    """For each configuration, the rows along which it contracts to the same Euler number.

    Parameters
    ----------
    mats : sequence of integer arrays (degree blocks, or zero-padded 16 x 20 matrices)
    eulers : sequence of int, optional
        Their exact Euler numbers (computed when not given).

    Returns
    -------
    list of list of int
        ``out[k]`` lists the rows of ``mats[k]`` whose contraction keeps the Euler number
        (empty for a minimal configuration).
    """
    owners, rows, same = contraction_matches(mats, eulers)
    out = [[] for _ in mats]
    for k, i in zip(owners[same].tolist(), rows[same].tolist()):
        out[k].append(i)
    return out


def redundant_mask(mats, eulers=None):
    """Which configurations are ineffective splittings of a smaller one (not minimal).

    Parameters
    ----------
    mats : sequence of integer arrays (degree blocks or zero-padded matrices)
    eulers : sequence of int, optional
        Their exact Euler numbers (computed when not given).

    Returns
    -------
    numpy.ndarray of bool, shape (len(mats),)
    """
    return np.array([bool(r) for r in ineffective_rows(mats, eulers)], dtype=bool)


def minimal_description(P):
    """Contract ``P`` along ineffective contractions until none is left.

    Parameters
    ----------
    P : array_like of int (degree block or zero-padded matrix)

    Returns
    -------
    numpy.ndarray of int64
        A minimal configuration with the same Euler number (the same manifold where each
        contraction keeps the Hodge numbers too: :mod:`.equivalence` checks that); ``P`` itself
        (trimmed) when it is minimal already.
    """
    P = _trim(P)
    chi = int(euler_numbers(_padded([P]))[0])
    while True:
        rows = ineffective_rows([P], [chi])[0]
        if not rows:
            return P
        P = dict(contractions(P))[rows[0]]


def random_splittings(P, rng, tries=64, dims=(1, 2)):
    """Distinct random splittings of ``P`` (effective or not) within the 16 x 20 limits.

    Parameters
    ----------
    P : array_like of int (degree block or zero-padded matrix)
    rng : numpy.random.Generator
    tries : int
        Random splittings drawn (duplicates dropped).
    dims : tuple of int
        Dimensions n of the new ``P^n`` row.

    Returns
    -------
    list of numpy.ndarray (degree blocks)
    """
    P = _trim(P)
    m, K = P.shape
    if m >= MAX_ROWS:
        return []
    cands, seen = [], set()
    for _ in range(tries):
        d = int(rng.choice(dims))
        if K + d > MAX_COLS:
            continue
        col = int(rng.integers(K))
        if P[:, col].sum() < d + 1:
            continue
        units = np.repeat(np.arange(m), P[:, col])
        rng.shuffle(units)
        owner = np.concatenate([np.arange(d + 1), rng.integers(0, d + 1, size=len(units) - d - 1)])
        parts = np.zeros((d + 1, m), dtype=np.int64)
        np.add.at(parts, (owner, units), 1)
        Q = split(P, col, parts)
        key = Q.tobytes() + bytes(Q.shape)
        if key not in seen:
            seen.add(key)
            cands.append(Q)
    return cands


def ineffective_splittings(mats, rng, n, tries=64, dims=(1, 2)):
    """Up to ``n`` distinct random splittings of each configuration whose Euler number is the
    configuration's. For four-folds equal χ is not always the same manifold: the candidates of
    :func:`cicy4lib.geometry.equivalence.same_hodge_splittings`, which keeps those with the same
    Hodge numbers. Euler numbers are computed in one batch.

    Parameters
    ----------
    mats : sequence of integer arrays (degree blocks or zero-padded matrices)
    rng : numpy.random.Generator
    n : int
        Descriptions wanted per configuration.
    tries : int
        Random splittings tried per configuration.
    dims : tuple of int
        Dimensions n of the new ``P^n`` row.

    Returns
    -------
    list of list of numpy.ndarray
        ``out[k]``: degree blocks describing ``mats[k]`` (possibly fewer than ``n``).
    """
    mats = [_trim(P) for P in mats]
    chis = euler_numbers(_padded(mats)) if mats else np.zeros(0, np.int64)
    cands, owner = [], []
    for k, P in enumerate(mats):
        got = random_splittings(P, rng, tries, dims)
        cands += got
        owner += [k] * len(got)
    out = [[] for _ in mats]
    if not cands:
        return out
    same = euler_numbers(_padded(cands)) == chis[np.asarray(owner)]
    for Q, k, s in zip(cands, owner, same.tolist()):
        if s and len(out[k]) < n:
            out[k].append(Q)
    return out
