"""Kernels of the paper's §3.2 and the infinite-width theory of its §2.3.2 (numpy only).

The metric-NTK of these kernels is ``Theta_ijkl(x, x') = delta_ik delta_jl K(x, x')`` (eq. 2.23):
every real component of the metric flows with the same scalar kernel ``K``.

- :func:`relu_ntk` — closed-form infinite-width NTK of a network with one hidden ReLU layer in NTK
  parameterisation (the arc-cosine recursion; what neural-tangents' ``serial(Dense, Relu, Dense)``
  computes, written out here so that nothing depends on neural-tangents). Inputs are real
  features, e.g. :func:`real_features` of the homogeneous coordinates.
- :func:`gaussian_kernel` — eq. 3.5 on the FS geodesic distance (with eq. 3.4's threshold).
- :func:`delta_kernel` — each point takes the update of its nearest training point.
- :func:`cosine_ntk` / :func:`cosine_normalisation` — the cosine network of eqs. 2.32–2.37, in the
  corrected form (see their docstrings for what the paper printed).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import PointSetError, UsageError
from .distances import as_points, check_memory, fs_distance, nearest_distances

__all__ = ["real_features", "relu_ntk", "relu_nngp", "gaussian_kernel", "delta_kernel",
           "nearest_index", "cosine_ntk", "cosine_normalisation", "paper_cosine_normalisation",
           "Kernel", "ReluNTK", "GaussianKernel", "DeltaKernel", "make_kernel", "TABLE1"]

# Table 1 of the paper: hyperparameters of the three kernel flows.
TABLE1 = {
    "relu": {"points": 2500, "lr": 0.1, "sigma_b": 80.52, "sigma_w": 5.716},
    "gaussian": {"points": 2500, "lr": 0.1583, "sigma": 30.0},
    "delta": {"points": 1000, "lr": 0.3162},
}


def real_features(z) -> np.ndarray:
    """Real input features of points: ``[Re z, Im z]`` (n, 2k) float64 (the paper's inputs)."""
    z = as_points(z)
    return np.concatenate([z.real, z.imag], axis=1).astype(np.float64)


def _features(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise PointSetError(f"{name}: expected real features of shape (n, d), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise PointSetError(f"{name}: non-finite features")
    return x


def _relu_kernels(x1, x2, sigma_w, sigma_b):
    x1 = _features(x1, "x1")
    x2 = _features(x2, "x2")
    if x1.shape[1] != x2.shape[1]:
        raise PointSetError(f"mismatched feature sets: x1 has {x1.shape[1]} features, x2 has {x2.shape[1]}")
    if not (sigma_w > 0 and sigma_b >= 0):
        raise UsageError(f"relu_ntk needs sigma_w > 0 and sigma_b >= 0, got {sigma_w}, {sigma_b}")
    check_memory(4 * 8 * x1.shape[0] * x2.shape[0], f"a ReLU NTK of {x1.shape[0]} x {x2.shape[0]} points",
                 "compute it in blocks of rows of x1")
    d = x1.shape[1]
    sw2, sb2 = float(sigma_w) ** 2, float(sigma_b) ** 2
    # input layer: neural-tangents normalises the input covariance by the number of features
    k12 = sw2 * (x1 @ x2.T) / d + sb2
    k11 = sw2 * np.einsum("ij,ij->i", x1, x1) / d + sb2
    k22 = sw2 * np.einsum("ij,ij->i", x2, x2) / d + sb2
    ntk = k12.copy()  # Theta <- K + sigma_w^2 * 0
    norm = np.sqrt(np.outer(k11, k22))
    cos = np.clip(k12 / np.where(norm > 0, norm, 1.0), -1.0, 1.0)
    theta = np.arccos(cos)
    k12 = (norm * np.sin(theta) + (np.pi - theta) * k12) / (2 * np.pi)  # ReLU
    ntk = ntk * (np.pi - theta) / (2 * np.pi)
    nngp = sw2 * k12 + sb2  # readout Dense
    ntk = nngp + sw2 * ntk
    return nngp, ntk


def relu_ntk(x1, x2, sigma_w: float, sigma_b: float) -> np.ndarray:
    """Infinite-width NTK of ``Dense(sigma_w, sigma_b) -> ReLU -> Dense(sigma_w, sigma_b)`` in NTK
    parameterisation, (n1, n2) float64.

    Network: ``f(x) = sigma_w/sqrt(n) v . relu(sigma_w/sqrt(d) W x + sigma_b b) + sigma_b b'``
    with every parameter N(0, 1), width n -> infinity. Recursion (neural-tangents' convention,
    input covariance ``x . x' / d``): per dense layer ``K <- sigma_w^2 K + sigma_b^2``,
    ``Theta <- K + sigma_w^2 Theta``; per ReLU ``t = arccos(K12 / sqrt(K11 K22))``,
    ``K12 <- (sqrt(K11 K22) sin t + (pi - t) K12) / (2 pi)``, ``K11 <- K11 / 2``,
    ``Theta <- Theta (pi - t) / (2 pi)``. Table 1 uses ``sigma_w = 5.716, sigma_b = 80.52``.
    """
    return _relu_kernels(x1, x2, sigma_w, sigma_b)[1]


def relu_nngp(x1, x2, sigma_w: float, sigma_b: float) -> np.ndarray:
    """The NNGP kernel (output covariance at initialisation) of the same network as :func:`relu_ntk`."""
    return _relu_kernels(x1, x2, sigma_w, sigma_b)[0]


def gaussian_kernel(z1, z2=None, sigma: float = 30.0, *, form: str = "paper",
                    threshold: float | None = None) -> np.ndarray:
    """Gaussian kernel on the FS geodesic distance ``d`` (paper eq. 3.5), (n1, n2) float64.

    ``form="paper"``: ``exp(-d / (2 sigma))`` as eq. 3.5 prints it (the exponent is linear in d);
    with Table 1's ``sigma = 30`` this kernel lies in [0.974, 1] on all of [0, pi/2], i.e. almost
    flat. ``form="squared"``: the textbook Gaussian ``exp(-d^2 / (2 sigma^2))``.
    ``form="rate"``: ``exp(-sigma d / 2)``, Table 1's value read as an inverse width (one reading
    under which sigma = 30 gives a narrow kernel, as the paper says its optimiser preferred).
    Distances below the eq.-3.4 threshold are 0 (see :func:`~.distances.fs_distance`).
    """
    if not sigma > 0:
        raise UsageError(f"gaussian_kernel needs sigma > 0, got {sigma}")
    d = fs_distance(z1, z2, threshold=threshold)
    if form == "paper":
        return np.exp(-d / (2.0 * sigma))
    if form == "squared":
        return np.exp(-d * d / (2.0 * sigma * sigma))
    if form == "rate":
        return np.exp(-sigma * d / 2.0)
    raise UsageError(f"gaussian_kernel form must be 'paper', 'squared' or 'rate', got {form!r}")


def nearest_index(z, z_train, *, chunk: int = 1024) -> np.ndarray:
    """Index into ``z_train`` of the nearest training point (FS distance) of each point of ``z``."""
    a = as_points(z, "z")
    b = as_points(z_train, "z_train")
    if a.shape[1] != b.shape[1]:
        raise PointSetError(f"mismatched point sets: z has {a.shape[1]} homogeneous coordinates, "
                            f"z_train has {b.shape[1]}")
    ua = a / np.linalg.norm(a, axis=1, keepdims=True)
    ub = (b / np.linalg.norm(b, axis=1, keepdims=True)).conj().T.copy()
    out = np.empty(a.shape[0], dtype=np.int64)
    for s in range(0, a.shape[0], chunk):
        out[s:s + chunk] = np.abs(ua[s:s + chunk] @ ub).argmax(axis=1)
    return out


def delta_kernel(z, z_train) -> np.ndarray:
    """Delta kernel (§3.2): ``K[a, b] = 1`` if training point b is the nearest training point of
    point a, else 0; (n, n_train) float64. On the training set itself it is the identity."""
    idx = nearest_index(z, z_train)
    b = np.asarray(z_train).shape[0]
    check_memory(8 * len(idx) * b, f"a Delta kernel of {len(idx)} x {b} points",
                 "use nearest_index(z, z_train) (the kernel's sparse form)")
    k = np.zeros((len(idx), b))
    k[np.arange(len(idx)), idx] = 1.0
    return k


# ---- the cosine network of §2.3.2 -------------------------------------------------------------

def cosine_normalisation(d: int, sigma_w: float) -> float:
    """Normalisation A of the cosine network such that its NTK ``A^2/2 exp(-sigma_w^2 |x-x'|^2/(2d))``
    integrates to 1 over R^d: ``A = sqrt(2) (sigma_w / sqrt(2 pi d))^(d/2)``.

    The paper's eq. 2.36 prints ``A = 2^(1/4) (sigma_w / sqrt(2 pi d))^(d/4)`` (the square root of
    the right value); its NTK integrates to 2.26, not 1, at d = 3, sigma_w = 2
    (:func:`paper_cosine_normalisation`).
    """
    return math.sqrt(2.0) * (sigma_w / math.sqrt(2 * math.pi * d)) ** (d / 2)


def paper_cosine_normalisation(d: int, sigma_w: float) -> float:
    """A as eq. 2.36 prints it (wrong by a square root; see :func:`cosine_normalisation`)."""
    return 2 ** 0.25 * (sigma_w / math.sqrt(2 * math.pi * d)) ** (d / 4)


def cosine_ntk(x1, x2, sigma_w: float, A: float = 1.0) -> np.ndarray:
    """Infinite-width NTK (w.r.t. the readout weights a) of the cosine network in the corrected form
    ``phi(x) = A/sqrt(N) sum_i a_i cos(w_i . x + b_i)``, ``w_i ~ N(0, sigma_w^2/d I_d)``,
    ``b_i ~ U(-pi, pi)``: ``A^2/2 exp(-sigma_w^2 |x - x'|^2 / (2 d))`` (eq. 2.35), a Gaussian of
    width ``sqrt(d)/sigma_w`` (eq. 2.37).

    The paper's eqs. 2.32–2.33 print ``sum_j a_i cos(w_ij x_j + b_i)`` (the sum outside the
    cosine); that network's kernel is ``A^2/2 sum_j exp(-sigma_w^2 (x_j - x'_j)^2 / (2d))`` plus
    cross terms, not eq. 2.35's Gaussian.
    """
    x1 = _features(x1, "x1")
    x2 = _features(x2, "x2")
    if x1.shape[1] != x2.shape[1]:
        raise PointSetError(f"mismatched feature sets: x1 has {x1.shape[1]} features, x2 has {x2.shape[1]}")
    d = x1.shape[1]
    sq = (np.einsum("ij,ij->i", x1, x1)[:, None] + np.einsum("ij,ij->i", x2, x2)[None, :]
          - 2 * x1 @ x2.T)
    return A * A / 2 * np.exp(-sigma_w ** 2 * np.maximum(sq, 0) / (2 * d))


# ---- kernels as objects for the flows --------------------------------------------------------

class Kernel:
    """A scalar kernel ``K(points, training points)`` for :mod:`.kernel_flow`; subclasses define
    :meth:`__call__` on complex homogeneous coordinates."""

    name = "kernel"

    def __call__(self, z, z_train) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def params(self) -> dict:
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class ReluNTK(Kernel):
    """:func:`relu_ntk` on :func:`real_features` (optionally divided by ``scale``)."""

    name = "relu"

    def __init__(self, sigma_w: float = TABLE1["relu"]["sigma_w"], sigma_b: float = TABLE1["relu"]["sigma_b"]):
        self.sigma_w, self.sigma_b = float(sigma_w), float(sigma_b)

    def __call__(self, z, z_train):
        return relu_ntk(real_features(z), real_features(z_train), self.sigma_w, self.sigma_b)

    def params(self):
        return {"sigma_w": self.sigma_w, "sigma_b": self.sigma_b}


class GaussianKernel(Kernel):
    """:func:`gaussian_kernel` (eq. 3.5)."""

    name = "gaussian"

    def __init__(self, sigma: float = TABLE1["gaussian"]["sigma"], form: str = "paper"):
        self.sigma, self.form = float(sigma), form
        gaussian_kernel(np.ones((1, 2), complex), None, self.sigma, form=form)  # validates

    def __call__(self, z, z_train):
        return gaussian_kernel(z, z_train, self.sigma, form=self.form)

    def params(self):
        return {"sigma": self.sigma, "form": self.form}


class DeltaKernel(Kernel):
    """:func:`delta_kernel`."""

    name = "delta"

    def __call__(self, z, z_train):
        return delta_kernel(z, z_train)


def make_kernel(name: str, **params) -> Kernel:
    """``make_kernel("relu"|"gaussian"|"delta", **hyperparameters)``; Table 1's values by default."""
    kinds = {"relu": ReluNTK, "gaussian": GaussianKernel, "delta": DeltaKernel}
    if name not in kinds:
        raise UsageError(f"unknown kernel {name!r}; known: {sorted(kinds)}")
    return kinds[name](**params)


def mean_distance_to(z, z_train) -> float:
    """Mean over ``z`` of the FS distance to the nearest point of ``z_train`` (Fig. 3 left's x-axis)."""
    return float(nearest_distances(z, reference=z_train).mean())
