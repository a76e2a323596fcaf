"""Data sources for the CICY four-fold list, all loaded into one :class:`CICYData`.

``load_dataset(source)`` picks the reader by name or path:

- ``"sample"`` (default): the embedded sample ``cicy4lib/_data/sample.npz``; any other ``.npz``
  path with the same keys works too;
- the raw list ``cicy4list.txt`` or the ``cicy4list.zip`` it ships in (a Mathematica list,
  parsed streamed and vectorised: see :func:`parse_cicy4_list`);
- a folder with the numpy trio ``conf.npy``, ``hodge.npy``, ``direct.npy`` (``create_data.py``);
- ``"kaggle"`` or a folder with the Kaggle split files (``conf_Xtrain.npy`` ...): one dataset
  train72 + valid72 + test72 with the published splits in ``.splits``.

Bad input raises :class:`DataError` naming the file (and the entry, for the raw list).

>>> data = load_dataset("sample")                     # doctest: +SKIP
>>> data.conf.shape, data.hodge.dtype, data.scale     # doctest: +SKIP
((N, 16, 20), dtype('int64'), 6.0)
"""
from __future__ import annotations

import json
import re
import warnings
import zipfile
from collections import defaultdict, deque
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .splits import FILES_72, FILES_80, N_FOLDS, Split, fold_files

N_ROWS, N_COLS = 16, 20  # padded shape (geometry.MAX_ROWS, geometry.MAX_COLS)
DEFAULT_SCALE = 6.0  # global max entry of the real list (the sextic's 6)
SAMPLE_PATH = Path(__file__).resolve().parent / "_data" / "sample.npz"
KAGGLE_DIR = Path("/kaggle/input/calabi-yau-cicy-4-folds")
TRIO = ("conf.npy", "hodge.npy", "direct.npy")
N_LIST, N_NON_PRODUCT = 921_497, 905_684  # sizes of the real list

_SOURCES_HELP = ("valid sources: 'sample' (embedded sample), 'kaggle' (/kaggle/input/calabi-yau-cicy-4-folds), "
                 "a path to cicy4list.txt or cicy4list.zip, a .npz like the sample, a folder with "
                 "conf.npy/hodge.npy/direct.npy, or a folder with the Kaggle split files (conf_Xtrain.npy, ...)")


class DataError(ValueError):
    """A data file is missing, truncated, corrupt or inconsistent (the message names it)."""


@dataclass(eq=False)  # arrays inside: compare fields explicitly
class CICYData:
    """Configurations and their labels, padded to 16 x 20.

    Attributes
    ----------
    conf : int8 (N, 16, 20) integer degree matrices, top-left corner, zeros elsewhere.
    hodge : int64 (N, 4) h11, h21, h31, h22; -1 where unknown.
    euler : int64 (N,) Euler numbers; -1 where unknown.
    is_product : bool (N,) direct products (dropped by default when loading).
    ids : int64 (N,) list IDs (1-based); -1 where the source has none (Kaggle split files).
    scale : float, divisor turning ``conf`` into model input (6 unless told otherwise).
    source : str, where the data came from ("sample", a path, ...).
    splits : dict name -> Split of predefined splits (published Kaggle files), or None.
    meta : dict, free-form provenance (the sample's metadata, scale inference, ...).
    """

    conf: np.ndarray
    hodge: np.ndarray
    euler: np.ndarray
    is_product: np.ndarray
    ids: np.ndarray
    scale: float = DEFAULT_SCALE
    source: str = ""
    splits: dict | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.conf)
        if self.conf.shape[1:] != (N_ROWS, N_COLS):
            raise DataError(f"{self.source}: conf must have shape (N, {N_ROWS}, {N_COLS}), got {self.conf.shape}")
        for name, shape in (("hodge", (n, 4)), ("euler", (n,)), ("is_product", (n,)), ("ids", (n,))):
            if getattr(self, name).shape != shape:
                raise DataError(f"{self.source}: {name} has shape {getattr(self, name).shape}, expected {shape}")
        if not self.scale > 0:
            raise DataError(f"{self.source}: scale must be positive, got {self.scale}")

    def __len__(self) -> int:
        return len(self.conf)

    def __repr__(self) -> str:
        splits = ", ".join(self.splits) if self.splits else "none"
        return f"CICYData(n={len(self)}, scale={self.scale:g}, source={self.source!r}, splits: {splits})"

    def features(self, idx=None) -> np.ndarray:
        """Model input: float32 (n, 16, 20) = ``conf[idx] / scale``."""
        conf = self.conf if idx is None else self.conf[idx]
        return conf.astype(np.float32) / np.float32(self.scale)

    def subset(self, idx) -> "CICYData":
        """The rows ``idx`` (indices or boolean mask); predefined splits are re-indexed to them."""
        idx = np.asarray(idx)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64)
        # per-row arrays in meta (the sample's "method", the raw list's "flag") follow the rows
        meta = {k: v[idx] if isinstance(v, np.ndarray) and v.shape[:1] == (len(self),) else v
                for k, v in self.meta.items()}
        return replace(self, conf=self.conf[idx], hodge=self.hodge[idx], euler=self.euler[idx],
                       is_product=self.is_product[idx], ids=self.ids[idx],
                       splits=_reindex_splits(self.splits, idx, len(self)), meta=meta)


def _reindex_splits(splits, idx, n):
    """Splits restricted to the rows ``idx`` and renumbered; None if ``idx`` repeats rows."""
    if not splits or len(np.unique(idx)) != len(idx):
        return None
    new_pos = np.full(n, -1, np.int64)
    new_pos[idx] = np.arange(len(idx))

    def keep(part):
        mapped = new_pos[part]
        return mapped[mapped >= 0]

    return {name: Split(keep(s.train), keep(s.valid), keep(s.test), s.name) for name, s in splits.items()}


