"""Data sources for the CICY four-fold list, all loaded into one :class:`CICYData`.

A data source is one *reader* registered with :func:`register_reader`, by name (``"sample"``,
``"kaggle"``), by file pattern (``*.npz``, ``cicy4list.txt``) or by the file that marks a folder
(``conf_Xtrain.npy``, ``conf.npy``). :func:`load_dataset` dispatches through the registry:

- ``"sample"`` (default): the embedded sample ``cicy4lib/_data/sample.npz``; any other ``.npz``
  path with the same keys works too;
- the raw list ``cicy4list.txt`` or the ``cicy4list.zip`` it ships in (a Mathematica list,
  parsed streamed and vectorised: see :func:`parse_cicy4_list`);
- a folder with the numpy trio ``conf.npy``, ``hodge.npy``, ``direct.npy`` (``create_data.py``);
- ``"kaggle"`` or a folder with the Kaggle split files (``conf_Xtrain.npy`` ...): one dataset
  train72 + valid72 + test72 with the published splits in ``.splits``.

Every reader checks what it reads (shapes, dtypes, lengths, integer-valued matrices that are
valid configurations, boolean product flags, Hodge numbers in range and consistent with chi)
and every I/O or decoding failure is a :class:`DataError` naming the file (and the entry).
A folder written by the library carries a ``provenance.json`` that its reader reads back.

Adding a source::

    @register_reader("mysource", files=("*.h5",), description="my HDF5 files")
    def _read_mine(path, options):        # path: the file/folder, or the default location
        ...                               # options: scale, drop_products, compute_euler, check_labels
        return CICYData(...)

>>> data = load_dataset("sample")                     # doctest: +SKIP
>>> data.conf.shape, data.hodge.dtype, data.scale     # doctest: +SKIP
((N, 16, 20), dtype('int64'), 6.0)
"""
from __future__ import annotations

import fnmatch
import os
import warnings
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from . import checks
from ..constants import PROVENANCE_FILE
from ..constants import REAL_LIST_NON_PRODUCT
from ..errors import Cicy4Error, DataError, DataWarning
from .dataset import CICYData
from .rawlist import read_cicy4_list
from .splits import FILES_72, FILES_80, N_FOLDS, Split, fold_files

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "_data" / "sample.npz"
KAGGLE_DIR = Path("/kaggle/input/calabi-yau-cicy-4-folds")
TRIO = ("conf.npy", "hodge.npy", "direct.npy")
NPZ_EULER_SPOT_CHECK = 256  # .npz files carry chi: this many entries are recomputed (all if fewer)


# --------------------------------------------------------------------------- the registry

@dataclass(frozen=True)
class LoadOptions:
    """What :func:`load_dataset` passes to every reader."""

    scale: float | None = None
    drop_products: bool = True
    compute_euler: bool = True
    check_labels: bool = True  # False: skip the label checks (Hodge ranges/relations, stored chi)


@dataclass(frozen=True)
class Reader:
    """One data source: how to find it and how to read it."""

    name: str
    read: Callable  # (path: Path, options: LoadOptions) -> CICYData
    files: tuple = ()  # glob patterns on a file's name (case-insensitive)
    folder: tuple = ()  # file names (or glob patterns) whose presence in a folder selects this reader
    default: Callable | None = None  # () -> Path, for a source given by name
    description: str = ""
    missing_hint: str = ""  # appended when the named source's default location is missing


_READERS: dict[str, Reader] = {}


def register_reader(name: str, *, files=(), folder=(), default=None, description: str = "",
                    missing_hint: str = "", replace: bool = False):
    """Register a reader ``fn(path, options) -> CICYData`` (decorator).

    ``name`` selects it as ``load_dataset(name)`` when ``default`` (a callable returning the
    default path) is given; ``files`` are glob patterns a file path must match; ``folder``
    are file names (or glob patterns) whose presence in a folder selects it. Readers
    registered earlier win when several match. A reader builds its result with
    :func:`dataset_from_arrays`, which runs every check. ``replace=True`` swaps out an
    existing reader of the same name (keeping its place in the order).
    """
    if name in _READERS and not replace:
        raise ValueError(f"a data reader named {name!r} is already registered (pass replace=True to swap it)")

    def decorate(fn):
        _READERS[name] = Reader(name, fn, tuple(files), tuple(folder), default, description, missing_hint)
        return fn

    return decorate


def list_readers() -> list[Reader]:
    """The registered readers, in dispatch order."""
    return list(_READERS.values())


def sources_help() -> str:
    parts = []
    for r in _READERS.values():
        how = [repr(r.name)] if r.default else []
        how += [f"a file {p}" for p in r.files] + [f"a folder with {f}" for f in r.folder]
        parts.append(f"{' / '.join(how)} ({r.description})")
    return "valid sources: " + "; ".join(parts)


