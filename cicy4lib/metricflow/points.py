"""Points on the variety: the random-line sampler, the normalisation and the paper's chart rule.

Sampler (SPEC §8; Shiffman–Zelditch, Douglas et al., the public cymetric/MLGeometry packages):
draw ``p, q`` uniform on the unit sphere of C^{n+1}, solve ``Q(p t + q) = 0`` in ``t`` (degree d:
d points per line; companion-matrix eigenvalues, then two Newton steps on ``Q`` itself), and scale
every point so its largest coordinate is exactly 1. The points are then distributed by the
Fubini–Study volume of X, and the integration weights are ``|Ω|² / det g_FS`` (``geometry.py``).

Products of projective spaces (one equation): a line in one factor ``j`` and a random point in
every other factor. One such draw gives ``d_j`` points distributed by ``ω_j^{n_j-1} ∏_{i≠j} ω_i^{n_i}``
restricted to X; drawing the factor ``j`` with probability proportional to ``n_j`` makes the
mixture proportional to ``(Σ_i ω_i)^3`` (the ``ω_i^{n_i+1}`` vanish), i.e. to the volume of the product
Fubini–Study metric, so the weights keep the same formula. Every factor is normalised so that its
largest coordinate is 1.

Charts (paper §3.1): in each factor the coordinate of largest modulus is 1; of the remaining
coordinates the one with the largest ``|∂Q/∂z_j|`` is eliminated. The quintic has 5 x 4 = 20 charts,
numbered ``4 * k + r`` (k: the coordinate set to 1, r: the rank of the eliminated one among the other
four). ``chart=c`` keeps points of one chart only, by rejection, as the paper does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MetricFlowError
from .variety import Hypersurface, as_variety, fermat_quintic

ON_VARIETY_TOL = 1e-8   # |Q| of a normalised point above this: "off the variety"


def _sphere(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of C^dim."""
    v = rng.standard_normal((n, dim)) + 1j * rng.standard_normal((n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def normalise(variety: Hypersurface, z: np.ndarray) -> np.ndarray:
    """Each factor divided by its coordinate of largest modulus (which becomes exactly 1)."""
    z = np.array(z, dtype=np.complex128, copy=True)
    rows = np.arange(len(z))
    for sl in variety.factor_slices():
        block = z[:, sl]
        k = np.argmax(np.abs(block), axis=1)
        top = block[rows, k]
        block /= top[:, None]
        block[rows, k] = 1.0
        z[:, sl] = block
    return z


def _line_points(variety: Hypersurface, rng: np.random.Generator, n_lines: int, factor: int) -> np.ndarray:
    """Points of ``n_lines`` random lines in ``factor`` (random points in the other factors)."""
    N, sls = variety.n_coords, variety.factor_slices()
    d = variety.degrees[factor]
    p = np.zeros((n_lines, N), dtype=np.complex128)
    q = np.empty((n_lines, N), dtype=np.complex128)
    for j, sl in enumerate(sls):
        q[:, sl] = _sphere(rng, n_lines, sl.stop - sl.start)
        if j == factor:
            p[:, sl] = _sphere(rng, n_lines, sl.stop - sl.start)
    # coefficients of f(t) = Q(p t + q), degree d, from its values at the (d+1)-th roots of unity
    roots1 = np.exp(2j * np.pi * np.arange(d + 1) / (d + 1))
    vals = np.stack([variety.evaluate(p * r + q) for r in roots1], axis=1)      # (L, d+1)
    coef = np.fft.fft(vals, axis=1) / (d + 1)                                      # a_k, k = 0..d
    coef = coef[:, ::-1].copy()                                                     # a_d ... a_0
    lead = coef[:, 0]
    ok = np.abs(lead) > 1e-12 * np.abs(coef).max(axis=1)
    p, q, coef = p[ok], q[ok], coef[ok]
    comp = np.zeros((len(coef), d, d), dtype=np.complex128)
    comp[:, 0, :] = -coef[:, 1:] / coef[:, :1]
    if d > 1:
        comp[:, np.arange(1, d), np.arange(d - 1)] = 1.0
    t = np.linalg.eigvals(comp)                                                     # (L, d)
    z = (p[:, None, :] * t[:, :, None] + q[:, None, :]).reshape(-1, N)
    direction = np.repeat(p, d, axis=0)
    t = t.reshape(-1)
    for _ in range(2):  # Newton on Q along the line
        f = variety.evaluate(z)
        df = np.einsum("nk,nk->n", variety.gradient(z), direction)
        step = np.where(np.abs(df) > 0, f / np.where(df == 0, 1, df), 0)
        t = t - step
        z = direction * t[:, None] + np.repeat(q, d, axis=0)
    return z


def sample_points(n: int, variety=None, *, seed: int = 0, chart: int | None = None,
                  tol: float = 1e-10) -> np.ndarray:
    """``n`` points on ``variety`` (default: the Fermat quintic), complex128 (n, N), normalised.

    Deterministic for a given ``seed``. ``chart``: keep only points of that chart (rejection).
    Points whose ``|Q|`` after normalisation exceeds ``tol`` (lines through a near-singular
    configuration; essentially never) are dropped and replaced.
    """
    variety = as_variety(variety)
    n = int(n)
    if n < 0:
        raise MetricFlowError(f"number of points must be >= 0, got {n}")
    n_ch = n_charts(variety)
    if chart is not None and not 0 <= int(chart) < n_ch:
        raise MetricFlowError(f"chart {chart} does not exist: {variety.name} has charts 0..{n_ch - 1}")
    rng = np.random.default_rng(seed)
    dims = np.array(variety.dims, dtype=float)
    prob = dims / dims.sum()
    mean_pts = float(np.dot(prob, variety.degrees))
    out, have = [], 0
    for _ in range(1000):
        if have >= n:
            break
        need = n - have
        if chart is not None:
            need *= n_ch
        n_lines = int(np.ceil(need / mean_pts * 1.02)) + 1
        if len(variety.dims) == 1:
            counts = [n_lines]
        else:
            which = rng.choice(len(dims), size=n_lines, p=prob)
            counts = np.bincount(which, minlength=len(dims))
        zs = [_line_points(variety, rng, int(c), j) for j, c in enumerate(counts) if c]
        z = normalise(variety, np.concatenate(zs))
        good = np.all(np.isfinite(z), axis=1)
        good[good] = np.abs(variety.evaluate(z[good])) <= tol
        z = z[good]
        if len(variety.dims) > 1:  # mix the factors' blocks
            z = z[rng.permutation(len(z))]
        if chart is not None:
            z = z[chart_ids(variety, z) == int(chart)]
        out.append(z[:n - have])
        have += len(out[-1])
    if have < n:
        raise MetricFlowError(f"could not sample {n} points on {variety.name} (got {have})")
    return np.concatenate(out) if out else np.zeros((0, variety.n_coords), dtype=np.complex128)


def quintic_points(n: int, seed: int = 0, *, chart: int | None = None) -> np.ndarray:
    """``n`` points on the Fermat quintic: complex128 (n, 5), ``Q = 0``, largest ``|z_i| = 1``."""
    return sample_points(n, fermat_quintic(), seed=seed, chart=chart)


# ---------------------------------------------------------------------- charts
@dataclass
class Charts:
    """The chart of each point: ``ones`` (n, m) coordinates set to 1 (one per factor), ``elim`` (n,)
    the eliminated coordinate, ``free`` (n, 3) the affine coordinates of X, ``ids`` (n,) chart number."""

    ones: np.ndarray
    elim: np.ndarray
    free: np.ndarray
    ids: np.ndarray


def n_charts(variety=None) -> int:
    variety = as_variety(variety)
    combos = int(np.prod([n + 1 for n in variety.dims]))
    return combos * (variety.n_coords - len(variety.dims))


def check_points(variety: Hypersurface, z, *, tol: float = ON_VARIETY_TOL, what: str = "points") -> np.ndarray:
    """``z`` as complex128 (n, N), checked: shape, finite, non-zero in every factor, ``|Q| <= tol``
    after normalisation. Returns the normalised points; raises :class:`MetricFlowError`."""
    if hasattr(z, "detach"):
        z = z.detach().cpu().numpy()
    try:
        z = np.asarray(z)
    except Exception as exc:  # noqa: BLE001 - any unconvertible object
        raise MetricFlowError(f"{what}: cannot be read as an array ({exc})") from None
    if z.dtype == object or not (np.issubdtype(z.dtype, np.number)):
        raise MetricFlowError(f"{what}: expected complex numbers, got dtype {z.dtype}")
    N = variety.n_coords
    if z.ndim != 2 or z.shape[1] != N:
        raise MetricFlowError(f"{what}: expected shape (n, {N}) for {variety.name}, got {tuple(z.shape)}")
    z = z.astype(np.complex128)
    bad = ~np.all(np.isfinite(z), axis=1)
    if bad.any():
        raise MetricFlowError(f"{what}: {int(bad.sum())} of {len(z)} points have non-finite coordinates "
                              f"(first: row {int(np.argmax(bad))})")
    for sl in variety.factor_slices():
        zero = np.all(z[:, sl] == 0, axis=1)
        if zero.any():
            raise MetricFlowError(f"{what}: {int(zero.sum())} points have all coordinates of a projective "
                                  f"factor equal to 0 (first: row {int(np.argmax(zero))}); not a point")
    z = normalise(variety, z)
    q = np.abs(variety.evaluate(z))
    off = q > tol
    if off.any():
        raise MetricFlowError(f"{what}: {int(off.sum())} of {len(z)} points are off {variety.name} "
                              f"(|Q| up to {q.max():.3g} > {tol:g} after normalisation; first: row "
                              f"{int(np.argmax(off))})")
    return z


def chart_ids(variety, z: np.ndarray) -> np.ndarray:
    return charts(variety, z).ids


def charts(variety, z: np.ndarray, grad: np.ndarray | None = None) -> Charts:
    """The paper's chart of each normalised point ``z`` (see the module docstring)."""
    variety = as_variety(variety)
    n, N = z.shape
    rows = np.arange(n)
    absz = np.abs(z)
    ones = np.stack([sl.start + np.argmax(absz[:, sl], axis=1) for sl in variety.factor_slices()], axis=1)
    if grad is None:
        grad = variety.gradient(z)
    dq = np.abs(grad)
    dq[rows[:, None], ones] = -1.0
    elim = np.argmax(dq, axis=1)
    mask = np.ones((n, N), dtype=bool)
    mask[rows[:, None], ones] = False
    rank = mask[:, :].cumsum(axis=1)[rows, elim] - 1          # rank of elim among non-one coordinates
    mask[rows, elim] = False
    free = np.nonzero(mask)[1].reshape(n, N - len(variety.dims) - 1)
    combo = np.zeros(n, dtype=np.int64)
    for j, sl in enumerate(variety.factor_slices()):
        combo = combo * (sl.stop - sl.start) + (ones[:, j] - sl.start)
    ids = combo * (N - len(variety.dims)) + rank
    return Charts(ones=ones, elim=elim, free=free, ids=ids)
