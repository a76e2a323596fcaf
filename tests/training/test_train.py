"""Tests for cicy4lib.training.loop: recipe, early stopping, resume bit for bit, time budget, files."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from cicy4lib.training import loop as train_mod
from cicy4lib.data import CICYData
from cicy4lib.data.splits import Split
from cicy4lib.training.config import EarlyStopping, TrainConfig, early_stopping_step, finetune_config
from cicy4lib.training.loop import train, validation_loss

MODEL = "ResNet-GRU-256"  # the cheapest registered architecture to train on CPU


@pytest.fixture(autouse=True)
def _progress_env(monkeypatch):
    monkeypatch.delenv("CICY4_QUIET", raising=False)  # these tests set quiet mode themselves


def make_data(n=80, seed=0, source="tiny"):
    """Tiny CICYData whose Hodge-like targets are simple functions of the matrices (learnable)."""
    rng = np.random.default_rng(seed)
    conf = np.zeros((n, 16, 20), dtype=np.int8)
    rows = rng.integers(1, 5, size=n)
    for i, m in enumerate(rows):
        conf[i, :m, :4] = rng.integers(0, 4, size=(m, 4))
    total = conf.reshape(n, -1).sum(axis=1)
    hodge = np.stack([rows, rows % 2, 20 + total, 200 + 2 * total], axis=1).astype(np.int64)
    data = CICYData(conf=conf, hodge=hodge, euler=np.full(n, -1), is_product=np.zeros(n, bool),
                    ids=np.arange(1, n + 1), scale=6.0, source=source)
    return data, Split(train=np.arange(0, 48), valid=np.arange(48, 64), test=np.arange(64, n), name="tiny")


def config(**kw):
    base = dict(batch_size=20, max_epochs=3, lr=0.003, seed=7, device="cpu")  # 48 train -> 20, 20, 8
    return TrainConfig(**{**base, **kw})


# --------------------------------------------------------------------------- recipe


def test_defaults_are_the_paper_recipe():
    c = TrainConfig()
    assert (c.lr, c.weight_decay, c.batch_size, c.max_epochs) == (0.01, 0.01, 128, 550)
    assert (c.patience, c.lr_factor, c.lr_patience, c.min_lr) == (20, 0.1, 10, 1e-8)
    assert (c.huber_delta, c.seed, c.time_budget_h, c.amp) == (1.0, 42, None, False)
    f = finetune_config(max_epochs=5)
    assert (f.min_lr, f.lr, f.lr_factor, f.max_epochs) == (1e-7, 0.01, 0.1, 5)
    with pytest.raises(ValueError):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError):
        TrainConfig(max_epochs=0)


# --------------------------------------------------------------------------- early stopping


def run_rule(losses, patience):
    """Apply the rule to a loss sequence; return (improved flags, epoch it stops at or None)."""
    state, improved = EarlyStopping(), []
    for epoch, loss in enumerate(losses, start=1):
        state, better, stop = early_stopping_step(state, loss, patience)
        improved.append(better)
        if stop:
            return improved, epoch, state
    return improved, None, state


def test_early_stopping_first_epoch_is_first_best():
    state, improved, stop = early_stopping_step(EarlyStopping(), 5.0, patience=20)
    assert improved and not stop and state == EarlyStopping(5.0, 0)


def test_early_stopping_stops_once_counter_exceeds_patience():
    # best at epoch 1, then 21 epochs without improvement: counter 21 > 20 stops at epoch 22
    improved, stopped_at, state = run_rule([1.0] + [2.0] * 30, patience=20)
    assert stopped_at == 22 and state.counter == 21 and improved[0] and not any(improved[1:])
    # exactly 20 non-improving epochs do not stop
    assert run_rule([1.0] + [2.0] * 20, patience=20)[1] is None


def test_early_stopping_equal_is_not_better_and_improvement_resets():
    losses = [3.0, 3.0, 2.0, 2.5, 2.5, 1.0, 1.0, 1.0, 1.0]
    improved, stopped_at, state = run_rule(losses, patience=2)
    assert improved[:6] == [True, False, True, False, False, True]
    assert stopped_at == 9 and state == EarlyStopping(1.0, 3)


def test_validation_loss_is_mean_of_batch_means():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(320, 4))
    x, y = torch.rand(50, 16, 20), 10 * torch.rand(50, 4)
    expected = np.mean([torch.nn.functional.huber_loss(model(x[i:i + 16]), y[i:i + 16]).item()
                        for i in range(0, 50, 16)])  # batches 16, 16, 16, 2
    got = validation_loss(model, x, y, batch_size=16, eval_batch_size=7)
    assert got == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------------- training runs


def test_train_writes_files_and_lowers_validation_loss(tmp_path):
    data, split = make_data()
    result = train(MODEL, data, split, config(max_epochs=4), output_dir=tmp_path, progress=False)
    run_dir = tmp_path / f"{MODEL}_tiny"
    assert result.run_dir == run_dir and result.stopped == "max_epochs" and result.epochs == 4
    for name in ("model.pt", "model.json", "state.pt", "log.csv"):
        assert (run_dir / name).exists(), name

    log = pd.read_csv(run_dir / "log.csv")
    assert list(log.columns) == ["train_loss", "val_loss", "epoch", "lr", "seconds"]
    assert log["epoch"].tolist() == [1, 2, 3, 4] and (log["lr"] == 0.003).all()
    pd.testing.assert_frame_equal(log, result.history, check_dtype=False)
    assert log["val_loss"].iloc[-1] < log["val_loss"].iloc[0]
    assert result.best_val_loss == log["val_loss"].min()

    meta = json.loads((run_dir / "model.json").read_text())
    assert meta["arch"] == MODEL and meta["split"] == "tiny" and meta["scale"] == 6.0
    assert meta["seed"] == 7 and meta["recipe"]["lr"] == 0.003 and "library_version" in meta
    assert meta["epoch"] == result.best_epoch and meta["best_val_loss"] == result.best_val_loss

    # model.pt is a plain state_dict holding the best weights, which result.model carries
    saved = torch.load(run_dir / "model.pt", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in result.model.state_dict().items())
    from cicy4lib.models.checkpoint import load_model

    loaded, cfg = load_model(run_dir)
    assert cfg["arch"] == MODEL
    x = torch.from_numpy(data.features(split.test))
    with torch.no_grad():
        assert torch.equal(loaded(x), result.model.eval()(x))
    torch.load(run_dir / "state.pt", weights_only=True)  # resumable state loads without pickle code


def assert_same_run(a, b):
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    cols = ["train_loss", "val_loss", "epoch", "lr"]
    pd.testing.assert_frame_equal(a.history[cols], b.history[cols], check_exact=True)
    assert a.best_val_loss == b.best_val_loss and a.best_epoch == b.best_epoch
    last_a = torch.load(a.run_dir / "state.pt", weights_only=True)
    last_b = torch.load(b.run_dir / "state.pt", weights_only=True)
    assert all(torch.equal(last_a["model"][k], last_b["model"][k]) for k in last_a["model"])
    assert last_a["scheduler"] == last_b["scheduler"]


def test_resume_after_a_kill_is_bit_for_bit(tmp_path, monkeypatch):
    data, split = make_data()
    # lr 0.01 overshoots at epoch 3 here; lr_patience 0 then halves the lr for epoch 4, so the
    # resumed epoch depends on the scheduler's and the early-stopping counter's saved state
    cfg = dict(max_epochs=4, lr=0.01, lr_patience=0, lr_factor=0.5)
    full = train(MODEL, data, split, config(**cfg), output_dir=tmp_path, run_name="full", progress=False)
    assert full.history["lr"].tolist()[-1] < 0.01 and full.best_epoch < 4

    # "kill" the run in the middle of epoch 4: the last state on disk is from epoch 3
    real_epoch, calls = train_mod.train_epoch, []

    def dying_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt("killed")
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(train_mod, "train_epoch", dying_epoch)
    with pytest.raises(KeyboardInterrupt):
        train(MODEL, data, split, config(**cfg), output_dir=tmp_path, run_name="killed", progress=False)
    monkeypatch.setattr(train_mod, "train_epoch", real_epoch)
    assert len(pd.read_csv(tmp_path / "killed" / "log.csv")) == 3
    torch.manual_seed(1234)  # whatever the global RNG does in between must not matter
    np.random.seed(99)
    resumed = train(MODEL, data, split, config(**cfg), output_dir=tmp_path, run_name="killed", progress=False)
    assert_same_run(full, resumed)

    # the other way to stop early: a shorter max_epochs, then continue with the full length
    train(MODEL, data, split, config(**{**cfg, "max_epochs": 1}), output_dir=tmp_path, run_name="short",
          progress=False)
    extended = train(MODEL, data, split, config(**cfg), output_dir=tmp_path, run_name="short", progress=False)
    assert_same_run(full, extended)


def test_time_budget_stops_then_resume_completes(tmp_path):
    data, split = make_data()
    first = train(MODEL, data, split, config(max_epochs=2, time_budget_h=1e-9), output_dir=tmp_path,
                  progress=False)
    assert first.stopped == "time_budget" and first.epochs == 1 and len(first.history) == 1
    rest = train(MODEL, data, split, config(max_epochs=2), output_dir=tmp_path, progress=False)
    assert rest.stopped == "max_epochs" and rest.epochs == 2
    assert rest.history["epoch"].tolist() == [1, 2]


def test_finished_run_resume_is_a_noop(tmp_path, monkeypatch):
    data, split = make_data()
    done = train(MODEL, data, split, config(max_epochs=2), output_dir=tmp_path, progress=False)
    before = (tmp_path / f"{MODEL}_tiny" / "state.pt").stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run must not train again")

    monkeypatch.setattr(train_mod, "train_epoch", no_training)
    again = train(MODEL, data, split, config(max_epochs=2), output_dir=tmp_path, progress=False)
    assert again.stopped == "max_epochs" and again.epochs == 2
    assert (tmp_path / f"{MODEL}_tiny" / "state.pt").stat().st_mtime_ns == before
    assert all(torch.equal(a, b) for a, b in zip(done.model.state_dict().values(),
                                                 again.model.state_dict().values()))
    pd.testing.assert_frame_equal(done.history, again.history)


def test_early_stopping_run_is_finished_for_good(tmp_path, monkeypatch):
    data, split = make_data()
    # lr 0 (well, tiny): the loss never improves, so patience 1 stops after 1 + 2 epochs
    res = train(MODEL, data, split, config(max_epochs=10, patience=1, lr=1e-30), output_dir=tmp_path,
                progress=False)
    assert res.stopped == "early_stopping" and res.epochs == 3 and res.best_epoch == 1
    monkeypatch.setattr(train_mod, "train_epoch", lambda *a, **k: pytest.fail("trained again"))
    again = train(MODEL, data, split, config(max_epochs=10, patience=1, lr=1e-30), output_dir=tmp_path,
                  progress=False)
    assert again.stopped == "early_stopping" and again.epochs == 3


def test_resume_refuses_another_model_or_recipe(tmp_path):
    data, split = make_data()
    train(MODEL, data, split, config(max_epochs=1), output_dir=tmp_path, run_name="run", progress=False)
    with pytest.raises(ValueError, match="belongs to model 'ResNet-GRU-256'"):
        train("CNN-LSTM-256", data, split, config(max_epochs=1), output_dir=tmp_path, run_name="run",
              progress=False)
    with pytest.raises(ValueError, match="recipe differs.*lr"):
        train(MODEL, data, split, config(max_epochs=2, lr=0.1), output_dir=tmp_path, run_name="run",
              progress=False)
    # overwrite=True starts over instead (resume=False alone refuses to replace a run: test_runs.py)
    fresh = train(MODEL, data, split, config(max_epochs=1, lr=0.1), output_dir=tmp_path, run_name="run",
                  resume=False, overwrite=True, progress=False)
    assert fresh.epochs == 1


def test_init_from_loads_weights_for_finetuning(tmp_path):
    data, split = make_data()
    base = train(MODEL, data, split, config(max_epochs=1), output_dir=tmp_path, run_name="base",
                 progress=False)
    # a fine-tune run that cannot improve (lr ~ 0) keeps the initial weights as its best model
    tuned = train(MODEL, data, split, finetune_config(max_epochs=1, lr=1e-30, batch_size=20, device="cpu"),
                  output_dir=tmp_path, run_name="tuned", init_from=base.run_dir, progress=False)
    assert all(torch.allclose(a, b) for a, b in zip(base.model.state_dict().values(),
                                                    tuned.model.state_dict().values()))
    assert tuned.best_val_loss == pytest.approx(base.best_val_loss, rel=1e-5)
    meta = json.loads((tuned.run_dir / "model.json").read_text())
    assert meta["init_from"] == str(base.run_dir) and meta["recipe"]["min_lr"] == 1e-7
    with pytest.raises(Exception, match="CNN-LSTM-256|ResNet-GRU-256"):
        train("CNN-LSTM-256", data, split, config(max_epochs=1), output_dir=tmp_path, run_name="bad",
              init_from=base.run_dir, progress=False)


def test_split_by_name_and_run_name(tmp_path):
    data, _ = make_data()
    result = train(MODEL, data, "72", config(max_epochs=1), output_dir=tmp_path, progress=False)
    assert result.run_dir == tmp_path / f"{MODEL}_72" and (result.run_dir / "state.pt").exists()
    assert json.loads((result.run_dir / "model.json").read_text())["split"] == "72"
    with pytest.raises(KeyError, match="unknown model"):
        train("LSTM-999", data, "72", config(max_epochs=1), output_dir=tmp_path, progress=False)


def test_progress_bar_respects_quiet_env(tmp_path, monkeypatch, capsys):
    data, split = make_data()
    train(MODEL, data, split, config(max_epochs=1), output_dir=tmp_path, run_name="a", progress=True)
    assert MODEL in capsys.readouterr().err  # the bar, labelled with the model name
    monkeypatch.setenv("CICY4_QUIET", "1")
    train(MODEL, data, split, config(max_epochs=1), output_dir=tmp_path, run_name="b", progress=True)
    assert MODEL not in capsys.readouterr().err


def test_benchmark_script_runs(tmp_path, capsys, load_benchmark):
    bench = load_benchmark("bench_train")
    out = tmp_path / "bench.json"
    results = bench.main(["--models", MODEL, "--n", "300", "--batch-size", "32", "--steps", "1",
                          "--warmup", "1", "--rounds", "1", "--json", str(out), "--fast-batch", "64",
                          "--default-threads", "1", "--threads", "1", "--ddp", "0"])  # ours_ddp spawns ranks: not here
    assert results[0]["ratio"] > 0 and json.loads(out.read_text())["results"][0]["model"] == MODEL
    from cicy4lib.training.device import cpu_bf16_supported

    amp = {"ours_amp"} if cpu_bf16_supported() else set()  # bfloat16 autocast where the CPU runs it natively
    assert set(results[0]["ratios"]) == {"published", "ours", "ours_fast"} | amp
    assert "ours_fast" in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback of the AMP path")
def test_train_epoch_scaler_branch_matches_plain_step():
    # Without CUDA, GradScaler("cuda") disables itself (with a warning): the AMP code path must
    # then give exactly the plain float32 update.
    torch.manual_seed(0)
    x, y = torch.rand(40, 16, 20), 10 * torch.rand(40, 4)
    results = []
    for use_scaler in (False, True):
        torch.manual_seed(1)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(320, 4))
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)
        scaler = None
        if use_scaler:
            with pytest.warns(UserWarning):
                scaler = torch.amp.GradScaler("cuda")
        loss = train_mod.train_epoch(model, x, y, torch.arange(40), batch_size=16, optimizer=opt,
                                     amp=True, scaler=scaler)
        results.append((loss, [p.detach().clone() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    assert all(torch.equal(a, b) for a, b in zip(results[0][1], results[1][1]))
