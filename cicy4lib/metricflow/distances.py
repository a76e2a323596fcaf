"""Fubini–Study geodesic distances between points of P^n (paper eq. 3.2) and nearest-neighbour
statistics of a point sample (paper Fig. 3 right, eq. 3.6).

``d(z, z') = arccos( |z^dagger z'| / (|z| |z'|) )`` in [0, pi/2]; homogeneous coordinates, so
any rescaling of a point (its chart normalisation included) leaves it unchanged.

Threshold (eq. 3.4). Near d = 0, ``arccos(1 - eps) ~ sqrt(2 eps)`` (the paper prints
``sqrt(eps)``, dropping the factor 2), so rounding in the overlap turns identical points into
points ``sqrt(2 * machine eps)`` apart: ~2e-8 in complex128, ~5e-4 in complex64. Distances below
``threshold`` are set to 0; the default is ``8 * sqrt(2 * eps)`` of the *input* dtype
(1.7e-7 for complex128, 3.9e-3 for complex64), so a complex64 point set does not get spurious
distances. The arithmetic itself is float64 either way.

Memory: ``fs_distance`` builds the full (n1, n2) float64 matrix (it says so, with the size, when
that would not fit); :func:`nearest_distances` works in row chunks of ``chunk`` points and never
holds more than ``chunk x n`` overlaps, so 10^5 points need ~0.1 GB, not 80 GB.
"""
from __future__ import annotations

import numpy as np

from ..errors import KernelMemoryError, PointSetError

__all__ = ["fs_distance", "mean_nearest_distance", "nearest_distances", "distance_threshold",
           "as_points", "fit_power_law", "available_memory_bytes"]


