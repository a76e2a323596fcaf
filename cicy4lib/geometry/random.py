"""Random (not deduplicated) configurations of list-like shape, for tests and benchmarks."""
from __future__ import annotations


import numpy as np

from ..constants import DIMENSION, MAX_COLS, MAX_ROWS


def random_configuration(rng: np.random.Generator, *, n_rows: int | None = None,
                         max_rows: int = MAX_ROWS, max_cols: int = MAX_COLS) -> np.ndarray:
    """A random valid CY four-fold configuration of list-like shape (not deduplicated).

    Rows are mostly P^1 and P^2 (n = 1..5 with probabilities .60/.25/.10/.03/.02), the
    row count is ~ Normal(10, 3) clipped to [1, max_rows] unless given, K = sum(n) - 4.
    Each column first gets one unit of degree, the remaining units of each row's
    ``n_i + 1`` go to random columns, so entries are mostly 0, 1 and 2. Products and
    duplicates are not excluded.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_rows : int, optional
        Fix the number of rows.
    max_rows, max_cols : int
        Shape limits (at most 16 and 20).

    Returns
    -------
    numpy.ndarray
        int64 (m, K) degree block.
    """
    if n_rows is not None and not 1 <= n_rows <= max_rows:
        raise ValueError(f"n_rows must be in 1..{max_rows}")
    while True:
        m = n_rows or int(np.clip(np.rint(rng.normal(10.0, 3.0)), 1, max_rows))
        n = rng.choice([1, 2, 3, 4, 5], size=m, p=[0.60, 0.25, 0.10, 0.03, 0.02])
        K = int(n.sum()) - DIMENSION
        if 1 <= K <= max_cols:
            break
    units = np.repeat(np.arange(m), n + 1)
    rng.shuffle(units)
    cols = np.concatenate([np.arange(K), rng.integers(0, K, size=units.size - K)])
    P = np.zeros((m, K), dtype=np.int64)
    np.add.at(P, (units, cols), 1)
    return P
