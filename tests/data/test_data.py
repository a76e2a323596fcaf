"""Data sources: raw list (.txt/.zip), numpy trio, Kaggle split files, embedded sample."""
import re
import zipfile

import numpy as np
import pytest

from cicy4lib.data import readers as data_mod
from cicy4lib.data import CICYData, DataError, load_dataset, parse_cicy4_list, read_cicy4_list, subsample

# (degree matrix, Euler, Hodge) -- the list's first five entries (SPEC.md) and a few more shapes
SPEC_FIVE = [
    ([[6]], 2610, (1, 0, 426, 1752)),
    ([[2, 5]], 2190, (1, 0, 356, 1472)),
    ([[3, 4]], 1476, (1, 0, 237, 996)),
    ([[2, 2, 4]], 1632, (1, 0, 263, 1100)),
    ([[2, 3, 3]], 1206, (1, 0, 192, 816)),
]
MORE = [  # exact values (cicy4lib.geometry.hodge_numbers)
    ([[2, 2, 2, 3]], 1152, (1, 0, 183, 780)),
    ([[1, 1], [1, 5]], 2160, (2, 0, 350, 1452)),
    ([[1, 1], [1, 1], [2, 3]], 1044, (3, 0, 163, 708)),
]
PRODUCT = ([[4, 0], [0, 4]], 576)  # K3 x K3: a direct product, no Hodge numbers in the list


def make_entries(n, product_every=4):
    """n entries cycling through the configurations; every ``product_every``-th is a product."""
    configs = SPEC_FIVE + MORE
    entries = []
    for i in range(n):
        if product_every and i % product_every == product_every - 1:
            P, euler = PRODUCT
            entries.append((i + 1, P, euler, True, None, None))
        else:
            P, euler, hodge = configs[i % len(configs)]
            d = i % 3  # distinct labels that keep chi and 44 = -4 h11 + 2 h21 - 4 h31 + h22
            hodge = (hodge[0], hodge[1] + d, hodge[2] + d, hodge[3] + 2 * d)
            entries.append((i + 1, P, euler, False, hodge, len(P) == hodge[0]))
    return entries


def _mma(value):
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def list_text(entries, *, product_style="null", width=60):
    """Mathematica-style text: entries separated by ', \\n', long ones wrapped after ', '."""
    parts = []
    for i, (eid, P, euler, prod, hodge, flag) in enumerate(entries):
        matrix = "{" + ", ".join("{" + ", ".join(map(str, row)) + "}" for row in P) + "}"
        fields = [str(eid), str(len(P)), str(len(P[0])), matrix, str(euler), _mma(prod)]
        if hodge is None and product_style == "omit":
            pass
        else:
            fields += [_mma(h) for h in (hodge or (None,) * 4)] + [_mma(flag)]
        text = ("{" if i == 0 else " ") + "{" + ", ".join(fields) + "}"
        lines, line = [], ""
        for piece in text.split(", "):  # wrap like Mathematica: break after ", ", indent
            if line and len(line) + len(piece) > width:
                lines.append(line + ", ")
                line = "   " + piece
            else:
                line = piece if not line else line + ", " + piece
        lines.append(line)
        parts.append("\n".join(lines))
    return ", \n".join(parts) + "}\n"


def padded(P):
    out = np.zeros((16, 20), np.int8)
    P = np.asarray(P)
    out[: P.shape[0], : P.shape[1]] = P
    return out


@pytest.fixture
def raw_list(tmp_path):
    entries = make_entries(40)
    path = tmp_path / "cicy4list.txt"
    path.write_text(list_text(entries))
    return path, entries


# --------------------------------------------------------------------------- raw list

def test_raw_list_fields_and_products(raw_list):
    path, entries = raw_list
    data = load_dataset(path)
    kept = [e for e in entries if not e[3]]
    assert len(data) == len(kept) == 30
    assert data.conf.dtype == np.int8 and data.conf.shape == (30, 16, 20)
    np.testing.assert_array_equal(data.ids, [e[0] for e in kept])
    np.testing.assert_array_equal(data.conf, np.stack([padded(e[1]) for e in kept]))
    np.testing.assert_array_equal(data.hodge, [e[4] for e in kept])
    np.testing.assert_array_equal(data.euler, [e[2] for e in kept])
    assert data.hodge.dtype == np.int64 and data.euler.dtype == np.int64
    assert not data.is_product.any() and data.scale == 6.0 and data.splits is None
    assert data.meta["n_entries"] == 40 and data.meta["n_products"] == 10

    everything = load_dataset(path, drop_products=False)
    assert len(everything) == 40 and everything.is_product.sum() == 10
    assert (everything.hodge[everything.is_product] == -1).all()  # Null -> unknown


