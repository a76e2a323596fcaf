"""Run directories that lose nothing: a lock, checks before changes, a data fingerprint.

The trainer (:func:`cicy4lib.training.loop.train`) opens its run directory through :func:`open_run`,
which does, in this order:

1. **lock** the directory (:class:`RunLock`, an OS lock on ``train.lock``): a second trainer on
   the same directory gets a :class:`~cicy4lib.errors.RunLockedError` naming the lock file and
   what to do about it, instead of both "succeeding" with one result silently lost. The OS
   releases the lock when its process ends, however it ends, so a killed trainer leaves no
   lock behind (the file may remain; it is not the lock, the ``flock`` on it is);
2. **check, touching nothing**: the saved ``state.pt`` (:func:`load_state`: any damage is a
   :class:`~cicy4lib.errors.CheckpointError` naming the file), that it is the same model, split
   and recipe (the caller's ``check_state``), that it was trained on the same data
   (:func:`data_fingerprint`: source, sizes, a hash of the split indices and of the rows used;
   a mismatch is a :class:`~cicy4lib.errors.RunMismatchError`), the ``init_from`` checkpoint,
   and that a directory holding a run is not started over unless ``overwrite=True``
   (:class:`~cicy4lib.errors.RunExistsError`);
3. only then **change** the directory: remove temp files that killed writes left behind
   (:func:`cicy4lib.fileio.remove_stale_temp_files`), delete the old run's files when starting
   over, and rewrite ``log.csv`` from the state when resuming (a kill between the state write and
   the log write would otherwise lose that epoch's log row for good).

Every file is written through :mod:`cicy4lib.fileio` (atomic, mode 0666 minus the umask).

>>> with open_run("runs/LSTM-448_72", resume=True) as run:  # doctest: +SKIP
...     run.state  # None for a new run, else the checked state.pt
"""
from __future__ import annotations

import errno
import hashlib
import os
import socket
import warnings
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

try:
    import fcntl
except ImportError:  # Windows: RunLock falls back to filelock
    fcntl = None

from ..data.splits import as_split
from ..errors import (CheckpointError, DataMismatchWarning, RunError, RunExistsError, RunLockedError,
                      RunMismatchError)
from ..fileio import atomic_write_text, jsonable, remove_stale_temp_files
from ..models.checkpoint import STATE_HINT, load_model, read_training_state
from ..models.registry import canonical_name
from ..outputs import child_path

LOCK_FILE = "train.lock"
STATE_FILE = "state.pt"
LOG_FILE = "log.csv"
# What a run directory holds; starting over deletes these (never anything else in the directory).
RUN_FILES = ("model.pt", "model.json", "optimizer.pt", STATE_FILE, LOG_FILE)
# Files whose presence means the directory holds a trained run.
RESULT_FILES = ("model.pt", STATE_FILE)
# state.pt fields the trainer needs, with their types (checked before anything is touched).
STATE_FIELDS = {
    "format": int, "model_name": str, "split": str, "recipe": dict, "epoch": int,
    "best_val_loss": (float, int), "counter": int, "best_epoch": int, "seconds": (float, int),
    "stopped": str, "history": dict, "model": dict, "optimizer": dict, "scheduler": dict, "rng": dict,
}
# Fingerprint entries compared on resume ("source" by its last path component: a moved file is fine).
FINGERPRINT_KEYS = ("kind", "source", "n", "n_train", "n_valid", "n_test", "split_sha256", "content_sha256")
_OVERWRITE_HINT = "pass overwrite=True (CLI: --overwrite) to start it over, or choose another run_name/output_dir"


# --------------------------------------------------------------------------- lock


from ..fileio import open_no_follow  # noqa: E402


