"""Discrete kernel flows of the metric with the σ-loss (paper eq. 2.8, §3.2) and the noise experiment.

State: the metric at every point as 9 real numbers (the real diagonal and the real and imaginary
parts of the three upper off-diagonal entries of the Hermitian 3x3 matrix ``g``), so every update
keeps ``g`` Hermitian by construction. With a scalar kernel ``K`` the metric-NTK is
``Theta_ijkl(x, x') = delta_ik delta_jl K(x, x')`` (eq. 2.23) and one step of the flow is

    g(x) <- g(x) - lr * sum_{x' in train} K(x, x') dL/dg(x')

for training points and, with the same gradients, for any other point x (test points flow along
without entering the loss). ``L`` is the σ-loss summed over the batch as in eq. 2.3,
``L = n * sigma = n * sum_x w |1 - eta/<eta>_w| / sum_x w`` with ``eta = det g / |Omega|^2`` (so a
point's gradient is O(1), not O(1/n)); its gradient includes the dependence of ``<eta>_w`` on every
point unless ``eta_ref`` fixes the mean (as the per-cluster flows do, so that clusters flow towards
one common volume).

The σ-loss is not differentiable where ``eta = <eta>``; a fixed step therefore ends oscillating
around the minimum at an amplitude ~ lr. The default schedule halves the step when the training
loss has not improved for ``patience`` steps (``lr`` is the initial step, Table 1's value by
default), which is what turns the oscillation into steady convergence.

Guards: a step that would leave some training point's metric not positive-definite is retried with
half the step (up to ``max_backtracks`` times); a test point whose update would leave it not
positive-definite keeps its metric for that step (counted per point in ``FlowResult.held_test``),
so test points never slow down the training flow; a non-finite loss, gradient or update, or a step that cannot
be made positive-definite, stops the flow with :class:`~cicy4lib.errors.FlowStoppedError` naming
the step and the points; its ``.state`` is the :class:`FlowResult` of the last good step
(``on_stop="return"`` returns it instead, with ``stopped`` set).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..chunked import run_chunks
from ..errors import FlowStoppedError, PointSetError, UsageError
from .geometry import prepare
from .kernels import Kernel, TABLE1, make_kernel, mean_distance_to
from .points import chart_ids, normalise
from .variety import as_variety

__all__ = ["to_real", "to_hermitian", "det_real9", "is_positive_definite", "sigma_loss_grad", "FlowResult",
           "kernel_flow", "flow_points", "noised_points", "gain_vs_distance", "search_hyperparameters",
           "clustered_kernel_flow"]

_IU = [(0, 1), (0, 2), (1, 2)]


def to_real(g) -> np.ndarray:
    """Hermitian (n, 3, 3) -> (n, 9) real: g00, g11, g22, Re g01, Im g01, Re g02, Im g02, Re g12, Im g12."""
    g = np.asarray(g)
    if g.ndim != 3 or g.shape[1:] != (3, 3):
        raise PointSetError(f"expected metrics of shape (n, 3, 3), got {g.shape}")
    cols = [g[:, i, i].real for i in range(3)]
    for i, j in _IU:
        cols += [g[:, i, j].real, g[:, i, j].imag]
    return np.stack(cols, axis=1).astype(np.float64)


def to_hermitian(v) -> np.ndarray:
    """(n, 9) real -> Hermitian (n, 3, 3) complex128 (inverse of :func:`to_real`)."""
    v = np.asarray(v, dtype=np.float64)
    g = np.zeros((len(v), 3, 3), dtype=np.complex128)
    for i in range(3):
        g[:, i, i] = v[:, i]
    for k, (i, j) in enumerate(_IU):
        g[:, i, j] = v[:, 3 + 2 * k] + 1j * v[:, 4 + 2 * k]
        g[:, j, i] = np.conj(g[:, i, j])
    return g


def _minors(v, xp=np):
    a0, a1, a2 = v[:, 0], v[:, 1], v[:, 2]
    x01, y01, x02, y02, x12, y12 = (v[:, k] for k in range(3, 9))
    n01 = x01 * x01 + y01 * y01
    n02 = x02 * x02 + y02 * y02
    n12 = x12 * x12 + y12 * y12
    # Re(c01 c12 conj(c02))
    re = (x01 * x12 - y01 * y12) * x02 + (x01 * y12 + y01 * x12) * y02
    det = a0 * a1 * a2 + 2 * re - a0 * n12 - a1 * n02 - a2 * n01
    return a0, a0 * a1 - n01, det


def det_real9(v):
    """Determinant of the Hermitian metrics given as (n, 9) real components (numpy or torch)."""
    return _minors(v)[2]


def is_positive_definite(v) -> np.ndarray:
    """(n,) bool: Sylvester's criterion on the leading minors of each Hermitian metric."""
    m1, m2, m3 = _minors(np.asarray(v, dtype=np.float64))
    return (m1 > 0) & (m2 > 0) & (m3 > 0)


