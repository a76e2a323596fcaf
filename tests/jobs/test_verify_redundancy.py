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
    assert s["redundancy"] == {**s["redundancy"], "checked": len(planted), "ineffective_splittings": n_planted}
    assert s["all_agree"]  # the labels themselves are right
    with open(s["files"]["mismatches"], newline="") as f:
        flagged = sorted(int(r["index"]) for r in csv.DictReader(f) if r["kind"] == "redundant")
    assert flagged == np.flatnonzero(planted.meta["redundant"]).tolist()
