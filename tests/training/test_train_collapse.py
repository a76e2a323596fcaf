"""A network that collapses to a constant predictor: detected, warned, stopped on request, restarted."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from cicy4lib.training import loop as train_mod
from cicy4lib.models import build_model
from cicy4lib.training.config import COLLAPSE_SPREAD, TrainConfig
from cicy4lib.training.loop import train
from cicy4lib.training.restarts import train_restarting
from .test_train import MODEL, config, make_data


class MaybeDead(nn.Module):
    """The real architecture, or (``dead``) a constant: the bias alone, the same for every row --
    what the paper recipe's CNN-LSTM-400 became when every CNN ReLU died in its first epoch."""

    arch = MODEL

    def __init__(self, dead: bool):
        super().__init__()
        self.net = build_model(MODEL)
        self.bias = nn.Parameter(torch.zeros(4))
        self.dead = dead

    def forward(self, x):
        if self.dead:
            return self.bias.expand(len(x), 4) + 0.0 * x.flatten(1).sum(dim=1, keepdim=True)
        return self.net(x) + self.bias


@pytest.fixture
def dead_seeds(monkeypatch):
    """Seeds whose model is dead (the trainer seeds torch before it builds the model)."""
    seeds = set()
    monkeypatch.setattr(train_mod, "build_model", lambda name: MaybeDead(torch.initial_seed() in seeds))
    return seeds


def test_collapse_is_warned_and_training_goes_on_by_default(tmp_path, dead_seeds):
    data, split = make_data()
    dead_seeds.add(7)
    with pytest.warns(UserWarning, match="collapsed to a constant predictor.*seed 7"):
        result = train(MODEL, data, split, config(), output_dir=tmp_path, progress=False)
    assert result.stopped == "max_epochs" and result.epochs == 3  # the paper's loop is unchanged


def test_stop_if_collapsed_ends_the_run_for_good(tmp_path, dead_seeds):
    data, split = make_data()
    dead_seeds.add(7)
    with pytest.warns(UserWarning, match="stopping"):
        result = train(MODEL, data, split, config(stop_if_collapsed=True), output_dir=tmp_path, progress=False)
    assert result.stopped == "collapsed" and result.epochs == 1
    assert result.metrics["val_pred_spread"].tolist() == [0.0]
    state_file = tmp_path / f"{MODEL}_tiny" / "state.pt"
    before = state_file.stat().st_mtime_ns
    again = train(MODEL, data, split, config(stop_if_collapsed=True), output_dir=tmp_path, progress=False)
    assert again.stopped == "collapsed" and again.epochs == 1  # resuming trains nothing
    assert state_file.stat().st_mtime_ns == before


def test_a_healthy_network_is_not_called_collapsed(tmp_path, dead_seeds):
    data, split = make_data()
    result = train(MODEL, data, split, config(stop_if_collapsed=True, max_epochs=2), output_dir=tmp_path,
                   progress=False)
    assert result.stopped == "max_epochs" and result.epochs == 2
    x = torch.as_tensor(data.features(split.valid))
    y = torch.as_tensor(data.hodge[split.valid]).float()
    _, metrics = train_mod.validate(result.model, result.model, x, y, y, None, 1.0, config(), False)
    assert metrics["val_pred_spread"] > 100 * COLLAPSE_SPREAD
    assert (result.metrics["val_pred_spread"] > 100 * COLLAPSE_SPREAD).all()


def test_restart_starts_over_with_the_next_seed_and_reports_every_attempt(tmp_path, dead_seeds):
    data, split = make_data()
    dead_seeds.add(7)
    said = []
    result, attempts = train_restarting(MODEL, data, split, config(), restarts=2, say=said.append,
                                        output_dir=tmp_path, progress=False)
    assert [(a["seed"], a["stopped"], a["epochs"]) for a in attempts] == [(7, "collapsed", 1), (8, "max_epochs", 3)]
    assert result.stopped == "max_epochs" and len(result.history) == 3  # the collapsed epoch is not in the log
    meta = json.loads((tmp_path / f"{MODEL}_tiny" / "model.json").read_text())
    assert meta["seed"] == 8
    assert said == [f"{MODEL}: seed 7 collapsed to a constant predictor after 1 epoch(s); starting over with seed 8"]


def test_restarts_run_out(tmp_path, dead_seeds):
    data, split = make_data()
    dead_seeds.update({7, 8})
    result, attempts = train_restarting(MODEL, data, split, config(), restarts=1, output_dir=tmp_path, progress=False)
    assert [a["seed"] for a in attempts] == [7, 8] and result.stopped == "collapsed"
    with pytest.raises(ValueError, match="restarts"):
        train_restarting(MODEL, data, split, config(), restarts=-1, output_dir=tmp_path)


