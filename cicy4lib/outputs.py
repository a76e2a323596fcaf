"""Where outputs go: the one place output locations are resolved and refused.

Every command that writes (training, search, the split files, the generator, verify, the demo)
resolves its output here before it writes anything:

- :func:`child_name` / :func:`child_path`: a user-given run or study name is one plain folder
  name; ``..``, ``/``, an absolute path or a hidden name would leave the output folder: refused.
- :func:`check_output`: no output inside the installed package (``cicy4lib/``, whose ``_data``
  holds the shipped sample and the generated set) unless ``allow_package``/``force``, none on
  the input itself, and no default location that already holds a file (``force`` to replace).
- :func:`check_dataset_folder`: a folder that holds another dataset (other split files, a trio,
  a raw list, generated chunks: another fingerprint) is not written into unless ``force``.
- :func:`claim_folder`: a job's folder carries an owner record (``.cicy4-owner.json``); a second
  job with the same default name but another identity (another database, other data) is refused
  instead of overwriting the first one's results.
- :func:`verified_chunks`: chunk files that are complete and readable; a damaged one is moved
  aside (kept, renamed ``*.damaged``) so that a rerun makes it again instead of counting it done.

Every refusal is an :class:`~cicy4lib.errors.OutputRefusedError`, one line naming the location,
why, and how to go on; nothing has been written when it is raised.
"""
from __future__ import annotations

import json
import os
import time
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Mapping

from .errors import DataError, OutputError, OutputRefusedError
from .fileio import atomic_write_json

PACKAGE_DIR = Path(__file__).resolve().parent
OWNER_FILE = ".cicy4-owner.json"
# files whose presence marks a folder as holding a dataset (the readers' markers)
DATASET_MARKERS = ("conf.npy", "hodge.npy", "direct.npy", "conf_Xtrain.npy", "chunk_*.npz", "cicy4list.txt",
                   "cicy4list.zip", "*.npz")


