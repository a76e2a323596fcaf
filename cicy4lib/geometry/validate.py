"""The one validation edge for configuration matrices: :func:`as_degree_matrix`.

Every entry point that takes a matrix (``euler_number``, ``hodge_numbers``, ``is_product``,
``predict_configuration``, the CLI's matrix text, the dataset readers) goes through this module.

Rules
-----
- Entries must be real numbers: booleans, complex numbers, dates/durations, strings, ``None``
  and other objects are refused with a message naming the entry; so are NaN/inf and integers
  beyond int64.
- A single configuration is a 2-D matrix (nesting depth 2); a batch adds exactly one leading
  axis.
- Integer input is never rescaled.
- A float matrix has exactly two readings: as integers, and as ``integer / scale`` for the
  declared scale (default 6, the dataset's: ``conf.npy`` divides by the list's largest entry).
  It is accepted when exactly one reading is a valid configuration; when both are, the error
  names both; when neither is, the error gives each reading's problem. No other scale is ever
  guessed.
"""
from __future__ import annotations

import datetime
import numbers

import numpy as np

from ..constants import DEFAULT_SCALE, DIMENSION, MAX_COLS, MAX_ROWS
from ..errors import ConfigurationError

_INTEGRAL_TOL = 1e-6
INT64_SAFE = float(2**62)
_MAX_ENTRY = 2**20  # far above any valid degree; guards the integer conversions
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_DEPTH = 4  # deeper lists are refused before recursing (depth 3 is a batch)


# --------------------------------------------------------------------------------------
# turning input into a numeric array, entry by entry
# --------------------------------------------------------------------------------------
def _where(path: tuple) -> str:
    """Human name of the entry at ``path`` (indices from the outermost level)."""
    if len(path) == 2:
        return f"entry at row {path[0]}, column {path[1]}"
    if len(path) == 3:
        return f"entry at matrix {path[0]}, row {path[1]}, column {path[2]}"
    return "entry " + "".join(f"[{i}]" for i in path) if path else "the input"


def _is_tensor(obj) -> bool:
    return type(obj).__module__.split(".")[0] == "torch" and hasattr(obj, "detach")


def _tensor_to_numpy(t, path) -> np.ndarray:
    t = t.detach().cpu()
    try:
        return t.numpy()
    except (TypeError, RuntimeError):  # bfloat16 and friends have no numpy dtype
        if t.is_floating_point():
            return t.double().numpy()
        raise ConfigurationError(f"{_where(path)}: a tensor of dtype {t.dtype}, not numbers") from None


_DTYPE_PROBLEM = {
    "b": "booleans (True/False), not degrees",
    "c": "complex numbers",
    "m": "time durations (timedelta64), not degrees",
    "M": "dates (datetime64), not degrees",
    "U": "strings; write numbers, not text",
    "S": "byte strings; write numbers, not text",
    "V": "structured records, not numbers",
}


def _scalar(value, path):
    """A checked Python/numpy scalar: int or float, or ConfigurationError naming the entry."""
    where = _where(path)
    if value is None:
        raise ConfigurationError(f"{where} is null (None), not a degree")
    if isinstance(value, (bool, np.bool_)):
        raise ConfigurationError(f"{where} is the boolean {value!r}, not a degree")
    if isinstance(value, (str, bytes)):
        raise ConfigurationError(f"{where} is the string {value!r}; write numbers, not text")
    if isinstance(value, (np.datetime64, np.timedelta64, datetime.date, datetime.time,
                          datetime.timedelta)):
        raise ConfigurationError(f"{where} is a date/time value ({value!r}), not a degree")
    if isinstance(value, (complex, np.complexfloating)):
        raise ConfigurationError(f"{where} is the complex number {value!r}, not a degree")
    if isinstance(value, (int, np.integer)):
        v = int(value)
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ConfigurationError(
                f"{where} is {v}, beyond the 64-bit integer range (degrees are small "
                "non-negative integers, at most 25)")
        return v
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not np.isfinite(v):
            raise ConfigurationError(f"{where} is {v}, not a finite number")
        return v
    if isinstance(value, numbers.Real):  # Fraction and other real types
        return _scalar(float(value), path)
    raise ConfigurationError(f"{where} has type {type(value).__name__}, not a number")


