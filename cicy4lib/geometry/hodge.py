"""Hodge numbers of a validated configuration (line-bundle cohomology in :mod:`.cohomology`)."""
from __future__ import annotations

import dataclasses

from .cohomology import hodge_from_degree_matrix
from .products import connected_components
from .validate import as_degree_matrix


def hodge_numbers(conf, scale=None):
    """Hodge numbers (h11, h21, h31, h22) from line-bundle cohomology.

    Validates ``conf`` here, then calls :func:`cicy4lib.geometry.cohomology.hodge_from_degree_matrix`
    (imported lazily so this module works without it). Direct products are valid
    four-folds; their result's ``detail`` says so.

    Parameters
    ----------
    conf : array-like
        A configuration matrix (rows: projective factors; columns: polynomials), nested lists,
        an array, or a padded matrix divided by ``scale``.
    scale : float, optional
        The factor a padded, scaled matrix was divided by (6 for the published data).

    Returns
    -------
    cicy4lib.geometry.cohomology.HodgeResult
        ``.hodge`` (tuple or None), ``.method`` ("exact", "generic-rank", "undetermined"),
        ``.euler`` and ``.detail``.

    Raises
    ------
    ConfigurationError
        When ``conf`` is not a valid configuration matrix.

    Examples
    --------
    >>> hodge_numbers([[2, 2, 4]]).hodge
    (1, 0, 263, 1100)
    """
    P = as_degree_matrix(conf, scale=scale)
    result = hodge_from_degree_matrix(P)
    blocks = connected_components(P)
    if len(blocks) > 1 and dataclasses.is_dataclass(result):
        note = f"direct product of {len(blocks)} blocks"
        detail = getattr(result, "detail", "") or ""
        if note not in detail:
            result = dataclasses.replace(result, detail=f"{note}; {detail}" if detail else note)
    return result


