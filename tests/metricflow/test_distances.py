"""FS distances (eq. 3.2), the eq.-3.4 threshold and nearest-neighbour statistics."""
import numpy as np
import pytest

from cicy4lib.errors import Cicy4Error, PointSetError
from cicy4lib.metricflow import distances as D


def _points(n, k=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)) + 1j * rng.normal(size=(n, k))


def test_fs_distance_basic_properties():
    z = _points(40)
    d = D.fs_distance(z, z)
    assert d.dtype == np.float64 and d.shape == (40, 40)
    assert np.all(np.diag(d) == 0)  # threshold removes the sqrt(2 eps) noise
    assert np.allclose(d, d.T)
    assert d.min() >= 0 and d.max() <= np.pi / 2 + 1e-12
    # projective invariance: any complex rescaling of a point
    scale = np.exp(1j * np.arange(40))[:, None] * (1 + np.arange(40))[:, None]
    assert np.allclose(D.fs_distance(z * scale, z), d, atol=1e-7)
    # triangle inequality on a sample
    i, j, k = np.random.default_rng(1).integers(0, 40, size=(3, 200))
    assert np.all(d[i, k] <= d[i, j] + d[j, k] + 1e-9)


def test_fs_distance_known_values():
    e0 = np.array([[1, 0, 0, 0, 0]], complex)
    e1 = np.array([[0, 1, 0, 0, 0]], complex)
    mid = np.array([[1, 1, 0, 0, 0]], complex)
    assert D.fs_distance(e0, e1)[0, 0] == pytest.approx(np.pi / 2)
    assert D.fs_distance(e0, mid)[0, 0] == pytest.approx(np.pi / 4)


def test_threshold_per_dtype():
    z = _points(30)
    z64 = z.astype(np.complex64)
    d = D.fs_distance(z64, z64)
    assert np.all(np.diag(d) == 0)  # complex64 noise ~5e-4 removed
    assert D.distance_threshold(np.complex128) < 1e-6 < D.distance_threshold(np.complex64)
    # an explicit threshold of 0 keeps the noise: arccos(1 - eps) ~ sqrt(2 eps)
    raw = D.fs_distance(z64, z64, threshold=0.0)
    assert np.max(np.diag(raw)) < 2e-3


def test_nearest_distances_match_brute_force():
    z = _points(300, seed=2)
    d = D.fs_distance(z)
    np.fill_diagonal(d, np.inf)
    brute = d.min(axis=1)
    for chunk in (7, 64, 1000):
        assert np.allclose(D.nearest_distances(z, chunk=chunk), brute)
    assert D.mean_nearest_distance(z, chunk=33) == pytest.approx(brute.mean())
    ref = _points(50, seed=3)
    assert np.allclose(D.nearest_distances(z, reference=ref), D.fs_distance(z, ref).min(axis=1))


def test_power_law_fit():
    n = np.array([1e3, 1e4, 1e5])
    a, b = D.fit_power_law(n, 0.968 * n ** -0.184)
    assert a == pytest.approx(0.968) and b == pytest.approx(-0.184)


@pytest.mark.parametrize("z1,z2,match", [
    (np.ones((3, 5), complex), np.ones((3, 4), complex), "mismatched"),
    (np.ones((3, 5, 1), complex), None, "shape"),
    (np.array([[1, np.nan, 0, 0, 0]], complex), None, "non-finite"),
    (np.zeros((2, 5), complex), None, "all coordinates 0"),
])
def test_bad_point_sets(z1, z2, match):
    with pytest.raises(PointSetError, match=match) as err:
        D.fs_distance(z1, z2)
    assert isinstance(err.value, (Cicy4Error, ValueError))


def test_too_large_matrix_says_how_much(monkeypatch):
    from cicy4lib.errors import KernelMemoryError

    monkeypatch.setattr(D, "available_memory_bytes", lambda: 1000)
    with pytest.raises(KernelMemoryError, match="GiB.*nearest_distances"):
        D.fs_distance(_points(20))