def find_reader(source) -> tuple[Reader, Path]:
    """The reader for ``source`` (a registered name or a path) and the path it reads."""
    if isinstance(source, str) and source in _READERS and _READERS[source].default is not None:
        reader = _READERS[source]
        path = Path(reader.default())
        if not path.exists():
            raise DataError(f"{reader.description} {path} is missing{reader.missing_hint}; {sources_help()}")
        return reader, path
    if not isinstance(source, (str, Path)) and not hasattr(source, "__fspath__"):
        raise DataError(f"data source must be a name or a path, not {type(source).__name__}; {sources_help()}")
    path = Path(source).expanduser()
    if path.is_dir():
        matching = [reader for reader in _READERS.values()
                    if any(next(path.glob(marker), None) is not None for marker in reader.folder)]
        if len(matching) > 1:
            found = "; ".join(f"{r.name} ({', '.join(m for m in r.folder if next(path.glob(m), None) is not None)})"
                              for r in matching)
            raise DataError(f"{path}: holds more than one kind of dataset ({found}); pass the file of the one "
                            "you mean (e.g. its conf.npy, conf_Xtrain.npy or cicy4list.zip) or move the others out")
        if matching:
            return matching[0], path
        markers = ", ".join(m for r in _READERS.values() for m in r.folder)
        raise DataError(f"{path}: holds none of {markers}; {sources_help()}")
    if path.is_file():
        for reader in _READERS.values():
            if any(fnmatch.fnmatch(path.name.lower(), p.lower()) for p in reader.files):
                return reader, path
        raise DataError(f"{path}: unknown file type; {sources_help()}")
    if path.exists():
        checks.regular_file(path, "data file")  # a device, FIFO or socket: refused by name
    raise DataError(f"unknown data source {str(source)!r} (no such file or folder); {sources_help()}")


def load_dataset(source="sample", *, drop_products: bool = True, scale: float | None = None,
                 compute_euler: bool = True, check_labels: bool = True,
                 duplicates: str = "warn") -> CICYData:
    """Load the CICY four-folds from ``source`` through its registered reader.

    Parameters
    ----------
    source : a registered name ("sample", "kaggle", ...) or a path (raw list .txt/.zip, .npz,
        trio folder, split-file folder); see :func:`list_readers`.
    drop_products : drop direct products (921,497 -> 905,684 on the full list); an empty
        result is an error that says why.
    scale : divisor of the model input (default 6). Float matrix files are read as integers
        or as integers / scale (the declared scale), never with a guessed one.
    compute_euler : for sources without Euler numbers (trio, Kaggle files) compute them with
        :func:`cicy4lib.geometry.euler_numbers` and check the Hodge numbers against them;
        -1 when False.
    check_labels : False skips the checks of the labels (Hodge numbers in range and consistent
        with each other and with chi; a stored chi against its configuration), so that labels are
        loaded as stored, wrong ones included (``python -m cicy4lib verify`` lists them all).
        Shapes, dtypes, integer values and the configurations themselves are checked either way.
    duplicates : what a configuration that appears twice gives: "warn" (default: a
        :class:`~cicy4lib.errors.DataWarning` that names the entries, counted in
        ``provenance["repeats"]``), "error" (a DataError) or "ignore". The warning says which
        kind: the same matrix under two labels, the same configuration in two parts of a
        stored split (train/test leakage: split files of different splits sharing rows), or
        plain repeats.

    What loading checks is recorded in ``data.provenance["checks"]``: every matrix is a valid
    configuration; Hodge numbers in range and both index relations (the 44-relation and chi);
    the stored chi of an .npz on a seeded spot check (every stored chi is recomputed before a
    score uses it: :func:`cicy4lib.data.checks.verified_euler`); a provenance claim of the real
    list against its size. The Hodge numbers themselves are not recomputed (labels that are
    wrong but keep both relations pass): ``python -m cicy4lib verify SOURCE`` is the full check.

    Returns
    -------
    CICYData
        ``.conf`` (padded degree matrices), ``.hodge``, ``.euler``, ``.scale``, ``.source``,
        ``.provenance`` and any stored ``.splits``.

    Raises
    ------
    DataError
        When the source cannot be read or fails a check.
    """
    reader, path = find_reader(source)
    options = LoadOptions(scale, drop_products, compute_euler, bool(check_labels))
    try:
        data = reader.read(path, options)  # every reader honours options.check_labels itself
    except Cicy4Error:
        raise
    except checks.READ_ERRORS as err:  # any I/O or decoding failure the reader did not name
        raise DataError(f"{path}: cannot be read as {reader.name} data ({type(err).__name__}: {err})") from None
    data.provenance["reader"] = reader.name
    if duplicates not in ("warn", "error", "ignore"):
        raise DataError(f"duplicates must be 'warn', 'error' or 'ignore', got {duplicates!r}")
    if duplicates != "ignore":
        problems = checks.duplicate_problems(data.conf, data.hodge, path, data.ids, data.splits)
        if problems and duplicates == "error":
            raise DataError(problems[0])
        for problem in problems:
            warnings.warn(DataWarning(problem + " (load_dataset(..., duplicates='error') refuses such data)"),
                          stacklevel=2)
        if problems:
            data.provenance["repeats"] = problems
    _check_provenance_claim(data, path)
    data.provenance["checks"] = _what_was_checked(data, options)
    if drop_products and data.is_product.any():
        n_all = len(data)
        data = data.subset(~data.is_product)
        if len(data) == 0:
            raise DataError(f"{path}: all {n_all:,} entries are marked as direct products, so nothing is left "
                            "after dropping them (a wrong product-flag file? load with drop_products=False "
                            "to keep them)")
    if len(data) == 0:
        raise DataError(f"{path}: holds no configurations")
    return data


