"""The one validation edge for configuration matrices: :func:`as_degree_matrix`."""
from __future__ import annotations


import numpy as np

from ..constants import DEFAULT_SCALE, DIMENSION, MAX_COLS, MAX_ROWS

_INTEGRAL_TOL = 1e-6
_INT64_SAFE = float(2**62)
_MAX_ENTRY = 2**20  # far above any valid degree; guards the integer conversions


from ..errors import ConfigurationError


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _as_array(conf) -> np.ndarray:
    """Turn ``conf`` (array, tensor, nested lists) into a 2-D numeric numpy array."""
    if isinstance(conf, (str, bytes)):
        raise ConfigurationError(
            "configuration must be a matrix, not a string (parse text before calling)")
    try:
        arr = np.asarray(conf)
    except ValueError as exc:  # ragged nested lists
        raise ConfigurationError(f"rows have different lengths: {exc}") from None
    if arr.dtype == object:
        raise ConfigurationError("rows have different lengths or entries are not numbers")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise ConfigurationError(f"entries must be integers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ConfigurationError(
            f"configuration must be a 2-D matrix, got {arr.ndim}-D shape {arr.shape} "
            "(write a single row as [[...]])")
    if arr.size == 0:
        raise ConfigurationError("configuration is empty")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ConfigurationError("entries must be finite numbers (found NaN or inf)")
    return arr


def _is_integral(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x - np.rint(x)) <= _INTEGRAL_TOL * np.maximum(1.0, np.abs(x))))


def _strip_trailing_zeros(a: np.ndarray) -> np.ndarray:
    """Drop all-zero trailing rows and columns (the padded dataset form)."""
    rows = np.flatnonzero(a.any(axis=1))
    cols = np.flatnonzero(a.any(axis=0))
    if rows.size == 0:
        raise ConfigurationError("all entries are zero")
    return a[: rows[-1] + 1, : cols[-1] + 1]


def _check_block(P: np.ndarray, n_given: np.ndarray | None) -> None:
    """Check a degree block (and given dimensions, if any); raise on the first problem."""
    m, K = P.shape
    zero_rows = np.flatnonzero(~P.any(axis=1))
    if zero_rows.size:
        raise ConfigurationError(
            f"row {zero_rows[0]} is all zeros (a projective factor that no polynomial uses)")
    zero_cols = np.flatnonzero(~P.any(axis=0))
    if zero_cols.size:
        raise ConfigurationError(
            f"column {zero_cols[0]} is all zeros (a polynomial of degree 0)")
    sums = P.sum(axis=1)
    if n_given is not None:
        for i in range(m):
            if n_given[i] < 1:
                raise ConfigurationError(
                    f"row {i}: dimension column gives P^{n_given[i]}; every factor needs n >= 1")
            if sums[i] != n_given[i] + 1:
                raise ConfigurationError(
                    f"row {i}: degrees sum to {sums[i]} but P^{n_given[i]} needs "
                    f"{n_given[i] + 1} (Calabi-Yau condition)")
    small = np.flatnonzero(sums < 2)
    if small.size:
        i = small[0]
        raise ConfigurationError(
            f"row {i}: degrees sum to {sums[i]}, which makes it P^{sums[i] - 1}; "
            "the Calabi-Yau condition needs a row sum >= 2 (P^n with n >= 1)")
    dim = int(sums.sum() - m - K)
    if dim != DIMENSION:
        raise ConfigurationError(
            f"dimension sum(n_i) - K = {dim}, not {DIMENSION} "
            f"({m} rows with n_i = row sum - 1, {K} columns)")
    if m > MAX_ROWS:
        raise ConfigurationError(f"{m} rows: at most {MAX_ROWS} projective factors allowed")
    if K > MAX_COLS:
        raise ConfigurationError(f"{K} columns: at most {MAX_COLS} polynomials allowed")


def _interpret_integer_matrix(a: np.ndarray) -> np.ndarray:
    """Validate an integer matrix, with or without a leading dimension column."""
    neg = np.argwhere(a < 0)
    if neg.size:
        i, j = neg[0]
        raise ConfigurationError(f"negative entry {a[i, j]} at row {i}, column {j}")
    if a.max() > _MAX_ENTRY:  # keeps the sums below exact in int64
        raise ConfigurationError(
            f"entry {a.max()} is too large (a four-fold's row sums are at most 25)")
    a = _strip_trailing_zeros(a)
    m, K = a.shape
    block_dim = int(a.sum() - m - K)
    # The dimension condition settles the reading: if the whole matrix is a valid
    # degree block, reading column 0 as dimensions gives dimension K + 6 instead.
    dimcol_dim = int(a[:, 0].sum() - (K - 1)) if K >= 2 else None
    if block_dim != DIMENSION and dimcol_dim == DIMENSION:
        P = np.ascontiguousarray(a[:, 1:])
        _check_block(P, a[:, 0])
        return P
    P = np.ascontiguousarray(a)
    _check_block(P, None)
    return P


