"""Measures of Ricci-flatness: the σ-measure, the Monge–Ampère loss, the Kähler defect (SPEC §8).

With ``η = det g / |Ω|²`` and the sampler's weights ``w``:

- σ (paper eq. B.11; Douglas et al.): ``σ = Σ w |1 - η/<η>_w| / Σ w``. Fubini–Study on the
  Fermat quintic: σ_FS ≈ 0.3726; the Ricci-flat metric has σ = 0.
- Monge–Ampère loss (public packages): ``|1 - det g / (κ |Ω|²)|``, weighted mean (``p=1``) or
  weighted mean of squares (``p=2``); κ fixed (the Kähler class fixes the volume).
- Kähler defect: ``max |∂_a g_{b c̄} - ∂_b g_{a c̄}|`` relative to ``max |∂g|``, by central finite
  differences along X in each point's chart (the eliminated coordinate re-solved by Newton).

The core formulas (:func:`sigma_of`, :func:`ma_loss_of`) take numpy arrays or torch tensors.
"""
from __future__ import annotations

import numpy as np

from .geometry import PointData, det_real, fs_ambient, omega, prepare, pull_back, pullback
from .points import Charts
from .variety import as_variety


def sigma_of(det_g, omega_abs2, w):
    """σ from ``det g``, ``|Ω|²`` and weights (numpy or torch, differentiable in torch)."""
    eta = det_g / omega_abs2
    mean = (w * eta).sum() / w.sum()
    return (w * abs(1 - eta / mean)).sum() / w.sum()


def ma_loss_of(det_g, omega_abs2, w, kappa, p: int = 1):
    """Weighted Monge–Ampère loss ``<|1 - det g/(κ|Ω|²)|^p>_w`` (numpy or torch)."""
    r = abs(1 - det_g / (kappa * omega_abs2))
    return (w * r ** p).sum() / w.sum()


def _metric_and_data(z, model, variety):
    variety = getattr(model, "variety", None) if variety is None and model is not None else variety
    data = prepare(z, variety)
    if model is None:
        return data.g_fs, data
    from .models import metric_numpy  # lazy: models imports torch
    return metric_numpy(model, data), data


def sigma_measure(z, model=None, *, variety=None) -> float:
    """σ of the metric of ``model`` (None: Fubini–Study) at points ``z``, weighted by the sampler's weights."""
    g, data = _metric_and_data(z, model, variety)
    return float(sigma_of(np.abs(det_real(g)), data.omega_abs2, data.weights))


def kappa_of(data: PointData, g=None) -> float:
    """``κ = <w det g/|Ω|²>/<w>`` at prepared points (``g`` defaults to Fubini–Study)."""
    det_g = det_real(data.g_fs if g is None else g)
    return float(np.sum(data.weights * det_g / data.omega_abs2) / np.sum(data.weights))


def ma_loss(z, model=None, *, kappa: float | None = None, variety=None, p: int = 1) -> float:
    """Monge–Ampère loss at ``z``; ``kappa`` defaults to that of Fubini–Study at the same points."""
    g, data = _metric_and_data(z, model, variety)
    k = kappa_of(data) if kappa is None else kappa
    return float(ma_loss_of(det_real(g), data.omega_abs2, data.weights, k, p))


# --------------------------------------------------------------------------- Kähler check
def _move(variety, data: PointData, a, step) -> np.ndarray:
    """Points with free coordinate ``a`` moved by ``step`` (or coordinates ``a[k]`` by ``step[k]``),
    the eliminated one re-solved on X by Newton."""
    z = data.z.copy()
    rows = np.arange(len(z))
    for a_k, s_k in (zip(a, step) if isinstance(a, (tuple, list)) else [(a, step)]):
        z[rows, data.charts.free[:, a_k]] += s_k
    e = data.charts.elim
    for _ in range(30):
        f = variety.evaluate(z)
        d = variety.gradient(z)[rows, e]
        z[rows, e] -= f / d
        if np.max(np.abs(f)) < 1e-15:
            break
    return z


