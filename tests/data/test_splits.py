"""The paper's splits: exact sizes on 905,684, disjointness, determinism, Kaggle file round trip."""
import numpy as np
import pytest

from cicy4lib.data import readers as data_mod
from cicy4lib.data import CICYData, load_dataset
from cicy4lib.data.splits import (SPLIT_NAMES, Split, cv_folds, get_split, split_72, split_80, stratified_split,
                             write_split_files)

N = 905_684


def assert_partition(split, n, covers=True):
    parts = np.concatenate([split.train, split.valid, split.test])
    assert parts.dtype == np.int64
    assert parts.min() >= 0 and parts.max() < n
    assert np.bincount(parts, minlength=n).max() == 1, "train/valid/test overlap"
    if covers:
        assert len(parts) == n


@pytest.fixture(scope="module")
def full72():
    return split_72(N)


def test_paper_sizes_72_80(full72):
    assert full72.sizes == (652_092, 72_455, 181_137) and full72.name == "72"
    assert_partition(full72, N)
    s80 = split_80(full72)
    assert s80.sizes == (724_547, 72_455, 108_682) and s80.name == "80"
    assert_partition(s80, N)
    np.testing.assert_array_equal(s80.valid, full72.valid)
    np.testing.assert_array_equal(s80.train[: len(full72.train)], full72.train)  # 40% of test appended
    assert np.isin(s80.test, full72.test).all()


def test_paper_sizes_cv(full72):
    folds = cv_folds(full72)
    assert [f.name for f in folds] == ["cv0", "cv1", "cv2", "cv3", "cv4"]
    pool = np.concatenate([full72.train, full72.valid])
    for f in folds:
        assert f.sizes[0] in (579_637, 579_638) and f.sizes[1] in (144_909, 144_910)
        assert f.sizes[0] + f.sizes[1] == 724_547
        np.testing.assert_array_equal(f.test, full72.test)
        assert_partition(f, N)
    # KFold(shuffle=False): validation folds are consecutive blocks of train72 + valid72
    np.testing.assert_array_equal(np.concatenate([f.valid for f in folds]), pool)


def test_stratified_full_size():
    rng = np.random.default_rng(0)
    h21 = np.where(rng.random(N) < 0.7, 0, rng.integers(1, 34, N))
    h21[:3] = [90, 91, 92]  # singletons must not break the stratification
    s = stratified_split(np.stack([np.ones(N), h21, h21, h21], axis=1).astype(int))
    assert s.name == "strat" and s.sizes == (724_547, 90_568, 90_569)
    assert_partition(s, N)
    share = lambda idx: np.mean(h21[idx] == 0)  # noqa: E731
    assert abs(share(s.train) - share(np.arange(N))) < 1e-4  # stratified
    assert abs(share(s.test) - share(np.arange(N))) < 0.01


def test_deterministic_and_seeded(full72):
    again = split_72(N)
    for part in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(full72, part), getattr(again, part))
    other = split_72(N, seed=1)
    assert not np.array_equal(other.test, full72.test)
    a, b = stratified_split(np.arange(1000) % 7, seed=5), stratified_split(np.arange(1000) % 7, seed=5)
    np.testing.assert_array_equal(a.train, b.train)


@pytest.mark.parametrize("n", [3, 4, 10, 57, 100, 1000, 5001])
def test_small_n_partitions(n):
    s72 = split_72(n)
    assert_partition(s72, n)
    assert s72.sizes[2] == int(np.ceil(0.2 * n))  # sizes scale like the paper's
    assert s72.sizes[1] == int(np.ceil(0.1 * (n - s72.sizes[2])))
    assert_partition(split_80(s72), n)
    if n >= 5:
        for f in cv_folds(s72):
            assert_partition(f, n)
    if n >= 10:
        assert_partition(stratified_split(np.arange(n) % 5), n)


def test_too_small_and_unknown():
    from cicy4lib.errors import DataError, UnknownNameError

    with pytest.raises(DataError, match="at least 3"):
        split_72(2)
    with pytest.raises(UnknownNameError, match="unknown split 'x'.*72, 80, cv0"):
        get_split(np.zeros(10), "x")


def test_split_check_and_indexing():
    s = Split(np.array([0, 1]), np.array([2]), np.array([1]), "bad")
    with pytest.raises(ValueError, match="overlap"):
        s.check()
    good = split_72(10).check(10)
    np.testing.assert_array_equal(good["test"], good.test)


def make_data(n=120, seed=0):
    """Distinct valid configurations with Hodge numbers that satisfy the linear relation."""
    from cicy4lib.geometry import pad_configuration, random_configuration

    rng = np.random.default_rng(seed)
    seen, conf = set(), []
    while len(conf) < n:
        padded = pad_configuration(random_configuration(rng, n_rows=int(rng.integers(3, 9))))
        if padded.tobytes() not in seen:
            seen.add(padded.tobytes())
            conf.append(padded)
    conf = np.stack(conf)
    h11 = (conf.any(axis=2)).sum(axis=1).astype(np.int64)
    h21, h31 = rng.integers(0, 4, n), rng.integers(20, 60, n)
    hodge = np.stack([h11, h21, h31, 44 + 4 * h11 - 2 * h21 + 4 * h31], axis=1)
    return CICYData(conf, hodge, np.full(n, -1), np.zeros(n, bool), np.arange(1, n + 1), 6.0, "test")