def _candidate_scales(x: np.ndarray) -> list[float]:
    """Scales to try on a float matrix: 1 if integral, the dataset's 6, the implied one."""
    out = [1.0] if _is_integral(x) else []
    out.append(DEFAULT_SCALE)
    stripped = _strip_trailing_zeros(np.abs(x))
    total = float(stripped.sum())
    if total > 0:  # sum(n_i) - K = 4 with n_i = s * rowsum - 1 fixes s uniquely
        m, K = stripped.shape
        out.append((m + K + DIMENSION) / total)
    return out


def _first_fraction(x: np.ndarray) -> str:
    """Describe the first non-integer entry of ``x``."""
    bad = np.argwhere(np.abs(x - np.rint(x)) > _INTEGRAL_TOL * np.maximum(1.0, np.abs(x)))
    if bad.size == 0:
        return ""
    i, j = bad[0]
    return f"non-integer entry {x[i, j]:g} at row {i}, column {j}"


def _rounded(y: np.ndarray) -> np.ndarray:
    """Round an integral float matrix to int64, refusing values int64 cannot hold."""
    if y.max() > _MAX_ENTRY:
        raise ConfigurationError(
            f"entry {y.max():g} is too large (a four-fold's row sums are at most 25)")
    return np.rint(y).astype(np.int64)


def _recover_float(x: np.ndarray, scale) -> np.ndarray:
    """Integers from a float matrix (integral, or rescaled like conf.npy)."""
    if np.any(x < 0):
        i, j = np.argwhere(x < 0)[0]
        raise ConfigurationError(f"negative entry {x[i, j]:g} at row {i}, column {j}")
    if x.max() > _MAX_ENTRY:
        raise ConfigurationError(
            f"entry {x.max():g} is too large (a four-fold's row sums are at most 25)")
    if scale is not None:
        y = x * float(scale)
        if not _is_integral(y):
            raise ConfigurationError(
                f"cannot recover the scale: entries times scale={scale:g} are not integers "
                f"({_first_fraction(y)})")
        return _interpret_integer_matrix(_rounded(y))
    first_error = None
    for s in _candidate_scales(x):
        y = x * s
        if not _is_integral(y):
            continue
        try:
            return _interpret_integer_matrix(_rounded(y))
        except ConfigurationError as exc:
            first_error = first_error or (s, exc)
    if first_error is not None and first_error[0] == 1.0:
        raise first_error[1]  # an integer matrix: its own problem is the clearest message
    raise ConfigurationError(
        f"{_first_fraction(x) or 'float matrix'}: cannot recover the scale (tried 1, 6 and "
        "the one the dimension condition implies; none gives integers forming a CY "
        "four-fold); pass scale=... or integer degrees")


def as_degree_matrix(conf, scale=None) -> np.ndarray:
    """Validate a configuration and return its integer degree block.

    Parameters
    ----------
    conf : array_like
        One of: the degree block (rows = projective factors, columns = polynomials); the
        same with a leading dimension column ``n_i``; the zero-padded 16x20 dataset form;
        its rescaled float form (``conf.npy`` divides by the global maximum 6); nested lists.
    scale : float, optional
        Divisor used for a rescaled float matrix (integer input is never rescaled). When
        omitted it is inferred: 1 for integral entries, then 6, then the unique scale the
        dimension condition implies (sum(n_i) - K = 4 with n_i = scale * rowsum - 1).

    Returns
    -------
    numpy.ndarray
        int64 array (m, K), trailing zero rows and columns removed.

    Raises
    ------
    ConfigurationError
        Non-integer or negative entries, a zero row or column, a failing Calabi-Yau
        condition (naming the row), dimension != 4, more than 16 rows or 20 columns, or a
        float matrix whose scale cannot be recovered.
    """
    arr = _as_array(conf)
    if np.issubdtype(arr.dtype, np.floating):
        return _recover_float(arr.astype(np.float64), scale)
    return _interpret_integer_matrix(arr.astype(np.int64))  # integers are never rescaled


def dims(conf) -> np.ndarray:
    """Dimensions ``n_i = sum_j P[i, j] - 1`` of the projective factors (int64, (m,))."""
    return as_degree_matrix(conf).sum(axis=1) - 1


def pad_configuration(conf) -> np.ndarray:
    """The padded dataset form: int8 (16, 20), degree block in the top-left corner."""
    P = as_degree_matrix(conf)
    if P.max() > np.iinfo(np.int8).max:
        raise ConfigurationError(f"entry {P.max()} does not fit the int8 padded form")
    out = np.zeros((MAX_ROWS, MAX_COLS), dtype=np.int8)
    out[: P.shape[0], : P.shape[1]] = P
    return out