def kahler_defect(z, metric_fn=None, *, variety=None, h: float = 1e-4) -> dict:
    """How far ``metric_fn`` is from Kähler: ``∂_a g_{b c̄} - ∂_b g_{a c̄}`` by finite differences.

    ``metric_fn(data) -> (n, 3, 3)`` evaluates the metric at prepared points in their own charts
    (the moved points keep the chart of the original point); default Fubini–Study. Returns
    ``{"max_abs", "max_rel", "scale"}``: the largest defect, that divided by the largest
    ``|∂_a g_{b c̄}|`` (the size of the derivatives), and that size.
    """
    variety = as_variety(variety)
    data = prepare(z, variety)
    if metric_fn is None:
        metric_fn = lambda d: d.g_fs  # noqa: E731
    n = len(data)
    d = data.charts.free.shape[1]
    dg = np.zeros((n, d, d, d), dtype=np.complex128)      # dg[:, a, b, c] = ∂_a g_{b c̄}
    for a in range(d):
        vals = []
        for step in (h, -h, 1j * h, -1j * h):
            zz = _move(variety, data, a, step)
            moved = prepare(zz, variety, check=False)
            moved = PointData(moved.z, data.charts, *_in_chart(variety, moved.z, data.charts))
            vals.append(metric_fn(moved))
        dx = (vals[0] - vals[1]) / (2 * h)
        dy = (vals[2] - vals[3]) / (2 * h)
        dg[:, a] = 0.5 * (dx - 1j * dy)
    defect = np.abs(dg - dg.transpose(0, 2, 1, 3))
    scale = float(np.abs(dg).max())
    return {"max_abs": float(defect.max()), "max_rel": float(defect.max() / scale), "scale": scale}


def _in_chart(variety, z, ch: Charts):
    """Ω, J, g_FS, weights at points ``z`` in the given charts (not the charts' rule)."""
    grad = variety.gradient(z)
    om = omega(variety, z, ch, grad)
    J = pullback(variety, z, ch, grad)
    g = pull_back(J, fs_ambient(variety, z))
    return om, J, g, np.abs(om) ** 2 / det_real(g)


def ricci_scalar(z, metric_fn=None, *, variety=None, h: float = 1e-3) -> np.ndarray:
    """Ricci scalar ``R = -g^{ab̄} ∂_a ∂̄_b log det g`` at points ``z`` by finite differences in each
    point's chart (a check on a small batch; O(h²) error, 85 metric evaluations per point).

    ``metric_fn(data) -> (n, 3, 3)`` as in :func:`kahler_defect` (default Fubini–Study). The Ricci-flat
    metric has R = 0; ``log det g`` changes by a pluriharmonic function between charts, so R does not
    depend on the chart.
    """
    variety = as_variety(variety)
    data = prepare(z, variety)
    if metric_fn is None:
        metric_fn = lambda d: d.g_fs  # noqa: E731

    def logdet(moves):
        if moves:
            idx, steps = zip(*moves)
            zz = _move(variety, data, list(idx), list(steps))
        else:
            zz = data.z
        moved = PointData(zz, data.charts, *_in_chart(variety, zz, data.charts))
        return np.log(np.abs(det_real(metric_fn(moved))))

    d = data.charts.free.shape[1]
    dirs = [(a, 1.0) for a in range(d)] + [(a, 1j) for a in range(d)]   # real directions x_a, y_a
    f0 = logdet([])
    hess = np.zeros((len(data), 2 * d, 2 * d))
    for i in range(2 * d):
        for j in range(i, 2 * d):
            (a, u), (b, v) = dirs[i], dirs[j]
            if i == j:
                val = (logdet([(a, h * u)]) - 2 * f0 + logdet([(a, -h * u)])) / h ** 2
            else:
                val = (logdet([(a, h * u), (b, h * v)]) - logdet([(a, h * u), (b, -h * v)])
                       - logdet([(a, -h * u), (b, h * v)]) + logdet([(a, -h * u), (b, -h * v)])) / (4 * h ** 2)
            hess[:, i, j] = hess[:, j, i] = val
    A, B, C, D = hess[:, :d, :d], hess[:, d:, d:], hess[:, :d, d:], hess[:, d:, :d]
    ddbar = 0.25 * (A + B + 1j * (C - D))                                 # ∂_a ∂̄_b log det g
    g = metric_fn(data)
    ginv = np.linalg.inv(g)                                              # g^{b̄ a}
    return -np.real(np.einsum("nba,nab->n", ginv, ddbar))
