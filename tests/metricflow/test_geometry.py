"""Ω, pull-back, Fubini–Study metric, weights and κ."""
import numpy as np
import pytest

from cicy4lib import metricflow as mf
from cicy4lib.metricflow import geometry


@pytest.fixture(scope="module")
def data():
    return mf.prepare(mf.quintic_points(3000, seed=5))


def test_shapes_and_hermitian(data):
    g = data.g_fs
    assert g.shape == (3000, 3, 3) and g.dtype == np.complex128
    assert np.allclose(g, np.conj(g.transpose(0, 2, 1)), atol=1e-14)
    assert np.all(np.linalg.eigvalsh(g) > 0)
    assert np.array_equal(mf.metric(data.z), g)


def test_pullback_is_tangent(data):
    # J rows are tangent to X: sum_i dQ/dz_i J[a, i] = 0
    grad = mf.fermat_quintic().gradient(data.z)
    assert np.abs(np.einsum("nai,ni->na", data.pullback, grad)).max() < 1e-12
    rows = np.arange(len(data))
    for a in range(3):
        assert np.all(data.pullback[rows, a, data.charts.free[:, a]] == 1)
    assert np.allclose(data.omega, 1 / (5 * data.z[rows, data.charts.elim] ** 4))


def test_fs_ambient_kills_radial_direction(data):
    g = geometry.fs_ambient(mf.fermat_quintic(), data.z)
    # g_ij̄ z̄_j ... the Euler vector z is null: z^T g conj(z) = 0
    assert np.abs(np.einsum("ni,nij,nj->n", data.z, g, np.conj(data.z))).max() < 1e-14


def test_projective_invariance(data):
    z = data.z[:50]
    scaled = z * (0.3 - 2.1j)
    assert np.allclose(mf.metric(scaled), mf.metric(z), atol=1e-13)
    assert np.allclose(mf.weights(scaled), mf.weights(z), rtol=1e-12)


def test_eta_is_chart_independent(data):
    # det g / |Ω|² must not depend on the chart: evaluate one point in two charts
    var = mf.fermat_quintic()
    ch = data.charts
    from cicy4lib.metricflow.measures import _in_chart
    other = mf.points.Charts(ch.ones.copy(), ch.free[:, 0].copy(), ch.free.copy(), ch.ids)
    other.free[:, 0] = ch.elim
    om, J, g, w = _in_chart(var, data.z, other)
    a = np.real(np.linalg.det(g)) / np.abs(om) ** 2
    b = np.real(np.linalg.det(data.g_fs)) / data.omega_abs2
    well = np.abs(1 / om) > 0.5   # the other chart is well conditioned here (the rule avoids small dQ)
    assert well.mean() > 0.5
    assert np.allclose(a[well], b[well], rtol=1e-9)


def test_kappa_is_inverse_mean_weight(data):
    assert mf.kappa(data.z) == pytest.approx(1 / np.mean(data.weights), rel=1e-12)
    assert 0.016 < mf.kappa(data.z) < 0.019


def test_fs_is_kahler():
    d = mf.kahler_defect(mf.quintic_points(100, seed=1))
    assert d["max_rel"] < 1e-5
