"""Discrete kernel flows with the σ-loss (eq. 2.8, §3.2): Hermitian PD updates, stops, noise, clusters."""
import numpy as np
import pytest

pytest.importorskip("torch")

from cicy4lib import metricflow as mf  # noqa: E402
from cicy4lib.errors import FlowStoppedError, PointSetError  # noqa: E402
from cicy4lib.metricflow import kernel_flow as F  # noqa: E402
from cicy4lib.metricflow import kernels as K  # noqa: E402
from cicy4lib.metricflow.geometry import prepare  # noqa: E402


@pytest.fixture(scope="module")
def pts():
    return mf.quintic_points(120, seed=5, chart=0)


def test_real_components_roundtrip(pts):
    g = mf.metric(pts)
    v = F.to_real(g)
    assert np.allclose(F.to_hermitian(v), g)
    assert np.allclose(F.det_real9(v), np.linalg.det(g).real)
    assert F.is_positive_definite(v).all()
    assert not F.is_positive_definite(-v).any()


def test_sigma_matches_part1(pts):
    d = prepare(pts)
    s, grad = F.sigma_loss_grad(F.to_real(d.g_fs), d.omega_abs2, d.weights)
    assert s == pytest.approx(mf.sigma_measure(pts), rel=1e-10)
    assert grad.shape == (120, 9) and np.isfinite(grad).all()


@pytest.mark.parametrize("kernel", ["delta", K.GaussianKernel(30.0, form="rate")])
def test_flows_reduce_sigma_on_training_points(pts, kernel):
    r = F.flow_points(pts, kernel, steps=300, patience=20)
    assert r.stopped is None
    assert r.gain_train > 20
    assert F.is_positive_definite(r.v_train).all()
    g = F.to_hermitian(r.v_train)
    assert np.allclose(g, np.conj(np.swapaxes(g, 1, 2)))


def test_test_points_flow_along(pts):
    zt, origin = F.noised_points(pts, 0.02, seed=1, chart=0)
    assert len(zt) > 60
    assert np.abs(mf.fermat_quintic().evaluate(zt)).max() < 1e-10  # projected back onto X
    r = F.flow_points(pts, "delta", z_test=zt, steps=100)
    assert r.sigma_test0 is not None and r.gain_test > 1


def test_huge_step_backtracks_and_stays_positive_definite(pts):
    r = F.flow_points(pts, "delta", lr=1e6, steps=5)
    assert F.is_positive_definite(r.v_train).all()
    assert max(r.history["lr"]) < 1e6


def test_non_finite_update_stops_and_keeps_last_good_state(pts):
    d = prepare(pts)
    K_bad = np.eye(len(pts))
    K_bad[3, 4] = np.nan
    with pytest.raises(FlowStoppedError, match="non-finite update at step 1") as err:
        F.kernel_flow(d.g_fs, d.omega_abs2, d.weights, K_bad, steps=3)
    assert np.allclose(err.value.state.v_train, F.to_real(d.g_fs))
    res = F.kernel_flow(d.g_fs, d.omega_abs2, d.weights, K_bad, steps=3, on_stop="return")
    assert "non-finite" in res.stopped


def test_bad_inputs(pts):
    d = prepare(pts)
    with pytest.raises(PointSetError, match="mismatched training data"):
        F.kernel_flow(d.g_fs, d.omega_abs2[:-1], d.weights, np.eye(len(pts)))
    with pytest.raises(PointSetError, match="not positive-definite"):
        F.kernel_flow(-d.g_fs, d.omega_abs2, d.weights, np.eye(len(pts)))
    with pytest.raises(PointSetError, match="charts"):
        F.flow_points(mf.quintic_points(50, seed=1), "delta", steps=1)


def test_clustered_flow(pts):
    from cicy4lib.metricflow.clustering import cluster_points

    labels = cluster_points(pts, 3, n_batches=2).labels
    out = F.clustered_kernel_flow(pts, labels, "delta", steps=200, patience=20)
    assert out["sigma"] < 0.1 * out["sigma0"] and not out["stopped"]


def test_hyperparameter_search_runs(pts):
    pytest.importorskip("optuna")
    val = mf.quintic_points(40, seed=9, chart=0)
    res = F.search_hyperparameters(pts[:60], val, "gaussian", {"lr": (0.01, 0.3), "sigma": (1.0, 100.0)},
                                   n_trials=3, steps=10)
    assert set(res["best_params"]) == {"lr", "sigma"} and len(res["trials"]) == 3