def _real(path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def _resolved(path) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError):  # a link loop: the plain absolute path
        return _real(path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


# --------------------------------------------------------------------------- names

def child_name(name, what: str = "run name") -> str:
    """``name`` if it is one plain folder name (no separator, not ``.``/``..``, not hidden, not
    empty, no control characters); otherwise an :class:`OutputRefusedError`."""
    if not isinstance(name, str):
        raise OutputRefusedError(f"{what} must be a string, got {type(name).__name__}")
    problem = None
    if not name.strip():
        problem = "it is empty"
    elif name in (".", "..") or name.startswith("."):
        problem = "it starts with '.' (the parent folder, or a hidden name)"
    elif "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        problem = "it holds a path separator"
    elif any(ord(c) < 32 or c == "\x7f" for c in name):
        problem = "it holds a control character"
    elif name.startswith("~"):
        problem = "it starts with '~' (a home folder)"
    elif len(name.encode("utf-8", "surrogateescape")) > 200:
        problem = "it is longer than 200 bytes"
    if problem:
        raise OutputRefusedError(f"{what} {name!r} refused: {problem}; a {what} is one plain folder name inside "
                                 "the output folder (letters, digits, '-', '_', '.')")
    return name


def child_path(base, name, what: str = "run name") -> Path:
    """``base / name`` for a user-given ``name`` that stays inside ``base`` (see :func:`child_name`);
    an existing link at ``base / name`` that points out of ``base`` is refused too."""
    path = Path(base) / child_name(name, what)
    if path.is_symlink() and not _inside(_resolved(path), _resolved(base)):
        raise OutputRefusedError(f"{path} is a link to {_resolved(path)}, outside {base}; refused (remove the link "
                                 f"or give another {what})")
    return path


# --------------------------------------------------------------------------- locations

def in_package(path) -> bool:
    """Whether ``path`` lies inside the installed ``cicy4lib`` package."""
    return _inside(_resolved(path), PACKAGE_DIR)


def check_output(path, *, what: str = "output", inputs: Iterable = (), force: bool = False,
                 allow_package: bool = False, from_default: bool = False) -> Path:
    """``path`` as an output location, or an :class:`OutputRefusedError` before anything is written.

    Refused: a location inside the installed package (unless ``allow_package`` or ``force``: the
    shipped sample and generated set live there); the input itself or a folder that holds an input
    (unless ``force``); a ``from_default`` location that already
    holds a file (a command run without an output argument never replaces anything; ``force``)."""
    path = Path(path).expanduser()
    real = _resolved(path)
    if in_package(path) and not (allow_package or force):
        raise OutputRefusedError(
            f"{what} {path} is inside the installed package {PACKAGE_DIR} (its shipped data would be replaced); "
            "give a location outside it (or force it, e.g. --force, to replace a shipped file on purpose)")
    for item in inputs or ():
        if item is None or (isinstance(item, str) and not (os.sep in item or Path(item).exists())):
            continue  # a registered name ("sample"), not a path
        src = _resolved(item)
        if force:
            continue
        if real == src:
            raise OutputRefusedError(f"{what} {path} is the input itself ({item}); refused: choose another location")
        if _inside(src, real) and real != src:
            raise OutputRefusedError(f"{what} {path} holds the input {item}; writing there could replace it: "
                                     "choose another location (or force it)")
    if from_default and os.path.lexists(path) and not force and not path.is_dir():
        raise OutputRefusedError(f"{what} {path} (the default location) already exists; refused to replace it: "
                                 "give the output location explicitly, or force it")
    return path


def dataset_files(folder) -> list[Path]:
    """The files in ``folder`` that make it a dataset folder (see ``DATASET_MARKERS``)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for marker in DATASET_MARKERS:
        found += [p for p in folder.glob(marker) if p.is_file() or p.is_symlink()]
    return sorted(set(found))


def check_dataset_folder(folder, fingerprint: Mapping | None = None, *, what: str = "output folder",
                         inputs: Iterable = (), force: bool = False, own_files: Iterable[str] = ()) -> Path:
    """``folder`` for writing a dataset into, or an :class:`OutputRefusedError`.

    Refused unless ``force``: the folder is (or holds) an input; it already holds dataset files
    other than ``own_files`` (another kind of dataset); or it holds files of the same kind whose
    ``provenance.json`` fingerprint differs from ``fingerprint`` (another dataset or split)."""
    folder = check_output(folder, what=what, inputs=inputs, force=force)
    if force or not folder.is_dir():
        return folder
    own = set(own_files)
    present = dataset_files(folder)
    present += [folder / name for name in sorted(own) if os.path.lexists(folder / name)
                and folder / name not in present]
    foreign = [p.name for p in present if p.name not in own]
    if foreign:
        raise OutputRefusedError(f"{what} {folder} already holds another dataset ({', '.join(foreign[:4])}"
                                 + (", ..." if len(foreign) > 4 else "") + "); refused: choose an empty folder, "
                                 "or force it (--force) to replace")
    mine = [p for p in present if p.name in own]
    if mine and fingerprint is not None:
        stored = _read_json(folder / "provenance.json")
        stored_fp = (stored or {}).get("fingerprint")
        if stored_fp != dict(fingerprint):
            why = "no provenance.json to show it holds the same data" if stored is None else \
                "its provenance.json records other data or another split"
            raise OutputRefusedError(f"{what} {folder} already holds split files ({why}); refused to replace them: "
                                     "choose another folder, or force it (--force)")
    return folder


def _read_json(path: Path):
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- owned folders

def claim_folder(folder, owner: Mapping, *, what: str = "job", force: bool = False, keys: Iterable[str] | None = None
                 ) -> Path:
    """Make ``folder`` (created) the output folder of the job described by ``owner`` (a JSON
    object; ``keys`` the fields that identify the job, default all). A folder already claimed by
    a job with other identifying fields is refused unless ``force`` (then the claim is replaced);
    a folder with results but no claim is claimed when it holds no ``best_trial.json``-like
    results of another job (only its own kind of files)."""
    folder = Path(folder)
    owner = {str(k): v for k, v in dict(owner).items()}
    keys = list(owner) if keys is None else list(keys)
    record = _read_json(folder / OWNER_FILE)
    if record is None and not force and _unclaimed_files(folder):
        # a worker of the same job starting at the same moment may be writing its claim right now
        # (its folder and the claim's temporary file appear first): look again before refusing
        for _ in range(40):
            time.sleep(0.05)
            record = _read_json(folder / OWNER_FILE)
            if record is not None:
                break
    if record is not None and not force:
        differ = [k for k in keys if record.get(k) != owner.get(k)]
        if differ:
            said = ", ".join(f"{k} {record.get(k)!r} (now {owner.get(k)!r})" for k in differ)
            raise OutputRefusedError(f"{folder} holds the results of another {what}: {said}; refused to overwrite "
                                     f"them: choose another name or output folder, or force it (--force)")
        return folder
    if record is None and not force and _unclaimed_files(folder):
        raise OutputRefusedError(f"{folder} already holds files that no {what} claims; refused to write into it: "
                                 "choose another name or output folder, or force it (--force)")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(owner, folder / OWNER_FILE)
    return folder


def _unclaimed_files(folder: Path) -> list:
    """The entries of ``folder`` other than a claim being written (``.cicy4-owner.json.*.tmp``)."""
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if not (p.name.startswith(OWNER_FILE + ".") and p.name.endswith(".tmp"))]


# --------------------------------------------------------------------------- generator outputs

def sample_output(out=None, *, force: bool = False, default_name: str = "sample.npz") -> Path:
    """The generator's ``--out``: ``out`` as given, or ``./sample.npz`` when none is given (never the
    shipped ``cicy4lib/_data/sample.npz``); checked by :func:`check_output` (inside the package only
    with ``force``; a default location that exists only with ``force``)."""
    if out is None:
        return check_output(Path(default_name), what="sample output", force=force, from_default=True)
    return check_output(out, what="sample output", force=force)


def chunk_ok(path, required: Iterable[str] = ("conf", "hodge")) -> str | None:
    """None if the chunk file ``path`` is a complete, readable .npz holding ``required`` arrays of
    one length; else why not (one line)."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()  # reads every member and checks its CRC
            if bad is not None:
                return f"member {bad} fails its CRC check"
            names = {n[:-4] for n in z.namelist() if n.endswith(".npy")}
        missing = [k for k in required if k not in names]
        if missing:
            return f"arrays {missing} missing"

        from .data.checks import read_npz  # lazy: cicy4lib.data imports this module (a cycle through data/__init__)

        arrays, _ = read_npz(Path(path))
        lengths = {k: len(arrays[k]) for k in required}
        if len(set(lengths.values())) != 1:
            return f"arrays of different lengths {lengths}"
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, DataError, zlib.error,
            KeyError, TypeError, IndexError, NotImplementedError) as err:
        return f"{type(err).__name__}: {' '.join(str(err).split())}"[:300]
    return None


def verified_chunks(out_dir, indices: Iterable[int], path_of=None, *, say=None) -> list[int]:
    """The ``indices`` whose chunk files in ``out_dir`` are complete (:func:`chunk_ok`); each damaged
    one is renamed ``<name>.damaged`` (``.damaged-2``, ... : nothing is deleted) with a warning, so
    that a rerun generates it again instead of counting it done."""
    out_dir = Path(out_dir)
    path_of = path_of or (lambda i: out_dir / f"chunk_{i:05d}.npz")
    good = []
    for i in indices:
        path = Path(path_of(i))
        problem = chunk_ok(path)
        if problem is None:
            good.append(i)
            continue
        aside = path.with_name(path.name + ".damaged")
        k = 1
        while os.path.lexists(aside):
            k += 1
            aside = path.with_name(f"{path.name}.damaged-{k}")
        try:
            os.replace(path, aside)
        except OSError as err:
            raise OutputError(f"{path} is damaged ({problem}) and cannot be moved aside: {err.strerror}; "
                              "remove it by hand and run again", err.errno, path) from None
        message = f"{path} is damaged ({problem}): moved to {aside.name}, the chunk is made again"
        warnings.warn(message, stacklevel=2)
        if say:
            say(message)
    return good
