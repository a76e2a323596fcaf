"""CPU threads done right: how many intra-op threads each process should use, and parallel runs.

PyTorch starts with one intra-op thread per core. For this library's workloads (2-layer LSTMs
and GRUs over 16 time steps at batch 128) that default is a trap on small machines: the work per
time step is too small to split, and as soon as anything else uses another core, the threads
wait for each other. One trainer epoch of LSTM-448 on 864 configurations on the 2-vCPU machine
(``benchmarks/bench_train_threads.py --epoch-rows 864``, medians of 3 fresh processes, 2026-12-05):
idle (load average < 0.6), one thread 686 samples/s, two 1,168 (1.7x); with a ``yes`` process on the
second core, one thread 708, two 455 (0.64x); with other jobs on both cores (load average 4.5-5.6),
one thread 224, two 42 (0.19x), and 48 with a ``yes`` added (0.22x). Why readings disagree: two threads meet at a barrier
in every parallel region, so a step runs at the pace of whichever thread the scheduler last took
away; the ratio depends on what else runs, not on the code. Kaggle's and Colab's CPU sessions are
the same kind of 2-vCPU machine.

:func:`configure_threads` sets torch's intra-op threads of the calling process once:

1. an explicit ``n`` wins; then the environment variable ``CICY4_THREADS`` (an integer, or
   ``probe`` to force a probe);
2. a thread count the user chose already is kept: ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` in the
   environment, or a ``torch.set_num_threads`` call (torch's count differs from its default);
3. otherwise the **rule**: ``cpus // workers`` CPUs per process (``workers``: processes training
   at the same time), and one thread while that is at most 4, else half of them, at most 8.
   :func:`probe_threads` times a short training step at each candidate count; on the 2-vCPU
   machine it picks 1 while another process uses the second core and 2 when the machine is idle
   (LSTM-448 training steps: 2 threads 1.7-1.8x one thread idle, 0.55-0.7x with the other core
   busy; a whole trainer epoch under load 4.5-5.6: 0.19-0.32x, above). The rule
   stays at 1 for long runs: a busy core later costs two threads (0.19-0.64x) more than an idle
   one costs one thread (0.58x), and a long run rarely keeps the machine to itself. ``CICY4_THREADS=probe`` runs the probe instead of the rule (about 2 s; the answer
   is cached per process).

The trainer (:func:`cicy4lib.training.loop.train`), the command line and the notebook runner's kernels
call it; independent models are trained in parallel processes, one thread each, with
:func:`parallel_map` (the demo; ``python -m cicy4lib.notebooks run --jobs N``). The demo's last,
smaller round (fewer runs than cores) runs at the probe's count.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

ENV = "CICY4_THREADS"
_USER_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
_configured: int | None = None  # what configure_threads set in this process
_default_threads: int | None = None


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup (container) CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def rule_threads(cpus: int | None = None, workers: int = 1) -> int:
    """The rule of thumb: threads per process for ``workers`` processes on ``cpus`` CPUs."""
    per = max(1, (cpus or available_cpus()) // max(1, int(workers)))
    return 1 if per <= 4 else min(per // 2, 8)


def _torch_default() -> int:
    """torch's own default intra-op thread count in this process (before anyone changed it)."""
    global _default_threads
    if _default_threads is None:
        _default_threads = available_cpus()
    return _default_threads


def user_choice() -> int | None:
    """A thread count the user set already (environment or ``torch.set_num_threads``), else None."""
    import torch  # lazy: the command line imports this module and starts without torch

    for name in _USER_ENV:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    current = torch.get_num_threads()
    if current != _torch_default() and current != _configured:
        return current
    return None


