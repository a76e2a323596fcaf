"""Numerical Calabi–Yau metrics with neural networks (seed 004: Halverson–Ruehle, arXiv:2310.19870).

Public entry points::

    from cicy4lib import metricflow as mf
    z = mf.quintic_points(n, seed=0)     # complex128 (n, 5), Q(z) = 0, largest |z_i| = 1
    g = mf.metric(z, model=None)         # complex128 (n, 3, 3) in each point's chart; None = Fubini–Study
    s = mf.sigma_measure(z, model=None)  # σ-measure (SPEC §8) with the sampler's weights
    model = mf.load_metric_model(path)   # a trained metric network from its run directory

Modules (imports flow one way): ``variety`` (polynomials, configuration matrices) -> ``points``
(line sampler, chart rule) -> ``geometry`` (Ω, pull-back, Fubini–Study, weights, κ) -> ``measures``
(σ, Monge–Ampère loss, Kähler defect) -> ``models`` (multiplicative and φ networks; ``metric_torch``
gives a model's metric as a differentiable torch tensor) -> ``training`` (resumable run directories).
Nothing in the Hodge-number code imports this subpackage.
"""
from __future__ import annotations

import numpy as np

from .variety import Hypersurface, as_variety, fermat_quintic, from_configuration
from .points import charts, check_points, n_charts, normalise, quintic_points, sample_points
from .geometry import PointData, fs_metric, kappa, prepare, weights
from .measures import kahler_defect, ma_loss, ricci_scalar, sigma_measure, sigma_of
# part 2 (metric-NTK, kernel flows, clustering): numpy/scikit-learn; torch only inside ntk/kernel_flow calls
from .distances import fs_distance, mean_nearest_distance, nearest_distances
from .kernels import delta_kernel, gaussian_kernel, make_kernel, real_features, relu_ntk
from .clustering import cluster_points, within_cluster_distance
from .kernel_flow import flow_points, noised_points  # (not kernel_flow: the submodule keeps that name)


def __getattr__(name):  # torch-based parts load on first use (the geometry imports without torch)
    if name in ("build_metric_model", "metric_torch", "metric_numpy", "point_tensors", "PhiMetric",
                "MultiplicativeMetric"):
        from . import models  # lazy: imports torch
        return getattr(models, name)
    if name in ("train_metric", "MetricTrainConfig"):
        from . import training  # lazy: imports torch
        return getattr(training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def metric(z, model=None, *, variety=None) -> np.ndarray:
    """The metric at points ``z`` in each point's chart (paper §3.1), complex128 (n, 3, 3).

    ``model=None``: Fubini–Study restricted to X; otherwise a metric network (``models``).
    ``variety`` defaults to the model's, else the Fermat quintic.
    """
    if model is None:
        return fs_metric(z, variety)
    from .models import metric_numpy  # lazy: imports torch
    variety = getattr(model, "variety", None) if variety is None else variety
    return metric_numpy(model, prepare(z, variety))


def load_metric_model(path, **kwargs):
    """A trained metric network from its run directory (``model.json`` + ``model.pt``)."""
    from .training import load_metric_model as _load  # lazy: imports torch
    return _load(path, **kwargs)


__all__ = ["fs_distance", "mean_nearest_distance", "nearest_distances", "delta_kernel", "gaussian_kernel",
           "make_kernel", "real_features", "relu_ntk", "cluster_points", "within_cluster_distance", "flow_points",
           "noised_points", "MetricTrainConfig", "MultiplicativeMetric", "PhiMetric", "build_metric_model", "metric_numpy",
           "metric_torch", "point_tensors", "train_metric", "Hypersurface", "PointData", "as_variety", "charts", "check_points", "fermat_quintic", "fs_metric",
           "from_configuration", "kahler_defect", "kappa", "load_metric_model", "ma_loss", "metric", "n_charts",
           "normalise", "prepare", "quintic_points", "ricci_scalar", "sample_points", "sigma_measure", "sigma_of",
           "weights"]
