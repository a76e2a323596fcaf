"""One test per data-file defect of issue 9: each is a DataError naming the file (and entry).

Also: the reader registry (a new source is one registered reader; README's table names every
reader) and provenance (kind, n after subsets, provenance.json written and read back).
"""
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cicy4lib.data import CICYData, DataError, load_dataset, subsample, write_split_files
from cicy4lib.data import dataset as dataset_mod
from cicy4lib.data import readers
from .test_data import SPEC_FIVE, list_text, make_entries, padded, write_trio

REPO = Path(__file__).resolve().parents[2]  # the checkout


def _trio(tmp_path, n=12):
    entries = make_entries(n)
    return write_trio(tmp_path / "trio", entries), entries


def _npz(path, n=8, **override):
    entries = [e for e in make_entries(2 * n, product_every=0)][:n]
    arrays = dict(conf=np.stack([padded(e[1]) for e in entries]), hodge=np.array([e[4] for e in entries]),
                  euler=np.array([e[2] for e in entries]), id=np.arange(1, n + 1), is_product=np.zeros(n, bool),
                  meta=json.dumps({"seed": 1}))
    arrays.update(override)
    np.savez_compressed(path, **arrays)
    return path


def _raises(source, pattern, **kw):
    with pytest.raises(DataError, match=pattern) as info:
        load_dataset(source, **kw)
    return str(info.value)


# --------------------------------------------------------------------------- damaged .npy files

@pytest.mark.parametrize("name", ["conf.npy", "hodge.npy", "direct.npy"])
def test_zero_byte_npy(tmp_path, name):
    folder, _ = _trio(tmp_path)
    (folder / name).write_bytes(b"")
    _raises(folder, re.escape(name) + r": empty file \(0 bytes\)")


@pytest.mark.parametrize("name", ["conf.npy", "hodge.npy", "direct.npy"])
def test_zero_d_npy(tmp_path, name):
    folder, _ = _trio(tmp_path)
    np.save(folder / name, np.array(5))
    _raises(folder, re.escape(name) + r": holds a single value \(0-d array\)")