def probe_threads(candidates=None, *, steps: int = 3, batch_size: int = 128, hidden: int = 256,
                  prefer_fewer: float = 0.9) -> dict:
    """Time a few training steps of a 2-layer LSTM at each thread count; return the choice.

    ``prefer_fewer``: a smaller count wins unless a larger one is faster by more than
    1/prefer_fewer (fewer threads degrade far more gracefully when the machine gets busy).

    Returns ``{"threads": n, "samples_per_s": {n: rate}}``.
    """
    import torch  # lazy: the command line imports this module and starts without torch

    cpus = available_cpus()
    if candidates is None:
        candidates = sorted({1, 2, 4, 8, cpus} & set(range(1, cpus + 1)))
    old = torch.get_num_threads()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch_size, 16, 20, generator=gen)
    y = torch.rand(batch_size, hidden, generator=gen)
    rates = {}
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            lstm = torch.nn.LSTM(20, hidden, num_layers=2, batch_first=True)
        for n in candidates:
            torch.set_num_threads(n)
            best = float("inf")
            for i in range(steps + 1):  # the first step warms up
                t0 = time.perf_counter()
                out, _ = lstm(x)
                loss = torch.nn.functional.mse_loss(out[:, -1], y)
                lstm.zero_grad(set_to_none=True)
                loss.backward()
                with torch.no_grad():  # a plain SGD step (torch.optim's first step imports much more)
                    for p in lstm.parameters():
                        p.sub_(1e-6 * p.grad)
                took = time.perf_counter() - t0
                if i:
                    best = min(best, took)
                if rates and batch_size / took < 0.3 * max(rates.values()):
                    best = took  # hopeless (already 3x slower): stop timing it
                    break
            rates[n] = batch_size / best
    finally:
        torch.set_num_threads(old)
    choice = candidates[0]
    for n in candidates[1:]:
        if rates[n] * prefer_fewer > rates[choice]:
            choice = n
    return {"threads": choice, "samples_per_s": rates}


def configure_threads(n: int | None = None, *, workers: int = 1, probe: bool = False) -> int:
    """Set torch's intra-op threads for this process (see the module docstring); return the count.

    Call it at entry points (training, evaluation, notebooks). Cheap after the first call.
    """
    global _configured
    import torch  # lazy: the command line imports this module and starts without torch

    _torch_default()  # record torch's default before we change it
    env = os.environ.get(ENV, "").strip().lower()
    if n is None and env.isdigit() and int(env) > 0:
        n = int(env)
    if n is None:
        if _configured is not None and torch.get_num_threads() == _configured:
            return _configured
        chosen = user_choice()
        if chosen is not None:
            return chosen
        if probe or env == "probe":
            n = probe_threads()["threads"]
        else:
            n = rule_threads(workers=workers)
    n = max(1, int(n))
    torch.set_num_threads(n)
    _configured = n
    return n


def thread_env(threads: int = 1) -> dict:
    """Environment variables that fix the thread count of a child process (set before torch loads)."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), ENV: str(threads)}


def _init_worker(threads: int) -> None:
    os.environ.update(thread_env(threads))
    import torch  # lazy: the command line imports this module and starts without torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass


def default_workers(n_jobs: int) -> int:
    """One process per CPU, no more processes than jobs."""
    return max(1, min(int(n_jobs), available_cpus()))


def parallel_map(fn, jobs, *, workers: int | None = None, threads: int = 1):
    """``[fn(*job) for job in jobs]``, in ``workers`` spawned processes of ``threads`` threads each.

    ``fn`` must be importable (a module-level function). With one worker (or one job) it runs here,
    in order, at ``threads`` threads (restored afterwards), as the workers would have it. Results keep the jobs' order.
    """
    jobs = [tuple(j) for j in jobs]
    workers = default_workers(len(jobs)) if workers is None else max(1, int(workers))
    if workers == 1 or len(jobs) <= 1:
        global _configured
        import torch  # lazy: the command line imports this module and starts without torch

        saved = torch.get_num_threads(), _configured
        configure_threads(threads)
        try:
            return [fn(*job) for job in jobs]
        finally:  # this process's own choice comes back
            torch.set_num_threads(saved[0])
            _configured = saved[1]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_init_worker, initargs=(threads,)) as pool:
        futures = [pool.submit(fn, *job) for job in jobs]
        return [f.result() for f in futures]