# --------------------------------------------------------------------------- provenance

def _check_provenance_claim(data: CICYData, path) -> None:
    """A provenance that cannot be true of the data is a DataError: a recorded size other than
    the data's, or the real list claimed for data that is neither the whole list (905,684
    non-products) nor a recorded part of it (a subsample, a split)."""
    prov = data.provenance
    if prov.get("kind") != "real-list":
        return
    n_non_product = int(np.count_nonzero(~data.is_product))
    part_of = any(k in prov for k in ("subsample", "split", "sizes"))
    if n_non_product != REAL_LIST_NON_PRODUCT and not part_of:
        where = prov.get("provenance_file") or path
        raise DataError(f"{where}: claims the real list (provenance kind 'real-list') but the data holds "
                        f"{n_non_product:,} non-product configurations, not the list's {REAL_LIST_NON_PRODUCT:,}, and "
                        "records no subsample or split it was cut from; correct its provenance (kind 'user')")


def _what_was_checked(data: CICYData, options: LoadOptions) -> str:
    mask = data.meta.get(checks.EULER_VERIFIED)
    n = len(data)
    if not options.check_labels:
        labels = "labels NOT checked (check_labels=False)"
    else:
        n_chi = n if not isinstance(mask, np.ndarray) else int(mask.sum())
        chi = ("chi exact for all" if n_chi == n else
               f"stored chi recomputed for {n_chi:,} of {n:,} (the rest before any score uses it)")
        labels = f"Hodge ranges, 44-relation and chi relation for all; {chi}"
    return (f"configurations valid for all {n:,}; {labels}; no exact repeat unnoticed; Hodge numbers not "
            "recomputed: `python -m cicy4lib verify` is the full check")


def _provenance(path: Path, kind: str, n_non_product: int | None = None, n_total: int | None = None,
                **extra) -> dict:
    """Provenance for a folder/file: its provenance.json if present, else ``kind``.

    Without a provenance.json, data read from list-format files counts as the real list only
    when it holds all 905,684 non-product configurations.
    """
    folder = path if path.is_dir() else path.parent
    stored = folder / PROVENANCE_FILE
    if os.path.lexists(stored):  # a link to a device or a folder there is read (and refused), not skipped
        prov = checks.read_json_file(stored)
        if "kind" not in prov:
            raise DataError(f"{stored}: no 'kind' field (expected one of embedded-sample, generated, real-list, user)")
        if n_total is not None and isinstance(prov.get("n"), int) and prov["n"] != n_total:
            raise DataError(f"{stored}: records {prov['n']:,} configurations but the files beside it hold "
                            f"{n_total:,}: it describes other data (files replaced or mixed?)")
        prov = {**prov, "loaded_from": str(path), "provenance_file": str(stored)}
        return {**prov, **{k: v for k, v in extra.items() if k not in prov}}
    if kind == "real-list" and n_non_product != REAL_LIST_NON_PRODUCT:
        kind = "user"
    return {"kind": kind, "source": str(path), **extra}


# the arrays a reader parsed and where they came from, passed on as read
def _checked_labels(conf, hodge, euler, is_product, ids, path, options, *, hodge_path=None,
                    configurations_checked: bool = False):
    """Shared checks after the matrices: configurations, Hodge numbers, chi (computed if asked)."""
    if not configurations_checked:
        checks.check_configurations(conf, path, ids)
    if euler is None:
        euler = (checks.computed_euler(conf, path, ids) if options.compute_euler
                 else np.full(len(conf), -1, np.int64))
    if options.check_labels:
        checks.check_hodge(hodge, hodge_path or path, euler, ids)
    return euler


# --------------------------------------------------------------------------- npz (sample)

@register_reader("sample", default=lambda: SAMPLE_PATH, description="embedded sample",
                 missing_hint="; regenerate it with `python -m cicy4lib.jobs.generate`")
def _read_sample(path: Path, options: LoadOptions) -> CICYData:
    return _load_npz(path, options, source_name="sample", kind="embedded-sample")


@register_reader("npz", files=("*.npz",), description=".npz with conf, hodge (like the sample)")
def _read_npz(path: Path, options: LoadOptions) -> CICYData:
    return _load_npz(path, options, source_name=str(path), kind=None)


