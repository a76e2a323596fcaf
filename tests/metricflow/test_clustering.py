"""Mini-batch agglomerative clustering on the FS distance (§3.1, eq. 3.3)."""
import numpy as np
import pytest

from cicy4lib.errors import PointSetError
from cicy4lib.metricflow import clustering as C
from cicy4lib.metricflow.distances import fs_distance


def _blobs(n_per=40, k=4, seed=0):
    """Points near k well-separated centres of P^4."""
    rng = np.random.default_rng(seed)
    centres = np.eye(5, dtype=complex)[:k]
    z = np.concatenate([c + 0.05 * (rng.normal(size=(n_per, 5)) + 1j * rng.normal(size=(n_per, 5)))
                        for c in centres])
    truth = np.repeat(np.arange(k), n_per)
    return z, truth


def _same_partition(a, b):
    return all(len(set(b[a == v])) == 1 for v in np.unique(a)) and len(np.unique(a)) == len(np.unique(b))


def test_batched_clustering_recovers_separated_blobs():
    z, truth = _blobs()
    full = C.cluster_points(z, 4)
    assert _same_partition(full.labels, truth)
    batched = C.cluster_points(z, 4, n_batches=4, seed=1)
    assert _same_partition(batched.labels, truth)
    assert sorted(np.bincount(batched.batches)) == [40] * 4
    # every batch's clusters were matched one-to-one to the first batch's
    for target in batched.info["matches"].values():
        assert sorted(target) == [0, 1, 2, 3]


def test_cross_max_distance_matches_brute_force():
    z, _ = _blobs(n_per=15, k=3, seed=2)
    la = np.arange(45) % 3
    lb = (np.arange(45) // 15)
    out = C.cross_max_distance(z, la, z[::-1], lb[::-1], 3, block=7)
    d = fs_distance(z, z[::-1])
    for a in range(3):
        for b in range(3):
            assert out[a, b] == pytest.approx(d[np.ix_(la == a, lb[::-1] == b)].max())


def test_within_cluster_distance_and_order():
    z, truth = _blobs(n_per=10, k=3)
    good = C.within_cluster_distance(z, truth)
    rand = C.within_cluster_distance(z, np.random.default_rng(0).permutation(truth))
    assert good < 0.5 * rand
    order = C.cluster_order(truth[::-1])
    assert np.all(np.diff(truth[::-1][order]) >= 0)


def test_parallel_workers_give_the_same_clusters():
    z, _ = _blobs(n_per=30, k=3, seed=4)
    a = C.cluster_points(z, 3, n_batches=3, workers=1)
    b = C.cluster_points(z, 3, n_batches=3, workers=2)
    assert np.array_equal(a.labels, b.labels)


def test_too_few_points_per_batch():
    z, _ = _blobs(n_per=5, k=2)
    with pytest.raises(PointSetError, match="fewer than"):
        C.cluster_points(z, 4, n_batches=5)
