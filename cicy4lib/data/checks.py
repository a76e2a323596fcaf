"""What every reader checks before it hands data over: one function per kind of array.

Each raises :class:`~cicy4lib.errors.DataError` naming the file (and the entry, with its list
ID where there is one). Readers call :func:`read_npy` / :func:`read_npz` for I/O, then
:func:`integer_conf`, :func:`check_configurations`, :func:`boolean_flags`, :func:`check_hodge`
and :func:`check_euler` as their file provides the arrays.
"""
from __future__ import annotations

import json
import mmap
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..constants import DEFAULT_SCALE, MAX_COLS as N_COLS, MAX_ROWS as N_ROWS
from ..errors import ConfigurationError, DataError

HODGE_MAX = 100_000  # far above any CICY four-fold's (h22 <= 1,752 on the list)
_TOL = 1e-6
# I/O and decoding failures that become a DataError naming the file
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, json.JSONDecodeError,
               UnicodeDecodeError, ValueError, IndexError, KeyError, TypeError)


def _entry(i, ids=None, base: int = 0) -> str:
    """"entry i (ID x)": ``i`` counts from ``base`` (0 for arrays, 1 for the raw list's entries)."""
    i = int(i)
    if ids is not None and len(ids) > i and int(ids[i]) >= 0:
        return f"entry {i + base} (ID {int(ids[i])})"
    return f"entry {i + base}"


# --------------------------------------------------------------------------- I/O