def _load_npz(path: Path, options: LoadOptions, source_name: str, kind) -> CICYData:
    arrays, meta = checks.read_npz(path)
    if kind is None:
        stated = meta.get("provenance") if isinstance(meta.get("provenance"), dict) else {}
        prov = {"kind": stated.get("kind", "user"), "source": str(path), **stated}
    else:
        prov = {"kind": kind, "source": source_name, "file": str(path)}
    return dataset_from_arrays(arrays, path, options, meta=meta, provenance=prov, source=source_name)


def dataset_from_arrays(arrays: dict, path, options: LoadOptions, *, meta: dict | None = None,
                        provenance: dict, source: str | None = None, method_key: str = "method") -> CICYData:
    """A checked :class:`CICYData` from named arrays, for any reader.

    ``arrays``: ``conf`` (N, 16, 20) integer or scaled-float matrices and ``hodge`` (N, 4)
    (required); optional ``euler`` (N,) (checked against chi on a seeded spot check of 256
    entries, all if fewer; computed when absent and ``options.compute_euler``), ``id`` (N,),
    ``is_product`` (N,) booleans and ``method`` (N,) (kept in ``meta``). ``meta['scale']`` is
    the declared scale of float matrices unless ``options.scale`` is given. Every check of
    :mod:`cicy4lib.data.checks` runs (the label checks only with ``options.check_labels``);
    problems are DataErrors naming ``path`` and the entry.
    """
    meta = dict(meta or {})
    missing = [k for k in ("conf", "hodge") if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {missing} (has {sorted(arrays)})")
    meta_scale = meta.get("scale")
    if meta_scale is not None and (isinstance(meta_scale, bool) or not isinstance(meta_scale, (int, float))):
        raise DataError(f"{path}: 'meta' field 'scale' must be a number, got {meta_scale!r}")
    scale = options.scale if options.scale is not None else meta_scale
    conf, scale, _ = checks.integer_conf(arrays["conf"], scale, path)
    n = len(conf)
    ids = _vector(arrays["id"], n, path, "id") if "id" in arrays else np.arange(1, n + 1, dtype=np.int64)
    hodge = checks.integer_hodge(arrays["hodge"], n, path, ids)
    euler = checks.integer_euler(arrays["euler"], n, path) if "euler" in arrays else None
    is_product = (checks.boolean_flags(arrays["is_product"], n, path, "is_product") if "is_product" in arrays
                  else np.zeros(n, bool))
    if euler is not None:
        checks.check_configurations(conf, path, ids)
        verified = np.zeros(n, bool)
        if options.check_labels:
            checks.check_hodge(hodge, path, euler, ids)
            verified[checks.check_euler(conf, euler, path, ids, sample=NPZ_EULER_SPOT_CHECK)] = True
    else:
        euler = _checked_labels(conf, hodge, None, is_product, ids, path, options)
        verified = euler != -1
    if method_key in arrays:
        method = np.asarray(arrays[method_key])
        if method.shape != (n,):
            raise DataError(f"{path}: '{method_key}' has shape {method.shape}, expected ({n},)")
        meta["method"] = method
    meta[checks.EULER_VERIFIED] = verified
    if provenance.get("kind") not in ("embedded-sample", "generated", "real-list", "user"):
        raise DataError(f"{path}: provenance kind {provenance.get('kind')!r} is not one of embedded-sample, "
                        "generated, real-list, user")
    return CICYData(conf, hodge, euler, is_product, ids, float(scale), str(path) if source is None else source,
                    None, meta, dict(provenance))


# --------------------------------------------------------------------------- the generated set

def _release_dir(release: int) -> Path:
    """The chunk folder of a release of the generated set (``partial(_release_dir, n)`` is a default)."""
    from .generated import release_dir  # lazy: imports flint

    return release_dir(release)


@register_reader("generated", default=partial(_release_dir, 3), folder=("chunk_*.npz",),
                 description="the large generated set, release 3: minimal descriptions only "
                             "(chunks under cicy4lib/_data/generated-r3/)",
                 missing_hint="; make it with `python -m cicy4lib.jobs.generate` (see its --help for chunks)")
def _read_generated(path: Path, options: LoadOptions) -> CICYData:
    return _generated_dataset(path, options)


@register_reader("generated-r2", default=partial(_release_dir, 2),
                 description="release 2 of the generated set (80 % redundant descriptions; kept to reproduce "
                             "earlier figures; chunks under cicy4lib/_data/generated/)")
def _read_generated_r2(path: Path, options: LoadOptions) -> CICYData:
    return _generated_dataset(path, options)


@register_reader("generated-hodge-rule", default=partial(_release_dir, 2),
                 description="release 2 under the Hodge rule: its entries minimal under the Euler rule plus those "
                             "whose every chi-equal contraction is another manifold (other Hodge numbers); "
                             "verdicts in cicy4lib/_data/generated/hodge_rule.npz")
def _read_generated_hodge_rule(path: Path, options: LoadOptions) -> CICYData:
    from .generated import load_hodge_rule  # lazy: imports flint

    return _generated_dataset(path, options, arrays=load_hodge_rule(path))


@register_reader("generated-r4", default=partial(_release_dir, 4),  # a chunk folder by path reads as "generated"
                 description="release 4 (opt-in): the walk under the Hodge rule, chi-equal children of other "
                             "Hodge numbers kept (chunks under cicy4lib/_data/generated-r4/)",
                 missing_hint="; make it with `python -m cicy4lib.jobs.generate --settings-release 4 --chunks N`")
def _read_generated_r4(path: Path, options: LoadOptions) -> CICYData:
    return _generated_dataset(path, options)


@register_reader("generated-hodge-rule-all", default=partial(_release_dir, 3),
                 description="every Hodge-rule entry of the releases: release 3, then release 2's Hodge-rule "
                             "entries and release 4's that are not already in (212,248; rows 1-16)")
def _read_generated_hodge_rule_all(path: Path, options: LoadOptions) -> CICYData:
    from .generated import GENERATED_R2_DIR, GENERATED_R4_DIR, load_hodge_rule_union  # lazy: imports flint

    return _generated_dataset(path, options, arrays=load_hodge_rule_union(path, GENERATED_R2_DIR, GENERATED_R4_DIR))


def _generated_dataset(path: Path, options: LoadOptions, arrays: dict | None = None) -> CICYData:
    from ..geometry.walks import release_of  # lazy: imports flint
    from .generated import load_generated  # lazy: imports flint

    arrays = load_generated(path) if arrays is None else arrays
    meta = arrays.pop("meta", {}) or {}
    arrays = {k: v for k, v in arrays.items() if k != "chunk"}
    settings = meta.get("settings") or {}
    prov = {"kind": "generated", "source": "generated", "folder": str(path), "release": release_of(settings),
            "n_chunks": meta.get("n_chunks"), "settings": meta.get("settings")}
    if "hodge_rule" in meta:
        prov.update(release="2-hodge-rule", rule="same manifold = same chi and same Hodge numbers",
                    hodge_rule=meta["hodge_rule"]["counts"])
    if "union" in meta:
        prov.update(release="3+2-hodge-rule", union=meta["union"])
    return dataset_from_arrays(arrays, path, options, meta=meta, provenance=prov, source="generated")


def _vector(a, n, path, what) -> np.ndarray:
    a = np.asarray(a)
    if a.shape != (n,) or a.dtype.kind not in "iu":
        raise DataError(f"{path}: '{what}' must be ({n},) integers, got {a.shape} {a.dtype}")
    return a.astype(np.int64)


# --------------------------------------------------------------------------- Kaggle split files

@register_reader("kaggle", default=lambda: KAGGLE_DIR, files=("conf_Xtrain.npy",), folder=("conf_Xtrain.npy",),
                 description="Kaggle dataset folder",
                 missing_hint=" (not found: attach the dataset 'calabi-yau-cicy-4-folds' or pass the folder's path)")
def _read_kaggle(path: Path, options: LoadOptions) -> CICYData:
    return _load_kaggle_splits(path if path.is_dir() else path.parent, options)


# --------------------------------------------------------------------------- numpy trio

@register_reader("trio", files=("conf.npy",), folder=("conf.npy",),
                 description="numpy trio conf.npy, hodge.npy, direct.npy (create_data.py)")
def _read_trio(path: Path, options: LoadOptions) -> CICYData:
    return _load_trio(path if path.is_dir() else path.parent, options)


# --------------------------------------------------------------------------- raw list

@register_reader("raw-list", files=("*.txt", "*.zip", "*.m"), folder=("cicy4list.txt", "cicy4list.zip"),
                 description="the raw list cicy4list.txt or cicy4list.zip")
def _read_raw(path: Path, options: LoadOptions) -> CICYData:
    if path.is_dir():
        path = next(path / name for name in ("cicy4list.txt", "cicy4list.zip") if (path / name).exists())
    data = read_cicy4_list(path, drop_products=options.drop_products, scale=options.scale,
                           check_euler=options.check_labels, check_labels=options.check_labels)
    data.meta[checks.EULER_VERIFIED] = (data.euler != -1) if options.check_labels else np.zeros(len(data), bool)
    return data


def _load_trio(folder: Path, options: LoadOptions) -> CICYData:
    conf_raw, hodge_raw, direct_raw = (checks.read_npy(folder / name) for name in TRIO)
    lengths = {name: len(a) for name, a in zip(TRIO, (conf_raw, hodge_raw, direct_raw))}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{folder}: files disagree in length: "
                        + ", ".join(f"{k} has {v}" for k, v in lengths.items()))
    n = lengths["conf.npy"]
    is_product = checks.boolean_flags(direct_raw, n, folder / "direct.npy", "direct")
    ids = np.arange(1, n + 1, dtype=np.int64)  # conf.npy follows the list order
    # everything is read and checked (products are valid configurations too), so errors name
    # the row of the file; load_dataset drops the products afterwards
    conf, scale, how = checks.integer_conf(conf_raw, options.scale, folder / "conf.npy", ids=ids)
    hodge = checks.integer_hodge(np.asarray(hodge_raw), n, folder / "hodge.npy", ids)
    # create_data.py writes zeros for the products' missing Hodge numbers
    hodge[is_product & (hodge == 0).all(axis=1)] = -1
    euler = _checked_labels(conf, hodge, None, is_product, ids, folder / "conf.npy", options,
                            hodge_path=folder / "hodge.npy")
    prov = _provenance(folder, "real-list", int(np.count_nonzero(~is_product)), files="numpy trio")
    return CICYData(conf, hodge, euler, is_product, ids, scale, str(folder), None,
                    {"scale_from": how, checks.EULER_VERIFIED: euler != -1}, prov)


