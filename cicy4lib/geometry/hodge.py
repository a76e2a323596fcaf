"""Hodge numbers of a validated configuration (line-bundle cohomology in :mod:`.cohomology`)."""
from __future__ import annotations

import dataclasses

from .cohomology import hodge_from_degree_matrix
from .products import _components
from .validate import as_degree_matrix


def hodge_numbers(conf, scale=None):
    """Hodge numbers (h11, h21, h31, h22) from line-bundle cohomology.

    Validates ``conf`` here, then calls :func:`cicy4lib.geometry.cohomology.hodge_from_degree_matrix`
    (imported lazily so this module works without it). Direct products are valid
    four-folds; their result's ``detail`` says so.

    Returns
    -------
    cicy4lib.geometry.cohomology.HodgeResult
        ``.hodge`` (tuple or None), ``.method`` ("exact", "generic-rank", "undetermined"),
        ``.euler`` and ``.detail``.
    """
    P = as_degree_matrix(conf, scale=scale)
    result = hodge_from_degree_matrix(P)
    blocks = _components(P)
    if len(blocks) > 1 and dataclasses.is_dataclass(result):
        note = f"direct product of {len(blocks)} blocks"
        detail = getattr(result, "detail", "") or ""
        if note not in detail:
            result = dataclasses.replace(result, detail=f"{note}; {detail}" if detail else note)
    return result