def subsample(data: CICYData, max_samples: int | None, seed: int = 0) -> CICYData:
    """A deterministic random subset of ``max_samples`` rows (kept in dataset order).

    ``max_samples`` None or >= len(data) returns ``data`` itself.
    """
    if max_samples is None or max_samples >= len(data):
        return data
    if max_samples < 1:
        raise ValueError(f"max_samples must be positive, got {max_samples}")
    keep = np.sort(np.random.default_rng(seed).choice(len(data), int(max_samples), replace=False))
    return data.subset(keep)


# --------------------------------------------------------------------------- dispatch

def load_dataset(source="sample", *, drop_products: bool = True, scale: float | None = None,
                 compute_euler: bool = True) -> CICYData:
    """Load the CICY four-folds from ``source`` (see the module docstring for the choices).

    Parameters
    ----------
    source : "sample", "kaggle", or a path (raw list .txt/.zip, .npz, trio folder, split-file folder).
    drop_products : drop direct products (921,497 -> 905,684 on the full list).
    scale : divisor of the model input. For integer sources the default is 6; for the scaled
        float files it is checked (or, when None, inferred: 6 if that gives integers, else
        1 / the smallest positive entry) and every entry must be an integer after scaling.
    compute_euler : for sources without Euler numbers (trio, Kaggle files) compute them with
        :func:`cicy4lib.geometry.euler_numbers`; -1 when False or unavailable.
    """
    if isinstance(source, str) and source == "sample":
        if not SAMPLE_PATH.exists():
            raise DataError(f"embedded sample {SAMPLE_PATH} is missing; regenerate it with "
                            f"`python -m cicy4lib.sample`")
        data = _load_npz(SAMPLE_PATH, scale, source_name="sample")
    elif isinstance(source, str) and source == "kaggle":
        if not KAGGLE_DIR.is_dir():
            raise DataError(f"Kaggle dataset folder {KAGGLE_DIR} not found (attach the dataset "
                            f"'calabi-yau-cicy-4-folds' or pass the folder's path); {_SOURCES_HELP}")
        data = _load_folder(KAGGLE_DIR, scale, drop_products, compute_euler)
    else:
        path = Path(source).expanduser()
        if path.is_dir():
            data = _load_folder(path, scale, drop_products, compute_euler)
        elif path.is_file():
            data = _load_file(path, scale, drop_products, compute_euler)
        else:
            raise DataError(f"unknown data source {str(source)!r} (no such file or folder); {_SOURCES_HELP}")
    if drop_products and data.is_product.any():
        data = data.subset(~data.is_product)
    return data


def _load_file(path: Path, scale, drop_products, compute_euler) -> CICYData:
    name = path.name.lower()
    if name.endswith(".npz"):
        return _load_npz(path, scale, source_name=str(path))
    if name == "conf.npy":
        return _load_trio(path.parent, scale, drop_products, compute_euler)
    if name.endswith((".txt", ".zip", ".m")):
        return read_cicy4_list(path, drop_products=drop_products, scale=scale)
    raise DataError(f"{path}: unknown file type; {_SOURCES_HELP}")


def _load_folder(folder: Path, scale, drop_products, compute_euler) -> CICYData:
    if (folder / "conf_Xtrain.npy").exists():
        return _load_kaggle_splits(folder, scale, compute_euler)
    if (folder / "conf.npy").exists():
        return _load_trio(folder, scale, drop_products, compute_euler)
    for raw in ("cicy4list.txt", "cicy4list.zip"):
        if (folder / raw).exists():
            return read_cicy4_list(folder / raw, drop_products=drop_products, scale=scale)
    raise DataError(f"{folder}: holds none of conf_Xtrain.npy (Kaggle split files), conf.npy "
                    f"(numpy trio), cicy4list.txt, cicy4list.zip; {_SOURCES_HELP}")


# --------------------------------------------------------------------------- npz (sample)