def _checked_array(arr: np.ndarray, path) -> np.ndarray:
    """Check a numpy array's dtype and values; object arrays are checked entry by entry."""
    arr = np.asarray(arr)  # np.matrix and other subclasses behave differently under sum/index
    kind = arr.dtype.kind
    if kind == "O":
        if arr.ndim == 0:
            return np.asarray(_scalar(arr.item(), path))
        return _nested(list(arr), path)
    if kind in _DTYPE_PROBLEM:
        raise ConfigurationError(
            f"{'entries' if not path else _where(path) + ' holds entries that'} are "
            f"{_DTYPE_PROBLEM[kind]} (dtype {arr.dtype})")
    if kind == "u" and arr.size and arr.max() > _INT64_MAX:
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(arr)), arr.shape))
        raise ConfigurationError(f"{_where(path + idx)} is {int(arr.max())}, beyond the 64-bit "
                                 "integer range (degrees are at most 25)")
    if kind == "f" and arr.size and not np.all(np.isfinite(arr)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ConfigurationError(f"{_where(path + idx)} is {arr[idx]}, not a finite number "
                                 "(NaN or inf)")
    if kind not in "iuf":
        raise ConfigurationError(f"entries have dtype {arr.dtype}, not numbers")
    return arr


def _nested(obj, path=()) -> np.ndarray:
    """Numeric array from arrays, tensors and nested lists; every entry checked."""
    if _is_tensor(obj):
        obj = _tensor_to_numpy(obj, path)
    if isinstance(obj, np.ndarray):
        return _checked_array(obj, path)
    if isinstance(obj, (str, bytes)):
        if not path:
            raise ConfigurationError(
                "a configuration must be a matrix, not a string (parse text with "
                "cicy4lib.jobs.predict.parse_matrix_text first)")
        return np.asarray(_scalar(obj, path))
    if isinstance(obj, (list, tuple)):
        if len(path) >= _MAX_DEPTH:
            raise ConfigurationError(
                f"{_where(path)} is nested {len(path) + 1} levels deep; a configuration is a "
                "matrix (depth 2), a batch a list of matrices (depth 3)")
        types = set(map(type, obj))
        if types and types <= {int, float}:  # fast path for plain rows (bool is not int here)
            try:
                row = np.array(obj, dtype=np.int64 if types == {int} else np.float64)
            except OverflowError:  # an int beyond int64: the slow path names it
                row = None
            if row is not None and (row.dtype.kind != "f" or np.isfinite(row).all()):
                return row
        if all(not isinstance(v, (list, tuple, np.ndarray)) and not _is_tensor(v) for v in obj):
            values = [_scalar(v, path + (i,)) for i, v in enumerate(obj)]
            if all(isinstance(v, int) for v in values):
                return np.array(values, dtype=np.int64).reshape(len(values))
            return np.array(values, dtype=np.float64).reshape(len(values))
        parts = [_nested(v, path + (i,)) for i, v in enumerate(obj)]
        shapes = [p.shape for p in parts]
        for i, s in enumerate(shapes):
            if s != shapes[0]:
                what = "row" if len(path) == 0 else _where(path) + ", part"
                raise ConfigurationError(
                    f"rows have different lengths: {what} 0 has shape {shapes[0]} but {what} {i} "
                    f"has shape {s} (not a rectangular matrix)")
        if all(p.dtype.kind in "iu" for p in parts):
            return np.stack(parts).astype(np.int64)
        return np.stack(parts).astype(np.float64)
    if hasattr(obj, "__array__") and not np.isscalar(obj):
        return _checked_array(np.asarray(obj), path)
    return np.asarray(_scalar(obj, path))


def _as_array(conf) -> np.ndarray:
    """Turn ``conf`` (array, tensor, nested lists) into a checked 2-D numeric array."""
    arr = _nested(conf)
    if arr.ndim != 2:
        hint = ("write a single row as [[...]]" if arr.ndim < 2 else
                "one configuration is a matrix of depth 2; several go to euler_numbers")
        raise ConfigurationError(
            f"a configuration must be a 2-D matrix, got {arr.ndim}-D shape {arr.shape} ({hint})")
    if arr.size == 0:
        raise ConfigurationError("configuration is empty")
    return arr


def as_array_batch(confs) -> np.ndarray | list:
    """A batch of configurations: a checked (N, rows, cols) array, or a list of 2-D arrays.

    One leading batch axis on top of the 2-D matrices; each entry is checked as in
    :func:`as_degree_matrix` and errors name the configuration's index.
    """
    if isinstance(confs, (str, bytes)):
        raise ConfigurationError("configurations must be matrices, not a string")
    if _is_tensor(confs) or isinstance(confs, np.ndarray):
        arr = _nested(confs)
        if arr.ndim != 3:
            raise ConfigurationError(
                f"a batch of configurations must be 3-D (N, rows, cols), got {arr.ndim}-D "
                f"shape {arr.shape}")
        return arr
    try:
        items = list(confs)
    except TypeError:
        raise ConfigurationError(
            f"configurations must be a list or array of matrices, not {type(confs).__name__}") from None
    out = []
    for i, conf in enumerate(items):
        try:
            out.append(_as_array(conf))
        except ConfigurationError as exc:
            raise ConfigurationError(f"configuration {i}: {exc}") from None
    if out and len({a.shape for a in out}) == 1:
        kinds = {a.dtype.kind for a in out}
        return np.stack(out).astype(np.float64 if "f" in kinds else np.int64)
    return out


# --------------------------------------------------------------------------------------
# the configuration conditions
# --------------------------------------------------------------------------------------
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


def checked_scale(scale) -> float:
    """The declared scale as a positive finite float (None -> the default 6)."""
    if scale is None:
        return DEFAULT_SCALE
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (numbers.Real, np.number)):
        raise ConfigurationError(f"scale must be a positive number, got {scale!r}")
    s = float(scale)
    if not (np.isfinite(s) and s > 0):
        raise ConfigurationError(f"scale must be a positive finite number, got {scale!r}")
    return s


