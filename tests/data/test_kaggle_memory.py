"""Loading the Kaggle split files: memory near the int8 data, not the float64 files (issue #11, 5c).

tracemalloc sees every numpy allocation (not the memory-mapped file pages), so the peak during
load_dataset is what the reader holds: the result's arrays plus a few conversion chunks. The
old reader converted each file and concatenated them (twice the int8 data) and loaded the 80%
and fold files whole; either breaks the bounds here.
"""
import tracemalloc

import numpy as np
import pytest

from cicy4lib.data import checks, load_dataset, readers
from cicy4lib.data.splits import FILES_72, get_split, write_split_files

CHUNK = 128  # rows per conversion chunk in these tests: 128 x 320 float64 = 0.33 MB per buffer
BUFFERS = 10 * CHUNK * 320 * 8  # allowance for the chunk buffers, whatever the data's size


@pytest.fixture(scope="module")
def sample():
    return load_dataset("sample")


def _arrays_bytes(data):
    return sum(a.nbytes for a in (data.conf, data.hodge, data.euler, data.is_product, data.ids))


def _peak_of(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_kaggle_72_files_load_at_the_int8_size(sample, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "CONF_CHUNK", CHUNK)
    n = 30_000  # the sample's rows, tiled: float64 files of 77 MB, int8 data of 9.6 MB
    rows = np.arange(n) % len(sample)
    sizes = {"train": 21_600, "valid": 2_400, "test": 6_000}
    start = 0
    for part, (conf_name, hodge_name) in FILES_72.items():
        idx = rows[start:start + sizes[part]]
        np.save(tmp_path / f"{conf_name}.npy", sample.conf[idx].astype(np.float64) / 6.0)  # as published
        np.save(tmp_path / f"{hodge_name}.npy", sample.hodge[idx])
        start += sizes[part]
    data, peak = _peak_of(lambda: load_dataset(tmp_path, compute_euler=False))
    assert len(data) == n and data.conf.dtype == np.int8 and data.splits["72"].sizes == (21_600, 2_400, 6_000)
    np.testing.assert_array_equal(data.conf, sample.conf[rows])
    np.testing.assert_array_equal(data.hodge, sample.hodge[rows])
    assert peak <= _arrays_bytes(data) + BUFFERS, (peak, _arrays_bytes(data))
    assert peak < 1.5 * data.conf.nbytes  # the concatenation alone was 2x


def test_kaggle_derived_files_matched_without_loading_them(sample, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "CONF_CHUNK", CHUNK)
    write_split_files(sample, "72", tmp_path)  # 72%, 80% and the 5 folds, float32 / 6
    data, peak = _peak_of(lambda: load_dataset(tmp_path, compute_euler=False))
    assert set(data.splits) == {"72", "80", "cv0", "cv1", "cv2", "cv3", "cv4"}
    # the 80% files are laid out as the paper builds them, the folds as KFold does: train80's first
    # rows are compared with train72 chunk by chunk, the rest found by content (8-byte row hashes)
    hashes = 8 * len(data) * 6  # row hashes, their sort orders and positions
    assert peak <= _arrays_bytes(data) + hashes + BUFFERS, (peak, _arrays_bytes(data))
    assert peak < 2 * data.conf.nbytes  # the 72% files' concatenation alone was 2x
    for name, split in data.splits.items():  # the same rows as the splits written
        split.check(len(data))
        original = get_split(sample, name)
        for part in ("train", "valid", "test"):
            np.testing.assert_array_equal(data.conf[split[part]], sample.conf[original[part]])
            np.testing.assert_array_equal(data.hodge[split[part]], sample.hodge[original[part]])


def test_rows_found_by_content_when_files_are_reordered(sample, tmp_path):
    small = sample.subset(np.arange(300))
    write_split_files(small, "72", tmp_path)
    reference = load_dataset(tmp_path, compute_euler=False)
    for name in ("conf_Xtest_80", "foldx_2_Xval"):  # another order: no prefix, no KFold block
        x = np.load(tmp_path / f"{name}.npy")
        y_name = name.replace("conf_X", "hodge_y").replace("_X", "_y")
        y = np.load(tmp_path / f"{y_name}.npy")
        perm = np.random.default_rng(0).permutation(len(x))
        np.save(tmp_path / f"{name}.npy", x[perm])
        np.save(tmp_path / f"{y_name}.npy", y[perm])
    data = load_dataset(tmp_path, compute_euler=False)
    for name in ("80", "cv2"):
        for part in ("train", "valid", "test"):
            assert sorted(data.splits[name][part]) == sorted(reference.splits[name][part]), (name, part)


def test_hash_collisions_fall_back_to_exact_matching(sample, tmp_path, monkeypatch):
    small = sample.subset(np.arange(300))
    write_split_files(small, "72", tmp_path)
    reference = load_dataset(tmp_path, compute_euler=False)
    x = np.load(tmp_path / "conf_Xtest_80.npy")
    np.save(tmp_path / "conf_Xtest_80.npy", x[::-1])
    np.save(tmp_path / "hodge_ytest_80.npy", np.load(tmp_path / "hodge_ytest_80.npy")[::-1])
    # every row the same hash: the pairing by hash is wrong, the exact comparison sees it
    monkeypatch.setattr(readers, "_row_hashes", lambda conf, hodge: np.zeros(len(hodge), np.uint64))
    data = load_dataset(tmp_path, compute_euler=False)
    for part in ("train", "valid", "test"):
        assert sorted(data.splits["80"][part]) == sorted(reference.splits["80"][part]), part
    assert (data.splits["80"].test == reference.splits["80"].test[::-1]).all()  # row by row


def test_a_bad_entry_in_a_large_file_is_named(sample, tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "CONF_CHUNK", CHUNK)
    write_split_files(sample.subset(np.arange(2000)), "72", tmp_path, derived=False)
    x = np.load(tmp_path / "conf_Xtrain.npy")
    x[1000, 2, 3] = 0.5 / 6  # not an integer / 6, in the fourth chunk
    np.save(tmp_path / "conf_Xtrain.npy", x)
    with pytest.raises(checks.DataError, match=r"conf_Xtrain\.npy: matrix 1000 has (the )?entry .* row 2, column 3"):
        load_dataset(tmp_path, compute_euler=False)
    x[1000, 2, 3] = 0
    x[1000] = 0
    x[1000, 0, 0] = 1 / 6  # a valid integer matrix, not a configuration
    np.save(tmp_path / "conf_Xtrain.npy", x)
    with pytest.raises(checks.DataError, match=r"conf_Xtrain\.npy: entry 1000 is not a valid configuration"):
        load_dataset(tmp_path, compute_euler=False)
