"""verify loads labels as stored through load_dataset(check_labels=False), patching nothing."""
import csv

import numpy as np
import pytest

import cicy4lib.jobs.verify as verify_module
from cicy4lib.data import checks, load_dataset, readers
from cicy4lib.errors import DataError
from cicy4lib.jobs.verify import verify


@pytest.fixture(scope="module")
def small():
    data = load_dataset("sample")
    rows = (data.conf != 0).any(2).sum(1)
    return data.subset(np.flatnonzero(rows <= 6)[:8])


def _npz(path, data, hodge):
    np.savez(path, conf=data.conf, hodge=hodge, euler=data.euler, id=data.ids)
    return path


def _kaggle(folder, data, hodge):
    folder.mkdir()
    for name, sl in (("train", slice(0, 4)), ("valid", slice(4, 6)), ("test", slice(6, 8))):
        np.save(folder / f"conf_X{name}.npy", data.conf[sl].astype(np.float64) / 6.0)
        np.save(folder / f"hodge_y{name}.npy", hodge[sl])
    return folder


@pytest.mark.parametrize("layout", ["npz", "kaggle"])
def test_one_wrong_label_is_a_mismatch_not_a_load_error(small, tmp_path, monkeypatch, layout):
    hodge = small.hodge.copy()
    hodge[5, 1] += 1  # a wrong h21: breaks the relations, disagrees with the recomputation
    path = (_npz(tmp_path / "bad.npz", small, hodge) if layout == "npz"
            else _kaggle(tmp_path / "bad", small, hodge))
    # plain loading refuses the file and names the entry
    entry = "entry 5 (ID" if layout == "npz" else "hodge_yvalid.npy: entry 1 "
    with pytest.raises(DataError, match=r"has Hodge numbers") as err:
        load_dataset(path, compute_euler=False)
    assert entry in str(err.value)

    # verify asks load_dataset for the labels as stored, and replaces no function to get them
    original = (checks.check_hodge, checks.check_euler, readers.read_cicy4_list)
    calls = []

    def spy(source, **kw):
        calls.append(kw)
        assert (checks.check_hodge, checks.check_euler, readers.read_cicy4_list) == original
        return load_dataset(source, **kw)

    monkeypatch.setattr(verify_module, "load_dataset", spy)
    s = verify(str(path), out=tmp_path / "v", workers=1, progress=False)
    assert calls == [{"compute_euler": False, "check_labels": False}]
    assert s["relations"]["mismatches"] == 1 and s["hodge"]["mismatches"] == 1 and s["hodge"]["agree"] == 7
    with open(tmp_path / "v" / "mismatches.csv", newline="") as f:
        kinds = {(int(r["index"]), r["kind"]) for r in csv.DictReader(f)}
    assert kinds == {(5, "relation"), (5, "hodge")}
    # and the checks are on again for the next plain load
    with pytest.raises(DataError, match="has Hodge numbers"):
        load_dataset(path, compute_euler=False)


def test_check_labels_false_keeps_the_other_checks(small, tmp_path):
    hodge = small.hodge.copy()
    hodge[2] = [0, 0, 0, 0]  # out of range (h11 = 0): a label problem
    path = _npz(tmp_path / "x.npz", small, hodge)
    loaded = load_dataset(path, compute_euler=False, check_labels=False)
    np.testing.assert_array_equal(loaded.hodge, hodge)
    conf = small.conf.copy()
    conf[3, 0, 0] += 1  # no longer a Calabi-Yau configuration: still refused
    np.savez(path, conf=conf, hodge=hodge, euler=small.euler, id=small.ids)
    with pytest.raises(DataError, match="entry 3 .*not a valid configuration"):
        load_dataset(path, compute_euler=False, check_labels=False)


def test_raw_list_check_labels_false_loads_labels_as_stored(tmp_path):
    # the raw list's reader takes check_labels itself (SPEC's first entries, one h21 made wrong)
    path = tmp_path / "cicy4list.txt"
    path.write_text("""{{1, 1, 1, {{6}}, 2610, False, 1, 0, 426, 1752, True},
 {2, 1, 2, {{2, 5}}, 2190, False, 1, 1, 356, 1472, True}}""")
    with pytest.raises(DataError, match="has Hodge numbers"):
        load_dataset(path)
    loaded = load_dataset(path, check_labels=False)
    np.testing.assert_array_equal(loaded.hodge[1], [1, 1, 356, 1472])
    with pytest.raises(DataError, match="has Hodge numbers"):  # the checks stay on for the next plain load
        load_dataset(path)
