"""The verifier (cicy4lib.jobs.verify, `python -m cicy4lib verify`)."""
import csv
import json
import os
from dataclasses import replace

import numpy as np
import pytest

from cicy4lib.data import load_dataset
from cicy4lib.errors import DataError
from cicy4lib.jobs.verify import verify


@pytest.fixture(scope="module")
def small():
    """40 quick entries of the embedded sample (at most 6 rows)."""
    data = load_dataset("sample")
    rows = (data.conf != 0).any(2).sum(1)
    return data.subset(np.flatnonzero(rows <= 6)[:40])


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_clean_data_agrees(small, tmp_path):
    s = verify(small, out=tmp_path / "v", workers=1, chunk_size=15, progress=False)
    assert s["all_agree"] and s["n_entries"] == 40
    assert s["euler"]["recomputed"] == 40 and s["euler"]["mismatches"] == 0
    assert s["relations"]["checked"] == 40
    assert s["hodge"]["recomputed"] == 40 and s["hodge"]["agree"] == 40
    assert _rows(tmp_path / "v" / "mismatches.csv") == []
    assert json.loads((tmp_path / "v" / "summary.json").read_text())["chunks"]["total"] == 3


def test_wrong_labels_reported(small, tmp_path):
    euler, hodge = small.euler.copy(), small.hodge.copy()
    euler[3] += 6
    hodge[5, 1] += 1  # breaks the relations and disagrees with the recomputation
    bad = replace(small, euler=euler, hodge=hodge)
    s = verify(bad, out=tmp_path / "v", workers=1, chunk_size=15, progress=False)
    assert not s["all_agree"]
    assert s["euler"]["mismatches"] == 1 and s["relations"]["mismatches"] == 1  # entry 3; entry 5
    assert s["hodge"]["mismatches"] == 1 and s["hodge"]["agree"] == 39
    rows = _rows(tmp_path / "v" / "mismatches.csv")
    kinds = {(int(r["index"]), r["kind"]) for r in rows}
    assert (3, "euler") in kinds and (5, "relation") in kinds and (5, "hodge") in kinds
    r5 = next(r for r in rows if r["kind"] == "hodge")
    assert int(r5["stored_h21"]) == int(r5["h21"]) + 1 and r5["matrix"].startswith("{{")


def test_sample_resume_and_restart(small, tmp_path):
    out = tmp_path / "v"
    first = verify(small, sample=12, out=out, workers=2, chunk_size=10, progress=False)
    assert first["hodge"]["recomputed"] == 12 and first["euler"]["recomputed"] == 40
    csv1 = (out / "mismatches.csv").read_bytes()
    os.remove(out / "chunks" / "part_00002.npz")  # a kill before chunk 2 was written
    again = verify(small, sample=12, out=out, workers=2, chunk_size=10, progress=False)
    assert again["chunks"]["run_now"] == 1 and again["chunks"]["resumed_from_disk"] == 3
    assert again["hodge"] == first["hodge"] and (out / "mismatches.csv").read_bytes() == csv1
    with pytest.raises(DataError):  # other settings in the same folder
        verify(small, sample=5, out=out, workers=1, chunk_size=10, progress=False)
    s = verify(small, sample=5, out=out, workers=1, chunk_size=10, progress=False, restart=True)
    assert s["hodge"]["recomputed"] == 5 and s["chunks"]["run_now"] == 4


def test_timeouts_listed_as_undetermined(small, tmp_path, monkeypatch):
    from cicy4lib.geometry import cohomology

    real = cohomology.hodge_from_degree_matrix

    def slow_on_second(P, *a, **k):  # one configuration that never finishes
        if np.array_equal(P, first_two[1]):
            while True:
                pass
        return real(P, *a, **k)

    sub = small.subset(np.arange(3))
    first_two = [c[:(c != 0).any(1).sum(), :(c != 0).any(0).sum()].astype(np.int64) for c in sub.conf[:2]]
    monkeypatch.setattr(cohomology, "hodge_from_degree_matrix", slow_on_second)
    s = verify(sub, out=tmp_path / "v", workers=1, progress=False, timeout=0.2)
    assert s["hodge"]["timeout"] == 1 and s["hodge"]["agree"] == 2
    rows = _rows(tmp_path / "v" / "mismatches.csv")
    assert [(r["index"], r["kind"]) for r in rows] == [("1", "timeout")]
    assert s["all_agree"]  # nothing disagrees; what could not be checked is listed


def test_cli_on_numpy_trio(small, tmp_path):
    from cicy4lib.jobs.cli import main

    trio = tmp_path / "trio"
    trio.mkdir()
    np.save(trio / "conf.npy", small.conf.astype(np.float64) / 6.0)
    np.save(trio / "hodge.npy", small.hodge)
    np.save(trio / "direct.npy", np.zeros(len(small), bool))
    out = tmp_path / "out"
    rc = main(["verify", str(trio), "--sample", "4", "--out", str(out), "--workers", "1", "--quiet"])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["euler"]["compared_with_stored"] == 0  # the trio stores no Euler numbers ...
    assert s["relations"]["checked"] == 40  # ... so the stored Hodge numbers are checked against χ
    assert s["hodge"]["agree"] == 4
    assert main(["verify", str(tmp_path / "nothing-here"), "--out", str(out)]) == 2


def _raw_entry(i, P, chi, h):
    rows = "{" + ",".join("{" + ",".join(str(int(x)) for x in r) + "}" for r in P) + "}"
    return f"{{{i}, {P.shape[0]}, {P.shape[1]}, {rows}, {chi}, False, {h[0]}, {h[1]}, {h[2]}, {h[3]}, True}}"


def test_raw_list_with_wrong_labels_is_reported_not_refused(small, tmp_path):
    entries = []
    for k in range(6):
        P = small.conf[k]
        P = P[:(P != 0).any(1).sum(), :(P != 0).any(0).sum()]
        chi, h = int(small.euler[k]), [int(x) for x in small.hodge[k]]
        if k == 2:
            chi += 6  # a wrong Euler number
        if k == 4:
            h[1] += 1  # a wrong h21
        entries.append(_raw_entry(k + 1, P, chi, h))
    raw = tmp_path / "cicy4list.txt"
    raw.write_text("{" + ",\n".join(entries) + "}\n")
    with pytest.raises(DataError):  # the reader alone stops at the first bad label ...
        load_dataset(str(raw))
    s = verify(str(raw), out=tmp_path / "v", workers=1, progress=False)  # ... the verifier lists them all
    assert s["euler"]["compared_with_stored"] == 6 and s["euler"]["mismatches"] == 1
    assert s["hodge"]["mismatches"] == 1 and s["hodge"]["agree"] == 5
    kinds = {(r["id"], r["kind"]) for r in _rows(tmp_path / "v" / "mismatches.csv")}
    assert ("3", "euler") in kinds and ("5", "hodge") in kinds
    load_dataset("sample")  # the readers' checks are back on afterwards
    from cicy4lib.data import checks

    with pytest.raises(DataError):
        checks.check_hodge(np.array([[1, 0, 0, 0]]), "x", np.array([0]))
