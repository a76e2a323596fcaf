"""Mini-batch agglomerative clustering on the FS geodesic distance (paper §3.1, steps 1–5, eq. 3.3).

The metric-NTK of N points is a 3^4 N^2 tensor; the paper splits the points into clusters and flows
each cluster with its own kernel block, neglecting the others. Clustering N = 100,000 points at
once needs the N x N distance matrix, so:

1. split the points (in random order) into ``B = N / M`` mini-batches of ``M`` points;
2. cluster each batch on its own: scikit-learn ``AgglomerativeClustering`` with average linkage on
   the precomputed FS distances, ``C`` clusters per batch (the paper aims at ~5,000 points per
   cluster, ``C = N / 5000``);
3. the first batch's clusters ``c_alpha^1`` are the starting point;
4. for ``alpha = 1..C`` in turn, the not yet used cluster ``beta`` of batch I whose *maximum*
   distance to the points of ``c_alpha^1`` is smallest joins ``c_alpha`` (eq. 3.3:
   ``c_alpha = U_I argmin_beta max d(c_alpha^1, c_beta^I)``);
5. repeat for every batch.

Step 4 as printed leaves open whether two first-batch clusters may pick the same ``beta``; we
match greedily without replacement (each ``beta`` joins exactly one ``alpha``), so every point gets
a cluster and every cluster keeps its share of each batch.

Work per batch (clustering it, and its C x C table of maximum distances to the first batch's
clusters) is independent and goes through :func:`cicy4lib.chunked.run_chunks`: local worker
processes with ``workers=N``, or a Dask cluster with ``scheduler="tcp://host:8786"`` (see
:mod:`cicy4lib.chunked`). Memory per task: one ``M x M`` float64 distance matrix (0.8 GB at
M = 10,000) plus scikit-learn's linkage work space; the cross-batch maxima are computed in row
blocks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..chunked import run_chunks
from ..errors import PointSetError, UsageError
from .distances import as_points, fs_distance

__all__ = ["cluster_points", "cluster_batch", "ClusterResult", "within_cluster_distance",
           "cluster_order", "cross_max_distance"]


@dataclass
class ClusterResult:
    """``labels`` (n,) cluster of each point (0..C-1); ``batches`` (n,) mini-batch of each point;
    ``batch_labels`` (n,) each point's cluster within its own batch (before the merge)."""

    labels: np.ndarray
    batches: np.ndarray
    batch_labels: np.ndarray
    n_clusters: int
    info: dict = field(default_factory=dict)

    def members(self, c: int) -> np.ndarray:
        return np.flatnonzero(self.labels == c)


def cluster_batch(z, n_clusters: int) -> np.ndarray:
    """Agglomerative clustering of one batch: average linkage on the precomputed FS distances."""
    from sklearn.cluster import AgglomerativeClustering  # lazy: imports sklearn, pandas

    z = as_points(z)
    if not 1 <= n_clusters <= len(z):
        raise UsageError(f"cannot make {n_clusters} clusters of {len(z)} points")
    if n_clusters == 1:
        return np.zeros(len(z), dtype=np.int64)
    d = fs_distance(z)
    model = AgglomerativeClustering(n_clusters=n_clusters, metric="precomputed", linkage="average")
    return model.fit_predict(d).astype(np.int64)


def cross_max_distance(z_a, labels_a, z_b, labels_b, n_clusters: int, *, block: int = 2048) -> np.ndarray:
    """``out[alpha, beta] = max d(x, y)`` over ``x`` in cluster alpha of ``z_a``, ``y`` in cluster
    beta of ``z_b``; (C, C). Row blocks of ``block`` points keep memory at ``block x len(z_b)``."""
    z_a, z_b = as_points(z_a, "z_a"), as_points(z_b, "z_b")
    order = np.argsort(labels_b, kind="stable")
    lb = labels_b[order]
    starts = np.searchsorted(lb, np.arange(n_clusters))
    present = np.isin(np.arange(n_clusters), lb)
    zb = z_b[order]
    out = np.full((n_clusters, n_clusters), -np.inf)
    for s in range(0, len(z_a), block):
        d = fs_distance(z_a[s:s + block], zb)
        colmax = np.full((d.shape[0], n_clusters), -np.inf)
        idx = np.flatnonzero(present)
        colmax[:, idx] = np.maximum.reduceat(d, starts[idx], axis=1)
        np.maximum.at(out, labels_a[s:s + block], colmax)
    return out