def available_memory_bytes() -> int:
    """Memory this process could still allocate: MemAvailable, capped by a cgroup limit."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    try:
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        used = int(open("/sys/fs/cgroup/memory.current").read().strip())
        if limit != "max":
            left = int(limit) - used
            avail = left if avail is None else min(avail, left)
    except (OSError, ValueError):
        pass
    return int(avail) if avail is not None else 8 * 2 ** 30


def check_memory(nbytes: float, what: str, how_to_chunk: str, fraction: float = 0.8) -> None:
    """Raise :class:`KernelMemoryError` when ``nbytes`` exceed ``fraction`` of the memory left."""
    avail = available_memory_bytes()
    if nbytes > fraction * avail:
        raise KernelMemoryError(
            f"{what} needs {nbytes / 2 ** 30:.2f} GiB but this machine has {avail / 2 ** 30:.2f} GiB "
            f"available; {how_to_chunk}")


def as_points(z, name: str = "z") -> np.ndarray:
    """Validate a point set: a complex (n, k) array (k >= 2 homogeneous coordinates), finite, no
    all-zero row. Real input is accepted (cast to complex128)."""
    arr = np.asarray(z)
    if arr.ndim == 1 and arr.size:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise PointSetError(f"{name}: expected points as an (n, k) array of homogeneous coordinates "
                            f"with k >= 2, got shape {arr.shape}")
    if not (np.iscomplexobj(arr) or np.issubdtype(arr.dtype, np.floating)
            or np.issubdtype(arr.dtype, np.integer)):
        raise PointSetError(f"{name}: expected complex coordinates, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        raise PointSetError(f"{name}: {bad.size} point(s) with non-finite coordinates "
                            f"(first rows {bad[:5].tolist()})")
    norms = np.linalg.norm(arr, axis=1)
    if arr.shape[0] and np.any(norms == 0):
        bad = np.flatnonzero(norms == 0)
        raise PointSetError(f"{name}: {bad.size} point(s) with all coordinates 0, which is no point of "
                            f"projective space (first rows {bad[:5].tolist()})")
    return arr


def distance_threshold(dtype) -> float:
    """Default eq.-3.4 threshold for points stored in ``dtype``: ``8 sqrt(2 eps)``."""
    dt = np.dtype(dtype)
    if dt.kind == "c":
        eps = np.finfo(dt).eps
    elif dt.kind == "f":
        eps = np.finfo(dt).eps
    else:
        eps = np.finfo(np.float64).eps
    return float(8.0 * np.sqrt(2.0 * eps))


def _unit(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.complex128, copy=False)
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _overlap_to_distance(c: np.ndarray, threshold: float) -> np.ndarray:
    d = np.arccos(np.clip(c, 0.0, 1.0))
    d[d < threshold] = 0.0
    return d


def fs_distance(z1, z2=None, *, threshold: float | None = None) -> np.ndarray:
    """Fubini–Study geodesic distance matrix (paper eq. 3.2), float64 of shape (n1, n2).

    ``z1`` (n1, k), ``z2`` (n2, k): homogeneous coordinates (complex; any scaling). ``z2=None``
    means ``z1``. Entries below ``threshold`` (default :func:`distance_threshold` of the wider of
    the two input dtypes; eq. 3.4) are 0. Raises :class:`~cicy4lib.errors.PointSetError` for
    mismatched or bad point sets and :class:`~cicy4lib.errors.KernelMemoryError` when the matrix
    does not fit (use :func:`nearest_distances` or call per block of rows).
    """
    a = as_points(z1, "z1")
    b = a if z2 is None else as_points(z2, "z2")
    if a.shape[1] != b.shape[1]:
        raise PointSetError(f"mismatched point sets: z1 has {a.shape[1]} homogeneous coordinates, "
                            f"z2 has {b.shape[1]}")
    if threshold is None:
        threshold = max(distance_threshold(a.dtype), distance_threshold(b.dtype))
    check_memory(a.shape[0] * b.shape[0] * (16 + 8), f"an FS distance matrix of {a.shape[0]} x {b.shape[0]} points",
                 "split z1 into blocks of rows and call fs_distance per block, or use "
                 "nearest_distances(z, chunk=...) for nearest-neighbour statistics")
    ua, ub = _unit(a), (_unit(b) if z2 is not None else None)
    c = np.abs(ua @ (ua if ub is None else ub).conj().T)
    return _overlap_to_distance(c, threshold)


def nearest_distances(z, *, chunk: int = 1024, threshold: float | None = None,
                      reference=None) -> np.ndarray:
    """FS distance from each point of ``z`` to its nearest *other* point of ``z`` (float64, (n,)).

    With ``reference`` (m, k): the distance from each point of ``z`` to the nearest point of
    ``reference`` instead (no point is excluded). Works in blocks of ``chunk`` rows of ``z``: the
    largest overlap per row is found first and only that one goes through arccos (arccos is
    decreasing), so memory is ``chunk x n`` complex numbers.
    """
    a = as_points(z, "z")
    ref = None if reference is None else as_points(reference, "reference")
    if ref is not None and ref.shape[1] != a.shape[1]:
        raise PointSetError(f"mismatched point sets: z has {a.shape[1]} homogeneous coordinates, "
                            f"reference has {ref.shape[1]}")
    n = a.shape[0]
    if ref is None and n < 2:
        raise PointSetError(f"nearest distances need at least 2 points, got {n}")
    if threshold is None:
        threshold = distance_threshold(a.dtype) if ref is None else max(
            distance_threshold(a.dtype), distance_threshold(ref.dtype))
    chunk = max(1, int(chunk))
    ua = _unit(a)
    ub = ua if ref is None else _unit(ref)
    ubh = ub.conj().T.copy()
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        c = np.abs(ua[start:stop] @ ubh)
        if ref is None:
            c[np.arange(stop - start), np.arange(start, stop)] = -1.0  # not the point itself
        out[start:stop] = c.max(axis=1)
    return _overlap_to_distance(out, threshold)


def mean_nearest_distance(z, *, chunk: int = 1024, threshold: float | None = None) -> float:
    """Mean over the points of ``z`` of the FS distance to the nearest other point (paper Fig. 3
    right, eq. 3.6; the paper's fit is ``0.968 N^-0.184``). Chunked: see :func:`nearest_distances`."""
    return float(nearest_distances(z, chunk=chunk, threshold=threshold).mean())


def fit_power_law(n, mu) -> tuple[float, float]:
    """Least-squares fit of ``log mu = log a + b log n``; returns ``(a, b)`` for ``mu = a n^b``."""
    n = np.asarray(n, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if n.shape != mu.shape or n.size < 2:
        raise PointSetError(f"fit_power_law needs two arrays of the same length >= 2, got {n.shape} "
                            f"and {mu.shape}")
    b, loga = np.polyfit(np.log(n), np.log(mu), 1)
    return float(np.exp(loga)), float(b)
