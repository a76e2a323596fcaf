"""Chunked, resumable runs of independent tasks: local worker processes or a Dask cluster.

The generator (:mod:`cicy4lib.jobs.generate`) and the verifier (:mod:`cicy4lib.jobs.verify`)
split their work into numbered chunks. A chunk's result is a pure function of its arguments;
the *driver* (the process that calls :func:`run_chunks`) writes each result to its own file
atomically as soon as it arrives, so after a kill only the chunks without a file are run
again: no duplicates, no gaps, and the same files as a run that was never interrupted.

Where the tasks run:

- ``workers=1``: in the calling process, in chunk order (tests, debugging);
- ``workers=N`` (default: every core this process may use): ``N`` local worker processes;
- ``scheduler="tcp://host:8786"`` (or a ``distributed.Client``): the same tasks go to a Dask
  distributed cluster. Start one by hand (``dask scheduler`` on one machine, ``dask worker
  tcp://host:8786 --nthreads 1 --nworkers N`` on each of the others; the workers need this
  package installed), or on SLURM/PBS through dask-jobqueue, e.g.::

      from dask_jobqueue import SLURMCluster
      cluster = SLURMCluster(cores=32, processes=32, memory="64GB", walltime="04:00:00")
      cluster.scale(jobs=4)          # 4 batch jobs x 32 single-threaded workers
      print(cluster.scheduler_address)   # pass this to --scheduler

  Results come back to the driver, which alone writes files, so workers need no shared disk.

Per-task time limits count CPU time: ``ITIMER_PROF`` where a task runs in a process's main
thread (local workers), the thread's CPU clock and an asynchronous exception otherwise (Dask
workers run tasks in threads); see :func:`time_limit`.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import threading
import time
from typing import Any, Callable, Iterable

__all__ = ["TaskTimeout", "default_workers", "run_chunks", "time_limit"]


class TaskTimeout(Exception):
    """Raised inside a task that ran past its :func:`time_limit`."""


def default_workers() -> int:
    """Cores this process may run on (affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`TaskTimeout` in the calling thread once it has used ``seconds`` of CPU time
    (None/0: no limit). CPU time, not wall time, so that a busy machine does not change which
    computations time out (results stay reproducible as long as the CPU is equally fast).

    Main thread: ``ITIMER_PROF``/``SIGPROF`` (process CPU time; workers are single-threaded).
    Other threads (Dask workers run tasks in threads): a watcher reads the thread's own CPU
    clock and delivers an asynchronous exception at the thread's next Python bytecode, so a long
    C call finishes first.
    """
    if not seconds:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def _alarm(signum, frame):
            raise TaskTimeout(f"> {seconds:g} s CPU")

        old = signal.signal(signal.SIGPROF, _alarm)
        signal.setitimer(signal.ITIMER_PROF, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, old)
        return
    ident = threading.get_ident()
    tid = ctypes.c_ulong(ident)
    try:
        clock = time.pthread_getcpuclockid(ident)
        now = lambda: time.clock_gettime(clock)  # noqa: E731
    except (AttributeError, OSError):  # no per-thread CPU clock here: wall time
        now = time.monotonic
    start = now()
    lock = threading.Lock()
    state = {"done": False}
    stop = threading.Event()

    def _watch():
        while not stop.wait(min(0.25, seconds / 4)):
            if now() - start >= seconds:
                with lock:
                    if not state["done"]:
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(tid, ctypes.py_object(TaskTimeout))
                return

    watcher = threading.Thread(target=_watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        with lock:
            state["done"] = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(tid, None)  # drop one not yet delivered


def _run_local_serial(fn, tasks, on_result):
    for index, args in tasks:
        on_result(index, fn(*args))


def _worker_init(initializer=None):
    """Forked workers: default signal handling (the driver's SIGTERM handler is not theirs)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver, which stops them
    if initializer is not None:
        initializer()


def _run_local_pool(fn, tasks, on_result, workers, initializer=None):
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    tasks = iter(tasks)
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                initargs=(initializer,)) as pool:
        pending = {}

        def top_up():  # at most 2 chunks per worker in flight: bounded memory
            for index, args in tasks:
                pending[pool.submit(fn, *args)] = index
                if len(pending) >= 2 * workers:
                    break

        try:
            top_up()
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in sorted(done, key=pending.get):
                    index = pending.pop(fut)
                    on_result(index, fut.result())
                top_up()
        except BaseException:  # Ctrl-C / SIGTERM: stop the workers too (their chunks are redone on resume)
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _run_dask(fn, tasks, on_result, scheduler, name):
    from distributed import Client, as_completed  # lazy: imports dask

    own = not hasattr(scheduler, "submit")
    client = Client(scheduler) if own else scheduler
    try:
        n_workers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
        tasks = iter(tasks)
        futures = {}

        def submit(index, args):
            fut = client.submit(fn, *args, key=f"{name}-{index}-{time.time_ns()}", pure=False, retries=1)
            futures[fut.key] = index
            return fut

        first = [submit(i, a) for i, a in _take(tasks, 2 * n_workers)]
        queue = as_completed(first)
        for fut in queue:
            index = futures.pop(fut.key)
            result = fut.result()
            fut.release()
            on_result(index, result)
            for i, a in _take(tasks, 1):
                queue.add(submit(i, a))
    finally:
        if own:
            client.close()


def _take(iterator, n):
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= n:
            break
    return out


# keyword options of the one chunk runner that generate, verify and metricflow share
def run_chunks(fn: Callable[..., Any], tasks: Iterable[tuple[int, tuple]], on_result: Callable[[int, Any], None],
               *, workers: int | None = None, scheduler=None, total: int | None = None, done: int = 0,
               progress: bool = True, desc: str = "chunks", name: str = "cicy4-chunk",
               initializer: Callable | None = None) -> int:
    """Run ``fn(*args)`` for every ``(index, args)`` of ``tasks``; ``on_result(index, result)``
    is called in this process as each finishes (in completion order).

    ``fn`` must be importable by the workers (a module-level function). ``tasks`` is consumed
    lazily, with a bounded number of chunks in flight. ``total``/``done`` size the progress
    bar (tqdm, on stderr). Returns the number of chunks run.
    """
    count = [0]
    bar = None
    if threading.current_thread() is threading.main_thread():  # a kill (SIGTERM) stops cleanly, like Ctrl-C
        def _term(signum, frame):
            raise KeyboardInterrupt("terminated")

        old_term = signal.signal(signal.SIGTERM, _term)
    else:
        old_term = None
    if progress:
        try:
            from tqdm.auto import tqdm  # optional: the geometry layer may run without tqdm

            bar = tqdm(total=total, initial=done, desc=desc, unit="chunk", dynamic_ncols=True)
        except ImportError:  # tqdm is a dependency, but the geometry layer may run without it
            bar = None

    def handle(index, result):
        on_result(index, result)
        count[0] += 1
        if bar is not None:
            bar.update(1)

    try:
        if scheduler is not None:
            _run_dask(fn, tasks, handle, scheduler, name)
        elif (workers or default_workers()) <= 1:
            _run_local_serial(fn, tasks, handle)
        else:
            _run_local_pool(fn, tasks, handle, workers or default_workers(), initializer)
    finally:
        if bar is not None:
            bar.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return count[0]