def _max_array_bytes() -> int:
    """The most bytes one loaded file may declare: ``CICY4_MAX_ARRAY_BYTES`` if set, else half the
    machine's memory (at most 64 GiB). The full list as float64 split files is ~2.4 GB."""
    env = os.environ.get("CICY4_MAX_ARRAY_BYTES")
    if env:
        try:
            return max(1, int(float(env)))
        except ValueError:
            pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 16 << 30
    return int(min(memory // 2, 64 << 30))


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n} bytes"


def regular_file(path: Path, what: str = "file") -> Path:
    """``path`` if it is a regular file (a link to one is fine); a missing path, a folder, a device
    (``/dev/zero``), a FIFO or a socket is a DataError, so nothing blocks or reads forever."""
    path = Path(path)
    # the same stat-then-classify shape as checkpoint.read_training_state's; kept apart: that one
    # raises the checkpoint errors with their recovery hints, this one DataError
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataError(f"{path} is missing") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{path} is a folder, not a {what}")
    if not stat.S_ISREG(mode):
        raise DataError(f"{path} is not a regular file (a device, FIFO or socket), not a {what}")
    return path


def read_bytes_limited(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refused (DataError) above ``limit`` bytes."""
    path = regular_file(path, what)
    size = path.stat().st_size
    if size > limit:
        raise DataError(f"{path}: {_size(size)}, more than the {_size(limit)} a {what} may have; refused")
    try:
        with open(path, "rb") as f:
            # read what the file holds (f.read(limit + 1) would allocate the whole limit at once:
            # 64 MB for a 1 kB provenance.json), in blocks so that a file still growing stops at the limit
            parts, total = [], 0
            while total <= limit:
                block = f.read(min(1 << 20, limit + 1 - total))
                if not block:
                    break
                parts.append(block)
                total += len(block)
            data = b"".join(parts)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if len(data) > limit:
        raise DataError(f"{path}: more than the {_size(limit)} a {what} may have; refused")
    return data


def read_text_limited(path: Path, limit: int, what: str = "text file") -> str:
    """The UTF-8 text of ``path`` (see :func:`read_bytes_limited`); binary content is a DataError."""
    data = read_bytes_limited(path, limit, what)
    if b"\0" in data:
        raise DataError(f"{path}: binary content (NUL bytes), not a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}), not a {what}") from None


def _npy_header(fp, path, member: str = "") -> tuple[tuple, np.dtype, int]:
    """(shape, dtype, header length) from the start of a .npy stream, refusing object dtypes."""
    lead = f"{path}: not a readable .npz file: member {member}" if member else f"{path}: not a readable .npy file"
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=100_000)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=100_000)
        else:
            raise ValueError(f"unknown .npy version {version}")
    except TypeError:  # numpy without max_header_size
        raise DataError(f"{lead}: no readable .npy header") from None
    except READ_ERRORS as err:
        raise DataError(f"{lead} ({type(err).__name__}: {err})") from None
    if dtype.hasobject:
        raise DataError(f"{lead}: holds Python objects (pickled), refused; arrays must hold numbers")
    if any((not isinstance(d, int)) or d < 0 for d in shape):
        raise DataError(f"{lead}: declares an invalid shape {shape}")
    return tuple(shape), dtype, fp.tell()


def _declared_nbytes(shape, dtype) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n * int(dtype.itemsize)


def check_npy_size(path: Path) -> tuple[tuple, np.dtype]:
    """The declared (shape, dtype) of the .npy file ``path``, after checking that the file holds
    exactly the bytes its header declares and that they fit the memory limit: a header that
    claims a huge array is refused before anything is allocated."""
    path = regular_file(path, ".npy file")
    size = path.stat().st_size
    try:
        with open(path, "rb") as fp:
            shape, dtype, header = _npy_header(fp, path)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    nbytes = _declared_nbytes(shape, dtype)
    if header + nbytes > size:
        raise DataError(f"{path}: not a readable .npy file: it declares a {dtype} array of shape {shape} "
                        f"({_size(nbytes)}) but the file has "
                        f"{_size(size)}: truncated or a forged header")
    if nbytes > _max_array_bytes():
        raise DataError(f"{path}: declares an array of {_size(nbytes)} (shape {shape}), more than the "
                        f"{_size(_max_array_bytes())} allowed (CICY4_MAX_ARRAY_BYTES); refused")
    return shape, dtype


def check_npz_sizes(path: Path) -> None:
    """Check every member of the .npz archive ``path`` before anything is decompressed: each
    .npy header's declared size must match the member's stored size, and all of them together
    must fit the memory limit (an 848-byte file that claims 320 GB, or a small archive that
    decompresses to gigabytes, is refused here)."""
    limit = _max_array_bytes()
    total = 0
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                total += info.file_size
                if total > limit:
                    raise DataError(f"{path}: its members decompress to more than {_size(total)} (member "
                                    f"{info.filename}: {_size(info.file_size)} from {_size(info.compress_size)}), "
                                    f"more than the {_size(limit)} allowed (CICY4_MAX_ARRAY_BYTES); refused")
                if not info.filename.endswith(".npy"):
                    continue
                with z.open(info) as fp:
                    shape, dtype, header = _npy_header(fp, path, info.filename)
                nbytes = _declared_nbytes(shape, dtype)
                if header + nbytes != info.file_size:
                    raise DataError(f"{path}: member {info.filename} declares a {dtype} array of shape {shape} "
                                    f"({_size(nbytes)}) but holds {_size(max(0, info.file_size - header))}: "
                                    "a damaged archive or a forged header")
    except DataError:
        raise
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as err:
        raise DataError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None
    except READ_ERRORS as err:
        raise DataError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None


def read_npy(path: Path, *, mmap: bool = True) -> np.ndarray:
    """An array from a .npy file: missing, unreadable, 0-d or object arrays are DataErrors; so is a
    header that declares more data than the file holds or than memory allows."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} is missing")
    regular_file(path, ".npy file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (0 bytes), not a .npy array")
    check_npy_size(path)
    try:
        a = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except READ_ERRORS as err:
        raise DataError(f"{path}: not a readable .npy file ({type(err).__name__}: {err})") from None
    if not isinstance(a, np.ndarray):
        raise DataError(f"{path}: holds {type(a).__name__}, not one array")
    if a.ndim == 0:
        raise DataError(f"{path}: holds a single value (0-d array), not one row per configuration")
    return a


def read_npz(path: Path) -> tuple[dict, dict]:
    """(arrays, meta) from an .npz file; every array decompressed now, so damage shows here.
    Declared sizes are checked first (:func:`check_npz_sizes`)."""
    path = Path(path)
    if path.exists():
        regular_file(path, ".npz archive")
    if path.exists() and path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (0 bytes), not an .npz archive")
    if path.exists():
        check_npz_sizes(path)
    arrays = {}
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # closed even on failure
            for key in z.files:
                try:
                    arrays[key] = z[key]
                except READ_ERRORS as err:
                    raise DataError(f"{path}: array {key!r} cannot be read ({type(err).__name__}: "
                                    f"{err}); the archive is damaged") from None
    except DataError:
        raise
    except READ_ERRORS as err:
        raise DataError(f"{path}: not a readable .npz file ({type(err).__name__}: {err})") from None
    meta = {}
    if "meta" in arrays:
        raw = arrays.pop("meta")
        try:
            meta = json.loads(str(raw.item() if raw.ndim == 0 else raw))
        except (json.JSONDecodeError, ValueError) as err:
            raise DataError(f"{path}: 'meta' is not valid JSON ({err})") from None
        if not isinstance(meta, dict):
            raise DataError(f"{path}: 'meta' must be a JSON object, got {type(meta).__name__}")
    return arrays, meta


JSON_MAX_BYTES = 64 << 20


def read_json_file(path: Path) -> dict:
    """A JSON object from ``path`` (a DataError naming it if unreadable or not an object)."""
    try:
        value = json.loads(read_text_limited(Path(path), JSON_MAX_BYTES, "JSON file"))
    except DataError:
        raise
    except READ_ERRORS as err:
        raise DataError(f"{path}: not readable JSON ({type(err).__name__}: {err})") from None
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------- matrices

CONF_CHUNK = 1 << 12  # rows per conversion chunk: 4,096 x 320 float64 = 10 MB per buffer


def integer_conf(a: np.ndarray, scale, path, chunk: int | None = None, ids=None, out: np.ndarray | None = None):
    """int8 (N, 16, 20) from integer or scaled-float matrices; returns (conf, scale, how).

    Integer files are taken as they are (the model scale is ``scale`` or 6). Float files get
    the two readings of :mod:`cicy4lib.geometry.validate`: as integers and as integers / the
    declared scale (6 unless ``scale`` is given). The first rows decide which reading the file
    uses (where both give integers, the one whose first matrix is a valid configuration); every
    entry must then be an integer 0..127 in that reading. No other scale is ever guessed.
    Works in row chunks, so memory-mapped float64 files of ~2 GB never load whole; ``out``
    (an int8 (N, 16, 20) array, e.g. a slice of a larger one) receives the result in place of
    a new array.
    """
    chunk = chunk or CONF_CHUNK
    reading = conf_reading(a, scale, path, ids=ids, probe=chunk)
    out = convert_conf_rows(reading, 0, len(reading.a), path, ids=ids, out=out, chunk=chunk)
    return out, reading.scale, reading.how


class ConfReading:
    """How a matrix file's entries become int8 degrees (see :func:`conf_reading`)."""

    __slots__ = ("a", "kind", "factor", "scale", "how")

    def __init__(self, a, kind, factor, scale, how):
        self.a, self.kind, self.factor, self.scale, self.how = a, kind, factor, scale, how


def conf_reading(a, scale, path, ids=None, probe: int | None = None) -> ConfReading:
    """Check the shape and dtype of matrices ``a`` (N, 16, 20) or (N, 16, 20, 1) and decide
    their reading from the first ``probe`` rows (:func:`integer_conf`); nothing is converted."""
    from ..geometry.validate import checked_scale  # lazy: imports flint

    a = np.asarray(a) if not isinstance(a, np.ndarray) else a
    if a.ndim == 4 and a.shape[-1] == 1:  # (N, 16, 20, 1) as some notebooks save it
        a = a[..., 0]
    if a.ndim != 3 or a.shape[1:] != (N_ROWS, N_COLS):
        raise DataError(f"{path}: matrices must have shape (N, {N_ROWS}, {N_COLS}) or "
                        f"(N, {N_ROWS}, {N_COLS}, 1), got {a.shape}")
    kind = a.dtype.kind
    try:
        declared = checked_scale(scale)
    except ConfigurationError as err:
        raise DataError(f"{path}: {err}") from None
    if kind in "iu":
        how = "integer entries" if scale is None else "integer entries, given scale"
        factor = 1.0
    elif kind == "f":
        factor = _float_reading(np.asarray(a[:probe or CONF_CHUNK]), declared, path, ids)
        how = (f"float entries read as integers / {declared:g}" if factor != 1.0
               else "float entries read as integers")
    else:
        raise DataError(f"{path}: matrices have dtype {a.dtype}, expected integers or floats")
    return ConfReading(a, kind, factor, declared, how)


def convert_conf_rows(reading: ConfReading, start: int, stop: int, path, ids=None,
                      out: np.ndarray | None = None, chunk: int | None = None) -> np.ndarray:
    """Rows ``start:stop`` of ``reading.a`` as checked int8 degrees, written into ``out``
    (int8, ``stop - start`` rows; a new array if None) chunk by chunk: the temporaries are a
    few ``chunk``-row buffers, whatever the file's size. Errors name the file's entry."""
    a, kind, factor = reading.a, reading.kind, reading.factor
    chunk = chunk or CONF_CHUNK
    n = stop - start
    if out is None:
        out = np.empty((n,) + a.shape[1:], np.int8)
    elif out.shape != (n,) + a.shape[1:] or out.dtype != np.int8:
        raise ValueError(f"out must be int8 {(n,) + a.shape[1:]}, got {out.dtype} {out.shape}")
    for lo in range(start, stop, chunk):
        hi = min(stop, lo + chunk)
        raw = a[lo:hi]  # a view (of the memory map): read once below
        with np.errstate(all="ignore"):
            if kind == "f":
                block = np.multiply(raw, factor) if factor != 1.0 else np.array(raw, dtype=np.float64)
                ints = np.rint(block)
                np.subtract(block, ints, out=block)
                np.abs(block, out=block)
                ok = block <= 1e-5
                del block
            else:
                ints = np.asarray(raw)
                ok = np.ones(ints.shape, bool)
            ok &= ints >= 0
            ok &= ints <= 127
        if not ok.all():
            row, i, j = (int(v) for v in np.argwhere(~ok)[0])
            value = np.asarray(raw[row, i, j]).item()
            where = f"{path}: matrix {_entry(lo + row, ids)[6:]} has the entry {value!r} at row {i}, column {j}"
            if kind == "f" and not np.isfinite(value):
                raise DataError(f"{where}: not a number (a damaged or unfilled file?)")
            if kind == "f" and abs(value * factor - round(value * factor)) > 1e-5:
                other = (f"nor an integer / {reading.scale:g} (the declared scale)" if factor != 1.0
                         else "")
                raise DataError(f"{where}: not an integer {other}".rstrip()
                                + f" as the file's first rows are read ({reading.how}); pass the right scale=")
            raise DataError(f"{where}: not a degree in 0..127 ({reading.how})")
        out[lo - start:hi - start] = ints
        _release_pages(raw)
    return out


def _release_pages(view) -> None:
    """Drop the file pages a memory-mapped ``view`` was read through from this process's
    resident set (the kernel keeps them in its page cache). A 2 GB float64 file read chunk by
    chunk then never stays mapped in whole. A no-op for arrays in memory or without madvise."""
    mm = getattr(view, "_mmap", None)
    if mm is None or view.size == 0 or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    try:
        base = np.frombuffer(mm, np.uint8, count=1).ctypes.data
        low = high = view.ctypes.data
        for n, stride in zip(view.shape, view.strides):
            low, high = low + min(0, (n - 1) * stride), high + max(0, (n - 1) * stride)
        start = (low - base) // mmap.PAGESIZE * mmap.PAGESIZE
        mm.madvise(mmap.MADV_DONTNEED, start, high + view.itemsize - base - start)
    except (OSError, ValueError, TypeError, BufferError):
        pass


def _float_reading(probe: np.ndarray, declared: float, path, ids) -> float:
    """The factor (1 or the declared scale) that turns the first rows of a float file into integers."""
    from ..geometry.validate import padded_block_ok  # lazy: imports flint

    readings = [1.0] if declared == 1.0 else [1.0, declared]
    with np.errstate(all="ignore"):
        finite = np.isfinite(probe)
        if not finite.all():
            row, i, j = (int(v) for v in np.argwhere(~finite)[0])
            raise DataError(f"{path}: matrix {_entry(row, ids)[6:]} has the entry {probe[row, i, j]} at row {i}, "
                            f"column {j}: not a number (a damaged or unfilled file?)")
        integral = {f: np.all(np.abs(probe * f - np.rint(probe * f)) <= 1e-5, axis=(1, 2)) for f in readings}
    candidates = [f for f in readings if integral[f].all()]
    if len(candidates) == 2 and len(probe):  # integer-valued floats: the dimension decides
        valid = [f for f in candidates if padded_block_ok(np.rint(probe[:1] * f).astype(np.int64))[0][0]]
        candidates = valid or candidates[-1:]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) == 2:
        raise DataError(f"{path}: ambiguous float matrices: both readings, as integers and as "
                        f"integers / {declared:g}, give valid configurations; pass scale=")
    # neither reading gives integers on all the first rows: name the first matrix no reading fits
    fits = np.zeros(len(probe), bool)
    for f in readings:
        fits |= integral[f]
    row = int(np.argmax(~fits)) if not fits.all() else int(np.argmax(~integral[declared]))
    y = probe[row] * declared
    i, j = (int(v) for v in np.argwhere(np.abs(y - np.rint(y)) > 1e-5)[0])
    raise DataError(f"{path}: matrix {_entry(row, ids)[6:]} has entry {float(probe[row, i, j]):g} at row {i}, "
                    f"column {j}: neither an integer nor an integer / {declared:g} (the declared "
                    f"scale); pass the right scale=")


