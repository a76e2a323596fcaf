"""Direct products: a configuration whose degree block splits into independent blocks."""
from __future__ import annotations


import numpy as np


from .validate import as_degree_matrix


# --------------------------------------------------------------------------------------
# direct products
# --------------------------------------------------------------------------------------
def connected_components(P: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected components of the row-column graph (edge where P[i, j] > 0)."""
    m, K = P.shape
    row_seen = np.zeros(m, dtype=bool)
    blocks = []
    for start in range(m):
        if row_seen[start]:
            continue
        rows = np.zeros(m, dtype=bool)
        rows[start] = True
        while True:  # grow: rows -> their columns -> rows sharing them
            cols = (P[rows] > 0).any(axis=0)
            grown = (P[:, cols] > 0).any(axis=1) | rows
            if np.array_equal(grown, rows):
                break
            rows = grown
        row_seen |= rows
        blocks.append((np.flatnonzero(rows), np.flatnonzero(cols)))
    return blocks


def product_blocks(conf) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks of a block-diagonal configuration (under row and column permutations).

    Returns
    -------
    list of (row_indices, column_indices)
        One pair of int arrays per connected component of the bipartite graph
        rows-columns; a single block means the configuration is not a direct product.
    """
    return connected_components(as_degree_matrix(conf))


def is_product(conf) -> bool:
    """True when the configuration is a direct product (more than one block)."""
    return len(product_blocks(conf)) > 1