def sigma_loss_grad(v, omega_abs2, w, *, eta_ref: float | None = None):
    """``(sigma, dL/dv)`` with ``L = n sigma`` (see the module docstring); ``v`` (n, 9)."""
    import torch  # lazy: imports torch

    vt = torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
    om = torch.as_tensor(np.asarray(omega_abs2, dtype=np.float64))
    wt = torch.as_tensor(np.asarray(w, dtype=np.float64))
    eta = det_real9(vt) / om
    mean = (wt * eta).sum() / wt.sum() if eta_ref is None else torch.tensor(float(eta_ref), dtype=torch.float64)
    sigma = (wt * (1 - eta / mean).abs()).sum() / wt.sum()
    (grad,) = torch.autograd.grad(sigma * len(v), vt)
    return float(sigma.detach()), grad.numpy()


def _sigma(v, omega_abs2, w, eta_ref=None):
    eta = det_real9(v) / omega_abs2
    mean = np.sum(w * eta) / np.sum(w) if eta_ref is None else eta_ref
    return float(np.sum(w * np.abs(1 - eta / mean)) / np.sum(w))


@dataclass
class FlowResult:
    """What a flow did: final metrics (``v_train``, ``v_test`` as (n, 9); :func:`to_hermitian`),
    σ before and after, the history per step, and why it stopped (``stopped``: None = all steps)."""

    v_train: np.ndarray
    v_test: np.ndarray | None
    sigma_train0: float
    sigma_test0: float | None
    history: dict = field(default_factory=lambda: {"step": [], "sigma_train": [], "sigma_test": [], "lr": []})
    steps: int = 0
    stopped: str | None = None
    held_test: np.ndarray | None = None  # per test point: steps at which its update was refused (not PD)

    @property
    def sigma_train(self) -> float:
        return self.history["sigma_train"][-1] if self.history["sigma_train"] else self.sigma_train0

    @property
    def sigma_test(self) -> float | None:
        vals = [s for s in self.history["sigma_test"] if s is not None]
        return vals[-1] if vals else self.sigma_test0

    @property
    def gain_train(self) -> float:
        return self.sigma_train0 / max(self.sigma_train, 1e-300)

    @property
    def gain_test(self) -> float | None:
        if self.sigma_test0 is None:
            return None
        return self.sigma_test0 / max(self.sigma_test, 1e-300)

    def copy(self) -> "FlowResult":
        return FlowResult(self.v_train.copy(), None if self.v_test is None else self.v_test.copy(),
                          self.sigma_train0, self.sigma_test0, {k: list(v) for k, v in self.history.items()},
                          self.steps, self.stopped, None if self.held_test is None else self.held_test.copy())