def check_configurations(conf: np.ndarray, path, ids=None, chunk: int | None = None, base: int = 0) -> None:
    """Every padded int8 block must be a valid configuration (Calabi-Yau condition, dimension 4).

    Chunk by chunk on the integer array as it is (no int64 copy: the checks sum in int64)."""
    from ..geometry.validate import block_problem, padded_block_ok  # lazy: imports flint

    chunk = chunk or CONF_CHUNK
    if conf.dtype.kind not in "iu":
        conf = conf.astype(np.int64)
    for start in range(0, len(conf), chunk):
        ok = padded_block_ok(conf[start:start + chunk])[0]
        if not ok.all():
            b = start + int(np.argmax(~ok))
            raise DataError(f"{path}: {_entry(b, ids, base)} is not a valid configuration: "
                            f"{block_problem(conf[b].astype(np.int64))}")


# --------------------------------------------------------------------------- flags and labels

def boolean_flags(a, n: int, path, what: str = "direct") -> np.ndarray:
    """A (n,) bool array from a bool or 0/1 array; anything else is a DataError."""
    a = np.asarray(a)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.shape != (n,):
        raise DataError(f"{path}: '{what}' has shape {a.shape}, expected ({n},) (one flag per configuration)")
    if a.dtype == bool:
        return a.copy()
    if a.dtype.kind not in "iuf":
        raise DataError(f"{path}: '{what}' has dtype {a.dtype}, expected booleans")
    bad = ~np.isin(a, (0, 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{path}: '{what}' must hold booleans (True/False or 0/1), but entry {i} is "
                        f"{a[i].item()!r} ({int(bad.sum())} such entries)")
    return a.astype(bool)


def integer_hodge(h, n: int, path, ids=None, out: np.ndarray | None = None) -> np.ndarray:
    """int64 (n, 4) Hodge numbers from an integer or integral-float array (written into
    ``out``, an int64 (n, 4) array, if given: no intermediate copy of an integer file)."""
    h = np.asarray(h)
    if h.ndim != 2 or h.shape != (n, 4):
        raise DataError(f"{path}: Hodge numbers have shape {h.shape}, expected ({n}, 4) (h11, h21, h31, h22)")
    if h.dtype.kind == "f":
        finite = np.isfinite(h)
        if not finite.all():
            i = int(np.argmax(~finite.all(axis=1)))
            raise DataError(f"{path}: {_entry(i, ids)} has Hodge numbers {h[i].tolist()}: not numbers")
        frac = np.abs(h - np.rint(h)) > _TOL
        if frac.any():
            i = int(np.argmax(frac.any(axis=1)))
            raise DataError(f"{path}: {_entry(i, ids)} has Hodge numbers {h[i].tolist()}: not integers")
        if np.abs(h).max(initial=0) > 2**62:
            i = int(np.argmax((np.abs(h) > 2**62).any(axis=1)))
            raise DataError(f"{path}: {_entry(i, ids)} has Hodge numbers {h[i].tolist()}: out of range")
        return _into(np.rint(h), out)
    if h.dtype.kind == "u" and h.size and h.max() > 2**62:
        i = int(np.argmax((h > 2**62).any(axis=1)))
        raise DataError(f"{path}: {_entry(i, ids)} has Hodge numbers {h[i].tolist()}: out of range")
    if h.dtype.kind not in "iu":
        raise DataError(f"{path}: Hodge numbers have dtype {h.dtype}, expected integers")
    return _into(h, out)


def _into(h, out):
    if out is None:
        return h.astype(np.int64)
    out[...] = h
    return out


def check_hodge(hodge: np.ndarray, path, euler: np.ndarray | None = None, ids=None, base: int = 0) -> None:
    """Hodge numbers in range and consistent with each other and with chi where chi is known.

    A row of -1 means "unknown" (products in the list); otherwise h11 >= 1, the others >= 0,
    all <= 100,000; 44 = -4 h11 + 2 h21 - 4 h31 + h22 always, and
    chi = 4 + 2 h11 - 4 h21 + 2 h31 + h22 where ``euler`` is known (not -1).
    """
    if len(hodge) == 0:
        return
    unknown = (hodge == -1).all(axis=1)
    known = ~unknown
    h11, h21, h31, h22 = hodge.T
    out = known & ((h11 < 1) | (hodge[:, 1:] < 0).any(axis=1) | (hodge > HODGE_MAX).any(axis=1))
    if out.any():
        i = int(np.argmax(out))
        raise DataError(f"{path}: {_entry(i, ids, base)} has Hodge numbers {hodge[i].tolist()} out of range "
                        f"(need h11 >= 1, h21, h31, h22 >= 0, all <= {HODGE_MAX:,}; -1 in all four for unknown)")
    rel = known & (-4 * h11 + 2 * h21 - 4 * h31 + h22 != 44)
    if rel.any():
        i = int(np.argmax(rel))
        raise DataError(f"{path}: {_entry(i, ids, base)} has Hodge numbers (h11, h21, h31, h22) = {tuple(hodge[i].tolist())}, "
                        f"which break 44 = -4 h11 + 2 h21 - 4 h31 + h22 ({int(rel.sum())} such entries; "
                        "columns swapped or reversed?)")
    if euler is not None:
        chi_known = known & (euler != -1)
        wrong = chi_known & (4 + 2 * h11 - 4 * h21 + 2 * h31 + h22 != euler)
        if wrong.any():
            i = int(np.argmax(wrong))
            raise DataError(f"{path}: {_entry(i, ids, base)} has Hodge numbers {tuple(hodge[i].tolist())} but Euler number "
                            f"{int(euler[i])}: chi = 4 + 2 h11 - 4 h21 + 2 h31 + h22 gives "
                            f"{int(4 + 2 * h11[i] - 4 * h21[i] + 2 * h31[i] + h22[i])} ({int(wrong.sum())} such entries)")


def integer_euler(e, n: int, path) -> np.ndarray:
    e = np.asarray(e)
    if e.shape != (n,) or e.dtype.kind not in "iu":
        raise DataError(f"{path}: Euler numbers must be ({n},) integers, got {e.shape} {e.dtype}")
    return e.astype(np.int64)


def computed_euler(conf: np.ndarray, path, ids=None, n_jobs=None, base: int = 0) -> np.ndarray:
    """Exact Euler numbers of validated padded blocks (DataError naming the entry on failure)."""
    from ..geometry import euler_numbers  # lazy: imports flint

    if len(conf) == 0:
        return np.zeros(0, np.int64)
    try:
        return np.asarray(euler_numbers(conf, n_jobs=n_jobs), dtype=np.int64)
    except ConfigurationError as err:
        message = str(err)
        if message.startswith("configuration ") and ids is not None:
            i = message.split(":")[0].split()[1]
            if i.isdigit():
                message = f"{_entry(int(i), ids, base)}:" + message.split(":", 1)[1]
        raise DataError(f"{path}: {message}") from None


def check_euler(conf, euler, path, ids=None, *, sample: int | None = None, seed: int = 0) -> None:
    """The Euler field must equal the exact chi of the configuration (all, or ``sample`` rows)."""
    known = np.flatnonzero(euler != -1)
    if sample is not None and len(known) > sample:
        known = np.sort(np.random.default_rng(seed).choice(known, sample, replace=False))
    if len(known) == 0:
        return known
    chi = computed_euler(conf[known], path, None if ids is None else ids[known])
    wrong = np.flatnonzero(chi != euler[known])
    if len(wrong):
        i = int(known[wrong[0]])
        raise DataError(f"{path}: {_entry(i, ids)} has Euler number {int(euler[i])} but its configuration "
                        f"has chi = {int(chi[wrong[0]])} ({len(wrong)} such entries"
                        + (f" among {len(known)} checked" if sample is not None else "") + ")")
    return known  # the rows whose stored chi was recomputed


EULER_VERIFIED = "euler_verified"  # data.meta key: bool (N,), rows whose chi is exact (computed or checked)


def verified_euler(data, idx=None) -> np.ndarray:
    """The Euler numbers of rows ``idx`` (all if None), every one exact: stored values that loading
    did not recompute (``data.meta['euler_verified']``; an .npz's chi is spot-checked) are
    recomputed now with :func:`cicy4lib.euler_numbers` (about 0.2 ms a configuration) and
    compared. A wrong stored chi is a DataError naming the entry, never used; a missing one (-1)
    is filled in. Scores that use chi (the constrained predictions, the chi baselines) call this."""
    n = len(data.conf)
    idx = np.arange(n) if idx is None else np.asarray(idx)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    mask = data.meta.get(EULER_VERIFIED) if isinstance(getattr(data, "meta", None), dict) else None
    if not (isinstance(mask, np.ndarray) and mask.shape == (n,) and mask.dtype == bool):
        mask = np.zeros(n, bool)
    todo = np.unique(idx[~mask[idx]]) if len(idx) else idx
    if len(todo):
        chi = computed_euler(np.asarray(data.conf)[todo], getattr(data, "source", "data"),
                             None if getattr(data, "ids", None) is None else np.asarray(data.ids)[todo])
        stored = np.asarray(data.euler)[todo]
        wrong = np.flatnonzero((stored != -1) & (stored != chi))
        if len(wrong):
            i = int(todo[wrong[0]])
            raise DataError(f"{getattr(data, 'source', 'data')}: {_entry(i, getattr(data, 'ids', None))} has stored Euler number "
                            f"{int(data.euler[i])} but its configuration has chi = {int(chi[wrong[0]])} "
                            f"({len(wrong)} such entries among {len(todo)} recomputed); its labels are wrong: "
                            "`python -m cicy4lib verify` lists them all")
        euler = np.array(data.euler, dtype=np.int64, copy=True)
        euler[todo] = chi
        data.euler = euler
        mask = mask.copy()
        mask[todo] = True
        if isinstance(getattr(data, "meta", None), dict):
            data.meta[EULER_VERIFIED] = mask
    return np.asarray(data.euler)[idx]


HASH_BLOCK = 512  # rows hashed (or pairs compared) at a time: about 0.16 MB a temporary


def repeated_rows(conf: np.ndarray) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, i < j, of rows holding the same matrix (each repeat paired with the row
    before it in hash order). Rows are hashed (8 bytes each, in blocks), equal hashes compared
    exactly, so memory stays near 8 bytes a row."""
    i, j = repeated_pairs(conf)
    return list(zip(i.tolist(), j.tolist()))


def repeated_pairs(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`repeated_rows` as two int64 arrays ``(i, j)`` (16 bytes a pair, no Python tuples)."""
    n = len(conf)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    flat_len = int(np.prod(conf.shape[1:]))
    hashes = np.empty(n, np.uint64)
    block = max(1, min(CONF_CHUNK, HASH_BLOCK))
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        rows = np.ascontiguousarray(conf[lo:hi], np.int8).reshape(hi - lo, flat_len)
        pad = (-flat_len) % 8
        if pad:
            rows = np.concatenate([rows, np.zeros((hi - lo, pad), np.int8)], axis=1)
        hashes[lo:hi] = mixed_row_hashes(rows.view("<u8").copy())
    return _repeated_pairs(conf, hashes)


def mixed_row_hashes(words: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of ``words`` (uint64, shape (n, k); changed in place).

    Each word, offset by its position, goes through the splitmix64 finaliser; a row's hash is
    their sum (mod 2**64): equal rows, equal hashes.

    Parameters
    ----------
    words : np.ndarray of uint64, shape (n, k)

    Returns
    -------
    np.ndarray of uint64, shape (n,)
    """
    words += np.arange(1, words.shape[1] + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    words ^= words >> np.uint64(30)
    words *= np.uint64(0xBF58476D1CE4E5B9)
    words ^= words >> np.uint64(27)
    words *= np.uint64(0x94D049BB133111EB)
    words ^= words >> np.uint64(31)
    return words.sum(axis=1, dtype=np.uint64)


def _repeated_pairs(conf: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`repeated_rows` as two int64 arrays (16 bytes a pair, no Python tuples), the rows of
    equal hashes compared exactly in blocks."""
    order = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[order]
    same = np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1])
    del sorted_hashes
    a, b = order[same], order[same + 1]
    i, j = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    keep = np.zeros(len(i), bool)
    for lo in range(0, len(i), HASH_BLOCK):
        hi = min(len(i), lo + HASH_BLOCK)
        keep[lo:hi] = (np.asarray(conf[i[lo:hi]]) == np.asarray(conf[j[lo:hi]])).reshape(hi - lo, -1).all(axis=1)
    return i[keep], j[keep]


