"""Kernels of §3.2 and the theory checks of SPEC §8 (cosine network, normalisation, ReLU NTK)."""
import math

import numpy as np
import pytest

from cicy4lib.errors import PointSetError
from cicy4lib.metricflow import kernels as K

torch = pytest.importorskip("torch")


def _mc_relu_ntk(x, sigma_w, sigma_b, width, seed):
    """Empirical NTK of a finite wide one-hidden-layer ReLU network (autograd over every parameter)."""
    from torch.func import functional_call, jacrev, vmap

    g = torch.Generator().manual_seed(seed)
    d = x.shape[1]
    params = {"W": torch.randn(width, d, generator=g, dtype=torch.float64),
              "b": torch.randn(width, generator=g, dtype=torch.float64),
              "v": torch.randn(width, generator=g, dtype=torch.float64),
              "c": torch.randn((), generator=g, dtype=torch.float64)}

    def f(p, xi):
        h = sigma_w / math.sqrt(d) * p["W"] @ xi + sigma_b * p["b"]
        return sigma_w / math.sqrt(width) * p["v"] @ torch.relu(h) + sigma_b * p["c"]

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, torch.as_tensor(x))
    flat = torch.cat([j.reshape(len(x), -1) for j in jac.values()], dim=1)
    return (flat @ flat.T).numpy()


@pytest.mark.parametrize("sigma_w,sigma_b", [(1.5, 0.5), (K.TABLE1["relu"]["sigma_w"], K.TABLE1["relu"]["sigma_b"])])
def test_relu_ntk_matches_wide_network(sigma_w, sigma_b):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 10))
    exact = K.relu_ntk(x, x, sigma_w, sigma_b)
    mc = np.mean([_mc_relu_ntk(x, sigma_w, sigma_b, 20000, s) for s in range(3)], axis=0)
    rel = np.abs(mc - exact) / np.abs(exact).max()
    assert rel.max() < 0.03, rel.max()
    assert np.allclose(exact, exact.T)
    assert np.linalg.eigvalsh(exact).min() > -1e-8 * np.abs(exact).max()


def test_relu_ntk_table1_is_almost_flat_on_quintic_like_points():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(50, 5)) + 1j * rng.normal(size=(50, 5))
    z /= np.abs(z).max(axis=1, keepdims=True)
    k = K.ReluNTK()(z, z)
    off = k[~np.eye(50, dtype=bool)]
    assert off.max() / off.min() - 1 < 0.02  # SPEC §8: off-diagonal entries vary by < 2 %


def test_relu_ntk_bad_input():
    with pytest.raises(PointSetError, match="mismatched"):
        K.relu_ntk(np.ones((2, 3)), np.ones((2, 4)), 1.0, 1.0)


def test_cosine_network_gives_gaussian_ntk_corrected_form():
    rng = np.random.default_rng(2)
    d, sigma_w, width = 3, 2.0, 400_000
    x = rng.normal(size=(6, d)) * 0.7
    w = rng.normal(scale=sigma_w / math.sqrt(d), size=(width, d))
    b = rng.uniform(-np.pi, np.pi, size=width)
    feats = np.cos(x @ w.T + b)  # corrected form: the sum w_i . x inside the cosine
    A = K.cosine_normalisation(d, sigma_w)
    mc = A * A / width * feats @ feats.T
    exact = K.cosine_ntk(x, x, sigma_w, A)
    assert np.allclose(mc, exact, atol=0.01 * exact.max())
    # the form the paper prints (sum over j outside the cosine) is not that Gaussian
    printed = sum(np.cos(np.outer(x[:, j], w[:, j]) + b) for j in range(d))
    mc_printed = A * A / width * printed @ printed.T
    assert np.abs(mc_printed - exact).max() > 0.2 * exact.max()


def test_cosine_normalisation_integrates_to_one():
    d, sigma_w = 3, 2.0
    width = math.sqrt(d) / sigma_w  # eq. 2.37
    integral = lambda A: A * A / 2 * (2 * math.pi * width ** 2) ** (d / 2)  # noqa: E731
    assert integral(K.cosine_normalisation(d, sigma_w)) == pytest.approx(1.0)
    assert integral(K.paper_cosine_normalisation(d, sigma_w)) == pytest.approx(2.26, abs=0.005)
    # numerically, on a grid
    h = np.linspace(-4, 4, 81)
    X = np.stack(np.meshgrid(h, h, h), -1).reshape(-1, 3)
    vals = K.cosine_ntk(X, np.zeros((1, 3)), sigma_w, K.cosine_normalisation(d, sigma_w))
    assert vals.sum() * (h[1] - h[0]) ** 3 == pytest.approx(1.0, rel=1e-3)


def test_gaussian_and_delta_kernels():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(30, 5)) + 1j * rng.normal(size=(30, 5))
    kp = K.gaussian_kernel(z, z, 30.0)
    assert np.all(np.diag(kp) == 1.0) and kp.min() >= math.exp(-math.pi / 120) - 1e-12
    ks = K.gaussian_kernel(z, z, 0.1, form="squared")
    assert ks.min() < 1e-3
    with pytest.raises(ValueError):
        K.gaussian_kernel(z, z, 1.0, form="nope")
    delta = K.delta_kernel(z, z)
    assert np.array_equal(delta, np.eye(30))
    test = z[:10] * 2j + 1e-3 * rng.normal(size=(10, 5))
    assert np.array_equal(K.nearest_index(test, z), np.arange(10))
    assert np.array_equal(K.delta_kernel(test, z).sum(axis=1), np.ones(10))