class _SplitFile:
    """One Kaggle pair of files (matrices, Hodge numbers), memory-mapped.

    Opening reads only the headers and the first rows (to decide the matrices' reading, see
    :func:`checks.conf_reading`); :meth:`hodge` and :meth:`conf` convert and check, the matrices
    chunk by chunk into a caller's array if given, so a 2 GB float64 file never loads whole.
    """

    def __init__(self, folder: Path, names, scale, check_labels: bool = True):
        conf_name, hodge_name = names
        self.conf_path, self.hodge_path = folder / f"{conf_name}.npy", folder / f"{hodge_name}.npy"
        conf_raw = checks.read_npy(self.conf_path)
        self.hodge_raw = checks.read_npy(self.hodge_path)
        if len(conf_raw) != len(self.hodge_raw):
            raise DataError(f"{folder}: {conf_name}.npy has {len(conf_raw)} rows but {hodge_name}.npy has "
                            f"{len(self.hodge_raw)}")
        self.n = len(conf_raw)
        self.reading = checks.conf_reading(conf_raw, scale, self.conf_path)
        self.check_labels = check_labels

    def hodge(self, out=None) -> np.ndarray:
        """The checked int64 (n, 4) Hodge numbers (written into ``out`` if given)."""
        h = self.hodge_raw
        if h.ndim == 1 and h.size == 4 * self.n and self.n != 4:
            h = h.reshape(self.n, 4)
        h = checks.integer_hodge(h, self.n, self.hodge_path, out=out)
        if self.check_labels:
            checks.check_hodge(h, self.hodge_path)
        return h

    def conf(self, start: int = 0, stop: int | None = None, out=None) -> np.ndarray:
        """Rows ``start:stop`` as checked int8 configurations (written into ``out`` if given)."""
        stop = self.n if stop is None else stop
        conf = checks.convert_conf_rows(self.reading, start, stop, self.conf_path, out=out)
        checks.check_configurations(conf, self.conf_path, base=start)
        return conf

    def conf_matches(self, start: int, ref: np.ndarray, rows=None) -> bool:
        """Whether this file's rows from ``start`` equal the int8 rows ``ref`` (``ref[rows]`` if
        ``rows`` is given), compared chunk by chunk.

        Rows are converted as :meth:`conf` does (a non-integer entry is a DataError); equal rows
        are valid configurations since ``ref`` was checked, so only the conversion runs here."""
        chunk = checks.CONF_CHUNK
        n = len(ref) if rows is None else len(rows)
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            block = checks.convert_conf_rows(self.reading, start + lo, start + hi, self.conf_path)
            if not np.array_equal(block, ref[lo:hi] if rows is None else ref[rows[lo:hi]]):
                return False
        return True

    def row_hashes(self, start: int, hodge: np.ndarray) -> np.ndarray:
        """:func:`_row_hashes` of rows ``start:start + len(hodge)`` (checked as :meth:`conf`
        does) with their Hodge numbers ``hodge``, computed chunk by chunk."""
        out = np.empty(len(hodge), np.uint64)
        for lo in range(0, len(hodge), checks.CONF_CHUNK):
            hi = min(len(hodge), lo + checks.CONF_CHUNK)
            out[lo:hi] = _row_hashes(self.conf(start + lo, start + hi), hodge[lo:hi])
        return out


