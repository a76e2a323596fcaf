"""Geometry at sampled points: Ω, the pull-back, the Fubini–Study metric, weights and κ (SPEC §8).

In the chart of a point (``points.charts``): the holomorphic 3-form is ``Ω = 1 / (∂Q/∂z_j)`` with
``j`` the eliminated coordinate; the pull-back ``J`` (3 x N) is the identity on the three free
affine coordinates, ``-(∂Q/∂z_a)/(∂Q/∂z_j)`` in column ``j`` and 0 in the columns set to 1.
Fubini–Study on each factor P^n (convention of the public packages):
``g_ij̄ = (1/π)(δ_ij/|z|² - z̄_i z_j/|z|⁴)``; on a product, block-diagonal (Kähler moduli 1); on X,
``g = J g_FS J†`` with ``g[a, b] = Σ J[a, i] g_FS[i, j] conj(J[b, j])``.
Weights for line-sampled points: ``w = |Ω|² / det g_FS,X``; ``κ = <w det g / |Ω|²> / <w>``.

:func:`prepare` computes all of it at once (:class:`PointData`), as the trainer needs it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .points import Charts, charts, check_points
from .variety import Hypersurface, as_variety


@dataclass
class PointData:
    """Everything the measures and the networks need at a set of normalised points."""

    z: np.ndarray          # (n, N) complex128, normalised
    charts: Charts
    omega: np.ndarray      # (n,) complex: Ω in the point's chart
    pullback: np.ndarray   # (n, 3, N) complex: J
    g_fs: np.ndarray       # (n, 3, 3) complex: Fubini–Study metric on X in the chart
    weights: np.ndarray    # (n,) float: |Ω|² / det g_FS

    def __len__(self):
        return len(self.z)

    @property
    def omega_abs2(self) -> np.ndarray:
        return np.abs(self.omega) ** 2

    def subset(self, idx) -> "PointData":
        c = self.charts
        return PointData(self.z[idx], Charts(c.ones[idx], c.elim[idx], c.free[idx], c.ids[idx]),
                         self.omega[idx], self.pullback[idx], self.g_fs[idx], self.weights[idx])


def omega(variety: Hypersurface, z: np.ndarray, ch: Charts, grad: np.ndarray | None = None) -> np.ndarray:
    """``Ω = 1 / (∂Q/∂z_elim)`` at each point, (n,) complex."""
    grad = variety.gradient(z) if grad is None else grad
    return 1.0 / grad[np.arange(len(z)), ch.elim]


def pullback(variety: Hypersurface, z: np.ndarray, ch: Charts, grad: np.ndarray | None = None) -> np.ndarray:
    """``J[a, i] = ∂z_i/∂x_a`` (n, 3, N) for the free affine coordinates ``x_a`` of each chart."""
    grad = variety.gradient(z) if grad is None else grad
    n, N = z.shape
    rows = np.arange(n)
    d = ch.free.shape[1]
    J = np.zeros((n, d, N), dtype=np.complex128)
    de = grad[rows, ch.elim]
    for a in range(d):
        J[rows, a, ch.free[:, a]] = 1.0
        J[rows, a, ch.elim] = -grad[rows, ch.free[:, a]] / de
    return J


def fs_ambient(variety: Hypersurface, z: np.ndarray) -> np.ndarray:
    """Fubini–Study metric of the ambient product of projective spaces, (n, N, N) complex."""
    n, N = z.shape
    g = np.zeros((n, N, N), dtype=np.complex128)
    for sl in variety.factor_slices():
        b = z[:, sl]
        r2 = np.sum(np.abs(b) ** 2, axis=1)
        m = sl.stop - sl.start
        g[:, sl, sl] = (np.eye(m)[None] / r2[:, None, None]
                        - np.conj(b)[:, :, None] * b[:, None, :] / (r2 ** 2)[:, None, None]) / np.pi
    return g


def pull_back(J: np.ndarray, g_ambient: np.ndarray) -> np.ndarray:
    """``J g J†``: (n, 3, N) x (n, N, N) -> (n, 3, 3)."""
    return np.einsum("nai,nij,nbj->nab", J, g_ambient, np.conj(J), optimize=True)


def det_real(g: np.ndarray) -> np.ndarray:
    """Determinant of Hermitian matrices, as real numbers."""
    return np.real(np.linalg.det(g))


def prepare(z, variety=None, *, check: bool = True) -> PointData:
    """Normalise (and check) ``z`` and compute its charts, Ω, J, g_FS on X and the weights."""
    variety = as_variety(variety)
    z = check_points(variety, z) if check else np.asarray(z, dtype=np.complex128)
    grad = variety.gradient(z)
    ch = charts(variety, z, grad)
    om = omega(variety, z, ch, grad)
    J = pullback(variety, z, ch, grad)
    g = pull_back(J, fs_ambient(variety, z))
    w = np.abs(om) ** 2 / det_real(g)
    return PointData(z=z, charts=ch, omega=om, pullback=J, g_fs=g, weights=w)


def fs_metric(z, variety=None) -> np.ndarray:
    """The Fubini–Study metric on X in each point's chart, complex128 (n, 3, 3)."""
    return prepare(z, variety).g_fs


def weights(z, variety=None) -> np.ndarray:
    """Integration weights ``|Ω|² / det g_FS`` of line-sampled points (not normalised)."""
    return prepare(z, variety).weights


def kappa(z, variety=None, det_g: np.ndarray | None = None) -> float:
    """``κ = <w det g / |Ω|²> / <w>`` (``det_g`` defaults to the Fubini–Study metric's: κ = 1/<w>)."""
    data = prepare(z, variety)
    det_g = det_real(data.g_fs) if det_g is None else np.asarray(det_g)
    w = data.weights
    return float(np.sum(w * det_g / data.omega_abs2) / np.sum(w))