def float_readings(scale) -> list[tuple[float, str]]:
    """The readings of a float matrix: (factor, label), as integers then times the scale."""
    s = checked_scale(scale)
    readings = [(1.0, "as integers")]
    if s != 1.0:
        readings.append((s, f"as integers / {s:g} (the declared scale)"))
    return readings


def _read_float(x: np.ndarray, scale) -> np.ndarray:
    """The one valid reading of a float matrix (see the module docstring)."""
    found, problems = [], []
    for factor, label in float_readings(scale):
        y = x * factor
        try:
            if not _is_integral(y):
                raise ConfigurationError(_first_fraction(y))
            found.append((label, _interpret_integer_matrix(_rounded(y))))
        except ConfigurationError as exc:
            problems.append(f"{label}: {exc}")
    if len(found) == 1:
        return found[0][1]
    if len(found) > 1:
        raise ConfigurationError(
            "ambiguous float matrix: read " + " and read ".join(
                f"{label} it is the configuration {P.tolist()}" for label, P in found)
            + "; pass integer degrees, or the scale it was divided by")
    raise ConfigurationError(
        "float matrix is not a configuration under either reading ("
        + "; ".join(problems)
        + "); pass integer degrees, or scale=... if it was divided by another number")


def as_degree_matrix(conf, scale=None) -> np.ndarray:
    """Validate a configuration and return its integer degree block.

    Parameters
    ----------
    conf : array_like
        One of: the degree block (rows = projective factors, columns = polynomials); the
        same with a leading dimension column ``n_i``; the zero-padded 16x20 dataset form;
        its rescaled float form (``conf.npy`` divides by the global maximum 6); nested lists,
        numpy arrays or torch tensors.
    scale : float, optional
        The declared scale of a float matrix (default 6). A float matrix is read as integers
        and as ``integer / scale``; exactly one reading must be a valid configuration.
        Integer input is never rescaled.

    Returns
    -------
    numpy.ndarray
        int64 array (m, K), trailing zero rows and columns removed.

    Raises
    ------
    ConfigurationError
        Entries that are not real numbers (booleans, strings, None, complex, dates), NaN/inf,
        values beyond int64, a depth other than 2, non-integer or negative entries, a zero row
        or column, a failing Calabi-Yau condition (naming the row), dimension != 4, more than
        16 rows or 20 columns, a float matrix with no or two valid readings.
    """
    arr = _as_array(conf)
    if arr.dtype.kind == "f":
        return _read_float(arr.astype(np.float64), scale)
    checked_scale(scale)  # a bad scale is an error even where it is not needed
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


