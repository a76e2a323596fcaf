"""The loader's guards: declared sizes before allocation, devices, provenance, repeats, chi."""
import io
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

from cicy4lib import load_dataset
from cicy4lib.data import checks
from cicy4lib.errors import DataError, DataWarning


@pytest.fixture(scope="module")
def small():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_dataset("sample").subset(np.arange(50))


def _forged(a, shape):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a)
    header = np.lib.format.header_data_from_array_1_0(a)
    header["shape"] = shape
    h = io.BytesIO()
    np.lib.format.write_array_header_1_0(h, header)
    return h.getvalue() + buf.getvalue()[-a.nbytes:]


def test_npz_header_claiming_320_gb_refused_before_allocating(tmp_path, small):
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conf.npy", _forged(small.conf[:2], (10**9, 16, 20)))
        z.writestr("hodge.npy", _forged(small.hodge[:2], (2, 4)))
    assert path.stat().st_size < 2000
    with pytest.raises(DataError, match="320 GB"):
        load_dataset(path)


def test_zip_bomb_refused_by_declared_size(tmp_path, small, monkeypatch):
    monkeypatch.setenv("CICY4_MAX_ARRAY_BYTES", str(1 << 20))
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, conf=np.zeros((20_000, 16, 20), np.int8), hodge=np.zeros((20_000, 4), np.int64))
    with pytest.raises(DataError, match="decompress to more than"):
        load_dataset(path)


def test_forged_npy_header_refused(tmp_path, small):
    path = tmp_path / "conf.npy"
    path.write_bytes(_forged(small.conf, (10**10, 16, 20)))
    with pytest.raises(DataError, match="forged header"):
        checks.read_npy(path, mmap=False)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_devices_refused(tmp_path):
    os.symlink("/dev/zero", tmp_path / "x.npz")
    with pytest.raises(DataError, match="not a regular file"):
        load_dataset(tmp_path / "x.npz")
    with pytest.raises(DataError, match="not a regular file"):
        checks.read_json_file("/dev/zero")


def test_folder_with_two_kinds_of_dataset_refused(tmp_path, small):
    from cicy4lib.data import write_split_files

    write_split_files(small, "72", tmp_path)
    np.save(tmp_path / "conf.npy", small.conf)
    with pytest.raises(DataError, match="more than one kind of dataset"):
        load_dataset(tmp_path)
    assert len(load_dataset(tmp_path / "conf_Xtrain.npy")) == 50  # the file says which


def test_leakage_between_split_files_is_named(tmp_path, small):
    from cicy4lib.data import write_split_files

    write_split_files(small, "72", tmp_path, derived=False)
    conf, hodge = np.load(tmp_path / "conf_Xtest.npy"), np.load(tmp_path / "hodge_ytest.npy")
    conf[0], hodge[0] = np.load(tmp_path / "conf_Xtrain.npy")[3], np.load(tmp_path / "hodge_ytrain.npy")[3]
    np.save(tmp_path / "conf_Xtest.npy", conf)
    np.save(tmp_path / "hodge_ytest.npy", hodge)
    with pytest.warns(DataWarning, match="leakage"):
        data = load_dataset(tmp_path)
    assert data.provenance["repeats"]
    with pytest.raises(DataError, match="leakage"):
        load_dataset(tmp_path, duplicates="error")


def test_one_matrix_two_labels_is_named(tmp_path, small):
    conf, hodge = small.conf.copy(), small.hodge.copy()
    conf[7] = conf[3]
    np.savez(tmp_path / "x.npz", conf=conf, hodge=hodge)
    with pytest.warns(DataWarning, match="two labels"):
        load_dataset(tmp_path / "x.npz", check_labels=False)


def test_real_list_claim_for_other_data_refused(tmp_path, small):
    np.savez(tmp_path / "x.npz", conf=small.conf, hodge=small.hodge,
             meta=np.array(json.dumps({"provenance": {"kind": "real-list"}})))
    with pytest.raises(DataError, match="claims the real list"):
        load_dataset(tmp_path / "x.npz")


def test_provenance_size_mismatch_refused(tmp_path, small):
    from cicy4lib.data import write_split_files

    write_split_files(small, "72", tmp_path)
    prov = json.loads((tmp_path / "provenance.json").read_text())
    prov["n"] = 999
    (tmp_path / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(DataError, match="records 999"):
        load_dataset(tmp_path)


def test_loading_says_what_it_checks(small):
    said = load_dataset("sample").provenance["checks"]
    assert "not recomputed" in said and "verify" in said


def test_wrong_stored_chi_never_used(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = load_dataset("sample").subset(np.arange(300))
    spot = set(np.random.default_rng(0).choice(300, 256, replace=False).tolist())  # the loader's spot check
    i = min(set(range(300)) - spot)
    hodge, euler = small.hodge.copy(), small.euler.copy()
    hodge[i, 2] += 1
    hodge[i, 3] += 4
    euler[i] += 6  # both relations still hold: only the exact chi shows it
    np.savez(tmp_path / "x.npz", conf=small.conf, hodge=hodge, euler=euler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_dataset(tmp_path / "x.npz")
    ok = sorted(spot)[:3]
    assert (checks.verified_euler(data, ok) == small.euler[ok]).all()
    with pytest.raises(DataError, match="stored Euler number"):
        checks.verified_euler(data, [i])
