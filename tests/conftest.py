"""Shared test settings: one torch thread per test process.

Tiny models on tiny batches run faster single-threaded, and the suite shares two cores.
"""
import os

os.environ.setdefault("CICY4_QUIET", "1")  # no progress bars in test logs
os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import torch
except ImportError:  # the geometry tests do not need torch
    torch = None

if torch is not None:
    torch.set_num_threads(1)