class RunLock:
    """An exclusive OS lock on ``<run_dir>/train.lock`` (``fcntl.flock``; ``filelock`` elsewhere).

    Non-blocking: :meth:`acquire` raises :class:`RunLockedError` at once when another process
    (or another :class:`RunLock` in this process) holds it. Use as a context manager.
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None
        self._fallback = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._fallback is not None

    def acquire(self) -> "RunLock":
        if self.held:
            return self
        if fcntl is None:  # Windows
            return self._acquire_filelock()
        for _ in range(20):  # retried only when a releasing holder unlinked the file under us
            fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT, 0o666)  # a link there is refused, not truncated
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                os.close(fd)
                if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise self._locked_error() from None
                raise
            try:
                same_file = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same_file = False
            if same_file:
                self._fd = fd
                self._write_holder(fd)
                return self
            os.close(fd)
        raise RunError(f"could not lock {self.path}: it keeps being replaced")

    def _acquire_filelock(self) -> "RunLock":
        import filelock  # lazy: optional dependency, needed only where fcntl is missing (Windows)

        lock = filelock.FileLock(str(self.path), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise self._locked_error() from None
        self._fallback = lock
        return self

    def release(self) -> None:
        if self._fallback is not None:
            self._fallback.release()
            self._fallback = None
            return
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it: a waiting opener notices the new inode
        except OSError:
            pass
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def _write_holder(self, fd: int) -> None:
        text = (f"pid {os.getpid()} on {socket.gethostname()} since "
                f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}\n")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode(), 0)
        except OSError:
            pass  # the lock is what matters, not the note

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""
        return f" (held by {text})" if text else ""

    def _locked_error(self) -> RunLockedError:
        return RunLockedError(
            f"{self.path.parent} is in use: another trainer holds its lock {self.path}{self._holder()}. "
            f"Wait for that training to finish, or stop it. The lock is released when its process ends; "
            f"if no trainer is running (a network filesystem can keep a stale lock after a crash), "
            f"delete {self.path} and try again.")

    def __del__(self):  # a lock object dropped without release() must not hold the lock on
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# --------------------------------------------------------------------------- data


def data_provenance(data) -> dict:
    """Where ``data`` came from: its ``provenance`` dict (JSON types), or a minimal one."""
    provenance = getattr(data, "provenance", None)
    if isinstance(provenance, Mapping):
        return jsonable(dict(provenance))
    return {"kind": "user", "source": str(getattr(data, "source", "")), "n": len(data)}


_HASH_CHUNK = 1 << 16


def data_fingerprint(data, split) -> dict:
    """What identifies the data a run trains on: source, sizes, a hash of the split's indices
    and a hash of the train and validation rows themselves (matrices, Hodge numbers, scale).

    Two fingerprints compare equal (:func:`check_fingerprint`) exactly when resuming would
    continue the same training. The last answer is cached (the trainer asks twice per call).
    """
    cached = _FINGERPRINT_CACHE.get("last")
    if cached is not None and cached[0]() is data and cached[1]() is split:
        return dict(cached[2])
    fingerprint = _fingerprint(data, split)
    try:  # weak references: the cache keeps no dataset alive
        _FINGERPRINT_CACHE["last"] = (weakref.ref(data), weakref.ref(split), fingerprint)
    except TypeError:  # objects without weakref support are simply not cached
        _FINGERPRINT_CACHE.pop("last", None)
    return dict(fingerprint)


_FINGERPRINT_CACHE: dict = {}


def _fingerprint(data, split) -> dict:
    provenance = data_provenance(data)
    parts = {part: np.asarray(getattr(split, part, None) if getattr(split, part, None) is not None else [],
                              dtype=np.int64).ravel()
             for part in ("train", "valid", "test")}
    split_hash = hashlib.sha256()
    for part, idx in parts.items():
        split_hash.update(f"{part}:{len(idx)};".encode())
        split_hash.update(np.ascontiguousarray(idx).tobytes())
    used = np.concatenate([parts["train"], parts["valid"]])
    conf, hodge = np.asarray(data.conf), np.asarray(data.hodge)
    content = hashlib.sha256()
    for start in range(0, len(used), _HASH_CHUNK):  # in chunks: no copy of a whole large dataset
        rows = used[start:start + _HASH_CHUNK]
        content.update(np.ascontiguousarray(conf[rows], dtype=np.int16).tobytes())
        content.update(np.ascontiguousarray(hodge[rows], dtype=np.int64).tobytes())
    content.update(repr(float(getattr(data, "scale", 0.0))).encode())
    test = hashlib.sha256()  # not compared on resume (FINGERPRINT_KEYS); evaluation checks it
    for start in range(0, len(parts["test"]), _HASH_CHUNK):
        rows = parts["test"][start:start + _HASH_CHUNK]
        test.update(np.ascontiguousarray(conf[rows], dtype=np.int16).tobytes())
        test.update(np.ascontiguousarray(hodge[rows], dtype=np.int64).tobytes())
    return {
        "kind": provenance.get("kind"),
        "source": str(provenance.get("source", getattr(data, "source", ""))),
        "n": len(data),
        "n_train": len(parts["train"]),
        "n_valid": len(parts["valid"]),
        "n_test": len(parts["test"]),
        "split": getattr(split, "name", None),
        "split_sha256": split_hash.hexdigest(),
        "content_sha256": content.hexdigest(),
        "test_sha256": test.hexdigest(),
    }


def _comparable(key: str, value: Any) -> Any:
    if key == "source" and isinstance(value, str):
        return Path(value.rstrip("/\\")).name or value
    return value


def check_fingerprint(saved: Mapping | None, current: Mapping | None, path: str | os.PathLike) -> None:
    """Refuse to resume the run saved at ``path`` on other data than it was trained on.

    Raises
    ------
    RunMismatchError
        Naming each entry that differs (source, sizes, split or content hash).
    """
    if current is None:
        return
    if not isinstance(saved, Mapping):
        warnings.warn(f"{path} records no data fingerprint (written by an older version of the library): "
                      "cannot check that the resumed run trains on the same data", stacklevel=3)
        return
    diffs = []
    for key in FINGERPRINT_KEYS:
        old, new = saved.get(key), current.get(key)
        if _comparable(key, old) != _comparable(key, new):
            if key.endswith("sha256"):
                old, new = (str(v)[:12] + "..." if v else v for v in (old, new))
            diffs.append(f"{key} {old!r} -> {new!r}")
    if diffs:
        raise RunMismatchError(
            f"{path} was trained on other data ({'; '.join(diffs)}). Resume with the same data "
            f"(source, max_samples, split), or {_OVERWRITE_HINT}.")


# what must agree for a run to be scored on "its own" data (the source's spelling may differ)
EVALUATION_KEYS = ("n", "n_train", "n_valid", "n_test", "split_sha256", "content_sha256", "test_sha256")


def warn_if_other_data(saved: Mapping | None, data, split, run) -> list[str]:
    """Warn :class:`~cicy4lib.errors.DataMismatchWarning` when ``data`` (with ``split``) is not the
    data the run at ``run`` was trained on (its ``model.json`` ``data_fingerprint`` ``saved``):
    other rows, sizes, split or labels. The warning names both fingerprints; returns the entries
    that differ ([] when they agree or the run records none)."""
    if not isinstance(saved, Mapping):
        return []
    current = data_fingerprint(data, split)
    diffs = [key for key in EVALUATION_KEYS if key in saved and saved.get(key) != current.get(key)]
    if diffs:
        def says(fp):
            return (f"{fp.get('kind')} {Path(str(fp.get('source') or '')).name or '?'}, n={fp.get('n')}, split "
                    f"{fp.get('split')} {str(fp.get('split_sha256'))[:10]}, rows {str(fp.get('content_sha256'))[:10]}"
                    f"/{str(fp.get('test_sha256'))[:10]}")
        warnings.warn(DataMismatchWarning(
            f"{run} is evaluated on data other than its own ({', '.join(diffs)} differ): trained on "
            f"[{says(saved)}], evaluated on [{says(current)}]; its scores are not those of its own test set"),
            stacklevel=3)
    return diffs


# --------------------------------------------------------------------------- state and log


def load_state(path: str | os.PathLike, columns: Sequence[str] = ()) -> dict:
    """The trainer's ``state.pt``, checked (:func:`cicy4lib.models.checkpoint.read_training_state`):
    every field the trainer needs present with its type, a history with every column of
    ``columns``, one value per epoch.

    Raises
    ------
    CheckpointError
        Empty, truncated, corrupt or incomplete file (the message names it).
    """
    state = read_training_state(path, STATE_FIELDS)
    epoch = state["epoch"]
    missing = [column for column in columns if column not in state["history"]]
    if missing:
        raise CheckpointError(f"{path}: history lacks the columns {missing}; {STATE_HINT}")
    for column, values in state["history"].items():
        if not isinstance(values, (list, tuple)) or len(values) != epoch:
            raise CheckpointError(f"{path}: history column {column!r} does not hold one value per epoch "
                                  f"({epoch} epochs); {STATE_HINT}")
    return state


def write_log(run_dir: str | os.PathLike, history: Mapping[str, Sequence], columns: Sequence[str] | None = None,
              *, only_if_changed: bool = False):
    """Write ``log.csv`` (one row per epoch) from ``history``, atomically; return it as a DataFrame.

    ``only_if_changed`` leaves an identical file untouched (resuming a finished run changes nothing).
    """
    columns = list(columns or history)
    frame = pd.DataFrame({col: list(history[col]) for col in columns}, columns=columns)
    if "epoch" in frame:
        frame["epoch"] = frame["epoch"].astype(int)
    text = frame.to_csv(index=False)
    path = Path(run_dir) / LOG_FILE
    if only_if_changed:
        try:
            if path.read_text(encoding="utf-8") == text:
                return frame
        except (OSError, UnicodeDecodeError):
            pass
    atomic_write_text(text, path)
    return frame


# --------------------------------------------------------------------------- open a run


@dataclass
class Run:
    """An opened, locked run directory. ``state`` is the checked ``state.pt`` to resume from (None:
    a fresh start); ``init_weights`` the ``init_from`` state_dict (None unless starting fresh with one)."""

    path: Path
    state: dict | None
    lock: RunLock
    fingerprint: dict | None = None
    init_weights: dict | None = None
    removed: list = field(default_factory=list)

    def close(self) -> None:
        self.lock.release()

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# many keyword options: what train() and train_tree() check before they touch a run directory
def open_run(run_dir: str | os.PathLike, *, resume: bool = True, overwrite: bool = False,
             fingerprint: Mapping | None = None, init_from: str | os.PathLike | None = None,
             arch: Any = None, check_state: Callable[[dict, Path], None] | None = None,
             log_columns: Sequence[str] | None = None, writer: bool = True) -> Run:
    """Lock ``run_dir``, check everything, then prepare it; see the module docstring.

    Parameters
    ----------
    resume : continue from ``state.pt`` when there is one.
    overwrite : start over even if the directory holds a run (its files are deleted).
    fingerprint : :func:`data_fingerprint` of the data about to be used (checked on resume).
    init_from, arch : checkpoint to start from and the architecture it must be (loaded now, so a
        bad file fails before anything changes); ignored when resuming.
    check_state : ``check_state(state, path)`` raises if the saved state is not this run's
        (another model, split, recipe).
    log_columns : columns of ``log.csv``, rewritten from the state on resume.
    writer : False for a process that only reads the run (a non-main DDP rank): the checks run,
        but no lock is taken and nothing is changed.

    Returns
    -------
    Run
        Holding the lock until :meth:`Run.close` (or the end of a ``with`` block).

    Raises
    ------
    RunLockedError, RunExistsError, RunMismatchError, CheckpointError
        Before anything in ``run_dir`` was changed.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"{run_dir} exists and is not a directory")
    if not writer:
        return _check(run_dir, RunLock(run_dir), resume=resume, overwrite=overwrite, fingerprint=fingerprint,
                      init_from=init_from, arch=arch, check_state=check_state, columns=log_columns or ())
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir).acquire()
    try:
        run = _check(run_dir, lock, resume=resume, overwrite=overwrite, fingerprint=fingerprint,
                     init_from=init_from, arch=arch, check_state=check_state, columns=log_columns or ())
        # ---- every check passed: only now is anything in the directory changed
        run.removed = remove_stale_temp_files(run_dir)
        if run.state is None:
            for name in RUN_FILES:
                try:
                    (run_dir / name).unlink()
                except FileNotFoundError:
                    pass
        else:
            write_log(run_dir, run.state["history"], log_columns, only_if_changed=True)
        return run
    except BaseException:
        lock.release()
        if created:
            try:
                run_dir.rmdir()  # leave no empty directory behind a refused start
            except OSError:
                pass
        raise