def test_truncated_npy_is_eof(tmp_path):
    folder, _ = _trio(tmp_path)
    data = (folder / "conf.npy").read_bytes()
    (folder / "conf.npy").write_bytes(data[: len(data) // 2])
    _raises(folder, r"conf\.npy: not a readable \.npy file")
    (folder / "hodge.npy").write_bytes((folder / "hodge.npy").read_bytes()[:40])  # inside the header
    _raises(folder, r"\.npy: not a readable \.npy file")


def test_pickled_object_npy_refused(tmp_path):
    folder, _ = _trio(tmp_path)
    np.save(folder / "hodge.npy", np.array([{"h11": 1}] * 12, dtype=object), allow_pickle=True)
    _raises(folder, r"hodge\.npy: not a readable \.npy file")


# --------------------------------------------------------------------------- direct.npy

def test_direct_wrong_shape(tmp_path):
    folder, _ = _trio(tmp_path)
    np.save(folder / "direct.npy", np.zeros((12, 3), bool))
    _raises(folder, r"direct\.npy: 'direct' has shape \(12, 3\), expected \(12,\)")


def test_direct_full_of_twos(tmp_path):
    folder, _ = _trio(tmp_path)
    np.save(folder / "direct.npy", np.full(12, 2))
    _raises(folder, r"direct\.npy: 'direct' must hold booleans .* entry 0 is 2 \(12 such entries\)")


def test_direct_all_products_is_an_error_that_says_why(tmp_path):
    folder, _ = _trio(tmp_path)
    np.save(folder / "direct.npy", np.ones(12, bool))
    _raises(folder, r"trio: all 12 entries are marked as direct products.*drop_products=False")
    assert len(load_dataset(folder, drop_products=False, compute_euler=False)) == 12


def test_direct_as_floats_or_strings(tmp_path):
    folder, entries = _trio(tmp_path)
    np.save(folder / "direct.npy", np.array([float(e[3]) for e in entries]))  # 0.0 / 1.0 is fine
    assert len(load_dataset(folder, compute_euler=False)) == 9
    np.save(folder / "direct.npy", np.array(["False"] * 12))
    _raises(folder, r"direct\.npy: 'direct' has dtype <U5, expected booleans")


# --------------------------------------------------------------------------- conf.npy

def test_nan_inside_a_matrix_gets_an_honest_message(tmp_path):
    folder, _ = _trio(tmp_path)
    conf = np.load(folder / "conf.npy")
    conf[2, 1, 3] = np.nan
    np.save(folder / "conf.npy", conf)
    _raises(folder, r"conf\.npy: matrix 2 \(ID 3\) has the entry nan at row 1, column 3: not a number")


def test_inf_inside_a_matrix(tmp_path):
    folder, _ = _trio(tmp_path)
    conf = np.load(folder / "conf.npy")
    conf[4, 0, 0] = np.inf
    np.save(folder / "conf.npy", conf)
    _raises(folder, r"conf\.npy: matrix 4 \(ID 5\) has the entry inf at row 0, column 0: not a number")


def test_conf_not_a_configuration(tmp_path):
    folder, _ = _trio(tmp_path)
    conf = np.load(folder / "conf.npy")
    conf[5, 0, 0] += 1 / 6  # integral after scaling but breaks the dimension condition
    np.save(folder / "conf.npy", conf)
    _raises(folder, r"conf\.npy: entry \d+ \(ID 6\) is not a valid configuration: dimension", compute_euler=False)


def test_conf_wrong_shape_and_dtype(tmp_path):
    folder, _ = _trio(tmp_path)
    np.save(folder / "conf.npy", np.zeros((12, 16, 19)))
    _raises(folder, r"conf\.npy: matrices must have shape \(N, 16, 20\)")
    np.save(folder / "conf.npy", np.zeros((12, 16, 20), complex))
    _raises(folder, r"conf\.npy: matrices have dtype complex128")
    np.save(folder / "conf.npy", np.zeros((12, 16, 20), bool))
    _raises(folder, r"conf\.npy: matrices have dtype bool")


# --------------------------------------------------------------------------- Hodge numbers

@pytest.mark.parametrize("change, pattern", [
    (lambda h: h.__setitem__((1, 2), -5), r"entry 1 \(ID 2\) has Hodge numbers .* out of range"),
    (lambda h: h.__setitem__((1, 3), 10**12), r"entry 1 \(ID 2\) has Hodge numbers .* out of range"),
    (lambda h: h.__setitem__(slice(None), h[:, ::-1].copy()), r"entry 0 \(ID 1\) .* break 44 = -4 h11.*reversed"),
    (lambda h: h.__setitem__((2, slice(None)), h[2] + [0, 1, 0, 3]), r"entry 2 \(ID 3\) .*break 44"),
])
def test_bad_hodge_numbers(tmp_path, change, pattern):
    folder, _ = _trio(tmp_path)
    hodge = np.load(folder / "hodge.npy")
    change(hodge)
    np.save(folder / "hodge.npy", hodge)
    _raises(folder, r"hodge\.npy: " + pattern, compute_euler=False)


def test_hodge_inconsistent_with_chi(tmp_path):
    folder, _ = _trio(tmp_path)
    hodge = np.load(folder / "hodge.npy")
    hodge[0] = [1, 0, 427, 1756]  # keeps 44 = -4 h11 + 2 h21 - 4 h31 + h22, but chi = 2616
    np.save(folder / "hodge.npy", hodge)
    assert len(load_dataset(folder, compute_euler=False)) == 9  # chi unknown: only the relation
    _raises(folder, r"hodge\.npy: entry 0 \(ID 1\) has Hodge numbers \(1, 0, 427, 1756\) but Euler number 2610")


def test_hodge_wrong_shape_dtype_and_fractions(tmp_path):
    folder, _ = _trio(tmp_path)
    np.save(folder / "hodge.npy", np.zeros((12, 3), np.int64))
    _raises(folder, r"hodge\.npy: Hodge numbers have shape \(12, 3\), expected \(12, 4\)")
    hodge = np.array([e[4] or (0, 0, 0, 0) for e in make_entries(12)], float)
    hodge[1, 0] += 0.5
    np.save(folder / "hodge.npy", hodge)
    _raises(folder, r"hodge\.npy: entry 1 \(ID 2\) has Hodge numbers .*not integers")
    np.save(folder / "hodge.npy", np.array([["1"] * 4] * 12))
    _raises(folder, r"hodge\.npy: Hodge numbers have dtype <U1, expected integers")


def test_kaggle_hodge_checked(tmp_path):
    folder = tmp_path / "k"
    folder.mkdir()
    conf = np.zeros((4, 16, 20))
    conf[:, 0, 0] = 1.0
    for part in ("train", "valid", "test"):
        np.save(folder / f"conf_X{part}.npy", conf)
        np.save(folder / f"hodge_y{part}.npy", np.array([[1, 0, 426, 1752]] * 4))
    assert len(load_dataset(folder)) == 12
    np.save(folder / "hodge_yvalid.npy", np.array([[1752, 426, 0, 1]] * 4))  # reversed columns
    _raises(folder, r"hodge_yvalid\.npy: entry 0 has Hodge numbers \(h11, h21, h31, h22\) = \(1752, 426, 0, 1\).*reversed")
    np.save(folder / "hodge_yvalid.npy", np.array([[1, 0, 426, 1752]] * 4))
    np.save(folder / "conf_Xtest.npy", np.zeros((4, 320)))
    _raises(folder, r"conf_Xtest\.npy: matrices must have shape")


# --------------------------------------------------------------------------- .npz files

def test_npz_bad_meta_json(tmp_path):
    path = _npz(tmp_path / "x.npz", meta="{not json")
    _raises(path, r"x\.npz: 'meta' is not valid JSON")
    _npz(path, meta="[1, 2]")
    _raises(path, r"x\.npz: 'meta' must be a JSON object")
    _npz(path, meta=json.dumps({"scale": "six"}))
    _raises(path, r"x\.npz: 'meta' field 'scale' must be a number")


def test_npz_corrupt_zip_stream(tmp_path):
    path = _npz(tmp_path / "x.npz", n=8)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("conf.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 10, start + info.compress_size - 4):  # garble the deflate stream
        raw[k] ^= 0x5A
    path.write_bytes(bytes(raw))
    _raises(path, r"x\.npz: (array 'conf' cannot be read|not a readable \.npz file)")


def test_npz_zero_bytes_and_truncated(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"")
    _raises(path, r"x\.npz: empty file \(0 bytes\)")
    _npz(path)
    path.write_bytes(path.read_bytes()[:100])
    _raises(path, r"x\.npz: not a readable \.npz file")


def test_npz_fields_checked(tmp_path):
    path = _npz(tmp_path / "x.npz", is_product=np.full(8, 2))
    _raises(path, r"x\.npz: 'is_product' must hold booleans")
    _npz(path, euler=np.arange(8.0))
    _raises(path, r"x\.npz: Euler numbers must be \(8,\) integers")
    _npz(path, euler=np.array([e[2] for e in make_entries(16, product_every=0)][:8]) + 6)
    _raises(path, r"x\.npz: entry 0 \(ID 1\) has Hodge numbers .* but Euler number 2616")
    _npz(path, id=np.arange(3))
    _raises(path, r"x\.npz: 'id' must be \(8,\) integers")


def test_npz_euler_field_checked_against_chi(tmp_path):
    entries = make_entries(16, product_every=0)[:8]
    hodge = np.array([e[4] for e in entries])
    euler = np.array([e[2] for e in entries])
    hodge[2] = [1, 0, 426, 1752]  # the sextic's labels on [[3, 4]]: consistent, but chi is 1476
    euler[2] = 2610
    path = _npz(tmp_path / "x.npz", hodge=hodge, euler=euler)
    _raises(path, r"x\.npz: entry 2 \(ID 3\) has Euler number 2610 but its configuration has chi = 1476")


# --------------------------------------------------------------------------- raw list

@pytest.mark.parametrize("old, new, pattern", [
    ("{3, 1, 2, {{3, 4}}", "{3, 1, 2, {{3, 5}}",  # breaks the Calabi-Yau / dimension condition
     r"entry 3 \(ID 3\) is not a valid configuration: dimension sum\(n_i\) - K = 5"),
    ("{{3, 4}}, 1476, False, 1, 2, 239, 1000", "{{3, 4}}, 1482, False, 1, 2, 240, 1004",  # consistent, wrong chi
     r"entry 3 \(ID 3\) has Euler number 1482 but its configuration has chi = 1476"),
    ("{{3, 4}}, 1476, False, 1, 2, 239, 1000", "{{3, 4}}, 1476, False, 1, 2, 239, 1001",
     r"entry 3 \(ID 3\) has Hodge numbers \(h11, h21, h31, h22\) = \(1, 2, 239, 1001\), which break 44"),
    ("{{3, 4}}, 1476, False, 1, 2, 239, 1000", "{{3, 4}}, 1476, False, 1, 2, -239, 1000",
     r"entry 3 \(ID 3\) has Hodge numbers \[1, 2, -239, 1000\] out of range"),
])
def test_raw_entry_checked(tmp_path, old, new, pattern):
    text = list_text(make_entries(8))
    assert old in text
    path = tmp_path / "cicy4list.txt"
    path.write_text(text.replace(old, new, 1))
    _raises(path, r"cicy4list\.txt: " + pattern)


def test_raw_all_products_is_an_error_that_says_why(tmp_path):
    text = list_text(make_entries(8, product_every=1))  # every entry a product
    path = tmp_path / "cicy4list.txt"
    path.write_text(text)
    _raises(path, r"cicy4list\.txt: all 8 entries are marked as direct products")
    assert len(load_dataset(path, drop_products=False)) == 8


def test_raw_zip_corrupt_stream(tmp_path):
    entries = make_entries(60)
    txt = tmp_path / "cicy4list.txt"
    txt.write_text(list_text(entries))
    path = tmp_path / "cicy4list.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(txt, "cicy4list.txt")
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("cicy4list.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + info.compress_size - 10):
        raw[k] ^= 0xA5
    path.write_bytes(bytes(raw))
    _raises(path, r"cicy4list\.zip(:cicy4list\.txt)?: .*(damaged|not a readable|bad token|entry|list)")


def test_raw_zero_byte_zip(tmp_path):
    path = tmp_path / "cicy4list.zip"
    path.write_bytes(b"")
    _raises(path, r"cicy4list\.zip: not a readable zip archive")


# --------------------------------------------------------------------------- provenance

def test_provenance_json_bad(tmp_path):
    folder, _ = _trio(tmp_path)
    (folder / "provenance.json").write_text("{oops")
    _raises(folder, r"provenance\.json: not readable JSON")
    (folder / "provenance.json").write_text('{"source": "x"}')
    _raises(folder, r"provenance\.json: no 'kind' field")


def test_provenance_of_the_sample_travels(tmp_path):
    if not readers.SAMPLE_PATH.exists():
        pytest.skip("embedded sample not generated")
    data = load_dataset("sample")
    assert data.provenance["kind"] == "embedded-sample" and data.provenance["n"] == len(data)
    assert not data.is_real_list and "kind='embedded-sample'" in repr(data)
    small = subsample(data, 500, seed=1)
    assert small.provenance["kind"] == "embedded-sample" and small.provenance["n"] == 500
    assert small.provenance["subsample"] == {"of": len(data), "max_samples": 500, "seed": 1}
    assert data.provenance["n"] == len(data)  # the original is unchanged
    write_split_files(small, "72", tmp_path / "splits", derived=False)
    stored = json.loads((tmp_path / "splits" / "provenance.json").read_text())
    assert stored["kind"] == "embedded-sample" and stored["n"] == 500 and stored["split"] == "72"
    again = load_dataset(tmp_path / "splits")
    assert again.provenance["kind"] == "embedded-sample" and again.provenance["n"] == 500
    assert not again.is_real_list


def test_cli_data_out_writes_provenance(tmp_path):
    if not readers.SAMPLE_PATH.exists():
        pytest.skip("embedded sample not generated")
    from cicy4lib.jobs import cli

    assert cli.main(["data", "--out", str(tmp_path / "out")]) == 0
    stored = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert stored["kind"] == "embedded-sample" and stored["n"] == len(load_dataset("sample"))


def test_real_list_detection(tmp_path, monkeypatch):
    entries = make_entries(12)  # 9 non-products
    raw = tmp_path / "cicy4list.txt"
    raw.write_text(list_text(entries))
    data = load_dataset(raw)
    assert data.provenance["kind"] == "user" and not data.is_real_list
    monkeypatch.setattr("cicy4lib.data.rawlist.REAL_LIST_ENTRIES", 12)
    monkeypatch.setattr("cicy4lib.data.rawlist.REAL_LIST_NON_PRODUCT", 9)
    monkeypatch.setattr(dataset_mod, "REAL_LIST_NON_PRODUCT", 9)
    monkeypatch.setattr(readers, "REAL_LIST_NON_PRODUCT", 9)
    data = load_dataset(raw)
    assert data.provenance["kind"] == "real-list" and data.is_real_list and data.provenance["n"] == 9
    assert not subsample(data, 5).is_real_list  # a subset of the list is not the list
    assert subsample(data, 5).provenance["kind"] == "real-list"
    trio = write_trio(tmp_path / "trio", entries)
    assert load_dataset(trio, compute_euler=False).is_real_list  # 9 non-products: "the list"
    write_split_files(data, "72", tmp_path / "splits", derived=False)
    assert load_dataset(tmp_path / "splits").is_real_list


def test_user_data_default_provenance():
    conf = np.stack([padded(P) for P, _, _ in SPEC_FIVE])
    data = CICYData(conf, np.array([h for _, _, h in SPEC_FIVE]), np.full(5, -1), np.zeros(5, bool),
                    np.arange(1, 6), 6.0, "mine")
    assert data.provenance == {"kind": "user", "source": "mine", "n": 5}
    assert data.subset([0, 1]).provenance["n"] == 2
    with pytest.raises(DataError, match="provenance kind 'sampel'"):
        CICYData(conf, np.zeros((5, 4)), np.full(5, -1), np.zeros(5, bool), np.arange(5), 6.0, "x",
                 provenance={"kind": "sampel"})


# --------------------------------------------------------------------------- the registry

def test_new_source_is_one_registered_reader(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_READERS", dict(readers._READERS))

    @readers.register_reader("csv-demo", files=("*.cicy.csv",), description="demo CSV")
    def _read_csv(path, options):
        rows = [list(map(int, line.split(","))) for line in path.read_text().split()]
        conf = np.stack([padded([r[:-4]]) for r in rows])
        hodge = np.array([r[-4:] for r in rows])
        return CICYData(conf, hodge, np.full(len(rows), -1), np.zeros(len(rows), bool),
                        np.arange(1, len(rows) + 1), 6.0, str(path))

    path = tmp_path / "two.cicy.csv"
    path.write_text("6,1,0,426,1752\n2,5,1,0,356,1472\n")
    data = load_dataset(path)
    assert len(data) == 2 and data.provenance["reader"] == "csv-demo" and data.provenance["kind"] == "user"
    with pytest.raises(ValueError, match="already registered"):
        readers.register_reader("csv-demo")(lambda p, o: None)
    assert "demo CSV" in readers.sources_help()


def test_generated_reader_checks_and_marks_provenance(tmp_path, monkeypatch):
    from cicy4lib.data import generated as generate

    entries = make_entries(10, product_every=0)
    arrays = {"conf": np.stack([padded(e[1]) for e in entries]), "hodge": np.array([e[4] for e in entries]),
              "euler": np.array([e[2] for e in entries]), "method": np.array(["exact"] * 10),
              "chunk": np.zeros(10, np.int32), "meta": {"n_chunks": 1, "settings": {"seed": 1}}}
    monkeypatch.setattr(generate, "load_generated", lambda path: {k: (v.copy() if hasattr(v, "copy") else v)
                                                                   for k, v in arrays.items()})
    folder = tmp_path / "gen"
    folder.mkdir()
    (folder / "chunk_00000.npz").write_bytes(b"")  # the folder marker; load_generated is patched
    data = load_dataset(folder)
    assert len(data) == 10 and data.provenance["kind"] == "generated" and data.provenance["reader"] == "generated"
    assert data.meta["method"].tolist() == ["exact"] * 10 and not data.is_real_list
    monkeypatch.setattr(generate, "GENERATED_DIR", folder)
    assert len(load_dataset("generated")) == 10
    arrays["hodge"][4] = arrays["hodge"][4][::-1]
    _raises(folder, r"gen: entry 4 \(ID 5\) has Hodge numbers .*reversed")
    monkeypatch.setattr(generate, "GENERATED_DIR", tmp_path / "absent")
    _raises("generated", r"absent is missing; make it with")


def test_readme_data_source_table_names_every_reader():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Data sources"):]
    section = section[: section.index("\n## ", 5)]
    for reader in readers.list_readers():
        keys = ([f'"{reader.name}"'] if reader.default else []) + [p.lstrip("*") for p in reader.files] + list(reader.folder)
        assert any(k in section for k in keys), f"README's data-source table lacks reader {reader.name!r} ({keys})"


def test_unreadable_source_types(tmp_path):
    with pytest.raises(DataError, match="data source must be a name or a path, not int"):
        load_dataset(5)
    (tmp_path / "x.csv").write_text("1")
    with pytest.raises(DataError, match=r"x\.csv: unknown file type; valid sources"):
        load_dataset(tmp_path / "x.csv")
