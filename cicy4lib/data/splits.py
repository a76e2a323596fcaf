"""The paper's train/validation/test splits, as index arrays into a dataset.

Every scheme uses scikit-learn's splitters, so a split is fixed by its seed and
reproduces the paper's sizes exactly on the 905,684 non-product configurations:

======  =========  ==========  ========  =============================================
name    train      validation  test      how
======  =========  ==========  ========  =============================================
"72"    652,092    72,455      181,137   20% test, then 10% of the rest as validation
"80"    724,547    72,455      108,682   40% of the 72% test moves to train (seed 101)
"cvI"   579,637-8  144,909-10  181,137   KFold(5) over train72 + valid72, I = 0..4
"strat" 80%        10%         10%       CICYMiner: train stratified on h21
======  =========  ==========  ========  =============================================

Sizes scale with the data (sklearn rounds the test part up, the train part down).

>>> s = split_72(905_684)
>>> s.sizes
(652092, 72455, 181137)
>>> split_80(s).sizes
(724547, 72455, 108682)
>>> [f.sizes for f in cv_folds(s)][:2]
[(579637, 144910, 181137), (579637, 144910, 181137)]
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..constants import PROVENANCE_FILE
from ..errors import DataError, UnknownNameError, UsageError
from ..fileio import atomic_write_json, atomic_write_many, jsonable
from ..outputs import check_dataset_folder

DEFAULT_SEED = 42  # the paper's seed
SEED_80 = 101  # random_state of the published 80% split
SPLIT_NAMES = ("72", "80", "cv0", "cv1", "cv2", "cv3", "cv4", "strat")
N_FOLDS = 5

# Kaggle file names (``/kaggle/input/calabi-yau-cicy-4-folds/``), without ".npy"
FILES_72 = {"train": ("conf_Xtrain", "hodge_ytrain"), "valid": ("conf_Xvalid", "hodge_yvalid"),
            "test": ("conf_Xtest", "hodge_ytest")}
FILES_80 = {"train": ("conf_Xtrain_80", "hodge_ytrain_80"), "test": ("conf_Xtest_80", "hodge_ytest_80")}


def fold_files(i: int) -> dict:
    """Kaggle names of CV fold ``i``: {"train": (conf, hodge), "valid": (conf, hodge)}."""
    return {"train": (f"foldx_{i}_Xtrain", f"foldx_{i}_ytrain"),
            "valid": (f"foldx_{i}_Xval", f"foldx_{i}_yval")}


@dataclass(frozen=True)
class Split:
    """Index arrays (int64) into a dataset; ``name`` is one of :data:`SPLIT_NAMES`."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    name: str = ""

    @property
    def sizes(self) -> tuple:
        """(n_train, n_valid, n_test)."""
        return len(self.train), len(self.valid), len(self.test)

    def __repr__(self) -> str:
        """Short: the name and the sizes, never the index arrays."""
        return f"Split({self.name!r}: train {len(self.train):,} / valid {len(self.valid):,} / test {len(self.test):,})"

    def __getitem__(self, subset: str) -> np.ndarray:
        """``split["train"]`` etc., for code that loops over subset names."""
        if subset not in ("train", "valid", "test"):
            raise KeyError(f"subset must be 'train', 'valid' or 'test', not {subset!r}")
        return getattr(self, subset)

    def check(self, n: int | None = None) -> "Split":
        """Raise ValueError unless the three parts are disjoint (and inside ``range(n)``)."""
        parts = np.concatenate([self.train, self.valid, self.test])
        if len(np.unique(parts)) != len(parts):
            raise ValueError(f"split {self.name!r}: train, valid and test overlap")
        if n is not None and len(parts) and (parts.min() < 0 or parts.max() >= n):
            raise ValueError(f"split {self.name!r}: indices outside range({n})")
        return self


def _as_n(n_or_data) -> int:
    n = n_or_data if isinstance(n_or_data, (int, np.integer)) else len(n_or_data)
    if n < 3:
        raise DataError(f"need at least 3 samples to split, got {n}")
    return int(n)


