"""Run directories lose nothing: checks before changes, overwrite refusal, lock, data fingerprint,
log rebuilt from the state, stale temp files, permissions (cicy4lib.training.runs through train())."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from cicy4lib.training import loop as train_mod
from cicy4lib.models.checkpoint import save_checkpoint
from cicy4lib.data.splits import Split
from cicy4lib.errors import (CheckpointError, Cicy4Error, RunExistsError, RunLockedError, RunMismatchError)
from cicy4lib.models import build_model
from cicy4lib.training.runs import (LOCK_FILE, RunLock, check_fingerprint, data_fingerprint, load_state, open_run)
from cicy4lib.training.config import TrainConfig
from cicy4lib.training.loop import train
from .test_train import make_data  # the tiny learnable dataset the trainer tests use

MODEL = "ResNet-GRU-256"  # the cheapest registered architecture to train on CPU


def config(**kw):
    return TrainConfig(**{**dict(batch_size=20, max_epochs=2, lr=0.003, seed=7, device="cpu"), **kw})


def run(tmp_path, data=None, split=None, name="run", **kw):
    if data is None:
        data, split = make_data()
    cfg = kw.pop("config", None) or config()
    return train(MODEL, data, split, cfg, output_dir=tmp_path, run_name=name, progress=False, **kw)


def snapshot(run_dir):
    """Every file's bytes (the lock file aside: it is not the run's)."""
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.name != LOCK_FILE}


@pytest.fixture
def finished(tmp_path):
    """A finished two-epoch run and its files' bytes."""
    result = run(tmp_path)
    return result.run_dir, snapshot(result.run_dir)


# --------------------------------------------------------------------------- checks before changes


def test_bad_init_from_on_a_finished_run_keeps_every_file(tmp_path, finished):
    run_dir, before = finished
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    # the case: resume=False with a bad init_from used to delete state.pt before failing
    with pytest.raises(RunExistsError):
        run(tmp_path, resume=False, init_from=bad)
    assert snapshot(run_dir) == before
    # even when starting over is allowed, the bad file fails before anything is deleted
    with pytest.raises(CheckpointError, match="bad.pt"):
        run(tmp_path, resume=False, overwrite=True, init_from=bad)
    assert snapshot(run_dir) == before
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        run(tmp_path, overwrite=True, init_from=tmp_path / "missing" / "model.pt")
    assert snapshot(run_dir) == before


def test_finished_run_without_resume_refuses(tmp_path, finished):
    run_dir, before = finished
    with pytest.raises(RunExistsError, match=r"holds a run \(finished after 2 epochs.*overwrite=True.*--overwrite"):
        run(tmp_path, resume=False, config=config(lr=0.01))
    assert snapshot(run_dir) == before
    assert not (run_dir / LOCK_FILE).exists()  # released (and removed) after the refusal


def test_overwrite_starts_over(tmp_path, finished):
    run_dir, before = finished
    fresh = run(tmp_path, resume=False, overwrite=True, config=config(max_epochs=1, lr=0.01))
    assert fresh.epochs == 1 and len(pd.read_csv(run_dir / "log.csv")) == 1
    assert load_state(run_dir / "state.pt")["recipe"]["lr"] == 0.01
    assert snapshot(run_dir)["model.pt"] != before["model.pt"]
    # overwrite also wins over resume=True (a recipe change would otherwise be refused)
    again = run(tmp_path, overwrite=True, config=config(max_epochs=1, lr=0.02))
    assert again.epochs == 1


def test_model_pt_without_state_is_not_silently_replaced(tmp_path):
    run_dir = tmp_path / "run"
    save_checkpoint(run_dir, build_model(MODEL), {"scale": 6.0})
    before = snapshot(run_dir)
    with pytest.raises(RunExistsError, match="holds model.pt but no state.pt"):
        run(tmp_path)
    assert snapshot(run_dir) == before


def test_refused_start_leaves_no_new_directory(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"")
    with pytest.raises(CheckpointError):
        run(tmp_path, name="new", init_from=bad)
    assert not (tmp_path / "new").exists()


# --------------------------------------------------------------------------- damaged state.pt


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbled", "flipped bit", "not a state", "wrong field type",
                                    "short history", "history column missing"])
