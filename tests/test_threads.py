"""cicy4lib.threads: the thread rule, user choices win, the probe, parallel_map."""
from __future__ import annotations

import os

import pytest
import torch

from cicy4lib import threads


@pytest.fixture
def fresh(monkeypatch):
    """No user settings in the environment, torch at its default count, nothing configured yet."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", threads.ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_configured", None)
    monkeypatch.setattr(threads, "_default_threads", 8)
    monkeypatch.setattr(threads, "available_cpus", lambda: 8)
    old = torch.get_num_threads()
    torch.set_num_threads(8)
    yield
    torch.set_num_threads(old)


def test_rule():
    assert threads.rule_threads(2) == 1 and threads.rule_threads(4) == 1
    assert threads.rule_threads(16) == 8 and threads.rule_threads(64) == 8 and threads.rule_threads(12) == 6
    assert threads.rule_threads(16, workers=4) == 1 and threads.rule_threads(16, workers=2) == 4


def test_configure_applies_rule_and_respects_user(fresh, monkeypatch):
    assert threads.configure_threads() == 4 and torch.get_num_threads() == 4  # 8 cpus -> 8 // 2
    assert threads.configure_threads(workers=8) == 4  # already configured: cheap no-op
    torch.set_num_threads(3)  # the user's own choice afterwards wins
    assert threads.configure_threads() == 3 and torch.get_num_threads() == 3
    assert threads.configure_threads(2) == 2  # an explicit count wins over everything
    monkeypatch.setenv(threads.ENV, "5")
    assert threads.configure_threads() == 5


def test_user_environment_is_kept(fresh, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "6")
    assert threads.configure_threads() == 6
    assert torch.get_num_threads() == 8  # the environment governs; nothing to change here


def test_probe_prefers_fewer_threads_and_restores_the_count():
    torch.set_num_threads(3)  # not a candidate: the probe must put it back (conftest restores it after the test)
    res = threads.probe_threads([1], steps=1, batch_size=8, hidden=16)
    assert res["threads"] == 1 and res["samples_per_s"][1] > 0
    assert torch.get_num_threads() == 3


def _square(x, y):
    import torch as t

    return x * x + y, t.get_num_threads(), os.environ.get("OMP_NUM_THREADS")


def test_parallel_map_in_process_keeps_order():
    assert [r[0] for r in threads.parallel_map(_square, [(2, 1), (3, 0)], workers=1)] == [5, 9]


@pytest.mark.slow
def test_parallel_map_spawns_one_thread_workers():
    out = threads.parallel_map(_square, [(2, 0), (3, 0), (4, 0)], workers=2)
    assert [r[0] for r in out] == [4, 9, 16] and all(r[1] == 1 and r[2] == "1" for r in out)


def test_parallel_map_in_process_uses_the_given_threads_then_restores(fresh):
    threads.configure_threads(1)
    out = threads.parallel_map(_square, [(2, 0)], workers=1, threads=3)
    assert out[0][:2] == (4, 3)  # the job ran at the round's thread count
    assert torch.get_num_threads() == 1 and threads.configure_threads() == 1  # our own choice is back