def _idx(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


def split_72(n_or_data, seed: int = DEFAULT_SEED, *, test_size: float = 0.2,
             valid_size: float = 0.1) -> Split:
    """The 72% split: ``test_size`` of all for test, then ``valid_size`` of the rest for validation.

    With the defaults, 905,684 samples give exactly 652,092 / 72,455 / 181,137
    (sklearn: test = ceil(0.2 n), valid = ceil(0.1 (n - test))). How the published split
    was drawn is not public: the published files are the reference (see
    :func:`cicy4lib.data.load_dataset` on a Kaggle folder); this reproduces sizes and procedure.
    """
    from sklearn.model_selection import train_test_split  # lazy: imports sklearn, pandas

    n = _as_n(n_or_data)
    rest, test = train_test_split(np.arange(n), test_size=test_size, random_state=seed, shuffle=True)
    train, valid = train_test_split(rest, test_size=valid_size, random_state=seed, shuffle=True)
    return Split(_idx(train), _idx(valid), _idx(test), "72")


def split_80(split72: Split, *, moved_size: float = 0.4, seed: int = SEED_80) -> Split:
    """The 80% split: ``moved_size`` of the 72% test set moves to train, validation unchanged.

    As the paper: ``train_test_split(test, test_size=0.4, random_state=101, shuffle=True)``;
    the 0.4 part is appended to train72 (724,547 / 72,455 / 108,682 on the full list).
    """
    from sklearn.model_selection import train_test_split  # lazy: imports sklearn, pandas

    if len(split72.test) < 2:  # nothing to split off (tiny data)
        return Split(split72.train, split72.valid, split72.test, "80")
    stay, moved = train_test_split(split72.test, test_size=moved_size, random_state=seed, shuffle=True)
    train = np.concatenate([split72.train, moved])
    return Split(_idx(train), _idx(split72.valid), _idx(stay), "80")


def cv_folds(split72: Split, n_splits: int = N_FOLDS) -> list:
    """5-fold CV over train72 + valid72 (concatenated in that order, ``KFold(shuffle=False)``).

    Every fold keeps the 72% test set as its test set. Full list: train 579,637-579,638,
    validation 144,909-144,910.
    """
    from sklearn.model_selection import KFold  # lazy: imports sklearn, pandas

    pool = np.concatenate([split72.train, split72.valid])
    return [Split(_idx(pool[tr]), _idx(pool[va]), _idx(split72.test), f"cv{i}")
            for i, (tr, va) in enumerate(KFold(n_splits=n_splits, shuffle=False).split(pool))]


def _stratify_labels(labels: np.ndarray, n_classes_max: int) -> np.ndarray:
    """Merge rare classes so sklearn's stratification has >= 2 members per class.

    Classes smaller than 2, and all but the ``n_classes_max - 1`` largest, share one
    bucket (-2); a bucket of one joins the largest class.
    """
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    keep = np.zeros(len(values), bool)
    keep[order[: max(1, n_classes_max - 1)]] = True
    keep &= counts >= 2
    grouped = np.where(keep[inverse], labels, -2)
    if np.count_nonzero(grouped == -2) == 1:
        grouped[grouped == -2] = values[order[0]]
    return grouped


def stratified_split(hodge_or_data, seed: int = DEFAULT_SEED, *, train_size: float = 0.8,
                     valid_size: float = 0.1) -> Split:
    """CICYMiner's split: train stratified on h21, then ``valid_size`` of all at random, rest test.

    ``hodge_or_data`` is a CICYData, an (N, 4) Hodge array or the (N,) h21 column.
    Rare h21 values are pooled so the stratification never fails on small data.
    """
    from sklearn.model_selection import train_test_split  # lazy: imports sklearn, pandas

    hodge = np.asarray(getattr(hodge_or_data, "hodge", hodge_or_data))
    h21 = hodge[:, 1] if hodge.ndim == 2 else hodge
    n = _as_n(h21)
    n_train = int(np.floor(train_size * n))
    n_valid = max(1, int(round(valid_size * n)))
    if not 0 < n_train < n - n_valid:
        raise UsageError(f"train_size={train_size}, valid_size={valid_size} leave no test set for n={n}")
    labels = _stratify_labels(h21, n_classes_max=min(n_train, n - n_train))
    train, rest = train_test_split(np.arange(n), train_size=n_train, stratify=labels,
                                   random_state=seed, shuffle=True)
    test, valid = train_test_split(rest, test_size=n_valid, random_state=seed, shuffle=True)
    return Split(_idx(train), _idx(valid), _idx(test), "strat")


def get_split(data, name="72", seed: int = DEFAULT_SEED) -> Split:
    """The split ``name`` ("72", "80", "cv0".."cv4", "strat") of ``data``.

    A split stored with the data (``data.splits``, e.g. the published Kaggle files) wins;
    "80" and "cvI" are otherwise derived from the (stored or generated) "72" split.

    Parameters
    ----------
    data : CICYData or int
        The dataset (its length, stored splits and Hodge numbers are used).
    name : str
        The split's name; see :data:`SPLIT_NAMES`.
    seed : int
        Seed of the generated "72" split (the paper's 42 by default).

    Returns
    -------
    Split
        Index arrays ``train``, ``valid``, ``test`` and the ``name``.

    Raises
    ------
    UnknownNameError
        For a name that is not a split.

    Examples
    --------
    >>> split = get_split(range(100), "72")  # any sized data: the 72 % split of 100 rows
    >>> len(split.train), len(split.valid), len(split.test)
    (72, 8, 20)
    """
    name = str(name)
    stored = getattr(data, "splits", None) or {}
    if name in stored:
        return stored[name]
    if name == "72":
        return split_72(len(data), seed=seed)
    if name == "80":
        return split_80(get_split(data, "72", seed))
    if name.startswith("cv") and name[2:].isdigit() and int(name[2:]) < N_FOLDS:
        return cv_folds(get_split(data, "72", seed))[int(name[2:])]
    if name == "strat":
        return stratified_split(data.hodge, seed=seed)
    raise UnknownNameError(f"unknown split {name!r}; valid: {', '.join(SPLIT_NAMES)}")


def as_split(data, split, seed: int | None = None, *, parts=("train", "valid")) -> Split:
    """``split`` itself when it is a :class:`Split`-like object with ``parts``; a split name
    (``"72"``, ``"80"``, ...) is looked up with :func:`get_split`.

    Raises
    ------
    TypeError
        When ``split`` is neither a name nor has the attributes ``parts``.
    """
    if isinstance(split, str):
        return get_split(data, split) if seed is None else get_split(data, split, seed=seed)
    for part in parts:
        if not hasattr(split, part):
            raise TypeError(f"split must be a split name or a Split, got {type(split).__name__}")
    return split


def _save_pair(data, idx, names, out_dir: Path, dtype) -> list:
    """The two files of one part as ``(path, write(binary_file))`` items for
    :func:`cicy4lib.fileio.atomic_write_many` (nothing is written here)."""
    conf_name, hodge_name = names
    conf_path, hodge_path = out_dir / f"{conf_name}.npy", out_dir / f"{hodge_name}.npy"
    idx = np.asarray(idx)

    # same layout as the Kaggle files: float matrices divided by the scale, int Hodge numbers
    def write_conf(f):
        np.save(f, (data.conf[idx].astype(dtype) / dtype(data.scale)).astype(dtype))

    def write_hodge(f):
        np.save(f, data.hodge[idx].astype(np.int64))

    return [(conf_path, write_conf), (hodge_path, write_hodge)]


def layout_files() -> list:
    """Every file name of the published split layout (72 %, 80 %, the five folds, provenance.json)."""
    parts = [FILES_72, FILES_80] + [fold_files(i) for i in range(5)]
    return sorted({f"{name}.npy" for part in parts for names in part.values() for name in names}
                  | {PROVENANCE_FILE})


def split_fingerprint(data, split: Split) -> dict:
    """What identifies split files: the data (size, scale, a hash of every matrix and its Hodge
    numbers) and the split (its name and a hash of its index arrays). Stored in ``provenance.json``;
    a folder whose record differs holds another dataset or another split."""
    content = hashlib.sha256()
    conf, hodge = np.asarray(data.conf), np.asarray(data.hodge)
    for start in range(0, len(conf), 1 << 16):  # in chunks: no copy of a whole large dataset
        content.update(np.ascontiguousarray(conf[start:start + (1 << 16)], dtype=np.int16).tobytes())
        content.update(np.ascontiguousarray(hodge[start:start + (1 << 16)], dtype=np.int64).tobytes())
    parts = hashlib.sha256()
    for part in ("train", "valid", "test"):
        idx = np.ascontiguousarray(np.asarray(getattr(split, part), dtype=np.int64).ravel())
        parts.update(f"{part}:{len(idx)};".encode())
        parts.update(idx.tobytes())
    return {"n": int(len(data)), "scale": float(data.scale), "content_sha256": content.hexdigest(),
            "split": str(split.name), "split_sha256": parts.hexdigest()}


def _input_paths(data) -> list:
    """The files or folder ``data`` was read from (to refuse writing over them)."""
    prov = getattr(data, "provenance", None) or {}
    found = []
    for value in (prov.get("loaded_from"), prov.get("provenance_file"), prov.get("folder"), prov.get("file"),
                  prov.get("source"), getattr(data, "source", None)):
        if isinstance(value, (str, Path)) and str(value) and os.path.exists(str(value)):
            found.append(str(value))
    return found


def write_split_files(data, split="72", out_dir="data-splits", *, seed: int = DEFAULT_SEED,
                      derived: bool = True, dtype=np.float32, force: bool = False, inputs=()) -> list:
    """Write ``split`` of ``data`` as .npy files with the Kaggle names; return their paths.

    "72" (or any 3-way split) -> conf_Xtrain/Xvalid/Xtest, hodge_ytrain/yvalid/ytest;
    "80" -> conf_Xtrain_80, conf_Xtest_80, hodge_ytrain_80, hodge_ytest_80 (validation is the
    72% one); "cvI" -> foldx_I_Xtrain/Xval/ytrain/yval. With ``derived=True`` a "72" split also
    writes its 80% and 5-fold files, i.e. the whole published layout. Matrices are stored divided
    by ``data.scale`` (float32 by default; the published files are float64: pass
    ``dtype=np.float64``), so ``load_dataset(out_dir)`` gives back the same data and splits.
    A ``provenance.json`` beside the files records where the data came from (the dataset's
    ``provenance``: embedded sample, generated set, real list or user data, with its size) and
    the data's fingerprint (:func:`split_fingerprint`); the folder reader reads it back.

    Before anything is written the folder is checked (:func:`cicy4lib.outputs.check_dataset_folder`):
    a folder inside the package, the input itself (``inputs``, and the files ``data`` was read
    from), a folder holding another kind of dataset, or split files of other data or another
    split is refused (:class:`~cicy4lib.errors.OutputRefusedError`) unless ``force``. Every file is
    then staged and moved into place together (:func:`cicy4lib.fileio.atomic_write_many`): a
    link at a file's name is replaced, never written through.
    """
    split = split if isinstance(split, Split) else get_split(data, split, seed)
    dtype = np.dtype(dtype).type
    out_dir = Path(out_dir)
    fingerprint = split_fingerprint(data, split)
    check_dataset_folder(out_dir, fingerprint, what="split folder", inputs=[*_input_paths(data), *inputs],
                         force=force, own_files=layout_files())
    items = _write_split(data, split, out_dir, dtype, derived)
    prov = provenance_record(data, files=[p.name for p, _ in items], split=split.name,
                             sizes=dict(zip(("train", "valid", "test"), split.sizes)), fingerprint=fingerprint)
    text = (json.dumps(prov, indent=2) + "\n").encode("utf-8")
    items.append((out_dir / PROVENANCE_FILE, lambda f: f.write(text)))
    return atomic_write_many(items)


def provenance_record(data, **extra) -> dict:
    """The ``provenance.json`` record (JSON types) for files written from ``data``."""
    prov = dict(getattr(data, "provenance", None) or {"kind": "user", "source": str(getattr(data, "source", ""))})
    prov = {k: v for k, v in prov.items() if k not in ("loaded_from", "provenance_file", "reader")}
    prov.update(n=len(data), scale=float(data.scale), written_by="cicy4lib", **extra)
    return jsonable(prov)


def write_provenance(data, out_dir, **extra) -> Path:
    """Write ``provenance.json`` for files written from ``data`` into ``out_dir``; its path."""
    return atomic_write_json(provenance_record(data, **extra), Path(out_dir) / PROVENANCE_FILE)


def _write_split(data, split: Split, out_dir: Path, dtype, derived: bool) -> list:
    paths = []
    if split.name.startswith("cv"):
        for part, names in fold_files(int(split.name[2:])).items():
            paths += _save_pair(data, split[part], names, out_dir, dtype)
        return paths
    if split.name == "80":
        for part, names in FILES_80.items():
            paths += _save_pair(data, split[part], names, out_dir, dtype)
        return paths
    for part, names in FILES_72.items():
        paths += _save_pair(data, split[part], names, out_dir, dtype)
    if derived and split.name == "72":
        paths += _write_split(data, split_80(split), out_dir, dtype, False)
        for fold in cv_folds(split):
            paths += _write_split(data, fold, out_dir, dtype, False)
    return paths