def duplicate_problems(conf: np.ndarray, hodge: np.ndarray, path, ids=None, splits=None) -> list[str]:
    """One line for each kind of repeat in the data (empty if none): the same matrix under two
    labels; the same configuration in two parts of a stored split (train/test leakage, as
    split files of different splits that share rows give); plain repeated rows."""
    first, second = repeated_pairs(conf)
    if not len(first):
        return []
    problems = []
    hodge = np.asarray(hodge)
    conflict = np.flatnonzero((hodge[first] != hodge[second]).reshape(len(first), -1).any(axis=1))
    if len(conflict):
        i, j = int(first[conflict[0]]), int(second[conflict[0]])
        problems.append(f"{path}: {_entry(i, ids)} and {_entry(j, ids)} are the same configuration with different Hodge "
                        f"numbers {tuple(np.asarray(hodge[i]).tolist())} and {tuple(np.asarray(hodge[j]).tolist())} "
                        f"({len(conflict)} such pairs): one matrix under two labels")
    for name, split in (splits or {}).items():
        part_of = np.full(len(conf), -1, np.int8)
        for k, part in enumerate(("train", "valid", "test")):
            idx = getattr(split, part, None)
            if idx is not None and len(idx):
                part_of[np.asarray(idx)] = k
        pi, pj = part_of[first], part_of[second]
        across = np.flatnonzero((pi >= 0) & (pj >= 0) & (pi != pj))
        if len(across):
            names = ("train", "valid", "test")
            i, j = int(first[across[0]]), int(second[across[0]])
            problems.append(f"{path}: split {name!r} has the same configuration in {names[part_of[i]]} and "
                            f"{names[part_of[j]]} ({_entry(i, ids)}, {_entry(j, ids)}; {len(across)} such pairs): "
                            "leakage between the split's parts (split files that share rows?)")
            break
    if not problems:
        i, j = int(first[0]), int(second[0])
        problems.append(f"{path}: {_entry(i, ids)} and {_entry(j, ids)} are the same configuration ({len(first)} "
                        "repeated rows): a repeated row can land in training and test data at once")
    return problems
