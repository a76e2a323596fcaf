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
import warnings
import zipfile
from collections import defaultdict, deque
from pathlib import Path

import numpy as np

from ..constants import DEFAULT_SCALE, MAX_COLS as N_COLS, MAX_ROWS as N_ROWS
from ..errors import DataError
from .dataset import CICYData
from .rawlist import read_cicy4_list
from .splits import FILES_72, FILES_80, N_FOLDS, Split, fold_files

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "_data" / "sample.npz"
KAGGLE_DIR = Path("/kaggle/input/calabi-yau-cicy-4-folds")
TRIO = ("conf.npy", "hodge.npy", "direct.npy")

_SOURCES_HELP = ("valid sources: 'sample' (embedded sample), 'kaggle' (/kaggle/input/calabi-yau-cicy-4-folds), "
                 "a path to cicy4list.txt or cicy4list.zip, a .npz like the sample, a folder with "
                 "conf.npy/hodge.npy/direct.npy, or a folder with the Kaggle split files (conf_Xtrain.npy, ...)")


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
                            f"`python -m cicy4lib.geometry.generate`")
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
            from ..geometry import ConfigurationError, euler_numbers
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