def _rows(a: np.ndarray, idx) -> np.ndarray:
    """``a[idx]``: a view, not a copy, where ``idx`` is a contiguous ascending run."""
    idx = np.asarray(idx)
    if len(idx) == 0:
        return a[:0]
    if idx[0] >= 0 and (len(idx) == 1 or (np.diff(idx) == 1).all()):
        return a[int(idx[0]):int(idx[0]) + len(idx)]
    return a[idx]


class _RowIndex:
    """Find rows (matrix + Hodge numbers) of a query among reference rows; repeats allowed."""

    def __init__(self, conf, hodge):
        self.slots = defaultdict(deque)
        for i, key in enumerate(_row_keys(conf, hodge)):
            self.slots[key].append(i)

    def locate(self, conf, hodge):
        """Positions of the query rows among the reference rows (each used once), or None."""
        found = []
        for key in _row_keys(conf, hodge):
            slot = self.slots.get(key)
            if not slot:
                return None
            found.append(slot.popleft())
        return np.asarray(found, np.int64)


def _row_keys(conf, hodge):
    rows = np.concatenate([conf.reshape(len(conf), -1).view(np.uint8),
                           hodge.astype("<i8").view(np.uint8).reshape(len(hodge), -1)], axis=1)
    return [r.tobytes() for r in rows]