# --------------------------------------------------------------------------------------
# batches: vectorised checks of padded blocks
# --------------------------------------------------------------------------------------
def padded_block_ok(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised check of padded integer blocks ``A`` (N, rows, cols), no dimension column.

    Returns ``ok`` (N,) bool and the block shapes ``m``, ``K`` (N,) int.
    """
    rows_nz = A.any(axis=2)
    cols_nz = A.any(axis=1)
    m = np.where(rows_nz.any(axis=1), A.shape[1] - np.argmax(rows_nz[:, ::-1], axis=1), 0)
    K = np.where(cols_nz.any(axis=1), A.shape[2] - np.argmax(cols_nz[:, ::-1], axis=1), 0)
    sums = A.sum(axis=2, dtype=np.int64)
    in_block = np.arange(A.shape[1])[None, :] < m[:, None]
    ok = ((A >= 0).all(axis=(1, 2)) & (rows_nz.sum(axis=1) == m) & (cols_nz.sum(axis=1) == K)
          & np.all(~in_block | (sums >= 2), axis=1)
          & (sums.sum(axis=1) - m - K == DIMENSION) & (m <= MAX_ROWS) & (K <= MAX_COLS))
    return ok, m, K


def block_problem(P: np.ndarray) -> str:
    """Why the padded integer block ``P`` (no dimension column) is not a configuration."""
    try:
        if (P < 0).any():
            i, j = np.argwhere(P < 0)[0]
            return f"negative entry {P[i, j]} at row {i}, column {j}"
        _check_block(_strip_trailing_zeros(P), None)
    except ConfigurationError as exc:
        return str(exc)
    return "not a valid configuration"


def _readings_of_batch(X: np.ndarray, scale) -> np.ndarray:
    """int64 blocks of a float batch where exactly one reading passes the fast checks.

    Entries with no or two fast-valid readings get -1 in their first entry, so that the
    caller re-reads them one by one with :func:`as_degree_matrix`.
    """
    chosen = np.full(X.shape, -1, dtype=np.int64)
    n_ok = np.zeros(len(X), dtype=np.int64)
    for factor, _ in float_readings(scale):
        Y = X * factor
        A = np.rint(np.clip(Y, -1, _MAX_ENTRY)).astype(np.int64)
        integral = np.all(np.abs(Y - A) <= _INTEGRAL_TOL * np.maximum(1.0, np.abs(Y)), axis=(1, 2))
        ok = integral & padded_block_ok(A)[0]
        chosen[ok] = A[ok]
        n_ok += ok
    chosen[n_ok != 1, 0, 0] = -1
    return chosen


def validate_padded_batch(X: np.ndarray, scale=None, offset: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a batch (N, rows, cols) of matrices; return int64 blocks ``A`` and shapes.

    Integer entries are taken as they are; float entries by the two-readings rule. Entries
    the vectorised checks do not settle (a dimension column, an ambiguous or invalid matrix)
    are read again by :func:`as_degree_matrix`, which accepts them or raises; the error
    names the entry's index ``offset + b``.
    """
    X = _checked_array(np.asarray(X), ())
    if X.dtype.kind == "f":
        A = _readings_of_batch(X.astype(np.float64), scale)
    else:
        checked_scale(scale)
        A = X.astype(np.int64)
    ok, m, K = padded_block_ok(A)
    for b in np.flatnonzero(~ok):
        try:
            P = as_degree_matrix(X[b], scale=scale)
        except ConfigurationError as exc:
            raise ConfigurationError(f"configuration {offset + b}: {exc}") from None
        if P.shape[0] > A.shape[1] or P.shape[1] > A.shape[2]:
            A = _grow(A, P.shape)
        A[b] = 0
        A[b, : P.shape[0], : P.shape[1]] = P
        m[b], K[b] = P.shape
    return A, m, K


def _grow(A, shape):
    out = np.zeros((len(A), max(A.shape[1], shape[0]), max(A.shape[2], shape[1])), A.dtype)
    out[:, : A.shape[1], : A.shape[2]] = A
    return out