def _load_npz(path: Path, scale, source_name: str) -> CICYData:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable .npz file ({err})") from err
    missing = [k for k in ("conf", "hodge") if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {missing} (has {sorted(arrays)})")
    meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    conf = _integer_conf(arrays["conf"], scale or meta.get("scale"), path)[0]
    n = len(conf)
    hodge = _checked(arrays["hodge"], (n, 4), path, "hodge").astype(np.int64)
    euler = _checked(arrays.get("euler", np.full(n, -1)), (n,), path, "euler").astype(np.int64)
    is_product = _checked(arrays.get("is_product", np.zeros(n, bool)), (n,), path, "is_product").astype(bool)
    ids = _checked(arrays.get("id", np.arange(1, n + 1)), (n,), path, "id").astype(np.int64)
    if "method" in arrays:
        meta["method"] = arrays["method"]
    return CICYData(conf, hodge, euler, is_product, ids, float(scale or meta.get("scale") or DEFAULT_SCALE),
                    source_name, None, meta)


def _checked(a, shape, path, what):
    a = np.asarray(a)
    if a.shape != shape:
        raise DataError(f"{path}: '{what}' has shape {a.shape}, expected {shape}")
    return a


# --------------------------------------------------------------------------- scaled float matrices

def _integer_conf(a: np.ndarray, scale, path, chunk: int = 1 << 16):
    """int8 (N, 16, 20) from integer or scaled-float matrices; returns (conf, scale, how).

    Works in row chunks so memory-mapped float64 files of ~2 GB never load whole.
    """
    if a.ndim == 4 and a.shape[-1] == 1:  # (N, 16, 20, 1) as some notebooks save it
        a = a[..., 0]
    if a.ndim != 3 or a.shape[1:] != (N_ROWS, N_COLS):
        raise DataError(f"{path}: matrices must have shape (N, {N_ROWS}, {N_COLS}) or (N, {N_ROWS}, {N_COLS}, 1), "
                        f"got {a.shape}")
    if np.issubdtype(a.dtype, np.integer):
        how = "integer entries" if scale is None else "integer entries, given scale"
        scale, factor = (DEFAULT_SCALE if scale is None else scale), 1.0
    elif np.issubdtype(a.dtype, np.floating):
        how = "inferred" if scale is None else "given"
        scale = _infer_scale(a, path) if scale is None else scale
        factor = float(scale)
    else:
        raise DataError(f"{path}: matrices have dtype {a.dtype}, expected integers or floats")
    out = np.empty(a.shape, np.int8)
    for start in range(0, len(a), chunk):
        block = np.asarray(a[start:start + chunk], dtype=np.float64) * factor
        ints = np.rint(block)
        bad = np.abs(block - ints) > 1e-6 * np.maximum(1.0, np.abs(ints))
        bad |= (ints < 0) | (ints > 127)
        if bad.any():
            row = int(np.argmax(bad.any(axis=(1, 2))))
            value = a[start + row][bad[row]][0]
            row += start
            raise DataError(f"{path}: matrix {row} has entry {value!r}, not a degree in 0..127 after "
                            f"multiplying by the scale {scale:g} ({how}); pass the right scale=")
        out[start:start + chunk] = ints
    return out, float(scale), how


def _infer_scale(a: np.ndarray, path) -> float:
    """6 if it makes the entries integral, else 1 / the smallest positive entry (max entry -> 1)."""
    probe = np.asarray(a[: 1 << 15], dtype=np.float64)
    scaled = probe * DEFAULT_SCALE
    if np.allclose(scaled, np.rint(scaled), rtol=0, atol=1e-6):
        return DEFAULT_SCALE
    positive = probe[probe > 0]
    if positive.size == 0:
        raise DataError(f"{path}: cannot infer the scale (no positive entries in the first rows); pass scale=")
    return float(np.rint(1.0 / positive.min()))


# --------------------------------------------------------------------------- numpy trio

def _load_npy(path: Path):
    if not path.exists():
        raise DataError(f"{path} is missing")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable .npy file ({err})") from err


def _euler_or_unknown(conf: np.ndarray, compute: bool, where) -> np.ndarray:
    """Euler numbers via geometry.euler_numbers when asked and available, else -1."""
    if compute and len(conf):
        try:
            from .geometry import ConfigurationError, euler_numbers
        except ImportError:  # geometry is optional for loading
            pass
        else:
            try:
                return np.asarray(euler_numbers(conf), dtype=np.int64)
            except ConfigurationError as err:
                raise DataError(f"{where}: {err} (load with compute_euler=False to skip the check)") from err
    return np.full(len(conf), -1, np.int64)


def _load_trio(folder: Path, scale, drop_products, compute_euler) -> CICYData:
    conf_raw, hodge_raw, direct_raw = (_load_npy(folder / name) for name in TRIO)
    lengths = {name: len(a) for name, a in zip(TRIO, (conf_raw, hodge_raw, direct_raw))}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{folder}: files disagree in length: "
                        + ", ".join(f"{k} has {v}" for k, v in lengths.items()))
    if hodge_raw.ndim != 2 or hodge_raw.shape[1] != 4:
        raise DataError(f"{folder / 'hodge.npy'}: expected shape (N, 4), got {hodge_raw.shape}")
    is_product = np.asarray(direct_raw, dtype=bool).reshape(-1)
    ids = np.arange(1, len(is_product) + 1, dtype=np.int64)  # conf.npy follows the list order
    keep = ~is_product if drop_products else np.ones(len(is_product), bool)
    conf, scale, how = _integer_conf(conf_raw if keep.all() else conf_raw[keep], scale, folder / "conf.npy")
    hodge = _integer_hodge(np.asarray(hodge_raw)[keep], folder / "hodge.npy")
    # create_data.py writes zeros for the products' missing Hodge numbers
    hodge[is_product[keep] & (hodge == 0).all(axis=1)] = -1
    euler = _euler_or_unknown(conf, compute_euler, folder / "conf.npy")
    return CICYData(conf, hodge, euler, is_product[keep], ids[keep], scale, str(folder), None,
                    {"scale_from": how})


def _integer_hodge(h: np.ndarray, path) -> np.ndarray:
    h = np.asarray(h)
    if np.issubdtype(h.dtype, np.floating):
        if not np.allclose(h, np.rint(h), atol=1e-6):
            raise DataError(f"{path}: Hodge numbers are not integers")
        h = np.rint(h)
    return h.astype(np.int64)


# --------------------------------------------------------------------------- Kaggle split files

def _load_pair(folder: Path, names, scale):
    conf_name, hodge_name = names
    conf_raw, hodge_raw = _load_npy(folder / f"{conf_name}.npy"), _load_npy(folder / f"{hodge_name}.npy")
    if len(conf_raw) != len(hodge_raw):
        raise DataError(f"{folder}: {conf_name}.npy has {len(conf_raw)} rows but {hodge_name}.npy has {len(hodge_raw)}")
    conf, scale, how = _integer_conf(conf_raw, scale, folder / f"{conf_name}.npy")
    hodge = _integer_hodge(hodge_raw, folder / f"{hodge_name}.npy").reshape(len(conf), -1)
    if hodge.shape[1] != 4:
        raise DataError(f"{folder / (hodge_name + '.npy')}: expected shape (N, 4), got {hodge_raw.shape}")
    return conf, hodge, scale, how


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