# open_run's options passed on unchanged: the checks it runs while holding the lock
def _check(run_dir: Path, lock: RunLock, *, resume, overwrite, fingerprint, init_from, arch, check_state,
           columns=()) -> Run:
    state_path = run_dir / STATE_FILE
    state = None
    if not overwrite:
        results = [name for name in RESULT_FILES if (run_dir / name).exists()]
        if resume and state_path.exists():
            state = load_state(state_path, columns)
            if check_state is not None:
                check_state(state, state_path)
            check_fingerprint(state.get("data_fingerprint"), fingerprint, state_path)
        elif results and not resume:
            raise RunExistsError(f"{run_dir} holds a run ({_describe(run_dir)}); resume=False would replace it: "
                                 f"{_OVERWRITE_HINT}, or resume it (CLI: drop --no-resume)")
        elif results:
            raise RunExistsError(f"{run_dir} holds {', '.join(results)} but no {STATE_FILE} to resume from; "
                                 f"{_OVERWRITE_HINT}")
    init_weights = None
    if state is None and init_from is not None:
        source, _ = load_model(init_from, arch=arch)  # missing, corrupt, other arch: clear errors
        init_weights = source.state_dict()
    return Run(run_dir, state, lock, dict(fingerprint) if fingerprint is not None else None, init_weights)


def _describe(run_dir: Path) -> str:
    """A few words on the run in ``run_dir`` for messages (never raises)."""
    try:
        state = load_state(run_dir / STATE_FILE)
    except Exception:  # noqa: BLE001 - only for the message
        return "model.pt" if (run_dir / "model.pt").exists() else "files"
    status = "finished" if state["stopped"] in ("early_stopping", "max_epochs", "collapsed") else "stopped"
    return f"{status} after {state['epoch']} epochs, {state['stopped']}"


def run_directory(model_name, data, split="72", output_dir="Results_p2_Trained_models", run_name=None) -> Path:
    """Where :func:`train` keeps the run: ``output_dir/run_name``, by default ``<model>_<split>``.

    A given ``run_name`` must be one plain folder name (:func:`cicy4lib.outputs.child_path`): ``..``,
    a separator, an absolute or hidden name would leave ``output_dir`` and is an
    :class:`~cicy4lib.errors.OutputRefusedError` before anything is written."""
    if run_name is not None:  # a user-given name: one plain folder name inside output_dir
        return child_path(output_dir, run_name, "run name")
    split_name = as_split(data, split).name or "custom"
    return Path(output_dir) / f"{canonical_name(model_name)}_{split_name}"
