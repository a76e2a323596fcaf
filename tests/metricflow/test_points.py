"""The line sampler and the chart rule (SPEC §8)."""
import numpy as np
import pytest

from cicy4lib import metricflow as mf
from cicy4lib.errors import Cicy4Error, MetricFlowError


@pytest.fixture(scope="module")
def z():
    return mf.quintic_points(4000, seed=0)


def test_points_on_quintic(z):
    assert z.dtype == np.complex128 and z.shape == (4000, 5)
    assert np.abs(np.sum(z ** 5, axis=1)).max() <= 1e-10
    assert np.allclose(np.abs(z).max(axis=1), 1.0, atol=0, rtol=1e-15)
    # the largest coordinate is exactly 1 (the chart's "set to 1")
    k = np.argmax(np.abs(z), axis=1)
    assert np.all(z[np.arange(len(z)), k] == 1.0)


def test_seeded_and_deterministic():
    a = mf.quintic_points(50, seed=3)
    assert np.array_equal(a, mf.quintic_points(50, seed=3))
    assert not np.array_equal(a, mf.quintic_points(50, seed=4))
    assert mf.quintic_points(0).shape == (0, 5)


def test_five_points_per_line_share_a_line():
    z = mf.quintic_points(10, seed=1)
    # the first five points come from one line: rank 2 in C^5 after removing scaling
    assert np.linalg.matrix_rank(z[:5], tol=1e-8) == 2


def test_chart_rule(z):
    ch = mf.charts(mf.fermat_quintic(), z)
    rows = np.arange(len(z))
    k = ch.ones[:, 0]
    assert np.all(k == np.argmax(np.abs(z), axis=1))
    dq = np.abs(5 * z ** 4)
    dq[rows, k] = -1
    assert np.all(ch.elim == np.argmax(dq, axis=1))
    assert np.all(ch.elim != k)
    r = np.where(ch.elim < k, ch.elim, ch.elim - 1)
    assert np.all(ch.ids == 4 * k + r)
    share = np.bincount(ch.ids, minlength=20) / len(z)
    assert mf.n_charts() == 20 and share.min() > 0.03 and share.max() < 0.07
    assert sorted(set(ch.free[0]) | {ch.elim[0], k[0]}) == [0, 1, 2, 3, 4]


def test_one_chart_rejection():
    z = mf.quintic_points(200, seed=2, chart=7)
    assert len(z) == 200
    assert np.all(mf.charts(None, z).ids == 7)
    with pytest.raises(MetricFlowError, match="chart 20"):
        mf.quintic_points(5, chart=20)


@pytest.mark.parametrize("conf, n_coords, charts", [([[3], [3]], 6, 36), ([[2], [2], [2], [2]], 8, 64)])
def test_product_sampler(conf, n_coords, charts):
    var = mf.from_configuration(conf)
    y = mf.sample_points(1000, var, seed=0)
    assert y.shape == (1000, n_coords)
    assert np.abs(var.evaluate(y)).max() <= 1e-10
    for sl in var.factor_slices():
        assert np.allclose(np.abs(y[:, sl]).max(axis=1), 1.0)
    assert mf.n_charts(var) == charts
    assert mf.charts(var, y).ids.max() < charts


@pytest.mark.parametrize("conf, message", [
    ([[3], [2]], "not a three-fold"),
    ([[2, 1], [1, 2], [1, 1]], "2 equations; only hypersurfaces"),
    ([[3, 3]], "2 equations; only hypersurfaces"),
    ([[2, 2], [2, 2]], "dimension 4, not a three-fold"),
    ([["a"]], "integers"),
    ([[1], [4]], "less than 2"),
])
def test_bad_configuration(conf, message):
    with pytest.raises(MetricFlowError, match=message):
        mf.from_configuration(conf)


def test_not_calabi_yau():
    with pytest.raises(MetricFlowError, match="not Calabi-Yau"):
        mf.from_configuration([[4]], dims=[4])
    assert isinstance(MetricFlowError("x"), (Cicy4Error, ValueError))


def test_bad_points(z):
    with pytest.raises(MetricFlowError, match="shape"):
        mf.metric(z[:, :4])
    bad = z[:10].copy()
    bad[3, 1] = np.nan
    with pytest.raises(MetricFlowError, match="non-finite"):
        mf.metric(bad)
    off = z[:10].copy()
    off[2, 0] += 0.1
    with pytest.raises(MetricFlowError, match="off Fermat quintic"):
        mf.sigma_measure(off)
    with pytest.raises(MetricFlowError, match="equal to 0"):
        mf.metric(np.zeros((2, 5)))
    with pytest.raises(MetricFlowError, match="complex numbers"):
        mf.metric(np.array([["a"] * 5]))