def _load_kaggle_splits(folder: Path, scale, compute_euler) -> CICYData:
    """train72 + valid72 + test72 as one dataset; 72/80/cv splits mapped onto it."""
    parts = {part: _load_pair(folder, names, scale) for part, names in FILES_72.items()}
    scales = {p: v[2] for p, v in parts.items()}
    if len(set(scales.values())) != 1:
        raise DataError(f"{folder}: the split files use different scales {scales}; pass scale=")
    scale = scales["train"]
    conf = np.concatenate([parts[p][0] for p in ("train", "valid", "test")])
    hodge = np.concatenate([parts[p][1] for p in ("train", "valid", "test")])
    n_tr, n_va, n_te = (len(parts[p][0]) for p in ("train", "valid", "test"))
    train = np.arange(n_tr)
    valid = np.arange(n_tr, n_tr + n_va)
    test = np.arange(n_tr + n_va, n_tr + n_va + n_te)
    splits = {"72": Split(train, valid, test, "72")}
    notes = []
    if all((folder / f"{name}.npy").exists() for pair in FILES_80.values() for name in pair):
        s80 = _map_80(folder, scale, conf, hodge, splits["72"])
        if s80 is None:
            notes.append("80% files hold rows that are not in the 72% files: split '80' not loaded")
        else:
            splits["80"] = s80
    for i in range(N_FOLDS):
        names = fold_files(i)
        if not all((folder / f"{n}.npy").exists() for pair in names.values() for n in pair):
            continue
        fold = _map_fold(folder, i, scale, conf, hodge, splits["72"])
        if fold is None:
            notes.append(f"fold {i} files do not match train72 + valid72: split 'cv{i}' not loaded")
        else:
            splits[f"cv{i}"] = fold
    for note in notes:
        warnings.warn(f"{folder}: {note}", stacklevel=3)
    n = len(conf)
    return CICYData(conf, hodge, _euler_or_unknown(conf, compute_euler, folder), np.zeros(n, bool),
                    np.full(n, -1, np.int64), scale, str(folder), splits,
                    {"scale_from": parts["train"][3], "notes": notes})


def _map_80(folder, scale, conf, hodge, s72: Split):
    (tr_c, tr_h, _, _), (te_c, te_h, _, _) = (_load_pair(folder, FILES_80[p], scale) for p in ("train", "test"))
    n72 = len(s72.train)
    # as the paper builds it: train72 followed by the moved 40% of test72 (the rest is test80)
    prefix_is_train72 = (len(tr_c) >= n72 and np.array_equal(tr_c[:n72], conf[s72.train])
                         and np.array_equal(tr_h[:n72], hodge[s72.train]))
    if prefix_is_train72:
        index = _RowIndex(conf[s72.test], hodge[s72.test])
        moved, stay = index.locate(tr_c[n72:], tr_h[n72:]), index.locate(te_c, te_h)
        if moved is not None and stay is not None:
            return Split(np.concatenate([s72.train, s72.test[moved]]), s72.valid, s72.test[stay], "80")
    # any other order: match every row among train72 + test72
    pool = np.concatenate([s72.train, s72.test])
    index = _RowIndex(conf[pool], hodge[pool])
    train, test = index.locate(tr_c, tr_h), index.locate(te_c, te_h)
    if train is None or test is None:
        return None
    return Split(pool[train], s72.valid, pool[test], "80")


def _map_fold(folder, i, scale, conf, hodge, s72: Split):
    names = fold_files(i)
    (tr_c, tr_h, _, _), (va_c, va_h, _, _) = (_load_pair(folder, names[p], scale) for p in ("train", "valid"))
    pool = np.concatenate([s72.train, s72.valid])  # contiguous 0..n_tv-1 in this dataset
    if len(tr_c) + len(va_c) != len(pool):
        return None
    # KFold(shuffle=False): the validation fold is one block of the pool, train is the rest in order
    start = _find_block(conf[pool], va_c)
    if start is not None:
        va = pool[start:start + len(va_c)]
        tr = np.concatenate([pool[:start], pool[start + len(va_c):]])
        if np.array_equal(conf[tr], tr_c) and np.array_equal(hodge[tr], tr_h) and np.array_equal(hodge[va], va_h):
            return Split(tr, va, s72.test, f"cv{i}")
    index = _RowIndex(conf[pool], hodge[pool])
    tr, va = index.locate(tr_c, tr_h), index.locate(va_c, va_h)
    if tr is None or va is None:
        return None
    return Split(pool[tr], pool[va], s72.test, f"cv{i}")


