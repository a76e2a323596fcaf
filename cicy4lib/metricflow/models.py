"""Neural-network metrics on X (SPEC §8): the multiplicative model and the φ-model.

- :class:`MultiplicativeMetric`: ``g = g_FS ⊙ (1 + g_NN)``; the network maps the point's real
  coordinates (``Re z, Im z`` of the normalised point) to 9 reals that form a Hermitian 3 x 3
  matrix ``g_NN`` (3 real diagonal entries, 3 complex upper entries). Not Kähler in general.
- :class:`PhiMetric`: ``g = g_FS + ∂∂̄φ_NN`` with ``φ`` a network of the projective invariants
  ``z_i z̄_j / |z|²`` of each factor (so φ is a function on the ambient space, and the metric is
  the same in every chart: no transition loss needed). Kähler by construction:
  ``∂_a g_{b c̄} = ∂_b g_{a c̄}``. ``∂∂̄φ`` is pulled back with the chart's ``J``: for each row ``v_a``
  of ``J`` the real directions ``u_a = (Re v_a, Im v_a)`` and ``u'_a = (-Im v_a, Re v_a)``; with the
  real Hessian ``H`` of φ, ``(∂∂̄φ)_{ab̄} = ¼[H(u_a,u_b) + H(u'_a,u'_b) + i(H(u_a,u'_b) - H(u'_a,u_b))]``,
  computed by double backward (autograd ``create_graph``) in the 6 directions only.

Both: 3 hidden layers of 64, GELU (smooth; ∂∂̄ of a ReLU network vanishes almost everywhere), the
last layer initialised to zero so training starts from Fubini–Study. float64 by default.

Differentiable metric for the metric-NTK (part 2)::

    from cicy4lib.metricflow.models import metric_torch, point_tensors
    pts = point_tensors(data, dtype=torch.float64)   # data = mf.prepare(z)
    g = metric_torch(model, pts)                       # complex (n, 3, 3) torch tensor, a function
                                                       # of model.parameters() (autograd / torch.func)

``metric_torch`` accepts a :class:`~cicy4lib.metricflow.geometry.PointData`, raw points ``z`` or the
dict of :func:`point_tensors`. :func:`metric_numpy` is the same as complex128 numpy (no graph).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import MetricFlowError
from .geometry import PointData, prepare
from .variety import Hypersurface, as_variety

MODEL_KINDS = ("phi", "multiplicative")
_ACTIVATIONS = {"gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU, "softplus": nn.Softplus, "relu": nn.ReLU}


def mlp(n_in: int, n_out: int, hidden=(64, 64, 64), activation: str = "gelu", *, last_bias: bool = True) -> nn.Sequential:
    if activation not in _ACTIVATIONS:
        raise MetricFlowError(f"activation {activation!r}: choose one of {sorted(_ACTIVATIONS)}")
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, int(h)), _ACTIVATIONS[activation]()]
        width = int(h)
    last = nn.Linear(width, n_out, bias=last_bias)
    nn.init.zeros_(last.weight)
    if last_bias:
        nn.init.zeros_(last.bias)
    layers.append(last)
    return nn.Sequential(*layers)


def real_coords(z: torch.Tensor) -> torch.Tensor:
    """(n, N) complex -> (n, 2N) real ``[Re z, Im z]``."""
    return torch.cat([z.real, z.imag], dim=1)


def point_tensors(data, *, dtype=torch.float64, device="cpu") -> dict:
    """Torch tensors of prepared points: ``x`` (n, 2N) real coords, ``J`` (n, 3, N), ``g_fs`` (n, 3, 3),
    ``omega_abs2`` (n,), ``weights`` (n,). Complex tensors get the complex dtype matching ``dtype``."""
    if not isinstance(data, PointData):
        raise MetricFlowError(f"point_tensors needs PointData (mf.prepare(z)), got {type(data).__name__}")
    cdt = torch.complex128 if dtype == torch.float64 else torch.complex64

    def c(a):
        return torch.as_tensor(a).to(device=device, dtype=cdt)

    def r(a):
        return torch.as_tensor(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    return {"x": r(np.concatenate([data.z.real, data.z.imag], axis=1)), "J": c(data.pullback),
            "g_fs": c(data.g_fs), "omega_abs2": r(data.omega_abs2), "weights": r(data.weights)}


class MetricModel(nn.Module):
    """Base: holds the variety and architecture; ``forward(pts) -> complex (n, 3, 3)``."""

    kind = "base"

    def __init__(self, variety=None, hidden=(64, 64, 64), activation="gelu"):
        super().__init__()
        self.variety: Hypersurface = as_variety(variety)
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation

    def arch(self) -> dict:
        return {"kind": self.kind, "hidden": list(self.hidden), "activation": self.activation,
                "configuration": self.variety.configuration, "variety": self.variety.name,
                "n_parameters": sum(p.numel() for p in self.parameters())}


class MultiplicativeMetric(MetricModel):
    """``g = g_FS ⊙ (1 + g_NN)``, ``g_NN`` Hermitian from 9 network outputs."""

    kind = "multiplicative"

    def __init__(self, variety=None, hidden=(64, 64, 64), activation="gelu"):
        super().__init__(variety, hidden, activation)
        self.net = mlp(2 * self.variety.n_coords, 9, self.hidden, activation)
        iu = torch.triu_indices(3, 3, offset=1)
        self.register_buffer("_iu", iu, persistent=False)

    def forward(self, pts: dict) -> torch.Tensor:
        o = self.net(pts["x"])
        cdt = pts["g_fs"].dtype
        h = torch.diag_embed(o[:, :3]).to(cdt)
        upper = torch.complex(o[:, 3:6], o[:, 6:9]).to(cdt)
        off = torch.zeros_like(h)
        off[:, self._iu[0], self._iu[1]] = upper
        h = h + off + off.conj().transpose(1, 2)
        return pts["g_fs"] * (1 + h)


def projective_features(x: torch.Tensor, variety: Hypersurface) -> torch.Tensor:
    """Real invariants of each factor: ``|z_i|²/|z|²`` and ``Re, Im (z_i z̄_j)/|z|²`` (i < j)."""
    N = variety.n_coords
    re, im = x[:, :N], x[:, N:]
    feats = []
    for sl in variety.factor_slices():
        a, b = re[:, sl], im[:, sl]
        r2 = (a * a + b * b).sum(1, keepdim=True)
        m = sl.stop - sl.start
        i, j = torch.triu_indices(m, m, offset=1)
        feats += [(a * a + b * b) / r2,
                  (a[:, i] * a[:, j] + b[:, i] * b[:, j]) / r2,      # Re z_i z̄_j
                  (b[:, i] * a[:, j] - a[:, i] * b[:, j]) / r2]      # Im z_i z̄_j
    return torch.cat(feats, dim=1)


class PhiMetric(MetricModel):
    """``g = g_FS + ∂∂̄φ_NN`` (Kähler). ``φ`` is a network of the projective invariants of ``z``."""

    kind = "phi"

    def __init__(self, variety=None, hidden=(64, 64, 64), activation="gelu"):
        super().__init__(variety, hidden, activation)
        n_feat = sum((n + 1) ** 2 for n in self.variety.dims)
        # no output bias: a constant in φ does not change ∂∂̄φ (every parameter then has a gradient)
        self.net = mlp(n_feat, 1, self.hidden, activation, last_bias=False)

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(projective_features(x, self.variety))[:, 0]

    def forward(self, pts: dict) -> torch.Tensor:
        x0, J = pts["x"], pts["J"]
        n, d, N = J.shape
        U = torch.cat([torch.cat([J.real, J.imag], dim=2),           # u_a  = (Re v_a, Im v_a)
                       torch.cat([-J.imag, J.real], dim=2)], dim=1)  # u'_a = (-Im v_a, Re v_a)
        U = U.to(x0.dtype)                                           # (n, 2d, 2N)
        with torch.enable_grad():
            s = torch.zeros(n, 2 * d, dtype=x0.dtype, device=x0.device, requires_grad=True)
            x = x0 + torch.einsum("nk,nkj->nj", s, U)
            phi = self.phi(x)
            g1 = torch.autograd.grad(phi.sum(), s, create_graph=True)[0]          # (n, 2d)
            rows = [torch.autograd.grad(g1[:, k].sum(), s, create_graph=True)[0] for k in range(2 * d)]
        H = torch.stack(rows, dim=1)                                                # (n, 2d, 2d)
        A, B = H[:, :d, :d], H[:, d:, d:]
        C, D = H[:, :d, d:], H[:, d:, :d]
        ddbar = 0.25 * torch.complex(A + B, C - D)
        return pts["g_fs"] + ddbar.to(pts["g_fs"].dtype)


def build_metric_model(kind: str = "phi", variety=None, hidden=(64, 64, 64), activation: str = "gelu",
                       *, seed: int | None = None, dtype=torch.float64) -> MetricModel:
    """A new metric network; ``seed`` fixes the initial weights."""
    if kind not in MODEL_KINDS:
        raise MetricFlowError(f"unknown metric model {kind!r}: choose one of {MODEL_KINDS}")
    if kind == "phi" and activation == "relu":
        raise MetricFlowError("the φ-model needs a smooth activation: ∂∂̄ of a ReLU network vanishes "
                              "almost everywhere (use gelu, tanh, silu or softplus)")
    if seed is not None:
        torch.manual_seed(int(seed))
    cls = PhiMetric if kind == "phi" else MultiplicativeMetric
    return cls(variety, hidden, activation).to(dtype)


def _as_pts(model: MetricModel, points, dtype, device) -> dict:
    if isinstance(points, dict):
        return points
    if not isinstance(points, PointData):
        points = prepare(points, model.variety)
    return point_tensors(points, dtype=dtype, device=device)


def _model_dtype(model: nn.Module):
    p = next(model.parameters())
    return p.dtype, p.device


def metric_torch(model: MetricModel, points) -> torch.Tensor:
    """The model's metric at ``points`` as a complex torch tensor (n, 3, 3), differentiable in the
    model's parameters. ``points``: raw ``z``, :class:`PointData` or :func:`point_tensors`' dict."""
    dtype, device = _model_dtype(model)
    return model(_as_pts(model, points, dtype, device))


def metric_numpy(model: MetricModel, points, *, batch_size: int = 4096) -> np.ndarray:
    """The model's metric as complex128 numpy (n, 3, 3), evaluated in batches without a graph."""
    dtype, device = _model_dtype(model)
    if not isinstance(points, PointData):
        points = prepare(points, model.variety)
    out = []
    for start in range(0, len(points), batch_size):
        pts = point_tensors(points.subset(slice(start, start + batch_size)), dtype=dtype, device=device)
        g = model(pts)
        out.append(g.detach().cpu().to(torch.complex128).numpy())
    return np.concatenate(out) if out else np.zeros((0, 3, 3), dtype=np.complex128)
