"""The empirical metric-NTK of a finite metric network (paper eq. 2.7) and how it evolves in training.

``Theta_ijkl(x, x') = sum_I dg_ij(x)/dtheta_I dg_kl(x')/dtheta_I`` for the real components of the
metric: each Hermitian 3x3 metric is 9 real numbers (:func:`~.kernel_flow.to_real`: the diagonal,
then real and imaginary parts of the upper off-diagonal entries), so ``(ij)`` runs over 9 values
and the kernel is stored as a float32 array ``Theta[a, p, b, q]`` of shape (n1, 9, n2, 9)
(``Theta.reshape(9 n1, 9 n2)`` is the Gram matrix of the flattened Jacobians). 2,500 points:
81 x 2500^2 x 4 B = 2.0 GB, plus the Jacobians 2500 x 9 x P x 4 B (0.87 GB for the 3x64 network,
P = 9,609). Rows are computed in chunks of ``chunk`` points (torch.func ``jacrev`` under ``vmap``),
so peak memory is the output, the Jacobians of the second point set and one chunk. ``out=`` takes
a preallocated array, e.g. ``numpy.lib.format.open_memmap(path, "w+", np.float32, shape)``, to store
Theta on disk when it does not fit in memory; a kernel that does not fit raises
:class:`~cicy4lib.errors.KernelMemoryError` saying how much it needs.

The network here, :class:`MetricMLP`, is the multiplicative model on real features
``[Re z, Im z]``: ``v = v_FS * (1 + NN(x))`` on the 9 real components (Hermitian by construction).
Any network fits :func:`empirical_ntk` that is given as a function ``f(params, x_i, extra_i) -> (9,)``.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import PointSetError, UsageError
from .distances import check_memory
from .geometry import prepare
from .kernel_flow import det_real9, to_real
from .kernels import real_features

__all__ = ["MetricMLP", "empirical_ntk", "jacobians", "ntk_norm_change", "flow_prediction", "train_with_ntk",
           "sigma_loss_torch", "prepared_inputs"]


def _torch():
    import torch  # lazy: imports torch
    return torch


def MetricMLP(n_in: int = 10, hidden=(64, 64, 64), activation: str = "gelu", parameterization: str = "standard",
              seed: int = 0, dtype=None, readout_scale: float = 0.1):
    """The multiplicative metric network ``v = v_FS (1 + NN(x))`` (a torch ``nn.Module``).

    ``forward(x, v_fs)``: x (n, n_in) real features, v_fs (n, 9) Fubini–Study components -> (n, 9).
    ``parameterization="ntk"``: weights N(0, 1) and each layer's output divided by sqrt(fan_in)
    (the NTK parameterisation, in which a wide network trains lazily); ``"standard"``: PyTorch's
    default initialisation. The last layer starts at ``readout_scale`` times its usual scale (0.1: the
    network starts near Fubini–Study; the NTK then grows during training, so use 1.0 to compare
    kernel changes between networks).
    """
    torch = _torch()
    nn = torch.nn
    acts = {"gelu": nn.GELU, "relu": nn.ReLU, "tanh": nn.Tanh}
    if activation not in acts:
        raise UsageError(f"activation must be one of {sorted(acts)}, got {activation!r}")
    if parameterization not in ("standard", "ntk"):
        raise UsageError(f"parameterization must be 'standard' or 'ntk', got {parameterization!r}")

    class NTKLinear(nn.Module):
        def __init__(self, a, b):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(b, a))
            self.bias = nn.Parameter(torch.randn(b) * 0.1)
            self.scale = 1.0 / math.sqrt(a)

        def forward(self, x):
            return x @ (self.weight * self.scale).T + self.bias

    class _MetricMLP(nn.Module):
        def __init__(self):
            super().__init__()
            g = torch.random.fork_rng()
            with g:
                torch.manual_seed(seed)
                layers, a = [], n_in
                lin = NTKLinear if parameterization == "ntk" else nn.Linear
                for h in hidden:
                    layers += [lin(a, h), acts[activation]()]
                    a = h
                last = lin(a, 9)
                with torch.no_grad():
                    last.weight.mul_(readout_scale)
                    last.bias.mul_(readout_scale)
                layers.append(last)
                self.net = nn.Sequential(*layers)
            self.config = {"n_in": n_in, "hidden": list(hidden), "activation": activation,
                           "parameterization": parameterization, "seed": seed, "readout_scale": readout_scale}

        def forward(self, x, v_fs):
            return v_fs * (1 + self.net(x))

    model = _MetricMLP()
    if dtype is not None:
        model = model.to(dtype)
    return model


def _as_tensor(a, dtype):
    torch = _torch()
    return a.to(dtype) if hasattr(a, "to") else torch.as_tensor(np.asarray(a), dtype=dtype)


def jacobians(model, x, v_fs, *, chunk: int = 256, dtype=None):
    """Jacobians of the 9 metric components w.r.t. every parameter, (n, 9, P) torch tensor."""
    torch = _torch()
    from torch.func import functional_call, jacrev, vmap  # lazy: imports torch

    dtype = dtype or next(model.parameters()).dtype
    params = {k: v.detach().to(dtype) for k, v in model.named_parameters()}
    x = _as_tensor(x, dtype)
    v_fs = _as_tensor(v_fs, dtype)
    if x.ndim != 2 or v_fs.shape != (len(x), 9):
        raise PointSetError(f"expected features (n, d) and FS components (n, 9), got {tuple(x.shape)} and "
                            f"{tuple(v_fs.shape)}")

    def f(p, xi, vi):
        return functional_call(model, p, (xi[None], vi[None]))[0]

    jf = vmap(jacrev(f), in_dims=(None, 0, 0))
    out = []
    for s in range(0, len(x), chunk):
        jac = jf(params, x[s:s + chunk], v_fs[s:s + chunk])
        out.append(torch.cat([j.reshape(j.shape[0], 9, -1) for j in jac.values()], dim=2))
    return torch.cat(out) if out else torch.zeros((0, 9, sum(p.numel() for p in params.values())), dtype=dtype)


# two point sets plus chunking and memory options of one kernel evaluation
def empirical_ntk(model, x1, v1, x2=None, v2=None, *, chunk: int = 256, dtype=None, out=None,
                  memory_check: bool = True, out_dtype=np.float32) -> np.ndarray:
    """Empirical metric-NTK ``Theta[a, p, b, q]`` (n1, 9, n2, 9) float32 numpy of ``model`` between
    points (features ``x1``, FS components ``v1``) and (``x2``, ``v2``; default the same points).

    ``chunk``: rows of points per Jacobian/product block. ``out``: a preallocated (n1, 9, n2, 9)
    float32 array (or memmap) to fill. Raises KernelMemoryError, with the size and how to chunk,
    when Theta (if not given ``out``) plus the Jacobians would not fit in memory.
    """
    torch = _torch()
    dtype = dtype or torch.float32
    same = x2 is None
    n1 = len(x1)
    n2 = n1 if same else len(x2)
    P = sum(p.numel() for p in model.parameters())
    esize = torch.tensor([], dtype=dtype).element_size()
    need = esize * 9 * P * (n2 + chunk) + 4 * 81 * n1 * n2 * (out is None) + 4 * 81 * chunk * n2
    if memory_check:
        check_memory(need, f"the metric-NTK of {n1} x {n2} points ({P} parameters)",
                     f"Theta alone is {4 * 81 * n1 * n2 / 2 ** 30:.2f} GiB: pass out=numpy.lib.format.open_memmap("
                     f"path, 'w+', numpy.float32, ({n1}, 9, {n2}, 9)) to keep it on disk, or compute blocks of "
                     f"rows (x1[i:j]) against x2 and reduce each block before the next; the Jacobians of x2 "
                     f"need {esize * 9 * P * n2 / 2 ** 30:.2f} GiB (split x2 too if that is the problem)")
    if out is None:
        out = np.empty((n1, 9, n2, 9), dtype=out_dtype)
    elif tuple(out.shape) != (n1, 9, n2, 9):
        raise PointSetError(f"out has shape {tuple(out.shape)}, expected {(n1, 9, n2, 9)}")
    J2 = jacobians(model, x1 if same else x2, v1 if same else v2, chunk=chunk, dtype=dtype)
    J2f = J2.reshape(n2 * 9, P)
    with torch.no_grad():
        for s in range(0, n1, chunk):
            e = min(n1, s + chunk)
            J1 = J2[s:e] if same else jacobians(model, x1[s:e], v1[s:e], chunk=chunk, dtype=dtype)
            blk = J1.reshape((e - s) * 9, P) @ J2f.T
            out[s:e] = blk.reshape(e - s, 9, n2, 9).cpu().numpy()
    return out


def ntk_norm_change(theta_t, theta_0) -> float:
    """``||Theta_t - Theta_0||_F / ||Theta_0||_F``."""
    a = np.asarray(theta_t, dtype=np.float64)
    b = np.asarray(theta_0, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def flow_prediction(theta, grad_v, lr: float) -> np.ndarray:
    """The metric change ``-lr sum_x' Theta(x, x') dL/dg(x')`` (eq. 2.8) as (n1, 9) components."""
    theta = np.asarray(theta, dtype=np.float64)
    n1, _, n2, _ = theta.shape
    return -lr * (theta.reshape(n1 * 9, n2 * 9) @ np.asarray(grad_v, dtype=np.float64).reshape(-1)).reshape(n1, 9)


def sigma_loss_torch(v, omega_abs2, w, eta_ref=None):
    """σ of metrics given as (n, 9) real components (torch, differentiable)."""
    eta = det_real9(v) / omega_abs2
    mean = (w * eta).sum() / w.sum() if eta_ref is None else eta_ref
    return (w * (1 - eta / mean).abs()).sum() / w.sum()


# the optimiser's and the probe's settings, keyword only as the notebook sets them
def train_with_ntk(model, train: dict, val: dict, *, epochs: int = 20, steps_per_epoch: int = 10,
                   lr: float = 1e-3, optimizer: str = "adam", batch_size: int | None = None,
                   probe: int = 100, seed: int = 0, dtype=None, log=None) -> dict:
    """Train ``model`` with the σ-loss and record, per epoch, σ on train and validation and the
    relative change of its empirical NTK on ``probe`` training points,
    ``||Theta_t - Theta_0|| / ||Theta_0||`` (the frozen-vs-evolving kernel diagnostic).

    ``train``/``val``: dicts with ``x`` (features), ``v_fs`` (n, 9), ``omega_abs2``, ``w``.
    Full batch unless ``batch_size``. Returns the history dict.
    """
    torch = _torch()
    dtype = dtype or next(model.parameters()).dtype
    T = {k: _as_tensor(v, dtype) for k, v in train.items()}
    V = {k: _as_tensor(v, dtype) for k, v in val.items()}
    n = len(T["x"])
    gen = torch.Generator().manual_seed(seed)
    pidx = torch.randperm(n, generator=gen)[:probe]
    theta0 = empirical_ntk(model, T["x"][pidx], T["v_fs"][pidx], memory_check=False)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        raise UsageError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")

    def sig(D):
        with torch.no_grad():
            return float(sigma_loss_torch(model(D["x"], D["v_fs"]), D["omega_abs2"], D["w"]))

    hist = {"epoch": [0], "sigma_train": [sig(T)], "sigma_val": [sig(V)], "ntk_change": [0.0], "time_s": [0.0]}
    t0 = time.perf_counter()
    for ep in range(1, epochs + 1):
        for _ in range(steps_per_epoch):
            idx = torch.randperm(n, generator=gen)[:batch_size] if batch_size else slice(None)
            opt.zero_grad()
            loss = sigma_loss_torch(model(T["x"][idx], T["v_fs"][idx]), T["omega_abs2"][idx], T["w"][idx])
            loss.backward()
            opt.step()
        theta = empirical_ntk(model, T["x"][pidx], T["v_fs"][pidx], memory_check=False)
        hist["epoch"].append(ep)
        hist["sigma_train"].append(sig(T))
        hist["sigma_val"].append(sig(V))
        hist["ntk_change"].append(ntk_norm_change(theta, theta0))
        hist["time_s"].append(time.perf_counter() - t0)
        if log:
            log(f"epoch {ep}: sigma_train {hist['sigma_train'][-1]:.4f} sigma_val {hist['sigma_val'][-1]:.4f} "
                f"ntk change {hist['ntk_change'][-1]:.3f}")
    return hist


def prepared_inputs(z, variety=None) -> dict:
    """``{"x", "v_fs", "omega_abs2", "w"}`` at points ``z`` for :func:`train_with_ntk` / :func:`empirical_ntk`."""
    d = prepare(z, variety)
    return {"x": real_features(d.z), "v_fs": to_real(d.g_fs), "omega_abs2": d.omega_abs2, "w": d.weights}