def test_raw_spec_example_exact():
    text = """{{1, 1, 1, {{6}}, 2610, False, 1, 0, 426, 1752, True},
 {2, 1, 2, {{2, 5}}, 2190, False, 1, 0, 356, 1472, True},
 {3, 1, 2, {{3, 4}}, 1476, False, 1, 0, 237, 996, True},
 {4, 1, 3, {{2, 2, 4}}, 1632, False, 1, 0, 263, 1100, True},
 {5, 1, 3, {{2, 3, 3}}, 1206, False, 1, 0, 192, 816, True}}"""
    out = parse_cicy4_list(text)
    np.testing.assert_array_equal(out["hodge"], [h for _, _, h in SPEC_FIVE])
    np.testing.assert_array_equal(out["euler"], [e for _, e, _ in SPEC_FIVE])
    np.testing.assert_array_equal(out["conf"], np.stack([padded(P) for P, _, _ in SPEC_FIVE]))
    assert (out["flag"] == 1).all()


@pytest.mark.parametrize("chunk_bytes", [1, 7, 64, 333, 1 << 20])
def test_raw_list_chunk_boundaries_do_not_matter(raw_list, chunk_bytes):
    path, _ = raw_list
    whole = read_cicy4_list(path, drop_products=False)
    chunked = read_cicy4_list(path, drop_products=False, chunk_bytes=chunk_bytes)
    for name in ("conf", "hodge", "euler", "ids", "is_product"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(chunked, name))


def test_raw_zip_equals_txt(raw_list, tmp_path):
    path, _ = raw_list
    zpath = tmp_path / "cicy4list.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "cicy4list.txt")
    a, b = load_dataset(path), load_dataset(zpath)
    np.testing.assert_array_equal(a.conf, b.conf)
    np.testing.assert_array_equal(a.hodge, b.hodge)
    assert b.source == str(zpath)
    # a folder holding only the zip is a source too
    (tmp_path / "cicy4list.txt").unlink()
    assert len(load_dataset(tmp_path)) == len(a)


def test_zip_without_list(tmp_path):
    zpath = tmp_path / "cicy4list.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("a.txt", "{}")
        z.writestr("b.txt", "{}")
    with pytest.raises(DataError, match="cicy4list.zip.*expected one cicy4list.txt"):
        load_dataset(zpath)
    zpath.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        load_dataset(zpath)


def test_raw_products_with_omitted_hodge(tmp_path):
    entries = make_entries(12)
    path = tmp_path / "list.txt"
    path.write_text(list_text(entries, product_style="omit"))
    data = load_dataset(path, drop_products=False)
    assert data.is_product.sum() == 3
    assert (data.hodge[data.is_product] == -1).all()
    assert (data.hodge[~data.is_product] >= 0).all()
    assert (data.meta["flag"][data.is_product] == -1).all()


def test_raw_windows_newlines_and_line_continuation(raw_list, tmp_path):
    path, _ = raw_list
    text = path.read_text()
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(text.replace("\n", "\r\n").replace("2610", "26\\\r\n10").encode())
    a, b = load_dataset(path), load_dataset(crlf)
    np.testing.assert_array_equal(a.conf, b.conf)
    np.testing.assert_array_equal(a.euler, b.euler)


@pytest.mark.parametrize("cut", [-3, -30, 0.5, 0.9, 25])
def test_raw_truncated_names_file_and_entry(raw_list, tmp_path, cut):
    path, _ = raw_list
    text = path.read_text()
    cut = int(len(text) * cut) if isinstance(cut, float) else cut
    bad = tmp_path / "cicy4list.txt"
    bad.write_text(text[:cut])
    with pytest.raises(DataError) as err:
        load_dataset(bad)
    message = str(err.value)
    assert str(bad) in message and "truncated" in message
    assert re.search(r"entry \d+", message)


def test_raw_truncated_after_complete_entry(raw_list, tmp_path):
    path, _ = raw_list
    text = path.read_text().rstrip()[:-1]  # drop the list's closing brace
    bad = tmp_path / "x.txt"
    bad.write_text(text)
    with pytest.raises(DataError, match=r"x\.txt: truncated: the list is not closed after entry 40 \(ID 40\)"):
        load_dataset(bad)
    bad.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_dataset(bad)