def test_damaged_state_is_a_checkpoint_error_naming_the_file(tmp_path, finished, damage):
    run_dir, _ = finished
    path = run_dir / "state.pt"
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "garbled":
        path.write_bytes(data[:100] + b"\x00" * 300 + data[400:])
    elif damage == "flipped bit":  # torch.load alone would resume from silently changed weights
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x04
        path.write_bytes(bytes(flipped))
    else:
        state = torch.load(path, weights_only=True)
        if damage == "not a state":
            state = {"epoch": 2}
        elif damage == "wrong field type":
            state["epoch"] = "2"
        elif damage == "history column missing":
            del state["history"]["lr"]
        else:
            state["history"]["val_loss"] = state["history"]["val_loss"][:1]
        torch.save(state, path)
    before = snapshot(run_dir)
    with pytest.raises(CheckpointError, match=r"state\.pt") as err:
        run(tmp_path)
    assert "overwrite=True" in str(err.value)
    assert snapshot(run_dir) == before


# --------------------------------------------------------------------------- lock


def test_second_trainer_in_this_process_gets_run_locked_error(tmp_path, finished):
    run_dir, before = finished
    with RunLock(run_dir):
        with pytest.raises(RunLockedError) as err:
            run(tmp_path, resume=False, overwrite=True)
    message = str(err.value)
    assert str(run_dir / LOCK_FILE) in message and "delete" in message and f"pid {os.getpid()}" in message
    assert snapshot(run_dir) == before
    run(tmp_path, overwrite=True, config=config(max_epochs=1))  # released: training works again


def test_second_trainer_against_another_process(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from cicy4lib.training.runs import RunLock
            lock = RunLock({str(run_dir)!r}).acquire()
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid}"):
            run(tmp_path, config=config(max_epochs=1))
    finally:
        holder.kill()  # a killed trainer: the OS drops its lock, the lock file stays behind
        holder.wait()
    assert (run_dir / LOCK_FILE).exists()
    assert run(tmp_path, config=config(max_epochs=1)).epochs == 1  # a stale lock file does not block


def test_lock_is_released_when_training_fails(tmp_path, monkeypatch):
    def broken_epoch(*args, **kwargs):
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(train_mod, "train_epoch", broken_epoch)
    with pytest.raises(RuntimeError, match="a bug"):
        run(tmp_path)
    with RunLock(tmp_path / "run"):  # free again
        pass


# --------------------------------------------------------------------------- data fingerprint


def test_resume_on_other_data_refuses(tmp_path):
    data, split = make_data()
    run(tmp_path, data, split, config=config(max_epochs=1))
    run_dir = tmp_path / "run"
    before = snapshot(run_dir)
    meta = json.loads((run_dir / "model.json").read_text())
    assert meta["data_fingerprint"]["n"] == 80 and meta["data_fingerprint"]["n_train"] == 48
    assert meta["data"]["source"] == "tiny"

    other, _ = make_data(seed=1)  # same sizes, other rows
    with pytest.raises(RunMismatchError, match="other data.*content_sha256"):
        run(tmp_path, other, split)
    bigger, _ = make_data(n=90)  # another max_samples
    with pytest.raises(RunMismatchError, match="n 80 -> 90"):
        run(tmp_path, bigger, split)
    moved = Split(train=split.train[1:], valid=np.r_[split.valid, 0], test=split.test, name="tiny")
    with pytest.raises(RunMismatchError, match="split_sha256"):
        run(tmp_path, data, moved)
    renamed, _ = make_data(source="kaggle")
    with pytest.raises(RunMismatchError, match="source 'tiny' -> 'kaggle'"):
        run(tmp_path, renamed, split)
    assert snapshot(run_dir) == before
    # the same data under a moved path resumes
    same, _ = make_data(source="/elsewhere/tiny")
    assert run(tmp_path, same, split).epochs == 2


def test_fingerprint_unit():
    data, split = make_data()
    a = data_fingerprint(data, split)
    assert a == data_fingerprint(data, split)
    assert a["split_sha256"] != data_fingerprint(data, Split(split.valid, split.train, split.test, "x"))["split_sha256"]
    with pytest.warns(UserWarning, match="no data fingerprint"):
        check_fingerprint(None, a, "old/state.pt")
    with pytest.raises(RunMismatchError) as err:
        check_fingerprint({**a, "n_valid": 3}, a, "x/state.pt")
    assert isinstance(err.value, Cicy4Error) and "n_valid 3 -> 16" in str(err.value)


# --------------------------------------------------------------------------- log, temp files, permissions