def _load_kaggle_splits(folder: Path, options: LoadOptions) -> CICYData:
    """train72 + valid72 + test72 as one dataset; 72/80/cv splits mapped onto it.

    Memory: the result's int8 matrices (and int64 Hodge numbers) are allocated once, and each
    memory-mapped split file is converted into its slice chunk by chunk; the 80% and fold files
    are compared with those rows chunk by chunk too. The peak stays near the int8 data size
    (320 bytes a configuration), not the float64 files' (2,560 bytes a configuration).
    """
    scale = options.scale
    missing = [f"{name}.npy" for pair in FILES_72.values() for name in pair if not (folder / f"{name}.npy").exists()]
    if missing:
        raise DataError(f"{folder}: split files missing: {', '.join(missing)}")
    order = ("train", "valid", "test")
    parts = {part: _SplitFile(folder, FILES_72[part], scale, options.check_labels) for part in order}
    scales = {p: f.reading.scale for p, f in parts.items()}
    if len(set(scales.values())) != 1:
        raise DataError(f"{folder}: the split files use different scales {scales}; pass scale=")
    scale = scales["train"]
    n_tr, n_va, n_te = (parts[p].n for p in order)
    n = n_tr + n_va + n_te
    conf = np.empty((n, 16, 20), np.int8)
    hodge = np.empty((n, 4), np.int64)
    start = 0
    for p in order:  # each file's Hodge numbers, then its matrices, into their rows
        stop = start + parts[p].n
        parts[p].hodge(out=hodge[start:stop])
        parts[p].conf(out=conf[start:stop])
        start = stop
    how = parts["train"].reading.how
    del parts
    train = np.arange(n_tr)
    valid = np.arange(n_tr, n_tr + n_va)
    test = np.arange(n_tr + n_va, n_tr + n_va + n_te)
    splits = {"72": Split(train, valid, test, "72")}
    notes = []
    index = _RowLocator(conf, hodge)
    if all((folder / f"{name}.npy").exists() for pair in FILES_80.values() for name in pair):
        s80 = _map_80(folder, scale, index, splits["72"], options.check_labels)
        if s80 is None:
            notes.append("80% files hold rows that are not in the 72% files: split '80' not loaded")
        else:
            splits["80"] = s80
    for i in range(N_FOLDS):
        names = fold_files(i)
        if not all((folder / f"{n}.npy").exists() for pair in names.values() for n in pair):
            continue
        fold = _map_fold(folder, i, scale, index, splits["72"], options.check_labels)
        if fold is None:
            notes.append(f"fold {i} files do not match train72 + valid72: split 'cv{i}' not loaded")
        else:
            splits[f"cv{i}"] = fold
    del index
    for note in notes:
        warnings.warn(f"{folder}: {note}", stacklevel=3)
    euler = _checked_labels(conf, hodge, None, None, None, folder, options, configurations_checked=True)
    prov = _provenance(folder, "real-list", n, n_total=n, files="Kaggle split files")
    return CICYData(conf, hodge, euler, np.zeros(n, bool), np.full(n, -1, np.int64), scale, str(folder), splits,
                    {"scale_from": how, "notes": notes, checks.EULER_VERIFIED: euler != -1}, prov)


def _map_80(folder, scale, index: "_RowLocator", s72: Split, check_labels: bool = True):
    conf, hodge = index.conf, index.hodge
    tr, te = (_SplitFile(folder, FILES_80[p], scale, check_labels) for p in ("train", "test"))
    tr_h, te_h = tr.hodge(), te.hodge()
    n72 = len(s72.train)
    # as the paper builds it: train72 followed by the moved 40% of test72 (the rest is test80);
    # the prefix is compared chunk by chunk, the other rows are found among test72's
    prefix_is_train72 = (tr.n >= n72 and np.array_equal(tr_h[:n72], hodge[s72.train])
                         and tr.conf_matches(0, _rows(conf, s72.train)))
    if prefix_is_train72:
        found = index.locate(s72.test, [(tr, n72, tr_h[n72:]), (te, 0, te_h)])
        if found is not None:
            moved, stay = found
            return Split(np.concatenate([s72.train, s72.test[moved]]), s72.valid, s72.test[stay], "80")
    # any other order: match every row among train72 + test72
    pool = np.concatenate([s72.train, s72.test])
    found = index.locate(pool, [(tr, 0, tr_h), (te, 0, te_h)])
    if found is None:
        return None
    train, test = found
    return Split(pool[train], s72.valid, pool[test], "80")