def _batch_task(z_batch, n_clusters, z_first, labels_first):
    """One mini-batch (a module-level function, so that worker processes and Dask can run it)."""
    labels = cluster_batch(z_batch, n_clusters)
    cross = None if z_first is None else cross_max_distance(z_first, labels_first, z_batch, labels, n_clusters)
    return labels, cross


def _greedy_match(cross: np.ndarray) -> np.ndarray:
    """``target[beta] = alpha``: for alpha in order, the unused beta with the smallest max distance."""
    C = cross.shape[0]
    target = np.full(C, -1, dtype=np.int64)
    free = np.ones(C, dtype=bool)
    for alpha in range(C):
        row = np.where(free & np.isfinite(cross[alpha]), cross[alpha], np.inf)
        if not np.isfinite(row).any():
            continue
        beta = int(np.argmin(row))
        target[beta] = alpha
        free[beta] = False
    return target


# §3.1's batch settings and the chunk runner's options, keyword only
def cluster_points(z, n_clusters: int, *, batch_size: int | None = None, n_batches: int | None = None,
                   seed: int = 0, shuffle: bool = True, workers: int | None = 1, scheduler=None,
                   progress: bool = False) -> ClusterResult:
    """Cluster ``z`` (n, k) into ``n_clusters`` clusters by §3.1's mini-batch algorithm.

    Give ``batch_size`` (the paper's M = 10,000) or ``n_batches``; neither: one batch (plain
    agglomerative clustering of all points). ``shuffle``: batches are a random split (seeded);
    otherwise consecutive rows. ``workers``/``scheduler``: where the per-batch tasks run
    (:func:`cicy4lib.chunked.run_chunks`; the first batch runs first, the others in parallel).
    """
    z = as_points(z)
    n = len(z)
    if batch_size is not None and n_batches is not None:
        raise UsageError("give batch_size or n_batches, not both")
    if n_batches is None:
        n_batches = 1 if batch_size is None else int(np.ceil(n / int(batch_size)))
    n_batches = int(n_batches)
    if n_batches < 1:
        raise UsageError(f"n_batches must be >= 1, got {n_batches}")
    if n // n_batches < n_clusters:
        raise PointSetError(f"{n} points in {n_batches} batches leave {n // n_batches} points per batch, "
                            f"fewer than the {n_clusters} clusters asked for")
    perm = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    parts = np.array_split(perm, n_batches)
    batches = np.empty(n, dtype=np.int64)
    batch_labels = np.empty(n, dtype=np.int64)
    labels = np.empty(n, dtype=np.int64)
    for b, idx in enumerate(parts):
        batches[idx] = b

    first_labels, _ = _batch_task(z[parts[0]], n_clusters, None, None)
    batch_labels[parts[0]] = first_labels
    labels[parts[0]] = first_labels
    matches = {}

    def on_result(b, result):
        lab, cross = result
        batch_labels[parts[b]] = lab
        target = _greedy_match(cross)
        labels[parts[b]] = target[lab]
        matches[b] = target

    z_first = z[parts[0]]
    tasks = ((b, (z[parts[b]], n_clusters, z_first, first_labels)) for b in range(1, n_batches))
    run_chunks(_batch_task, tasks, on_result, workers=workers, scheduler=scheduler, total=n_batches - 1,
               progress=progress, desc="cluster batches", name="cicy4-metricflow-cluster")
    return ClusterResult(labels=labels, batches=batches, batch_labels=batch_labels, n_clusters=n_clusters,
                         info={"n_batches": n_batches, "batch_sizes": [len(p) for p in parts],
                               "matches": {int(k): v.tolist() for k, v in matches.items()}})


def within_cluster_distance(z, labels, *, d: np.ndarray | None = None) -> float:
    """Mean FS distance over all pairs of distinct points in the same cluster (pair-weighted).

    ``d``: a precomputed ``fs_distance(z)`` to reuse. Random labels give the mean distance of two
    random points (~1.07 on one chart of the quintic)."""
    labels = np.asarray(labels)
    if d is None:
        d = fs_distance(z)
    if d.shape != (len(labels), len(labels)):
        raise PointSetError(f"{len(labels)} labels for a distance matrix of shape {d.shape}")
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    if not same.any():
        raise PointSetError("no cluster has two points")
    return float(d[same].mean())


def cluster_order(labels) -> np.ndarray:
    """A permutation that puts the points cluster by cluster (for heatmaps of the distance matrix)."""
    return np.argsort(np.asarray(labels), kind="stable")
