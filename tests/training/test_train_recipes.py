"""Recipes: the paper's stays the default; the fast recipe's standardised targets are folded into the
saved model (model.pt outputs raw Hodge numbers), its one-cycle schedule, resume after a kill."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from cicy4lib.training import recipes
from cicy4lib.training import device as device_mod, loop as train_mod, targets as targets_mod
from cicy4lib.errors import ConfigurationError, UnknownNameError
from cicy4lib.training.config import TrainConfig
from cicy4lib.training.loop import onecycle_lr, train

from .test_train import MODEL, assert_same_run, make_data


def fast(**kw):
    return TrainConfig.fast(**{**dict(batch_size=16, max_epochs=3, seed=7, device="cpu"), **kw})


def test_recipes_by_name():
    assert TrainConfig.from_recipe("paper") == TrainConfig()
    f = TrainConfig.fast()
    assert f.recipe_name == "fast" and f.standardize_targets and f.schedule == "onecycle"
    assert f.batch_size == 512 and f.lr == pytest.approx(8e-3) and f.patience < TrainConfig().patience
    assert TrainConfig.fast(batch_size=2048).lr == pytest.approx(16e-3)  # square-root rule
    assert TrainConfig.fast(batch_size=128).lr == pytest.approx(4e-3)
    assert TrainConfig.fast(batch_size=2048, lr=0.1).lr == 0.1
    assert TrainConfig.from_recipe("cicyminer").recipe_name == "cicyminer"
    assert set(recipes.list_recipes()) >= {"paper", "fast", "cicyminer"}
    with pytest.raises(UnknownNameError, match="unknown recipe"):
        TrainConfig.from_recipe("turbo")
    with pytest.raises(ValueError):
        TrainConfig(schedule="cosine-ish")


def test_onecycle_schedule():
    lrs = [onecycle_lr(i, 100, 1.0, 0.1, 0.01) for i in range(100)]
    assert lrs[0] < 0.2 and lrs[9] == pytest.approx(1.0) and max(lrs) == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(lrs[:10], lrs[1:10])) and all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(0.01, abs=1e-3)
    assert onecycle_lr(0, 10, 1.0, 0.0, 0.5) == 1.0


def test_int8_inputs_match_features_exactly():
    data, split = make_data()
    x, _ = train_mod.device_tensors(data, split.train, "train", torch.device("cpu"))
    assert x.dtype == torch.int8
    assert torch.equal(device_mod.as_input(x, data.scale), torch.from_numpy(data.features(split.train)))


def test_fast_recipe_saves_a_raw_output_model(tmp_path):
    data, split = make_data()
    res = train(MODEL, data, split, fast(), output_dir=tmp_path, run_name="fast", progress=False)
    meta = json.loads((res.run_dir / "model.json").read_text())
    y = data.hodge[split.train].astype(np.float64)
    assert meta["recipe_name"] == "fast" and meta["recipe"]["standardize_targets"] is True
    assert np.allclose(meta["target_mean"], y.mean(axis=0), rtol=1e-5)
    assert np.allclose(meta["target_std"], y.std(axis=0), rtol=1e-4)
    assert "fc2" in meta["target_standardisation"] and "val_huber_raw" in meta["metrics"]

    from cicy4lib.models.checkpoint import load_model

    model, _ = load_model(res.run_dir)  # an ordinary model of its architecture
    x = torch.from_numpy(data.features(split.valid))
    with torch.no_grad():
        pred = model(x).numpy()
        assert torch.equal(model(x), res.model.eval()(x))
    # raw Hodge numbers: the predictions sit around the targets (h22 ~ 200+), not around 0
    assert np.all(np.abs(pred.mean(axis=0) - y.mean(axis=0)) < 2 * y.std(axis=0) + 1)
    # the best model's raw-unit validation Huber is what model.json reports
    want = torch.nn.functional.huber_loss(torch.from_numpy(pred), torch.from_numpy(
        data.hodge[split.valid].astype(np.float32))).item()
    assert meta["metrics"]["val_huber_raw"] == pytest.approx(want, rel=1e-4)
    assert list(res.metrics.columns)[:2] == ["elapsed", "val_huber_raw"] and len(res.metrics) == 3


def test_fast_recipe_beats_paper_recipe_on_a_short_budget(tmp_path):
    data, split = make_data()
    paper = train(MODEL, data, split, TrainConfig(batch_size=16, max_epochs=3, seed=7, device="cpu"),
                  output_dir=tmp_path, run_name="paper", progress=False)
    quick = train(MODEL, data, split, fast(), output_dir=tmp_path, run_name="fast", progress=False)
    assert quick.metrics["val_huber_raw"].min() < 0.5 * paper.metrics["val_huber_raw"].min()


def test_fast_recipe_resume_after_kill_is_bit_for_bit(tmp_path, monkeypatch):
    data, split = make_data()
    cfg = dict(warmup_fraction=0.4)  # 9 steps: 4 of warm-up, so the kill lands after it
    full = train(MODEL, data, split, fast(**cfg), output_dir=tmp_path, run_name="full", progress=False)
    assert full.history["lr"].iloc[0] < full.history["lr"].iloc[1]  # warm-up (per step; logged per epoch)
    real, calls = train_mod.train_epoch, []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "train_epoch", dying)
    with pytest.raises(KeyboardInterrupt):
        train(MODEL, data, split, fast(**cfg), output_dir=tmp_path, run_name="killed", progress=False)
    monkeypatch.setattr(train_mod, "train_epoch", real)
    resumed = train(MODEL, data, split, fast(**cfg), output_dir=tmp_path, run_name="killed", progress=False)
    assert_same_run(full, resumed)
    pd.testing.assert_frame_equal(full.metrics.drop(columns="elapsed"), resumed.metrics.drop(columns="elapsed"))
    with pytest.raises(ValueError, match="recipe differs"):
        train(MODEL, data, split, TrainConfig(batch_size=16, max_epochs=3, seed=7, device="cpu"),
              output_dir=tmp_path, run_name="killed", progress=False)


class _Squashed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc2 = torch.nn.Linear(320, 4)

    def forward(self, x):
        return torch.tanh(self.fc2(x.flatten(1)))


class _OwnLoss(_Squashed):
    def training_loss(self, x, y):
        return (self(x) - y).abs().mean()


def test_standardisation_refuses_models_it_cannot_fold():
    stats = (torch.tensor([10.0, 1, 40, 240]), torch.tensor([3.0, 1, 20, 100]))
    x = torch.rand(4, 16, 20)
    with pytest.raises(ConfigurationError, match="cannot be folded"):
        targets_mod.check_foldable(_Squashed(), x, stats)
    with pytest.raises(ConfigurationError, match="training_loss"):
        targets_mod.check_foldable(_OwnLoss(), x, stats)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(320, 4))
    targets_mod.check_foldable(linear, x, stats)  # a final Linear folds
    folded = targets_mod.raw_output_model(linear, stats)
    with torch.no_grad():
        assert torch.allclose(folded(x), linear(x) * stats[1] + stats[0], atol=1e-4)
    assert not math.isnan(float(targets_mod.target_stats(torch.ones(5, 4))[1].sum()))


def test_time_to_accuracy_benchmark_runs(tmp_path, capsys, load_benchmark):
    bench = load_benchmark("bench_train_tta")
    out = tmp_path / "tta.json"
    report = bench.main(["--data", "sample", "--max-samples", "300", "--model", "ResNet-GRU-256",
                         "--paper-epochs", "2", "--fast-epochs", "2", "--fast-batch", "64", "--jobs", "1",
                         "--json", str(out)])
    saved = json.loads(out.read_text())
    assert [r["recipe"] for r in saved["runs"]] == ["paper", "fast"]
    assert all(r["attempts"][-1]["seed"] == r["seed"] and r["epochs"] == 2 for r in saved["runs"])
    assert report["reach"]["paper_both"] is not None  # the paper run reaches its own final accuracy
    assert {"fast_paper_loss", "fast_paper_max_h11", "fast_paper_max_h21"} <= set(report["reach"])
    assert "time-to-accuracy ratio" in capsys.readouterr().out
    again = bench.main(["--report", str(out)])  # the report of a saved run, without training
    assert again["ratio"] == report["ratio"]
    assert json.loads(json.dumps(again["reach"])) == json.loads(json.dumps(report["reach"]))
    assert "report of" in capsys.readouterr().out


def test_fast_batch_adapts_to_the_training_set_size(tmp_path):
    # clip(n_train // 200, 32, 512): ~200 optimizer steps an epoch, small sets included
    assert [recipes.fast_batch_size(n) for n in (48, 8_640, 40_064, 652_092)] == [32, 43, 200, 512]
    small, large = TrainConfig.fast().for_train_rows(8_640), TrainConfig.fast().for_train_rows(652_092)
    assert small.batch_size == 43 and small.lr == pytest.approx(4e-3 * math.sqrt(43 / 128))  # square-root rule
    assert large.batch_size == 512 and large.lr == pytest.approx(8e-3)
    assert small.for_train_rows(8_640) == small  # idempotent: resuming resolves to the same recipe
    assert TrainConfig.fast().for_train_rows(8_640, multiple=4).batch_size == 44  # DDP: divisible by the ranks
    assert TrainConfig.fast(batch_size=128).for_train_rows(8_640).batch_size == 128  # explicit: fixed
    assert TrainConfig().for_train_rows(8_640) == TrainConfig()  # the paper's recipe: unchanged
    data, split = make_data()
    res = train(MODEL, data, split, TrainConfig.fast(max_epochs=1, device="cpu"), output_dir=tmp_path,
                run_name="adaptive", progress=False)
    meta = json.loads((res.run_dir / "model.json").read_text())
    assert meta["recipe"]["batch_size"] == 32 and meta["recipe"]["lr"] == pytest.approx(4e-3 * math.sqrt(32 / 128))


def test_fast_recipe_defaults_learn_on_a_tiny_set(tmp_path):
    """The fast recipe as it comes (adaptive batch) takes a small network below the constant predictor's
    training loss within a few epochs of 320 rows (at a fixed 512 it would get one step an epoch)."""
    data, _ = make_data(n=400, seed=3)
    from cicy4lib.data.splits import Split

    split = Split(train=np.arange(0, 320), valid=np.arange(320, 360), test=np.arange(360, 400), name="tiny")
    res = train(MODEL, data, split, TrainConfig.fast(max_epochs=6, device="cpu", num_threads=1),
                output_dir=tmp_path, run_name="tiny", progress=False)
    y = torch.from_numpy(data.hodge[split.train].astype(np.float32))
    z = (y - y.mean(0)) / y.std(0, unbiased=False)
    constant = torch.nn.functional.huber_loss(z, torch.zeros_like(z)).item()  # the mean, standardised
    assert res.history["train_loss"].iloc[-1] < 0.5 * constant
