"""Redundant descriptions appended to training rows only."""
import numpy as np
import pytest

import cicy4lib
from cicy4lib.data.redundant import with_redundant_training
from cicy4lib.errors import DataError
from cicy4lib.geometry import euler_numbers
from cicy4lib.geometry.labelling import label_with_limit
from cicy4lib.geometry.splitting import _trim, redundant_mask


@pytest.fixture(scope="module")
def small():
    data = cicy4lib.load_dataset("sample").subset(np.arange(300))
    return data, cicy4lib.get_split(data, "72")


def test_only_training_rows_grow_and_labels_follow_the_manifold(small):
    data, split = small
    out, new = with_redundant_training(data, split, per_entry=1, seed=0)
    added = np.flatnonzero(out.meta["redundant"])
    assert len(added) > 0.3 * len(split.train)
    assert np.array_equal(new.valid, split.valid) and np.array_equal(new.test, split.test)
    assert set(added) <= set(new.train.tolist())
    src = out.meta["describes"][added]
    assert set(src.tolist()) <= set(split.train.tolist())  # never a validation or test manifold
    assert np.array_equal(out.hodge[added], data.hodge[src])
    # the same manifold: exact Euler numbers agree, and every new matrix is redundant
    assert np.array_equal(euler_numbers(out.conf[added]), data.euler[src])
    assert redundant_mask(out.conf[added[:40]]).all()
    assert out.provenance["redundant_training_rows"] == len(added)
    # labels checked, not assumed: each appended matrix, labelled afresh, has its source's numbers
    for k, s in list(zip(added, src))[:25]:
        h, _ = label_with_limit(_trim(out.conf[k]), 20)
        assert h == tuple(data.hodge[s])
    assert out.provenance["redundant_candidates"]["same"] == len(added)


def test_per_entry_must_be_positive(small):
    data, split = small
    with pytest.raises(DataError, match="per_entry"):
        with_redundant_training(data, split, per_entry=0)
