"""Empirical metric-NTK (eq. 2.7): symmetry, PSD, one gradient step = the flow (eq. 2.8) to O(eta^2)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cicy4lib import metricflow as mf  # noqa: E402
from cicy4lib.errors import KernelMemoryError  # noqa: E402
from cicy4lib.metricflow import ntk as N  # noqa: E402
from cicy4lib.metricflow.kernel_flow import sigma_loss_grad  # noqa: E402


@pytest.fixture(scope="module")
def data():
    z = mf.quintic_points(24, seed=3, chart=0)
    return N.prepared_inputs(z)


def _model(dtype=torch.float64, **kw):
    return N.MetricMLP(hidden=(16, 16), dtype=dtype, **kw)


def test_symmetry_and_psd(data):
    m = _model()
    th = N.empirical_ntk(m, data["x"], data["v_fs"], chunk=5, dtype=torch.float64, out_dtype=np.float64)
    assert th.shape == (24, 9, 24, 9)
    # Theta_ijkl(x, x') = Theta_klij(x', x)
    assert np.allclose(th, th.transpose(2, 3, 0, 1), atol=1e-12 * np.abs(th).max())
    ev = np.linalg.eigvalsh(th.reshape(24 * 9, 24 * 9))
    assert ev.min() > -1e-9 * ev.max()
    # cross kernel between two point sets equals the block of the joint kernel
    cross = N.empirical_ntk(m, data["x"][:7], data["v_fs"][:7], data["x"][7:], data["v_fs"][7:],
                            chunk=3, dtype=torch.float64, out_dtype=np.float64)
    assert np.allclose(cross, th[:7, :, 7:, :])


def test_gradient_step_equals_metric_flow(data):
    """theta <- theta - eps dL/dtheta changes g by -eps Theta . dL/dg + O(eps^2)."""
    errors = []
    for eps in (1e-3, 5e-4):
        m = _model()
        x = torch.as_tensor(data["x"])
        vfs = torch.as_tensor(data["v_fs"])
        v0 = m(x, vfs).detach().numpy()
        th = N.empirical_ntk(m, x, vfs, dtype=torch.float64, out_dtype=np.float64)
        _, grad_v = sigma_loss_grad(v0, data["omega_abs2"], data["w"])
        pred = N.flow_prediction(th, grad_v, eps)
        loss = len(v0) * N.sigma_loss_torch(m(x, vfs), torch.as_tensor(data["omega_abs2"]), torch.as_tensor(data["w"]))
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= eps * p.grad
        actual = m(x, vfs).detach().numpy() - v0
        errors.append(np.abs(actual - pred).max() / np.abs(actual).max())
    assert errors[0] < 0.05
    assert errors[1] < 0.6 * errors[0]  # the mismatch is O(eps^2): halving eps halves the relative error


def test_memory_error_says_how_much(data, monkeypatch):
    from cicy4lib.metricflow import distances

    monkeypatch.setattr(distances, "available_memory_bytes", lambda: 10_000)
    with pytest.raises(KernelMemoryError, match="GiB.*open_memmap"):
        N.empirical_ntk(_model(), data["x"], data["v_fs"])


def test_training_records_kernel_change(data):
    m = _model(dtype=torch.float32)
    hist = N.train_with_ntk(m, data, data, epochs=2, steps_per_epoch=3, lr=1e-2, probe=6)
    assert hist["ntk_change"][0] == 0 and hist["ntk_change"][-1] > 0
    assert len(hist["sigma_val"]) == 3