def test_demo_table_names_the_collapsed_seeds():
    from cicy4lib.jobs.demo import recipes_table

    data, split = make_data()
    metrics = {"val_huber_raw": [3.0], **{f"val_acc_{h}": [50.0] for h in ("h11", "h21", "h31", "h22")}}
    runs = [{"model": "CNN-LSTM-400", "recipe": "paper", "seed": 43, "epochs": 1, "best_epoch": 1, "wall_s": 9.0,
             "metrics": metrics, "attempts": [{"seed": 42, "stopped": "collapsed", "epochs": 1, "seconds": 2.0},
                                              {"seed": 43, "stopped": "max_epochs", "epochs": 1, "seconds": 7.0}]},
            {"model": "LSTM-448", "recipe": "fast", "seed": 42, "epochs": 1, "best_epoch": 1, "wall_s": 5.0,
             "metrics": metrics, "attempts": [{"seed": 42, "stopped": "max_epochs", "epochs": 1, "seconds": 5.0}]}]
    table = recipes_table(runs, data, split)
    assert list(table["collapsed seeds"]) == ["42", "–"] and list(table["seed"]) == [43, 42]
    from cicy4lib.jobs.demo import _restart_note

    assert [_restart_note(r) for r in runs] == [", seed 43 (seed 42 collapsed)", ""]
    from cicy4lib.jobs.demo import restart_sentence

    assert restart_sentence(runs[1:]) == ""
    text = restart_sentence(runs)
    assert text.startswith(" Restarts: CNN-LSTM-400 / paper: seed 42 collapsed") and "seed 43 (the wall" in text
    dead = {**runs[0], "seed": 44, "attempts": [{"seed": s, "stopped": "collapsed", "epochs": 1, "seconds": 1.0}
                                                for s in (42, 43, 44)]}
    assert _restart_note(dead) == ", seeds 42, 43, 44 all collapsed"
    assert "seeds 42, 43 collapsed" in restart_sentence([dead]) and "collapsed too (no restarts left)" in restart_sentence([dead])


def test_cli_restarts_bounds(capsys):
    from cicy4lib.jobs.cli import main

    assert main(["train", MODEL, "--restarts", "10"]) == 2
    assert "--restarts: invalid choice: 10" in capsys.readouterr().err


def test_collapse_benchmark_reports_each_pair(tmp_path, capsys, load_benchmark):
    bench = load_benchmark("bench_collapse")
    out = tmp_path / "collapse.json"
    assert bench.main(["--model", MODEL, "--data", "sample", "--max-samples", "200", "--epochs", "1",
                       "--pairs", "0:42", "1:7", "--jobs", "1", "--out", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert [(r["data_seed"], r["seed"]) for r in runs] == [(0, 42), (1, 7)]
    assert all(r["best_ratio"] > 0 and len(r["ratio_per_epoch"]) == 1 for r in runs)
    text = capsys.readouterr().out
    assert "of 2 runs below 0.8x the constant predictor's loss" in text and "draw 1 seed   7" in text


def test_zero_restarts_is_plain_train(tmp_path, dead_seeds):
    data, split = make_data()
    dead_seeds.add(7)
    with pytest.warns(UserWarning, match="collapsed to a constant predictor"):
        result, attempts = train_restarting(MODEL, data, split, config(), restarts=0, output_dir=tmp_path,
                                            progress=False)
    assert result.stopped == "max_epochs" and [a["seed"] for a in attempts] == [7]


def test_resume_continues_the_restarted_seed(tmp_path, dead_seeds):
    """A notebook run again (Kaggle's time limit) resumes the seed an earlier call restarted with."""
    data, split = make_data()
    dead_seeds.add(7)
    train_restarting(MODEL, data, split, config(max_epochs=2), restarts=2, output_dir=tmp_path, progress=False)
    log = tmp_path / f"{MODEL}_tiny" / "log.csv"
    first_two = log.read_text().splitlines()[1:3]
    result, attempts = train_restarting(MODEL, data, split, config(max_epochs=3), restarts=2, output_dir=tmp_path,
                                        progress=False)
    assert [(a["seed"], a["epochs"]) for a in attempts] == [(8, 3)] and result.stopped == "max_epochs"
    assert log.read_text().splitlines()[1:3] == first_two  # epochs 1-2 kept, epoch 3 added
    with pytest.raises(Exception, match="seed"):  # without restarts the seed-8 run is not seed 7's
        train(MODEL, data, split, config(max_epochs=4), output_dir=tmp_path, progress=False)
