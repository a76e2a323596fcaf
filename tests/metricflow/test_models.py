"""The metric networks: shapes, start at Fubini–Study, Kähler condition, differentiable metric."""
from pathlib import Path

import numpy as np
import pytest
import torch

from cicy4lib import metricflow as mf
from cicy4lib.errors import MetricFlowError
from cicy4lib.metricflow.models import build_metric_model, metric_numpy, metric_torch, point_tensors


@pytest.fixture(scope="module")
def z():
    return mf.quintic_points(300, seed=11)


def _perturbed(kind, seed=0, scale=0.3):
    m = build_metric_model(kind, seed=seed)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(scale * torch.randn_like(p))
    return m


@pytest.mark.parametrize("kind", ["phi", "multiplicative"])
def test_starts_at_fubini_study(kind, z):
    m = build_metric_model(kind, seed=0)
    g = mf.metric(z, m)
    assert g.shape == (300, 3, 3) and g.dtype == np.complex128
    assert np.array_equal(g, mf.metric(z))
    assert mf.sigma_measure(z, m) == pytest.approx(mf.sigma_measure(z), rel=1e-12)


@pytest.mark.parametrize("kind", ["phi", "multiplicative"])
def test_hermitian(kind, z):
    g = mf.metric(z, _perturbed(kind))
    assert np.allclose(g, np.conj(g.transpose(0, 2, 1)), atol=1e-12)


def test_phi_model_is_kahler(z):
    m = _perturbed("phi")
    d = mf.kahler_defect(z[:40], lambda data: metric_numpy(m, data))
    assert d["scale"] > 0.1 and d["max_rel"] < 1e-5


def test_multiplicative_model_is_not_kahler(z):
    m = _perturbed("multiplicative")
    d = mf.kahler_defect(z[:40], lambda data: metric_numpy(m, data))
    assert d["max_rel"] > 1e-2


def test_phi_model_is_projectively_invariant(z):
    m = _perturbed("phi")
    assert np.allclose(mf.metric(z[:20] * (0.5 + 1.5j), m), mf.metric(z[:20], m), atol=1e-10)


def test_phi_hessian_matches_finite_differences():
    # ∂∂̄φ along X at a point, against central differences of φ in the chart's affine coordinates
    m = _perturbed("phi", seed=3)
    z = mf.quintic_points(3, seed=2)
    data = mf.prepare(z)
    g = metric_numpy(m, data) - data.g_fs
    var = mf.fermat_quintic()
    from cicy4lib.metricflow.measures import _move

    def phi_at(zz):
        x = torch.as_tensor(np.concatenate([zz.real, zz.imag], 1))
        return m.phi(x).detach().numpy()

    h = 1e-3
    for a in range(3):
        # Laplacian in the x_a plane: 4 ∂_a ∂̄_a φ = (∂x² + ∂y²) φ
        vals = [phi_at(_move(var, data, a, s)) for s in (h, -h, 1j * h, -1j * h)]
        lap = (sum(vals) - 4 * phi_at(data.z)) / h ** 2
        assert np.allclose(4 * g[:, a, a].real, lap, rtol=1e-4, atol=1e-5)


def test_metric_torch_is_differentiable(z):
    m = _perturbed("phi")
    g = metric_torch(m, z[:5])
    assert g.dtype == torch.complex128 and g.shape == (5, 3, 3)
    grads = torch.autograd.grad(g[0, 0, 1].real, list(m.parameters()))
    assert any(float(gr.abs().sum()) > 0 for gr in grads)
    pts = point_tensors(mf.prepare(z[:5]))
    assert torch.equal(metric_torch(m, pts), g)


def test_float32_model(z):
    m = build_metric_model("phi", seed=0, dtype=torch.float32)
    assert metric_torch(m, z[:4]).dtype == torch.complex64
    assert np.allclose(mf.metric(z[:4], m), mf.metric(z[:4]), atol=1e-6)


def test_bad_model_choices():
    with pytest.raises(MetricFlowError, match="unknown metric model"):
        build_metric_model("spline")
    with pytest.raises(MetricFlowError, match="smooth activation"):
        build_metric_model("phi", activation="relu")


def test_bicubic_phi_model():
    var = mf.from_configuration([[3], [3]])
    y = mf.sample_points(50, var, seed=0)
    m = build_metric_model("phi", var, seed=0)
    assert np.array_equal(mf.metric(y, m), mf.metric(y, variety=var))
    assert np.isfinite(mf.sigma_measure(y, _perturbed("phi") if False else m))


SHIPPED = Path(__file__).resolve().parents[2] / "Results_p2_Trained_models" / "metricflow"


@pytest.mark.skipif(not (SHIPPED / "phi_quintic" / "model.json").exists(), reason="no shipped φ network")
def test_shipped_network_is_kahler_and_better_than_fs():
    model = mf.load_metric_model(SHIPPED / "phi_quintic")
    assert sum(p.numel() for p in model.parameters()) < 20_000
    z = mf.quintic_points(2000, seed=424242)
    assert mf.sigma_measure(z, model) < 0.5 * mf.sigma_measure(z)
    exact = model.double()   # the same function in float64: finite differences resolve the defect
    d = mf.kahler_defect(z[:100], lambda data: metric_numpy(exact, data))
    assert d["scale"] > 0.1 and d["max_rel"] < 1e-5
