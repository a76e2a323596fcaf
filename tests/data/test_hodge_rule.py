"""The Hodge rule: release 2's verdict file, its checks and what it keeps; the union view; release 4."""
import shutil

import numpy as np
import pytest

import cicy4lib
from cicy4lib.data.generated import (GENERATED_R2_DIR, GENERATED_R4_DIR, HODGE_RULE_FILE, load_generated,
                                     load_hodge_rule, write_hodge_rule)
from cicy4lib.errors import DataError
from cicy4lib.geometry.equivalence import contraction_verdicts


@pytest.fixture()
def two_chunks(tmp_path):
    for p in sorted(GENERATED_R2_DIR.glob("chunk_*.npz"))[:2]:
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


def test_verdicts_select_minimal_and_distinct_entries(two_chunks):
    n = len(load_generated(two_chunks, allow_partial=True)["conf"])
    verdict = np.random.default_rng(0).integers(0, 4, size=n)
    write_hodge_rule(verdict, two_chunks, meta={"command": "test"})
    got = load_hodge_rule(two_chunks)
    assert got["meta"]["n"] == int(np.isin(verdict, (0, 2)).sum()) == len(got["conf"])
    assert got["meta"]["hodge_rule"]["counts"] == {str(k): int((verdict == k).sum()) for k in range(4)}
    with pytest.raises(DataError, match="one verdict"):
        write_hodge_rule(verdict[:-1], two_chunks)


def test_a_verdict_file_of_other_entries_is_refused(two_chunks):
    n = len(load_generated(two_chunks, allow_partial=True)["conf"])
    write_hodge_rule(np.zeros(n, np.int8), two_chunks)
    extra = sorted(GENERATED_R2_DIR.glob("chunk_*.npz"))[2]
    shutil.copy(extra, two_chunks / extra.name)  # the folder now serves more entries
    with pytest.raises(DataError, match="other entries"):
        load_hodge_rule(two_chunks)
    (two_chunks / HODGE_RULE_FILE).unlink()
    with pytest.raises(DataError, match="bench_hodge_rule_release2"):
        load_hodge_rule(two_chunks)


@pytest.mark.skipif(not (GENERATED_R2_DIR / HODGE_RULE_FILE).exists(), reason="verdicts not made in this checkout")
def test_shipped_hodge_rule_set_holds_no_redundant_description():
    data = cicy4lib.load_dataset("generated-hodge-rule")
    rows = (data.conf != 0).any(2).sum(1)
    assert (data.hodge[:, 0] >= rows).all()  # h11 < rows marks a redundant description
    counts = data.provenance["hodge_rule"]
    assert len(data) == counts.get("0", 0) + counts.get("2", 0)
    # re-judge a seeded sample: no kept entry has a contraction with its chi and Hodge numbers
    pick = np.random.default_rng(1).choice(len(data), size=40, replace=False)
    v = contraction_verdicts(list(data.conf[pick]), data.euler[pick], data.hodge[pick])
    assert not any(v["same"])


def test_union_of_both_releases_adds_only_what_release_3_lacks(two_chunks, tmp_path, monkeypatch):
    from cicy4lib.data.generated import GENERATED_DIR, load_hodge_rule_union

    monkeypatch.setenv("CICY4_GENERATED_PARTIAL", "1")  # two chunks are below the served size
    r3 = tmp_path / "r3"
    r3.mkdir()
    for p in sorted(GENERATED_DIR.glob("chunk_*.npz"))[:2]:
        shutil.copy(p, r3 / p.name)
    n2 = len(load_generated(two_chunks, allow_partial=True)["conf"])
    write_hodge_rule(np.random.default_rng(2).integers(0, 4, size=n2), two_chunks)
    first, second = load_generated(r3), load_hodge_rule(two_chunks)
    got = load_hodge_rule_union(r3, two_chunks)

    def keyset(conf):
        return {c.tobytes() for c in np.asarray(conf, dtype=np.int8)}

    union = keyset(first["conf"]) | keyset(second["conf"])
    overlap = len(keyset(first["conf"]) & keyset(second["conf"]))
    assert overlap > 0  # both releases start from the complete enumeration of small configurations
    assert len(got["conf"]) == len(union) == len(keyset(got["conf"]))  # no entry twice
    np.testing.assert_array_equal(got["conf"][:len(first["conf"])], first["conf"])  # release 3 first, in order
    assert got["meta"]["union"]["release_2_added"] == len(second["conf"]) - overlap
    assert len(got["hodge"]) == len(got["euler"]) == len(got["conf"])


@pytest.mark.skipif(not (GENERATED_R4_DIR / "release.json").exists(),
                    reason="release 4 not shipped in this checkout")
def test_shipped_release4_is_minimal_under_the_hodge_rule():
    from cicy4lib.geometry.equivalence import hodge_rule_minimal
    from cicy4lib.geometry.splitting import redundant_mask

    data = cicy4lib.load_dataset("generated-r4")
    rows = (data.conf != 0).any(2).sum(1)
    assert data.provenance["release"] == 4
    assert (data.hodge[:, 0] >= rows).all()  # h11 < rows marks a redundant description
    assert rows.max() >= 15  # the Hodge rule reaches the list's many-row configurations
    chi_equal = np.flatnonzero(redundant_mask(list(data.conf), data.euler))
    assert len(chi_equal) > len(data) // 4  # what the Euler rule alone would have dropped
    pick = np.random.default_rng(4).choice(chi_equal, size=25, replace=False)
    assert hodge_rule_minimal(list(data.conf[pick]), data.euler[pick], np.zeros(25, bool)).all()