def _map_fold(folder, i, scale, index: "_RowLocator", s72: Split, check_labels: bool = True):
    conf, hodge = index.conf, index.hodge
    names = fold_files(i)
    tr, va = (_SplitFile(folder, names[p], scale, check_labels) for p in ("train", "valid"))
    tr_h, va_h = tr.hodge(), va.hodge()
    pool = np.concatenate([s72.train, s72.valid])  # contiguous 0..n_tv-1 in this dataset
    if tr.n + va.n != len(pool):
        return None
    pool_conf, pool_hodge = _rows(conf, pool), hodge[pool]
    # KFold(shuffle=False): the validation fold is one block of the pool, train is the rest in order
    start = _find_block(pool_conf, pool_hodge, va, va_h)
    if start is not None:
        end = start + va.n
        if (np.array_equal(np.concatenate([pool_hodge[:start], pool_hodge[end:]]), tr_h)
                and tr.conf_matches(0, pool_conf[:start]) and tr.conf_matches(start, pool_conf[end:])):
            return Split(np.concatenate([pool[:start], pool[end:]]), pool[start:end], s72.test, f"cv{i}")
    found = index.locate(pool, [(tr, 0, tr_h), (va, 0, va_h)])
    if found is None:
        return None
    tr_idx, va_idx = found
    return Split(pool[tr_idx], pool[va_idx], s72.test, f"cv{i}")


def _find_block(pool_conf, pool_hodge, block: _SplitFile, block_hodge):
    """Start of the file ``block`` as a contiguous run of the pool's rows (KFold layout), or None.

    The Hodge numbers are compared first (small); matrices chunk by chunk, never whole."""
    if block.n == 0:
        return None
    n, k = len(pool_conf), block.n
    for start in (j * (n // N_FOLDS) + min(j, n % N_FOLDS) for j in range(N_FOLDS)):  # KFold's fold starts
        if (start + k <= n and np.array_equal(pool_hodge[start:start + k], block_hodge)
                and block.conf_matches(0, pool_conf[start:start + k])):
            return start
    return None


# --------------------------------------------------------------------------- finding rows by content


def _row_hashes(conf: np.ndarray, hodge: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row (int8 matrix and int64 Hodge numbers): equal rows, equal hashes.

    Each 8-byte word, offset by its position, goes through the splitmix64 finaliser; the row's
    hash is their sum (mod 2**64). Only a chunk of rows is copied at a time."""
    n = len(conf)
    out = np.empty(n, np.uint64)
    for lo in range(0, n, checks.CONF_CHUNK):
        hi = min(n, lo + checks.CONF_CHUNK)
        words = np.concatenate([np.ascontiguousarray(conf[lo:hi], np.int8).reshape(hi - lo, -1).view("<u8"),
                                np.ascontiguousarray(hodge[lo:hi], "<i8").view("<u8")], axis=1)
        out[lo:hi] = checks.mixed_row_hashes(words)
    return out


def _match_hashes(ref: np.ndarray, query: np.ndarray):
    """For each query hash, a position in ``ref`` with that hash, each position used once and
    equal hashes paired in order (the k-th such query gets the k-th such position); None if
    some query has no position left."""
    if len(query) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(ref, kind="stable")
    ref_sorted = ref[order]
    q_order = np.argsort(query, kind="stable")
    q_sorted = query[q_order]
    rank = np.arange(len(q_sorted)) - np.searchsorted(q_sorted, q_sorted, "left")
    pos = np.searchsorted(ref_sorted, q_sorted, "left") + rank
    if len(ref_sorted) == 0 or pos.max() >= len(ref_sorted) or (ref_sorted[pos] != q_sorted).any():
        return None
    found = np.empty(len(query), np.int64)
    found[q_order] = order[pos]
    return found


class _RowLocator:
    """Find the rows of split files among the dataset's rows by content (matrix + Hodge numbers).

    Hashes of the dataset's rows (8 bytes a row, computed on first use) and of the files' rows
    pair them up; every pair is then compared exactly, chunk by chunk. Only if two different
    rows share a hash (odds about 2 in 10**8 on the full list) does it fall back to
    :class:`_RowIndex`, which holds the rows' bytes."""

    def __init__(self, conf, hodge):
        self.conf, self.hodge = conf, hodge
        self._hashes = None

    def hashes(self) -> np.ndarray:
        if self._hashes is None:
            self._hashes = _row_hashes(self.conf, self.hodge)
        return self._hashes

    def locate(self, pool, queries):
        """Positions in ``pool`` (dataset rows) of the rows of each query ``(file, start, hodge)``
        (the file's rows from ``start``, as many as ``hodge`` has), each pool row used once and
        repeats paired in order; None if some row is not in the pool."""
        if not queries:
            return []
        q_hash = np.concatenate([f.row_hashes(start, h) for f, start, h in queries])
        found = _match_hashes(self.hashes()[pool], q_hash)
        if found is None:
            return None
        parts = np.split(found, np.cumsum([len(h) for _, _, h in queries])[:-1])
        if all(np.array_equal(self.hodge[pool[p]], h) and f.conf_matches(start, self.conf, pool[p])
               for (f, start, h), p in zip(queries, parts)):
            return parts
        index = _RowIndex(self.conf[pool], self.hodge[pool])  # a hash collision: match exactly
        out = []
        for f, start, h in queries:
            found = index.locate(f.conf(start, start + len(h)), h)
            if found is None:
                return None
            out.append(found)
        return out