def _find_block(pool_conf, block):
    """Start of ``block`` as a contiguous run of ``pool_conf`` (KFold layout), or None."""
    if len(block) == 0:
        return None
    n, k = len(pool_conf), len(block)
    for start in (j * (n // N_FOLDS) + min(j, n % N_FOLDS) for j in range(N_FOLDS)):  # KFold's fold starts
        if start + k <= n and np.array_equal(pool_conf[start:start + k], block):
            return start
    return None


# --------------------------------------------------------------------------- raw list (cicy4list.txt)
#
# The list is one Mathematica expression, {{ID, rows, cols, {{degrees}}, Euler, isProduct, h11,
# h21, h31, h22, flag}, ...}, ~300 MB with entries wrapped over lines. Instead of one
# ast.literal_eval per entry we scan fixed-size byte chunks with numpy: braces give the nesting
# depth (2 entry, 3 matrix, 4 row), delimiters give the tokens, and the number of tokens before
# each brace turns entries, matrices and rows into token ranges, so fields, shapes and degrees
# come out of a few whole-array operations. Each chunk is cut after its last complete entry and
# the tail carried into the next one: memory stays at a few chunk sizes plus the int8 output.

_CHUNK_BYTES = 1 << 22
_MAX_ENTRY_BYTES = 1 << 20  # no real entry comes close; more means unbalanced braces
_ABSENT, _NUM, _TRUE, _FALSE, _NULL, _BAD = 0, 1, 2, 3, 4, -1
_WORDS = {b"True": _TRUE, b"False": _FALSE, b"Null": _NULL}
_LAYOUT = "{ID, rows, cols, {{degree rows}}, Euler, isProduct, h11, h21, h31, h22, flag}"


def _pack(word: bytes) -> int:
    return sum(b << (8 * k) for k, b in enumerate(word))


_PACKED_WORDS = {_pack(w): code for w, code in _WORDS.items()}

def read_cicy4_list(path, *, drop_products: bool = True, scale: float | None = None,
                    chunk_bytes: int = _CHUNK_BYTES) -> CICYData:
    """Load ``cicy4list.txt`` (or the ``.zip`` holding it), streamed; Euler numbers from the file.

    Product entries have no Hodge numbers in the list (``Null`` or omitted): -1 when kept.
    ``meta`` records the number of entries read, the products and the last field ("flag").
    """
    path = Path(path)
    with ExitStack() as stack:
        if path.suffix.lower() == ".zip":
            try:
                archive = stack.enter_context(zipfile.ZipFile(path))
            except (zipfile.BadZipFile, OSError) as err:
                raise DataError(f"{path}: not a readable zip archive ({err})") from err
            member = _list_member(archive, path)
            stream, name = stack.enter_context(archive.open(member)), f"{path}:{member}"
        else:
            try:
                stream, name = stack.enter_context(open(path, "rb")), str(path)
            except OSError as err:
                raise DataError(f"{path}: cannot open ({err})") from err
        try:
            parsed = parse_cicy4_list(stream, name=name, drop_products=drop_products, chunk_bytes=chunk_bytes)
        except (zipfile.BadZipFile, EOFError, OSError) as err:  # damaged compressed data
            raise DataError(f"{name}: read error ({err})") from err
    conf = parsed.pop("conf")
    how = "given" if scale is not None else "default"
    scale = float(scale if scale is not None else DEFAULT_SCALE)
    largest = int(conf.max()) if len(conf) else 0
    if largest > scale:
        warnings.warn(f"{name}: largest degree {largest} exceeds the scale {scale:g}: model inputs go above 1",
                      stacklevel=2)
    meta = {"scale_from": how, "largest_degree": largest, "n_entries": parsed.pop("n_entries"),
            "n_products": parsed.pop("n_products"), "flag": parsed.pop("flag")}
    return CICYData(conf, parsed["hodge"], parsed["euler"], parsed["is_product"], parsed["ids"],
                    scale, str(path), None, meta)


def _list_member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    texts = [n for n in names if n.lower().endswith(".txt")]
    for candidates in ([n for n in texts if Path(n).name == "cicy4list.txt"], texts, names):
        if len(candidates) == 1:
            return candidates[0]
    raise DataError(f"{path}: expected one cicy4list.txt inside, found {names or 'nothing'}")


def parse_cicy4_list(stream, *, name: str = "<list>", drop_products: bool = True,
                     chunk_bytes: int = _CHUNK_BYTES) -> dict:
    """Parse the raw list from a binary stream (or bytes / str) into arrays.

    Returns a dict: conf int8 (N, 16, 20), hodge int64 (N, 4) (-1 for Null / omitted), euler,
    is_product, ids, flag int8 (1 True, 0 False, -1 Null / omitted), n_entries (read),
    n_products (read). Raises DataError naming ``name``, the entry number, its ID and line.
    """
    if isinstance(stream, str):
        stream = stream.encode()
    if isinstance(stream, (bytes, bytearray)):
        import io

        stream = io.BytesIO(bytes(stream))
    scanner = _ListScanner(name, drop_products)
    pending = b""
    first = True
    while True:
        chunk = stream.read(chunk_bytes)
        if first and chunk.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
            chunk = chunk[3:]
        first = False
        if not chunk:
            break
        pending = scanner.feed(pending + chunk)
    scanner.finish(pending)
    return scanner.result()


class _ListScanner:
    """State between chunks: nesting depth, entries and lines already consumed, results."""

    def __init__(self, name: str, drop_products: bool):
        self.name, self.drop = name, drop_products
        self.depth = 0  # 0 before the list's "{", 1 inside it between entries
        self.entries = 0  # entries parsed so far
        self.lines = 0  # newlines consumed so far
        self.closed = False  # the list's closing "}" has been seen
        self.last_id = None
        self.n_products = 0
        self.parts = []

    # -- errors
    def _fail(self, problem: str, entry: int | None = None, entry_id=None, line: int | None = None):
        where = []
        if entry is not None:
            where.append(f"entry {entry}" + (f" (ID {entry_id})" if entry_id is not None else ""))
        if line is not None:
            where.append(f"line {line}")
        raise DataError(f"{self.name}: {', '.join(where) + ': ' if where else ''}{problem}")

    def _line_at(self, a: np.ndarray, pos: int) -> int:
        return self.lines + int(np.count_nonzero(a[:pos] == 10)) + 1

    # -- chunks
    def feed(self, buf: bytes) -> bytes:
        """Parse the complete entries in ``buf``; return the unparsed tail."""
        if b"\\" in buf:  # Mathematica's line continuation inside a long token
            buf = re.sub(rb"\\\r?\n", b"", buf)
        a = np.frombuffer(buf, np.uint8)
        if self.closed:
            self._check_trailing(a)
            return b""
        brace = np.flatnonzero((a == 123) | (a == 125))  # "{" or "}"
        opening = a[brace] == 123
        depth = self.depth + np.cumsum(np.where(opening, 1, -1))  # depth after each brace
        if len(depth) and depth.min() < 0:
            pos = int(brace[np.argmax(depth < 0)])
            self._fail("unmatched '}' after the end of the list", line=self._line_at(a, pos))
        ends = np.flatnonzero((depth <= 1) & ~opening)  # closing an entry (-> 1) or the list (-> 0)
        if len(ends) == 0:
            if len(a) > _MAX_ENTRY_BYTES:
                self._unterminated(a, "is not closed within 1 MiB (unbalanced braces?)")
            return buf
        list_end = np.flatnonzero(depth[ends] == 0)
        last = int(ends[list_end[0]] if len(list_end) else ends[-1])
        cut = int(brace[last]) + 1
        self._parse_region(a[:cut], brace[:last + 1], opening[:last + 1], depth[:last + 1])
        self.lines += int(np.count_nonzero(a[:cut] == 10))
        if len(list_end):
            self.closed = True
            self._check_trailing(a[cut:])
            return b""
        self.depth = 1
        return buf[cut:]

    def _check_trailing(self, rest: np.ndarray):
        """Only whitespace may follow the list's closing brace."""
        junk = np.flatnonzero(~np.isin(rest, (32, 9, 10, 13)))
        if len(junk):
            pos = int(junk[0])
            self._fail(f"unexpected text after the end of the list: {bytes(rest[pos:pos + 20])!r}",
                       line=self._line_at(rest, pos))
        self.lines += int(np.count_nonzero(rest == 10))

    def finish(self, tail: bytes):
        """End of input: complain about a truncated entry or an unclosed list."""
        if self.closed:
            if self.entries == 0:
                self._fail("the list holds no entries")
            return
        a = np.frombuffer(tail, np.uint8)
        is_open, is_close = a == 123, a == 125
        brace = np.flatnonzero(is_open | is_close)
        depth = self.depth + np.cumsum(np.where(is_open[brace], 1, -1))
        if ((depth >= 2) & is_open[brace]).any():
            self._unterminated(a, "is truncated: the file ends inside it")
        junk = np.flatnonzero(~np.isin(a, (32, 9, 10, 13, 44, 123)))
        if len(junk):
            self._fail(f"unexpected text {bytes(a[junk[0]:junk[0] + 20])!r}", line=self._line_at(a, int(junk[0])))
        if self.entries == 0:
            self._fail("truncated: the list holds no entries" if len(brace) else "no list found (empty file?)")
        self._fail(f"truncated: the list is not closed after entry {self.entries} (ID {self.last_id})")

    def _unterminated(self, a: np.ndarray, what: str):
        """Error for the entry starting in ``a`` that never closes."""
        opens = np.flatnonzero(a == 123)
        start = int(opens[1] if self.depth == 0 and len(opens) > 1 else opens[0]) if len(opens) else 0
        match = re.match(rb"\{\s*(-?\d+)", bytes(a[start:start + 40]))
        entry_id = int(match.group(1)) if match else None
        self._fail(f"entry {what}" + (f" (previous entry: ID {self.last_id})" if self.last_id is not None else ""),
                   entry=self.entries + 1, entry_id=entry_id, line=self._line_at(a, start))

    # -- one region of complete entries
    def _parse_region(self, r, brace, opening, depth):
        """Parse bytes ``r`` holding complete entries (braces at ``brace``, depth after each)."""
        # tokens: maximal runs of non-delimiter bytes
        is_comma = r == 44
        delim = is_comma | (r == 32) | (r == 10) | (r == 123) | (r == 125) | (r == 13) | (r == 9)
        edge = np.diff(delim.view(np.int8), prepend=np.int8(1), append=np.int8(1))
        start, stop = np.flatnonzero(edge == -1), np.flatnonzero(edge == 1)
        too_deep = opening & (depth > 4)
        if too_deep.any():
            self._fail_at(r, int(brace[np.argmax(too_deep)]), brace, opening, depth, "lists nested too deep")
        entry_open = opening & (depth == 2)
        n_entries = int(np.count_nonzero(entry_open))
        if n_entries == 0:
            if len(start):
                self._fail_at(r, int(start[0]), brace, opening, depth, "unexpected text outside an entry: "
                              + repr(bytes(r[start[0]:min(stop[0], start[0] + 30)]).decode("utf-8", "replace")))
            return
        kinds, values, degree_ok = self._tokens(r, delim, start, stop, brace, opening, depth)

        # structure from the braces: entry (depth 2), matrix (3) and row (4) groups; a brace's
        # token count (tokens before it) turns groups into token ranges
        tokens_before = np.searchsorted(start, brace)
        close = ~opening
        open_pos, close_pos = brace[entry_open], brace[close & (depth == 1)]
        tok_a, tok_b = tokens_before[entry_open], tokens_before[close & (depth == 1)]
        b_entry = np.cumsum(entry_open) - 1  # entry of every brace
        mat_open, row_open = opening & (depth == 3), opening & (depth == 4)
        n_mat = np.bincount(b_entry[mat_open], minlength=n_entries)
        n_rows = np.bincount(b_entry[row_open], minlength=n_entries)
        if (tok_b - tok_a).sum() != len(start):  # a token between entries
            inside = np.zeros(len(start) + 1, np.int64)
            np.add.at(inside, tok_a, 1)
            np.add.at(inside, tok_b, -1)
            k = int(np.argmax(np.cumsum(inside)[:-1] == 0))
            self._fail_at(r, int(start[k]), brace, opening, depth, "value outside an entry: "
                          + repr(bytes(r[start[k]:min(stop[k], start[k] + 30)]).decode("utf-8", "replace")))

        def entry_error(e, problem):
            self._fail(problem, entry=self.entries + e + 1,
                       entry_id=int(values[tok_a[e]]) if tok_b[e] > tok_a[e] and kinds[tok_a[e]] == _NUM else None,
                       line=self._line_at(r, int(open_pos[e])))

        if (n_mat != 1).any():
            e = int(np.argmax(n_mat != 1))
            entry_error(e, f"has {n_mat[e]} degree matrices {{{{..}}}}, expected one as field 4 of {_LAYOUT}")
        mat_a, mat_b = tokens_before[mat_open], tokens_before[close & (depth == 2)]
        row_a = tokens_before[row_open].astype(np.int64)
        row_len = tokens_before[close & (depth == 3)] - row_a
        row_first = np.concatenate(([0], np.cumsum(n_rows)))  # first row of each entry
        len_cum = np.concatenate(([0], np.cumsum(row_len)))
        n_mtok = len_cum[row_first[1:]] - len_cum[row_first[:-1]]
        stray = (mat_b - mat_a) != n_mtok
        if stray.any():
            entry_error(int(np.argmax(stray)), "the degree matrix must be a list of rows {{..}, {..}}")
        before, after = mat_a - tok_a, tok_b - mat_b
        n_items = before + 1 + after
        layout = (before != 3) | ~np.isin(after, (2, 3, 6, 7))
        if layout.any():
            e = int(np.argmax(layout))
            where = f"the degree matrix is field {before[e] + 1}" if before[e] != 3 else f"it has {n_items[e]} fields"
            entry_error(e, f"{where}; expected {_LAYOUT} (6, 7 or 10 fields without Hodge numbers / flag)")

        # scalar fields -> (kind, value) table in the 11-field layout
        kind = np.zeros((n_entries, 11), np.int8)
        value = np.zeros((n_entries, 11), np.int64)
        for j in range(3):
            kind[:, j], value[:, j] = kinds[tok_a + j], values[tok_a + j]
        s_entry = np.repeat(np.arange(n_entries), after)
        s_ord = np.arange(len(s_entry)) - np.repeat(np.cumsum(after) - after, after)
        s_tok = mat_b[s_entry] + s_ord
        field = np.where((after[s_entry] == 3) & (s_ord == 2), 10, 4 + s_ord)  # {.., isProduct, flag}
        kind[s_entry, field], value[s_entry, field] = kinds[s_tok], values[s_tok]

        # rows: equal lengths per entry
        row_entry = b_entry[row_open]
        n_cols = np.zeros(n_entries, np.int64)
        has_rows = n_rows > 0
        n_cols[has_rows] = row_len[row_first[:-1][has_rows]]
        ragged = np.zeros(n_entries, bool)
        ragged[row_entry[row_len != n_cols[row_entry]]] = True
        empty_row = np.zeros(n_entries, bool)
        empty_row[row_entry[row_len == 0]] = True
        # matrix tokens, row after row: token index and flat index into conf
        row_shift = row_a - len_cum[:-1]
        row_in_entry = np.arange(len(row_a)) - row_first[row_entry]
        row_base = (row_entry * N_ROWS + np.minimum(row_in_entry, N_ROWS - 1)) * N_COLS - len_cum[:-1]
        m_rank = np.arange(len_cum[-1])
        m_tok = m_rank + np.repeat(row_shift, row_len)
        bad_degree = np.zeros(n_entries, bool)
        not_ok = np.flatnonzero(~degree_ok[m_tok])
        if len(not_ok):  # rare: find the rows, then the entries
            bad_degree[row_entry[np.searchsorted(len_cum, not_ok, side="right") - 1]] = True
        commas = np.flatnonzero(is_comma)
        n_commas = np.searchsorted(commas, close_pos) - np.searchsorted(commas, open_pos)

        k_prod, k_eul = kind[:, 5], kind[:, 4]
        hodge_kind, flag_kind = kind[:, 6:10], kind[:, 10]
        checks = [
            ((kind[:, 0] != _NUM) | (kind[:, 1] != _NUM) | (kind[:, 2] != _NUM),
             lambda e: "ID, rows and cols must be integers"),
            (~np.isin(k_eul, (_NUM, _NULL)), lambda e: "the Euler number (field 5) must be an integer"),
            (~np.isin(k_prod, (_TRUE, _FALSE)), lambda e: "isProduct (field 6) must be True or False"),
            (~np.isin(hodge_kind, (_NUM, _NULL, _ABSENT)).all(axis=1),
             lambda e: "Hodge numbers (fields 7-10) must be integers or Null"),
            (~np.isin(flag_kind, (_TRUE, _FALSE, _NULL, _ABSENT)),
             lambda e: "the last field must be True, False or Null"),
            (n_rows == 0, lambda e: "empty degree matrix"),
            (empty_row, lambda e: "empty row in the degree matrix"),
            (bad_degree, lambda e: "the degree matrix holds a value that is not a degree 0..127"),
            (ragged, lambda e: "rows of the degree matrix differ in length"),
            ((n_rows > N_ROWS) | (n_cols > N_COLS),
             lambda e: f"degree matrix is {n_rows[e]} x {n_cols[e]}, more than {N_ROWS} x {N_COLS}"),
            ((value[:, 1] != n_rows) | (value[:, 2] != n_cols),
             lambda e: f"declares {value[e, 1]} rows x {value[e, 2]} cols but the matrix is {n_rows[e]} x {n_cols[e]}"),
            (n_commas != n_items + n_mtok - 2, lambda e: "misplaced or missing ',' (commas do not match the fields)"),
        ]
        bad = np.zeros(n_entries, bool)
        for mask, _ in checks:
            bad |= mask
        if bad.any():
            e = int(np.argmax(bad))
            entry_error(e, next(message(e) for mask, message in checks if mask[e]))

        conf = np.zeros((n_entries, N_ROWS, N_COLS), np.int8)
        conf.reshape(-1)[m_rank + np.repeat(row_base, row_len)] = values[m_tok]
        is_product = k_prod == _TRUE
        keep = ~is_product if self.drop else slice(None)
        self.parts.append({
            "conf": conf[keep], "hodge": np.where(hodge_kind == _NUM, value[:, 6:10], -1)[keep],
            "euler": np.where(k_eul == _NUM, value[:, 4], -1)[keep],
            "is_product": is_product[keep], "ids": value[:, 0][keep],
            "flag": np.select([flag_kind == _TRUE, flag_kind == _FALSE], [1, 0], -1).astype(np.int8)[keep],
        })
        self.n_products += int(np.count_nonzero(is_product))
        self.entries += n_entries
        self.last_id = int(value[-1, 0])

    def _fail_at(self, r, pos, brace, opening, depth, problem):
        """Error at byte ``pos`` of ``r``, naming the entry that holds it (if any)."""
        before = brace < pos
        entry_opens = np.flatnonzero(before & opening & (depth == 2))
        inside = len(entry_opens) and (depth[before][-1] >= 2 or not (~opening[before])[-1])
        if not inside:
            self._fail(problem, line=self._line_at(r, pos))
        start = int(brace[entry_opens[-1]])
        match = re.match(rb"\{\s*(-?\d+)", bytes(r[start:start + 40]))
        self._fail(problem, entry=self.entries + len(entry_opens), entry_id=int(match.group(1)) if match else None,
                   line=self._line_at(r, pos))

    def _tokens(self, r, delim, start, stop, brace, opening, depth):
        """Kind, integer value and "is a degree 0..127" of every token; DataError on bad tokens."""
        length = stop - start
        last = stop - 1
        value = r[last].astype(np.int64) - 48  # right for the many one-digit tokens
        kind = np.full(len(start), _NUM, np.int8)
        # tokens with a non-digit first or last byte: True/False/Null, negative numbers, garbage
        special = np.flatnonzero(((r[start] - np.uint8(48)) > 9) | ((r[last] - np.uint8(48)) > 9))
        n_odd_explained = 0
        negative = special[:0]
        if len(special):
            s_len = length[special]
            width = np.arange(5)
            pos = np.minimum(start[special, None] + width, len(r) - 1)
            chars = np.where(width < s_len[:, None], r[pos], 0).astype(np.uint64)
            packed = (chars << (np.uint64(8) * width.astype(np.uint64))).sum(axis=1)
            codes = np.full(len(special), _BAD, np.int8)
            for word_packed, code in _PACKED_WORDS.items():
                codes[(packed == np.uint64(word_packed)) & (s_len <= 5)] = code
            minus = (r[start[special]] == 45) & ((r[last[special]] - np.uint8(48)) <= 9) & (s_len >= 2)
            codes[minus] = _NUM
            negative = special[minus]
            kind[special] = codes
            n_odd_explained = int(s_len[(codes != _NUM) & (codes != _BAD)].sum() + len(negative)
                                  + s_len[codes == _BAD].sum())
        # every other non-digit byte sits inside a token that looked numeric ("1.5"): find it
        is_other = ~delim & ((r - np.uint8(48)) > 9)
        if np.count_nonzero(is_other) != n_odd_explained:
            odd = np.flatnonzero(is_other)
            owner = np.searchsorted(start, odd, side="right") - 1
            words = (kind != _NUM) & (kind != _BAD)
            explained = words[owner] | (kind[owner] == _BAD) | ((kind[owner] == _NUM) & (odd == start[owner]))
            kind[owner[~explained]] = _BAD
        multi = np.flatnonzero(length > 1)
        multi = multi[kind[multi] == _NUM]
        n_digits = length[multi] - np.isin(multi, negative)
        kind[multi[n_digits > 18]] = _BAD
        if (kind[special] == _BAD).any() or (kind == _BAD).any():
            k = int(np.argmax(kind == _BAD))
            text = bytes(r[start[k]:min(stop[k], start[k] + 30)]).decode("utf-8", "replace")
            self._fail_at(r, int(start[k]), brace, opening, depth,
                          f"bad token {text!r} (expected an integer, True, False or Null)")
        for k in range(1, int(n_digits.max(initial=1))):
            sel = multi[n_digits > k]
            value[sel] += (r[last[sel] - k].astype(np.int64) - 48) * 10 ** k
        value[negative] *= -1
        # degrees: one-digit tokens, or numbers 10..127
        degree_ok = length == 1
        degree_ok[multi] = (value[multi] >= 0) & (value[multi] <= 127)
        return kind, value, degree_ok

    def result(self) -> dict:
        keys = ("conf", "hodge", "euler", "is_product", "ids", "flag")
        if self.parts:
            out = {k: np.concatenate([p[k] for p in self.parts]) for k in keys}
        else:
            out = {"conf": np.zeros((0, N_ROWS, N_COLS), np.int8), "hodge": np.zeros((0, 4), np.int64),
                   "euler": np.zeros(0, np.int64), "is_product": np.zeros(0, bool),
                   "ids": np.zeros(0, np.int64), "flag": np.zeros(0, np.int8)}
        out["hodge"] = out["hodge"].astype(np.int64)
        out["n_entries"], out["n_products"] = self.entries, self.n_products
        return out