def test_kill_between_state_and_log_loses_no_log_row(tmp_path, monkeypatch):
    real_write_log, calls = train_mod._write_log, []

    def dying_write_log(run_dir, history):
        calls.append(1)
        if len(calls) == 2:  # epoch 2's state.pt is on disk, its log row is not
            raise KeyboardInterrupt("killed between the state write and the log write")
        return real_write_log(run_dir, history)

    monkeypatch.setattr(train_mod, "_write_log", dying_write_log)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, config=config(max_epochs=3))
    monkeypatch.setattr(train_mod, "_write_log", real_write_log)
    run_dir = tmp_path / "run"
    assert len(pd.read_csv(run_dir / "log.csv")) == 1 and load_state(run_dir / "state.pt")["epoch"] == 2

    result = run(tmp_path, config=config(max_epochs=3))
    log = pd.read_csv(run_dir / "log.csv")
    assert log["epoch"].tolist() == [1, 2, 3] and result.epochs == 3
    np.testing.assert_allclose(log["val_loss"], result.history["val_loss"])


def test_kill_before_the_last_log_row_of_a_finished_run(tmp_path, monkeypatch):
    real_write_log = train_mod._write_log

    def dying_write_log(run_dir, history):
        if len(history["epoch"]) == 2:
            raise KeyboardInterrupt("killed")
        return real_write_log(run_dir, history)

    monkeypatch.setattr(train_mod, "_write_log", dying_write_log)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path)
    monkeypatch.setattr(train_mod, "_write_log", real_write_log)
    monkeypatch.setattr(train_mod, "train_epoch", lambda *a, **k: pytest.fail("a finished run trained again"))
    result = run(tmp_path)  # finished: nothing to train, but the log is made whole
    assert result.epochs == 2
    assert pd.read_csv(tmp_path / "run" / "log.csv")["epoch"].tolist() == [1, 2]


def test_stale_temp_files_are_removed_at_start(tmp_path, finished):
    run_dir, _ = finished
    stale = [run_dir / ".state.pt.k1ll3d.tmp", run_dir / ".model.pt.x9z.tmp"]
    for path in stale:
        path.write_bytes(b"half a write")
    keep = run_dir / "notes.txt"
    keep.write_text("mine")
    run(tmp_path, config=config(max_epochs=3))
    assert not any(p.exists() for p in stale) and keep.read_text() == "mine"
    assert not list(run_dir.glob("*.tmp"))


def test_files_get_consistent_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        result = run(tmp_path, config=config(max_epochs=1))
    finally:
        os.umask(old)
    for name in ("model.pt", "model.json", "state.pt", "log.csv"):
        assert (result.run_dir / name).stat().st_mode & 0o777 == 0o644, name


def test_open_run_directly(tmp_path):
    with open_run(tmp_path / "r") as handle:
        assert handle.state is None and handle.lock.held
        with pytest.raises(RunLockedError):
            open_run(tmp_path / "r")
    assert not handle.lock.held


def test_resuming_a_finished_run_with_damaged_best_weights(tmp_path, finished):
    run_dir, _ = finished
    data = bytearray((run_dir / "model.pt").read_bytes())
    data[-3000] ^= 0x40  # one flipped bit inside a weight
    (run_dir / "model.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.pt does not match the SHA-256"):
        run(tmp_path)


def test_init_from_another_architecture_is_refused_before_anything_changes(tmp_path, finished):
    run_dir, before = finished
    other = tmp_path / "other"
    save_checkpoint(other, build_model("CNN-LSTM-256"), {"scale": 6.0})
    with pytest.raises(CheckpointError, match="checkpoint is CNN-LSTM-256, expected ResNet-GRU-256"):
        run(tmp_path, overwrite=True, init_from=other)
    assert snapshot(run_dir) == before


def test_a_reading_process_neither_locks_nor_changes(tmp_path, finished):
    """A non-main DDP rank opens the run with writer=False: checks only."""
    run_dir, before = finished
    (run_dir / ".state.pt.abc.tmp").write_bytes(b"x")
    with RunLock(run_dir):  # the main rank holds the lock
        handle = open_run(run_dir, writer=False)
        assert handle.state["epoch"] == 2 and not handle.lock.held
    assert (run_dir / ".state.pt.abc.tmp").exists()
    assert not (tmp_path / "absent").exists() and open_run(tmp_path / "absent", writer=False).state is None
    assert not (tmp_path / "absent").exists()
