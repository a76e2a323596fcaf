"""Atomic file writes and JSON helpers: the one place the library writes files from.

Every file is written to a temporary file in its destination directory, flushed and fsynced,
and moved into place with ``os.replace``: readers see the old file or the new one, never a
partial one. :func:`atomic_write_many` stages several files completely before renaming any.
Temporary files are named ``.<name>.<random>.tmp``; :func:`remove_stale_temp_files` clears the
ones a killed writer left behind.

No write here follows a symbolic link: temporary files are created exclusively (``O_EXCL``),
``os.replace`` replaces a link at the destination rather than writing through it, and
:func:`open_no_follow` (lock files, appended logs) refuses a link (``O_NOFOLLOW``) or anything
that is not a regular file. A failed write (a full disk, a read-only one, no permission) is an
:class:`~cicy4lib.errors.OutputError` that names the file and says what was kept: since nothing
is renamed before everything is staged, the previous file is always intact.
"""
from __future__ import annotations

import contextlib
import dataclasses
import errno as _errno
import io
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import OutputError

TEMP_SUFFIX = ".tmp"


def _kept(paths: list[Path], existed: dict) -> str:
    """What a failed write left: the previous files, unchanged."""
    before = [p for p in paths if existed.get(p)]
    if len(paths) == 1:
        return (f"the previous {paths[0].name} is kept unchanged" if before
                else "nothing was written there")
    if not before:
        return f"nothing was written there (none of the {len(paths)} files existed before)"
    return (f"none of the {len(paths)} files was replaced (the previous "
            f"{', '.join(p.name for p in before)} kept unchanged)")


def write_failed(path, err: OSError, kept: str) -> OutputError:
    """The one-line :class:`OutputError` for a write to ``path`` that failed with ``err``."""
    reason = err.strerror or str(err) or type(err).__name__
    if err.errno in (_errno.ENOSPC, _errno.EDQUOT, _errno.EFBIG):
        reason += " (the disk or quota is full: free space and run again)"
    return OutputError(f"cannot write {path}: {reason}; {kept}", err.errno, path)


def atomic_write_many(items: Iterable[tuple[str | os.PathLike, Callable]]) -> list[Path]:
    """Stage every ``(path, write(binary_file))`` completely, then move them into place together.

    If anything fails while staging, no destination is touched; the only window left between
    files is that of the renames themselves. Files get the usual mode (0666 minus the umask).
    An OS failure (full disk, read-only, permissions) is an :class:`OutputError` naming the file
    and saying what was kept.
    """
    items = [(Path(path), write) for path, write in items]
    existed = {path: os.path.lexists(path) for path, _ in items}
    staged: list[tuple[str, Path]] = []
    current = None
    try:
        for path, write in items:
            current = path
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir() and not path.is_symlink():
                raise IsADirectoryError(_errno.EISDIR, "a folder is in the way", str(path))
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        renamed = 0
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)  # replaces a link at ``path`` itself: its target is never written
            renamed += 1
    except OSError as err:
        _unlink_staged(staged)
        if isinstance(err, OutputError):
            raise
        paths = [p for p, _ in items]
        raise write_failed(current, err, _kept(paths, existed)) from None
    except BaseException:
        _unlink_staged(staged)
        raise
    for directory in {path.parent for _, path in staged}:
        _fsync_dir(directory)
    return [path for _, path in staged]


def _unlink_staged(staged) -> None:
    for tmp, _ in staged:
        try:
            os.unlink(tmp)
        except OSError:  # already renamed, or never created
            pass


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs):
    """``with atomic_open(path, "w") as f: ...`` streams into a temporary file that replaces
    ``path`` when the block ends without an error (a failed block leaves ``path`` as it was).
    ``mode`` "w" (text; ``encoding`` default utf-8, ``newline`` passed on) or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    existed = os.path.lexists(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as binary:
            if mode == "wb":
                yield binary
            else:
                text = io.TextIOWrapper(binary, encoding=kwargs.get("encoding", "utf-8"),
                                        newline=kwargs.get("newline"))
                yield text
                text.flush()
                text.detach()
            binary.flush()
            os.fsync(binary.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        _unlink_staged([(tmp, path)])
        if isinstance(err, OutputError):
            raise
        raise write_failed(path, err, _kept([path], {path: existed})) from None
    except BaseException:
        _unlink_staged([(tmp, path)])
        raise
    _fsync_dir(path.parent)


def open_no_follow(path: str | os.PathLike, flags: int = os.O_RDWR | os.O_CREAT, mode: int = 0o666) -> int:
    """``os.open`` that never follows a symbolic link at ``path`` and accepts only a regular file
    (lock files, appended logs): a link, a FIFO or a device there is an :class:`OutputError`."""
    path = Path(path)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if not nofollow and os.path.islink(path):
        raise OutputError(f"{path} is a symbolic link; refused (it is not written through; remove the link)",
                          _errno.ELOOP, path)
    try:
        fd = os.open(path, flags | nofollow, mode)
    except OSError as err:
        if err.errno == _errno.ELOOP or (os.path.islink(path)):
            raise OutputError(f"{path} is a symbolic link; refused (it is not written through; remove the "
                              "link)", _errno.ELOOP, path) from None
        raise write_failed(path, err, "nothing was written there") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"{path} is not a regular file; refused (nothing was written to it)", None, path)
    return fd


def append_text(path: str | os.PathLike, text: str) -> None:
    """Append ``text`` to ``path`` (created if missing) without following a link there."""
    fd = open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        data = text.encode("utf-8")
        while data:
            n = os.write(fd, data)
            data = data[n:]
    except OSError as err:
        raise write_failed(path, err, "the lines already in it are kept") from None
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable) -> Path:
    """Write ``path`` through ``write(binary_file)``, atomically."""
    return atomic_write_many([(path, write)])[0]


def atomic_write_bytes(data: bytes, path: str | os.PathLike) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(text: str, path: str | os.PathLike) -> Path:
    return atomic_write_bytes(text.encode("utf-8"), path)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` that never leaves a partly written file at ``path``."""
    import torch  # lazy: the geometry and data layers must import without torch

    return atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_json(obj: Any, path: str | os.PathLike, *, sort_keys: bool = False) -> Path:
    """Write ``obj`` as indented JSON, atomically (numpy scalars, Paths, dataclasses allowed)."""
    text = json.dumps(jsonable(obj), indent=2, sort_keys=sort_keys) + "\n"
    return atomic_write_text(text, path)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy/torch scalars and arrays, Paths, dataclasses, sets,
    pandas objects; non-finite floats become ``None`` (JSON has no NaN)."""
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")
                                   and not hasattr(value, "to_dict")):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "to_dict"):  # pandas objects
        return jsonable(value.to_dict())
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy / torch
        return jsonable(value.tolist())
    if type(value).__name__ == "device":  # torch.device
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"value of type {type(value).__name__} is not JSON serialisable: {value!r}")


def remove_stale_temp_files(directory: str | os.PathLike) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files a killed writer left in ``directory``; return them."""
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for path in directory.glob(f".*{TEMP_SUFFIX}"):
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
