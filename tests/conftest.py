"""Shared test settings: one torch thread per test, quiet progress bars, a headless backend."""
import os

import pytest

os.environ.setdefault("CICY4_QUIET", "1")  # no progress bars in test logs
os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import torch
except ImportError:  # the geometry tests do not need torch
    torch = None


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny batches: on a shared 2-core machine OpenMP's thread hand-offs cost more than the
    work (a batch-4 LSTM forward takes ~0.8 s with 2 threads, ~0.05 s with 1). Restored after
    each test, so a test that changes the thread count cannot leak it into the next."""
    if torch is None:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def load_benchmark():
    """``load_benchmark("bench_train")``: a script of ``benchmarks/`` imported as a module."""
    import importlib.util
    from pathlib import Path

    def load(name):
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