def _flow_inputs(what, g, omega_abs2, w, K, n_train=None):
    """Real metric vectors, |Ω|², weights and kernel of one point set as float64, checked to
    match: ``K`` is (n, n_train) with ``n_train`` = n for the training points themselves."""
    v = np.asarray(g)
    v = to_real(v) if v.ndim == 3 else np.array(v, dtype=np.float64)
    n = len(v)
    n_train = n if n_train is None else n_train
    om = np.asarray(omega_abs2, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    if om.shape != (n,) or w.shape != (n,) or K.shape != (n, n_train):
        raise PointSetError(f"mismatched {what} data: {n} metrics, |Omega|^2 {om.shape}, weights {w.shape}, "
                            f"kernel {K.shape} (expected ({n},), ({n},), ({n}, {n_train}))")
    return v, om, w, K

def _positive_step(v, upd, lr: float, max_backtracks: int):
    """(v - lr' upd, lr', ok) for the first lr' = lr / 2^k, k <= ``max_backtracks``, that keeps every
    metric positive-definite; the first item is None when none does (``ok``: the last try's mask)."""
    step_lr = lr
    for _ in range(max_backtracks + 1):
        new_v = v - step_lr * upd
        ok = is_positive_definite(new_v)
        if ok.all():
            return new_v, step_lr, ok
        step_lr *= 0.5
    return None, step_lr, ok


def _test_step(state: FlowResult, upd_t, step_lr: float):
    """The test points' metrics after a step: they follow the training step; one whose update would
    leave positive-definiteness keeps its metric this step (counted in ``state.held_test``)."""
    new_vt = state.v_test - step_lr * upd_t
    ok_t = is_positive_definite(new_vt)
    if not ok_t.all():
        new_vt[~ok_t] = state.v_test[~ok_t]
        state.held_test[np.flatnonzero(~ok_t)] += 1
    return new_vt


# the flow's inputs and step-size schedule, all keyword options as the notebooks set them
def kernel_flow(g_train, omega_abs2, w, K_train, *, g_test=None, omega_abs2_test=None, w_test=None,
                K_test=None, lr: float = 0.1, steps: int = 500, patience: int | None = 50,
                decay: float = 0.5, min_lr: float = 0.0, eta_ref: float | None = None,
                max_backtracks: int = 30, eval_every: int = 1, on_stop: str = "raise") -> FlowResult:
    """Run the discrete kernel flow (eq. 2.8) with the σ-loss on the training points.

    ``g_train`` (n, 3, 3) Hermitian (or (n, 9) real) starting metrics, ``omega_abs2``/``w`` (n,) the
    |Omega|^2 and integration weights; ``K_train`` (n, n) the kernel among training points.
    Optional test points flow along: ``g_test`` (m, 3, 3), ``omega_abs2_test``, ``w_test``,
    ``K_test`` (m, n) the kernel between test and training points. ``patience``: halve (``decay``)
    the step after that many steps without a new best training σ (None: fixed step).
    """
    if on_stop not in ("raise", "return"):
        raise UsageError(f"on_stop must be 'raise' or 'return', got {on_stop!r}")
    v, om, w, K = _flow_inputs("training", g_train, omega_abs2, w, K_train)
    n = len(v)
    has_test = g_test is not None
    if has_test:
        vt, omt, wt, Kt = _flow_inputs("test", g_test, omega_abs2_test, w_test, K_test, n_train=n)
    else:
        vt = None
    bad = ~is_positive_definite(v)
    if bad.any():
        raise PointSetError(f"{int(bad.sum())} starting metrics are not positive-definite "
                            f"(first: training point {int(np.argmax(bad))})")
    s0 = _sigma(v, om, w, eta_ref)
    st0 = _sigma(vt, omt, wt) if has_test else None
    state = FlowResult(v.copy(), None if vt is None else vt.copy(), s0, st0,
                       held_test=np.zeros(len(vt), dtype=np.int64) if has_test else None)
    best, since_best = s0, 0

    def stop(msg):
        state.stopped = msg
        if on_stop == "raise":
            raise FlowStoppedError(msg + "; the last good state is in .state", state=state.copy())
        return state

    for step in range(1, steps + 1):
        sigma, grad = sigma_loss_grad(state.v_train, om, w, eta_ref=eta_ref)
        if not (math.isfinite(sigma) and np.all(np.isfinite(grad))):
            bad = np.flatnonzero(~np.all(np.isfinite(grad), axis=1))
            return stop(f"non-finite σ-loss gradient at step {step} (training points {bad[:10].tolist()})")
        upd = K @ grad
        upd_t = Kt @ grad if has_test else None
        if not np.all(np.isfinite(upd)) or (has_test and not np.all(np.isfinite(upd_t))):
            return stop(f"non-finite update at step {step}")
        new_v, step_lr, ok = _positive_step(state.v_train, upd, lr, max_backtracks)
        if new_v is None:
            return stop(f"step {step}: the update leaves the metric not positive-definite at training points "
                        f"{np.flatnonzero(~ok)[:10].tolist()} even at step size {step_lr:.3g}")
        new_vt = _test_step(state, upd_t, step_lr) if has_test else None
        s_new = _sigma(new_v, om, w, eta_ref)
        if not math.isfinite(s_new):
            return stop(f"non-finite σ after step {step}")
        state.v_train, state.v_test = new_v, new_vt
        if step_lr < lr:  # a backtracked step lowers the step size from now on
            lr = step_lr
        state.steps = step
        h = state.history
        h["step"].append(step)
        h["sigma_train"].append(s_new)
        h["sigma_test"].append(_sigma(new_vt, omt, wt) if has_test and (step % eval_every == 0 or step == steps)
                               else None)
        h["lr"].append(step_lr)
        if s_new < best * (1 - 1e-9):
            best, since_best = s_new, 0
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                lr *= decay
                since_best = 0
                if lr < min_lr:
                    break
    return state


# ---- convenience: from points to flows -------------------------------------------------------

def flow_points(z_train, kernel: Kernel | str = "delta", *, z_test=None, lr: float | None = None,
                steps: int = 500, variety=None, **kwargs) -> FlowResult:
    """Kernel flow from Fubini–Study on points ``z_train`` (test points ``z_test`` flow along).

    All points should lie in one chart (the paper's rejection step: ``quintic_points(n, chart=c)``):
    the flow adds metric components of different points, which only makes sense in one coordinate
    system. ``kernel``: a :class:`~.kernels.Kernel` or a name (Table 1's hyperparameters).
    """
    kern = make_kernel(kernel) if isinstance(kernel, str) else kernel
    if lr is None:
        lr = TABLE1.get(kern.name, {}).get("lr", 0.1)
    dtr = prepare(z_train, variety)
    ids = np.unique(dtr.charts.ids)
    if len(ids) > 1:
        raise PointSetError(f"training points lie in {len(ids)} charts ({ids[:5].tolist()}...); a kernel flow "
                            "adds metric components of different points, so keep one chart "
                            "(quintic_points(n, chart=c))")
    test = {}
    if z_test is not None:
        dte = prepare(z_test, variety)
        other = dte.charts.ids != ids[0]
        if other.any():
            raise PointSetError(f"{int(other.sum())} test points are not in the training chart {int(ids[0])}")
        test = dict(g_test=dte.g_fs, omega_abs2_test=dte.omega_abs2, w_test=dte.weights,
                    K_test=kern(dte.z, dtr.z))
    return kernel_flow(dtr.g_fs, dtr.omega_abs2, dtr.weights, kern(dtr.z, dtr.z), lr=lr, steps=steps,
                       **test, **kwargs)


def noised_points(z, scale: float, *, seed: int = 0, variety=None, chart: int | None = None,
                  newton_steps: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """The paper's noise experiment, on the variety: each point (unit-normalised) plus complex
    Gaussian noise of standard deviation ``scale`` per coordinate, then projected back onto
    ``Q = 0`` by Newton steps along ``conj(grad Q)`` and normalised (the paper evaluated the noised
    points off the variety; here they are on it, so every quantity is well defined).
    ``chart``: keep only points in that chart. Returns ``(points, index of the origin point)``.
    """
    variety = as_variety(variety)
    z = np.asarray(z, dtype=np.complex128)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    y = z + scale * (rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape)) / math.sqrt(2)
    for _ in range(newton_steps):
        q = variety.evaluate(y)
        gq = variety.gradient(y)
        y = y - (q / np.sum(np.abs(gq) ** 2, axis=1))[:, None] * np.conj(gq)
        y = y / np.linalg.norm(y, axis=1, keepdims=True)
    y = normalise(variety, y)
    keep = np.all(np.isfinite(y), axis=1)
    keep[keep] = np.abs(variety.evaluate(y[keep])) < 1e-10
    if chart is not None:
        keep[keep] = chart_ids(variety, y[keep]) == chart
    idx = np.flatnonzero(keep)
    return y[idx], idx


def gain_vs_distance(z_train, kernel: Kernel | str, scales, *, lr: float | None = None, steps: int = 500,
                     seed: int = 0, variety=None, **kwargs) -> list[dict]:
    """Fig. 3 left for one kernel: for each noise ``scale``, test points = noised training points
    (same chart), one flow, and ``{"scale", "mean_distance", "gain_test", "gain_train", ...}``."""
    variety = as_variety(variety)
    chart = int(chart_ids(variety, np.asarray(z_train))[0])
    rows = []
    for i, s in enumerate(scales):
        zt, _ = noised_points(z_train, s, seed=seed + i, variety=variety, chart=chart)
        if len(zt) < 10:
            rows.append({"scale": float(s), "n_test": int(len(zt)), "mean_distance": float("nan"),
                         "gain_test": float("nan"), "gain_train": float("nan")})
            continue
        r = flow_points(z_train, kernel, z_test=zt, lr=lr, steps=steps, variety=variety, **kwargs)
        rows.append({"scale": float(s), "n_test": int(len(zt)), "mean_distance": mean_distance_to(zt, z_train),
                     "gain_test": r.gain_test, "gain_train": r.gain_train, "sigma_test0": r.sigma_test0,
                     "sigma_test": r.sigma_test, "steps": r.steps, "stopped": r.stopped})
    return rows


# ---- per-cluster flows, hyperparameter search ------------------------------------------------

def _cluster_flow_task(z_c, kernel, lr, steps, eta_ref, variety, kwargs):
    d = prepare(z_c, variety)
    r = kernel_flow(d.g_fs, d.omega_abs2, d.weights, kernel(d.z, d.z), lr=lr, steps=steps, eta_ref=eta_ref,
                    on_stop="return", **kwargs)
    return r.v_train, r.stopped


# kernel_flow's options plus the chunk runner's, keyword only
def clustered_kernel_flow(z, labels, kernel: Kernel | str = "delta", *, lr: float | None = None, steps: int = 500,
                          variety=None, workers: int | None = 1, scheduler=None, **kwargs) -> dict:
    """The paper's clustered flow: each cluster flows with its own kernel block, the others
    neglected. All clusters flow towards one volume (``eta_ref`` = the weighted mean of
    ``det g_FS/|Omega|^2`` over all points), so the global σ falls too. Clusters are independent
    tasks for :func:`cicy4lib.chunked.run_chunks` (``workers`` local processes or a Dask
    ``scheduler``). Returns ``{"v": (n, 9) final metrics, "sigma0", "sigma", "stopped": {cluster: why}}``.
    """
    kern = make_kernel(kernel) if isinstance(kernel, str) else kernel
    if lr is None:
        lr = TABLE1.get(kern.name, {}).get("lr", 0.1)
    d = prepare(z, variety)
    labels = np.asarray(labels)
    if labels.shape != (len(d),):
        raise PointSetError(f"{labels.shape} labels for {len(d)} points")
    eta = det_real9(to_real(d.g_fs)) / d.omega_abs2
    eta_ref = float(np.sum(d.weights * eta) / np.sum(d.weights))
    v = to_real(d.g_fs)
    stopped = {}
    groups = {int(c): np.flatnonzero(labels == c) for c in np.unique(labels)}

    def on_result(c, res):
        v[groups[c]] = res[0]
        if res[1]:
            stopped[c] = res[1]

    tasks = ((c, (d.z[idx], kern, lr, steps, eta_ref, variety, kwargs)) for c, idx in groups.items())
    run_chunks(_cluster_flow_task, tasks, on_result, workers=workers, scheduler=scheduler, total=len(groups),
               progress=False, desc="cluster flows", name="cicy4-metricflow-flow")
    return {"v": v, "sigma0": _sigma(to_real(d.g_fs), d.omega_abs2, d.weights),
            "sigma": _sigma(v, d.omega_abs2, d.weights), "stopped": stopped}


# the search's settings, keyword only as the notebook sets them
def search_hyperparameters(z_train, z_val, kernel: str, space: dict, *, n_trials: int = 20, steps: int = 200,
                           seed: int = 0, variety=None, sampler: str = "gp") -> dict:
    """Bayesian optimisation of a kernel's hyperparameters with Optuna (its GP sampler stands in for
    the ``bayesian-optimization`` package the paper used): minimise log σ on ``z_val`` after a flow on
    ``z_train``. ``space``: ``{"lr": (lo, hi), "sigma": (lo, hi), ...}`` searched on a log scale.
    Use fresh validation points, not the training points: the paper saw the optimiser over-fit a
    data set it was tuned on. Returns ``{"best_params", "best_sigma", "trials"}``.
    """
    import optuna  # lazy: imports optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler == "gp":
        samp = optuna.samplers.GPSampler(seed=seed)
    elif sampler == "tpe":
        samp = optuna.samplers.TPESampler(seed=seed)
    else:
        raise UsageError(f"sampler must be 'gp' or 'tpe', got {sampler!r}")

    def objective(trial):
        hp = {k: trial.suggest_float(k, lo, hi, log=True) for k, (lo, hi) in space.items()}
        lr = hp.pop("lr", None)
        kern = make_kernel(kernel, **hp)
        r = flow_points(z_train, kern, z_test=z_val, lr=lr, steps=steps, variety=variety, on_stop="return")
        s = r.sigma_test
        return math.log(s) if s and math.isfinite(s) and s > 0 else 10.0

    study = optuna.create_study(direction="minimize", sampler=samp)
    study.optimize(objective, n_trials=n_trials)
    return {"best_params": study.best_params, "best_sigma": math.exp(study.best_value),
            "trials": [{"params": t.params, "value": t.value} for t in study.trials]}
