"""Which Euler-equal contractions describe the same manifold: Hodge numbers compared exactly.

For three-folds a splitting that keeps the Euler number is ineffective: the same manifold.
For four-folds that does not follow. The singular locus of the contracted configuration is a
curve, a curve can have Euler number 0, and then an effective splitting keeps χ. Measured
(``benchmarks/bench_redundancy_rule.py``): for 110 of 150 χ-redundant release-2 entries, a χ-equal
contraction has a different h11. h11 = b2 is a topological invariant, so those are two different
manifolds. Equal χ and equal Hodge numbers is the necessary condition used here for "the same
manifold". The χ rule of :mod:`.splitting` stays the stricter filter of the generated set:
a configuration minimal under it is minimal under this one too.
"""
from __future__ import annotations

import numpy as np

from .euler import euler_numbers
from .labelling import LABEL_TIMEOUT_S, label_with_limit
from .splitting import _padded, _trim, contractions, ineffective_rows, ineffective_splittings


def _verdict(P, chi, hodge, timeout, cache):
    """"same", "different" or "unlabelled": ``P``'s Hodge numbers against ``hodge`` (labels cached)."""
    key = P.tobytes() + bytes(P.shape)
    if key not in cache:
        cache[key] = label_with_limit(P, timeout, euler=chi)[0]
    h = cache[key]
    return "unlabelled" if h is None else "same" if tuple(h) == tuple(hodge) else "different"


def contraction_verdicts(mats, eulers, hodge, timeout=LABEL_TIMEOUT_S, chi_equal_rows=None):
    """Sort each configuration's χ-equal contractions into same and different manifolds.

    Parameters
    ----------
    mats : sequence of integer arrays (degree blocks or zero-padded 16 x 20 matrices)
    eulers : sequence of int
        Their exact Euler numbers.
    hodge : array_like of int, shape (len(mats), 4)
        Their Hodge numbers (h11, h21, h31, h22).
    timeout : float
        CPU seconds allowed to label one contraction.
    chi_equal_rows : list of list of int, optional
        :func:`.splitting.ineffective_rows` of ``mats`` when the caller has them (computed here
        otherwise): the contractions that keep χ, the only ones labelled.

    Returns
    -------
    dict of str -> list of list of int
        ``"same"``: rows whose contraction has the same χ and the same Hodge numbers (a redundant
        description: the same manifold under a smaller matrix); ``"different"``: rows whose
        contraction has the same χ but other Hodge numbers (two different manifolds);
        ``"unlabelled"``: rows whose contraction could not be labelled within ``timeout``.
        One list of rows per configuration.
    """
    mats = [_trim(P) for P in mats]
    eulers = np.asarray(eulers, dtype=np.int64)
    hodge = np.asarray(hodge, dtype=np.int64).reshape(len(mats), 4)
    if chi_equal_rows is None:
        chi_equal_rows = ineffective_rows(mats, eulers)
    out = {k: [[] for _ in mats] for k in ("same", "different", "unlabelled")}
    cache = {}
    for k, (P, rows) in enumerate(zip(mats, chi_equal_rows)):
        for i, verdict in _row_verdicts(P, rows, int(eulers[k]), hodge[k], timeout, cache):
            out[verdict][k].append(i)
    return out


def _row_verdicts(P, rows, chi, hodge, timeout, cache):
    """(row, verdict) for the contraction of ``P`` along each of ``rows`` (χ-equal ones), lazily:
    a caller that stops early labels no further contraction."""
    if rows:
        smaller = dict(contractions(P))
        for i in rows:
            yield i, _verdict(smaller[i], chi, hodge, timeout, cache)


def same_hodge_splittings(mats, hodge, rng, n, tries=64, dims=(1, 2), timeout=LABEL_TIMEOUT_S):
    """Up to ``n`` redundant descriptions of each configuration, each checked by its labels:
    random splittings with the configuration's Euler number *and* its Hodge numbers.

    A χ-equal splitting can be a different manifold (module docstring), so each candidate is
    labelled; one whose Hodge numbers differ, or that cannot be labelled, is dropped.

    Parameters
    ----------
    mats : sequence of integer arrays (degree blocks or zero-padded matrices)
    hodge : array_like of int, shape (len(mats), 4)
        The configurations' Hodge numbers.
    rng : numpy.random.Generator
    n : int
        Descriptions wanted per configuration.
    tries : int
        Random splittings tried per configuration.
    dims : tuple of int
        Dimensions n of the new ``P^n`` row.
    timeout : float
        CPU seconds allowed to label one candidate.

    Returns
    -------
    (list of list of numpy.ndarray, dict)
        ``out[k]``: degree blocks describing ``mats[k]`` (possibly fewer than ``n``); counts of the
        χ-equal candidates labelled: ``"same"``, ``"different"``, ``"unlabelled"``.
    """
    mats = [_trim(P) for P in mats]
    hodge = np.asarray(hodge, dtype=np.int64).reshape(len(mats), 4)
    chis = euler_numbers(_padded(mats)) if mats else np.zeros(0, np.int64)
    out = [[] for _ in mats]
    counts = {"same": 0, "different": 0, "unlabelled": 0}
    cache = {}
    # every χ-equal candidate (up to ``tries``), labelled in turn until ``n`` have the same labels
    for k, cands in enumerate(ineffective_splittings(mats, rng, tries, tries, dims)):
        for Q in cands:
            if len(out[k]) >= n:
                break
            verdict = _verdict(Q, int(chis[k]), hodge[k], timeout, cache)
            counts[verdict] += 1
            if verdict == "same":
                out[k].append(Q)
    return out, counts


def hodge_rule_minimal(mats, eulers, chi_minimal, timeout=LABEL_TIMEOUT_S, cache=None):
    """Whether each configuration is minimal under the Hodge rule: minimal under the Euler rule
    (``chi_minimal``), or labelled and with every χ-equal contraction labelled and of other Hodge
    numbers (another manifold).

    Parameters
    ----------
    mats : sequence of integer arrays
    eulers : sequence of int
        Their exact Euler numbers.
    chi_minimal : array_like of bool
        Minimal under the Euler rule (no contraction keeps χ); those are not labelled here.
    timeout : float
        CPU seconds allowed to label one configuration or contraction.
    cache : dict, optional
        Labels by matrix (``bytes`` of the array and its shape), shared between calls.

    Returns
    -------
    numpy.ndarray of bool
        An entry that cannot be labelled within ``timeout``, or has an unlabelled χ-equal
        contraction, counts as not minimal.
    """
    cache = {} if cache is None else cache
    out = np.asarray(chi_minimal, bool).copy()
    for k in np.flatnonzero(~out):
        P, chi = _trim(mats[k]), int(eulers[k])
        key = P.tobytes() + bytes(P.shape)
        if ("verdict", key) in cache:  # a walk meets the same candidate again and again
            out[k] = cache["verdict", key]
            continue
        if key not in cache:
            cache[key] = label_with_limit(P, timeout, euler=chi)[0]
        h = cache[key]
        if h is not None:
            rows = ineffective_rows([P], [chi])[0]
            out[k] = all(v == "different" for _, v in _row_verdicts(P, rows, chi, h, timeout, cache))
        cache["verdict", key] = bool(out[k])
    return out