def _corrupt(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("old, new, expected", [
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 3, {{2, 5}}", r"entry 2 \(ID 2\).*declares 1 rows x 3 cols but the matrix is 1 x 2"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 2, {{2, x5}}", r"entry 2 \(ID 2\).*bad token 'x5'"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 2, {{2, 5.0}}", r"entry 2 \(ID 2\).*bad token '5.0'"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 2, {{2 5}}", r"entry 2 \(ID 2\).*','"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 2, {{2, -5}}", r"entry 2 \(ID 2\).*not a degree"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 2, {2, 5}", r"entry 2 \(ID 2\).*list of rows"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, 2, {{{2, 5}}}", r"entry 2 \(ID 2\).*nested too deep"),
    ("{2, 1, 2, {{2, 5}}", "{2, 1, {{2, 5}}", r"entry 2 \(ID 2\).*degree matrix is field 3"),
    ("{7, 2, 2, {{1, 1}, {1, 5}}", "{7, 2, 2, {{1, 1}, {1}}", r"entry 7 \(ID 7\).*differ in length"),
    ("2160, False", "2160, Flase", r"entry 7 \(ID 7\).*bad token 'Flase'"),
    ("2160, False", "2160, 0", r"entry 7 \(ID 7\).*isProduct"),
    ("{3, 1, 2, {{3, 4}}, 1476, False", "{3, 1, 2, {{3, 4}}, 1476, False, 7", r"entry 3 \(ID 3\).*fields"),
])
def test_raw_corrupt_entry_names_file_and_entry(raw_list, tmp_path, old, new, expected):
    path, _ = raw_list
    bad = tmp_path / "corrupt.txt"
    bad.write_text(_corrupt(path.read_text(), old, new))
    with pytest.raises(DataError, match=re.escape(str(bad)) + ".*" + expected):
        load_dataset(bad)


def test_raw_too_large_matrix(tmp_path):
    P = np.eye(17, 17, dtype=int) * 2
    text = list_text([(1, P.tolist(), 0, False, (1, 0, 0, 0), False)])
    bad = tmp_path / "big.txt"
    bad.write_text(text)
    with pytest.raises(DataError, match=r"entry 1 \(ID 1\).*17 x 17, more than 16 x 20"):
        load_dataset(bad)


def test_raw_text_after_list_and_unbalanced(raw_list, tmp_path):
    path, _ = raw_list
    bad = tmp_path / "trail.txt"
    bad.write_text(path.read_text() + "{1}")
    with pytest.raises(DataError, match="after the end of the list"):
        load_dataset(bad)


def test_raw_scale_recorded_and_checked(raw_list):
    path, _ = raw_list
    assert load_dataset(path, scale=10).scale == 10.0
    with pytest.warns(UserWarning, match="exceeds the scale"):
        load_dataset(path, scale=5)


# --------------------------------------------------------------------------- numpy trio

def write_trio(folder, entries, *, divide=6.0, dtype=np.float64, extra_dim=False):
    folder.mkdir(parents=True, exist_ok=True)
    conf = np.stack([padded(e[1]) for e in entries]).astype(np.int64)
    conf = conf.astype(dtype) / divide if divide else conf
    if extra_dim:
        conf = conf[..., None]
    hodge = np.array([e[4] or (0, 0, 0, 0) for e in entries], np.int64)  # create_data.py: zeros
    np.save(folder / "conf.npy", conf)
    np.save(folder / "hodge.npy", hodge)
    np.save(folder / "direct.npy", np.array([e[3] for e in entries]))
    return folder


def test_trio_loads_and_drops_products(tmp_path):
    entries = make_entries(20)
    folder = write_trio(tmp_path / "trio", entries)
    data = load_dataset(folder, compute_euler=False)
    kept = [e for e in entries if not e[3]]
    assert len(data) == len(kept) and data.scale == 6.0
    np.testing.assert_array_equal(data.conf, np.stack([padded(e[1]) for e in kept]))
    np.testing.assert_array_equal(data.hodge, [e[4] for e in kept])
    np.testing.assert_array_equal(data.ids, [e[0] for e in kept])  # position in the list, 1-based
    assert (data.euler == -1).all()
    both = load_dataset(folder, drop_products=False, compute_euler=False)
    assert len(both) == 20 and (both.hodge[both.is_product] == -1).all()
    # conf.npy as a path selects the trio too
    assert len(load_dataset(folder / "conf.npy", compute_euler=False)) == len(kept)


def test_trio_euler_from_geometry(tmp_path):
    geometry = pytest.importorskip("cicy4lib.geometry", reason="geometry.py not written yet")
    entries = make_entries(5, product_every=0)  # the SPEC entries: true Euler numbers
    data = load_dataset(write_trio(tmp_path / "trio", entries))
    np.testing.assert_array_equal(data.euler, [e[2] for e in entries])
    assert hasattr(geometry, "euler_numbers")


@pytest.mark.parametrize("divide, given, expected", [
    (6.0, None, 6.0), (5.0, 5.0, 5.0), (None, None, 6.0), (6.0, 6.0, 6.0), (3.0, 3.0, 3.0), (1.0, None, 6.0)])
def test_trio_scale_inference(tmp_path, divide, given, expected):
    entries = [e for e in make_entries(10) if not e[3]]
    folder = write_trio(tmp_path / "trio", entries, divide=divide, dtype=np.float64 if divide else np.int64)
    data = load_dataset(folder, scale=given, compute_euler=False)
    assert data.scale == expected
    np.testing.assert_array_equal(data.conf, np.stack([padded(e[1]) for e in entries]))


def test_trio_wrong_scale_and_noise_rejected(tmp_path):
    entries = [e for e in make_entries(10) if not e[3]]
    folder = write_trio(tmp_path / "trio", entries)
    with pytest.raises(DataError, match=r"conf\.npy: matrix \d+ .*has entry .*integer / 4 \(the declared scale\)"):
        load_dataset(folder, scale=4, compute_euler=False)
    conf = np.load(folder / "conf.npy")
    conf[3, 0, 0] += 0.01
    np.save(folder / "conf.npy", conf)
    with pytest.raises(DataError, match=r"conf\.npy: matrix 3 \(ID 4\) has entry 0.343333 at row 0, column 0: neither an integer"):
        load_dataset(folder, compute_euler=False)
    # another divisor is never guessed: a file divided by 5 needs scale=5
    write_trio(folder, entries, divide=5.0)
    with pytest.raises(DataError, match=r"neither an integer nor an integer / 6 \(the declared scale\)"):
        load_dataset(folder, compute_euler=False)


def test_trio_mismatched_lengths(tmp_path):
    folder = write_trio(tmp_path / "trio", make_entries(10))
    np.save(folder / "hodge.npy", np.zeros((9, 4), np.int64))
    with pytest.raises(DataError, match=r"conf\.npy has 10, hodge\.npy has 9, direct\.npy has 10"):
        load_dataset(folder)
    (folder / "direct.npy").unlink()
    with pytest.raises(DataError, match=r"direct\.npy is missing"):
        load_dataset(folder)


def test_trio_float32_and_extra_axis(tmp_path):
    entries = [e for e in make_entries(10) if not e[3]]
    folder = write_trio(tmp_path / "trio", entries, dtype=np.float32, extra_dim=True)
    data = load_dataset(folder, compute_euler=False)
    np.testing.assert_array_equal(data.conf, np.stack([padded(e[1]) for e in entries]))


# --------------------------------------------------------------------------- Kaggle split files

def test_kaggle_folder_and_autodetect(tmp_path, monkeypatch):
    entries = [e for e in make_entries(60) if not e[3]]
    conf = np.stack([padded(e[1]) for e in entries])
    hodge = np.array([e[4] for e in entries])
    folder = tmp_path / "calabi-yau-cicy-4-folds"
    folder.mkdir()
    parts = {"train": slice(0, 30), "valid": slice(30, 35), "test": slice(35, 45)}
    for part, sl in parts.items():  # float64 / 6 with a trailing axis, as notebooks may save them
        np.save(folder / f"conf_X{part}.npy", (conf[sl] / 6.0)[..., None])
        np.save(folder / f"hodge_y{part}.npy", hodge[sl])
    data = load_dataset(folder, compute_euler=False)
    assert len(data) == 45 and data.scale == 6.0
    np.testing.assert_array_equal(data.conf, conf[:45])
    assert data.splits["72"].sizes == (30, 5, 10)
    assert set(data.splits) == {"72"}
    from cicy4lib.data.splits import get_split

    assert get_split(data, "72") is data.splits["72"]
    assert get_split(data, "80").sizes == (34, 5, 6)  # derived from the published 72

    monkeypatch.setattr(data_mod, "KAGGLE_DIR", folder)
    assert len(load_dataset("kaggle", compute_euler=False)) == 45
    monkeypatch.setattr(data_mod, "KAGGLE_DIR", tmp_path / "absent")
    with pytest.raises(DataError, match="absent.*not found"):
        load_dataset("kaggle")


def test_kaggle_missing_or_mismatched_pair(tmp_path):
    folder = tmp_path / "k"
    folder.mkdir()
    conf = np.zeros((4, 16, 20))
    conf[:, 0, 0] = 1.0
    sextic = np.array([[1, 0, 426, 1752]] * 4, np.int64)
    for part in ("train", "valid", "test"):
        np.save(folder / f"conf_X{part}.npy", conf)
        np.save(folder / f"hodge_y{part}.npy", sextic)
    np.save(folder / "hodge_ytest.npy", sextic[:3])
    with pytest.raises(DataError, match=r"conf_Xtest\.npy has 4 rows but hodge_ytest\.npy has 3"):
        load_dataset(folder, compute_euler=False)
    (folder / "hodge_yvalid.npy").unlink()
    with pytest.raises(DataError, match=r"split files missing: hodge_yvalid\.npy"):
        load_dataset(folder, compute_euler=False)


# --------------------------------------------------------------------------- sample, dispatch, helpers

def test_sample_loads():
    if not data_mod.SAMPLE_PATH.exists():
        pytest.skip(f"embedded sample {data_mod.SAMPLE_PATH} not generated yet (python -m cicy4lib.jobs.generate)")
    data = load_dataset()
    assert data.source == "sample" and len(data) > 0
    assert data.conf.dtype == np.int8 and data.conf.shape[1:] == (16, 20)
    assert data.hodge.shape == (len(data), 4) and (data.hodge >= 0).all()
    assert data.scale == 6.0 and not data.is_product.any()
    x = data.features([0, 1])
    assert x.dtype == np.float32 and x.max() <= 1.0


def test_missing_sample_says_how_to_regenerate(monkeypatch, tmp_path):
    monkeypatch.setattr(data_mod, "SAMPLE_PATH", tmp_path / "sample.npz")
    with pytest.raises(DataError, match=r"sample\.npz is missing.*python -m cicy4lib\.jobs\.generate"):
        load_dataset("sample")


def test_npz_like_sample(tmp_path):
    entries = [e for e in make_entries(10) if not e[3]]
    path = tmp_path / "mine.npz"
    np.savez_compressed(path, conf=np.stack([padded(e[1]) for e in entries]), hodge=np.array([e[4] for e in entries]),
                        euler=np.array([e[2] for e in entries]), id=np.arange(1, 9), is_product=np.zeros(8, bool),
                        method=np.array(["exact"] * 8), meta='{"seed": 1}')
    data = load_dataset(path)
    assert len(data) == 8 and data.meta["seed"] == 1 and data.euler[0] == 2610


def test_unknown_source_lists_valid_ones(tmp_path):
    with pytest.raises(DataError, match="valid sources: 'sample'.*'kaggle'.*cicy4list.txt"):
        load_dataset("no-such-thing")
    with pytest.raises(DataError, match="holds none of"):
        load_dataset(tmp_path)
    assert issubclass(DataError, ValueError)


def small_data(n=50):
    entries = [e for e in make_entries(n, product_every=0)]
    conf = np.stack([padded(e[1]) for e in entries])
    return CICYData(conf, np.array([e[4] for e in entries], np.int64), np.array([e[2] for e in entries], np.int64),
                    np.zeros(n, bool), np.arange(1, n + 1), 6.0, "test")


def test_features_subset_and_subsample():
    data = small_data(50)
    x = data.features()
    assert x.dtype == np.float32 and x.shape == (50, 16, 20)
    np.testing.assert_allclose(x * 6, data.conf)
    a, b = subsample(data, 20, seed=3), subsample(data, 20, seed=3)
    np.testing.assert_array_equal(a.ids, b.ids)
    assert len(a) == 20 and np.all(np.diff(a.ids) > 0)
    assert not np.array_equal(subsample(data, 20, seed=4).ids, a.ids)
    assert subsample(data, None) is data and subsample(data, 500) is data
    sub = data.subset(data.ids % 2 == 0)
    assert len(sub) == 25 and (sub.ids % 2 == 0).all()


def test_subset_reindexes_predefined_splits():
    from cicy4lib.data.splits import Split

    data = small_data(10)
    data.splits = {"72": Split(np.arange(6), np.arange(6, 8), np.arange(8, 10), "72")}
    sub = data.subset([1, 2, 7, 9])
    s = sub.splits["72"]
    np.testing.assert_array_equal(s.train, [0, 1])
    np.testing.assert_array_equal(s.valid, [2])
    np.testing.assert_array_equal(s.test, [3])


def test_bad_shapes_rejected():
    with pytest.raises(DataError, match="hodge has shape"):
        CICYData(np.zeros((3, 16, 20), np.int8), np.zeros((3, 3)), np.zeros(3), np.zeros(3, bool), np.zeros(3),
                 6.0, "x")
