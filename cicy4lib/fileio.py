"""Atomic file writes and JSON helpers: the one place the library writes files from.

Every file is written to a temporary file in its destination directory, flushed and fsynced,
and moved into place with ``os.replace``: readers see the old file or the new one, never a
partial one. :func:`atomic_write_many` stages several files completely before renaming any.
Temporary files are named ``.<name>.<random>.tmp``; :func:`remove_stale_temp_files` clears the
ones a killed writer left behind.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

TEMP_SUFFIX = ".tmp"


def atomic_write_many(items: Iterable[tuple[str | os.PathLike, Callable]]) -> list[Path]:
    """Stage every ``(path, write(binary_file))`` completely, then move them into place together.

    If anything fails while staging, no destination is touched; the only window left between
    files is that of the renames themselves. Files get the usual mode (0666 minus the umask).
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, write in items:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:  # already renamed, or never created
                pass
        raise
    for directory in {path.parent for _, path in staged}:
        _fsync_dir(directory)
    return [path for _, path in staged]


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