def test_get_split_names_and_predefined():
    data = make_data(100)
    for name in SPLIT_NAMES:
        s = get_split(data, name)
        assert s.name == name
        assert_partition(s, 100, covers=True)
    assert get_split(data, 72).sizes == get_split(data, "72").sizes
    custom = Split(np.arange(50), np.arange(50, 60), np.arange(60, 100), "72")
    data.splits = {"72": custom}
    assert get_split(data, "72") is custom
    np.testing.assert_array_equal(get_split(data, "80").valid, custom.valid)
    np.testing.assert_array_equal(get_split(data, "cv2").test, custom.test)


def _rows(data, idx):
    return data.conf[idx], data.hodge[idx]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_write_split_files_round_trip(tmp_path, dtype):
    data = make_data(120)
    paths = write_split_files(data, "72", tmp_path / "splits", dtype=dtype)
    names = sorted(p.name for p in paths)
    expected = (["conf_Xtest.npy", "conf_Xtrain.npy", "conf_Xvalid.npy", "hodge_ytest.npy", "hodge_ytrain.npy",
                 "hodge_yvalid.npy", "conf_Xtrain_80.npy", "conf_Xtest_80.npy", "hodge_ytrain_80.npy",
                 "hodge_ytest_80.npy"]
                + [f"foldx_{i}_{k}.npy" for i in range(5) for k in ("Xtrain", "Xval", "ytrain", "yval")]
                + ["provenance.json"])
    assert names == sorted(expected)
    assert all(p.exists() for p in paths)
    x = np.load(tmp_path / "splits" / "conf_Xtrain.npy")
    assert x.dtype == dtype and x.shape[1:] == (16, 20)
    np.testing.assert_allclose(x * 6, np.rint(x * 6), atol=1e-5)  # divided by the scale
    assert x.max() < 1.0 < (x * 6).max()

    loaded = load_dataset(tmp_path / "splits", compute_euler=False)
    assert set(loaded.splits) == {"72", "80", "cv0", "cv1", "cv2", "cv3", "cv4"}
    assert loaded.provenance["kind"] == "user" and loaded.provenance["n"] == len(data)
    assert loaded.provenance["split"] == "72" and not loaded.is_real_list
    assert len(loaded) == len(data) and loaded.scale == 6.0
    for name in loaded.splits:
        original, again = get_split(data, name), loaded.splits[name]
        assert again.sizes == original.sizes
        for part in ("train", "valid", "test"):
            for a, b in zip(_rows(data, original[part]), _rows(loaded, again[part])):
                np.testing.assert_array_equal(a, b)


def test_round_trip_with_duplicate_rows(tmp_path):
    data = make_data(60)
    data.conf[10:20] = data.conf[0]  # identical matrices and labels are matched one to one
    data.hodge[10:20] = data.hodge[0]
    write_split_files(data, "72", tmp_path)
    loaded = load_dataset(tmp_path, compute_euler=False)
    assert set(loaded.splits) >= {"72", "80", "cv0"}
    for name in ("80", "cv3"):
        s = loaded.splits[name]
        assert_partition(s, 60)


def test_mismatched_80_files_are_skipped_with_warning(tmp_path):
    data = make_data(60)
    write_split_files(data, "72", tmp_path)
    other = make_data(3, seed=99)  # valid rows that are not in the 72% files
    np.save(tmp_path / "conf_Xtest_80.npy", other.conf.astype(np.float32) / 6)
    np.save(tmp_path / "hodge_ytest_80.npy", other.hodge)
    with pytest.warns(UserWarning, match="80% files hold rows"):
        loaded = load_dataset(tmp_path, compute_euler=False)
    assert "80" not in loaded.splits and "cv0" in loaded.splits


def test_write_single_schemes(tmp_path):
    data = make_data(40)
    assert sorted(p.name for p in write_split_files(data, "cv1", tmp_path / "a")) == [
        "foldx_1_Xtrain.npy", "foldx_1_Xval.npy", "foldx_1_ytrain.npy", "foldx_1_yval.npy", "provenance.json"]
    assert len(write_split_files(data, split_80(split_72(40)), tmp_path / "b")) == 5
    assert len(write_split_files(data, "72", tmp_path / "c", derived=False)) == 7


def test_sample_split_sizes_scale():
    if not data_mod.SAMPLE_PATH.exists():
        pytest.skip(f"embedded sample {data_mod.SAMPLE_PATH} not generated yet (python -m cicy4lib.jobs.generate)")
    data = load_dataset("sample")
    n = len(data)
    s72 = get_split(data, "72")
    assert s72.sizes[2] == int(np.ceil(0.2 * n))
    for name in SPLIT_NAMES:
        assert_partition(get_split(data, name), n)


def test_80_files_in_another_order_are_matched(tmp_path):
    data = make_data(80)
    write_split_files(data, "72", tmp_path)
    for name in ("conf_Xtrain_80", "hodge_ytrain_80"):  # moved rows first, then train72
        a = np.load(tmp_path / f"{name}.npy")
        np.save(tmp_path / f"{name}.npy", a[::-1])
    loaded = load_dataset(tmp_path, compute_euler=False)
    s = loaded.splits["80"]
    assert s.sizes == get_split(data, "80").sizes
    assert_partition(s, 80)
    np.testing.assert_array_equal(loaded.conf[s.train], np.load(tmp_path / "conf_Xtrain_80.npy") * 6)
