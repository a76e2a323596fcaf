"""Redundant descriptions as opt-in training data.

A redundant description is the same manifold under another, larger matrix, with the same Hodge
numbers. The CICY4 list keeps only the minimal description; seed 003 (CICYMiner) suggests the
redundant ones as extra training data. A splitting that keeps the Euler number is not always
the same four-fold (:mod:`cicy4lib.geometry.equivalence`), so every candidate is labelled and
kept only when its Hodge numbers are the configuration's: the appended rows carry exact labels.
:func:`with_redundant_training` appends such descriptions of the *training* rows only, so the
validation and test parts of a split stay exactly what they were.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..constants import MAX_COLS, MAX_ROWS
from ..errors import DataError
from ..geometry.equivalence import same_hodge_splittings
from .splits import Split


def redundant_descriptions(conf, hodge, per_entry=1, seed=0):
    """Redundant descriptions of each configuration: splittings with its Euler and Hodge numbers.

    Parameters
    ----------
    conf : int array (N, 16, 20)
        Zero-padded degree matrices.
    hodge : int array (N, 4)
        Their Hodge numbers: each candidate's exact labels must equal them.
    per_entry : int
        Descriptions wanted per configuration (fewer where fewer are found).
    seed : int

    Returns
    -------
    (numpy.ndarray int8 (M, 16, 20), numpy.ndarray int64 (M,), dict)
        The new matrices; for each, the row of ``conf`` it describes; counts of the χ-equal
        candidates whose labels were the same, different (dropped) or not found (dropped).
    """
    rng = np.random.default_rng(seed)
    mats, owners = [], []
    found_all, counts = same_hodge_splittings(list(np.asarray(conf)), hodge, rng, per_entry, tries=16)
    for k, found in enumerate(found_all):
        mats += found
        owners += [k] * len(found)
    out = np.zeros((len(mats), MAX_ROWS, MAX_COLS), np.int8)
    for r, Q in enumerate(mats):
        out[r, :Q.shape[0], :Q.shape[1]] = Q
    return out, np.asarray(owners, dtype=np.int64), counts


def with_redundant_training(data, split, per_entry=1, seed=0):
    """The dataset with redundant descriptions of its training rows appended, and the split
    whose training part includes them (validation and test parts unchanged).

    Parameters
    ----------
    data : CICYData
    split : Split
    per_entry : int
        Redundant descriptions per training configuration.
    seed : int

    Returns
    -------
    (CICYData, Split)
        ``data.meta["redundant"]`` is a bool array marking the appended rows and
        ``data.meta["describes"]`` gives, for each row, the row whose manifold it describes
        (itself for the original rows); ``provenance["redundant_training_rows"]`` counts them and
        ``provenance["redundant_candidates"]`` counts the χ-equal candidates by verdict.

    Raises
    ------
    DataError
        If ``per_entry`` is not a positive integer.
    """
    if int(per_entry) != per_entry or per_entry < 1:
        raise DataError(f"per_entry must be a positive integer, got {per_entry!r}")
    train = np.asarray(split.train, dtype=np.int64)
    new_conf, owners, counts = redundant_descriptions(data.conf[train], data.hodge[train], int(per_entry), seed)
    src = train[owners]
    n = len(data)
    meta = {k: v for k, v in data.meta.items()
            if not (isinstance(v, np.ndarray) and v.shape[:1] == (n,))}
    meta["redundant"] = np.concatenate([np.zeros(n, bool), np.ones(len(src), bool)])
    meta["describes"] = np.concatenate([np.arange(n), src])
    prov = dict(data.provenance, redundant_training_rows=int(len(src)), redundant_candidates=counts)
    out = replace(data, conf=np.concatenate([data.conf, new_conf.astype(data.conf.dtype)]),
                  hodge=np.concatenate([data.hodge, data.hodge[src]]),
                  euler=np.concatenate([data.euler, data.euler[src]]),
                  is_product=np.concatenate([data.is_product, data.is_product[src]]),
                  ids=np.concatenate([data.ids, np.full(len(src), -1, data.ids.dtype)]),
                  splits=None, meta=meta, provenance=prov)
    new_split = Split(train=np.concatenate([train, n + np.arange(len(src))]),
                      valid=np.asarray(split.valid), test=np.asarray(split.test),
                      name=f"{split.name}+redundant" if split.name else "redundant")
    return out, new_split
