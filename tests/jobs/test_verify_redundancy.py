"""The verifier flags redundant descriptions (ineffective splittings) planted in a list."""
import csv

import numpy as np

from cicy4lib.data import load_dataset
from cicy4lib.data.redundant import with_redundant_training
from cicy4lib.data.splits import Split
from cicy4lib.geometry.splitting import redundant_mask
from cicy4lib.jobs.verify import verify


def test_planted_ineffective_splittings_are_listed(tmp_path):
    data = load_dataset("sample")
    rows = (data.conf != 0).any(2).sum(1)
    base = data.subset(np.flatnonzero(rows <= 5)[:30])
    minimal = ~redundant_mask(base.conf)
    base = base.subset(np.flatnonzero(minimal)[:20])
    # plant redundant descriptions of the first 8 (same labels: only the description is wrong)
    half = Split(train=np.arange(8), valid=np.arange(8, 20), test=np.zeros(0, np.int64))
    planted, _ = with_redundant_training(base, half, per_entry=1, seed=3)
    n_planted = int(planted.meta["redundant"].sum())
    assert n_planted >= 4
    s = verify(planted, out=tmp_path / "v", workers=1, sample=0, progress=False)
    assert s["redundancy"] == {**s["redundancy"], "checked": len(planted), "ineffective_splittings": n_planted,
                              "euler_rule": n_planted}
    assert s["all_agree"]  # the labels themselves are right
    with open(s["files"]["mismatches"], newline="") as f:
        flagged = sorted(int(r["index"]) for r in csv.DictReader(f) if r["kind"] == "redundant")
    assert flagged == np.flatnonzero(planted.meta["redundant"]).tolist()


def test_chi_equal_contraction_of_another_manifold_is_not_called_redundant(tmp_path):
    from dataclasses import replace

    from cicy4lib.geometry.euler import euler_numbers
    from cicy4lib.geometry.labelling import label_with_limit
    from cicy4lib.geometry.splitting import _padded

    # χ 324 like one of its contractions, h11 10 against 6 there (tests/geometry/test_equivalence.py)
    distinct = np.array([[0, 0, 2, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0, 1], [2, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 2, 0],
                         [0, 1, 0, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0, 1], [1, 1, 0, 1, 0, 0, 0]])
    redundant = np.array([[3, 2, 0], [1, 1, 0], [0, 1, 1], [0, 0, 2]])  # SPEC §1: same Hodge numbers
    mats = [distinct, redundant]
    chis = euler_numbers(_padded(mats))
    hodge = [label_with_limit(P, 20, euler=int(c))[0] for P, c in zip(mats, chis)]
    two = load_dataset("sample").subset(np.arange(2))
    data = replace(two, conf=_padded(mats).astype(two.conf.dtype), hodge=np.array(hodge, dtype=two.hodge.dtype),
                   euler=np.asarray(chis, dtype=two.euler.dtype))
    assert redundant_mask(data.conf).all()  # the Euler rule calls both redundant
    s = verify(data, out=tmp_path / "v", workers=1, sample=0, progress=False)
    assert s["redundancy"]["ineffective_splittings"] == 1
    assert s["redundancy"]["chi_equal_other_hodge"] == 1
    assert s["redundancy"]["euler_rule"] == 2  # the rule counts both
    with open(s["files"]["mismatches"], newline="") as f:
        kinds = {int(r["index"]): r["kind"] for r in csv.DictReader(f)}
    assert kinds == {0: "chi-equal", 1: "redundant"}
