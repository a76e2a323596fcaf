"""Baselines: the favourable guess, the constant predictor and constant + χ on the same rows,
and their rows in evaluate's and run_ensembles' tables."""
import json

import numpy as np
import pytest
import torch

from cicy4lib.results import baselines as bl
from cicy4lib.results import evaluate as ev
from cicy4lib.data import CICYData
from cicy4lib.data.splits import Split


def _data(n=40):
    """Configurations with 1..3 non-zero rows and consistent Hodge numbers."""
    rng = np.random.default_rng(0)
    rows = rng.integers(1, 4, n)
    conf = np.zeros((n, 16, 20), np.int8)
    for i, r in enumerate(rows):
        conf[i, :r, 0] = 2
    h11 = np.where(np.arange(n) % 2 == 0, rows, rows + 1)  # favourable guess right on even rows
    h21 = np.where(np.arange(n) % 4 == 0, 1, 0)
    h31 = rng.integers(20, 60, n)
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    euler = 48 + 6 * (h11 - h21 + h31)
    hodge = np.stack([h11, h21, h31, h22], axis=1).astype(np.int64)
    # χ exact by construction (the stand-in configurations are not real ones): declared verified, as
    # loaders do, so verified_euler uses it without recomputing it from conf
    return CICYData(conf, hodge, euler.astype(np.int64), np.zeros(n, bool), np.arange(n), source="sample",
                    provenance={"kind": "embedded-sample", "source": "test"},
                    meta={"euler_verified": np.ones(n, bool)})


def _split(n=40):
    return Split(np.arange(0, 24), np.arange(24, 32), np.arange(32, n), "72")


def test_favourable_guess_by_hand():
    data = _data()
    pred = bl.favourable_guess(data)
    assert (pred[:, 0] == bl.number_of_factors(data.conf)).all() and (pred[:, 1] == 0).all()
    exact = (pred[:, 0] == data.hodge[:, 0]) & (data.hodge[:, 1] == 0)
    assert ((pred == data.hodge).all(axis=1) == exact).all()  # right exactly where h11 and h21 are
    # h22 depends on h21 and χ only
    assert ((pred[:, 3] == data.hodge[:, 3]) == (data.hodge[:, 1] == 0)).all()
    assert bl.chi_completion([1], [0], [-1]).tolist() == [[1, 0, -1, -1]]  # χ unknown: never right


def test_constant_uses_train_rows_only():
    data = _data()
    split = _split()
    preds = bl.baseline_predictions(data, split, ("test", "valid"))
    assert set(preds) == {bl.FAVOURABLE, bl.CONSTANT, bl.CONSTANT_CHI}
    const = preds[bl.CONSTANT]["test"]
    assert (const == np.rint(data.hodge[split.train].mean(axis=0))).all()
    assert preds[bl.CONSTANT]["valid"].shape == (len(split.valid), 4)
    chi = preds[bl.CONSTANT_CHI]["test"]
    assert (chi[:, :2] == const[:, :2]).all()
    assert (chi[:, 2] == data.euler[split.test] // 6 - 8 - chi[:, 0] + chi[:, 1]).all()


def test_baseline_metrics_and_table():
    data, split = _data(), _split()
    long = ev.baseline_metrics(data, split)
    assert set(long["name"]) == set(bl.list_baselines()) and set(long["subset"]) == {"test"}
    table = ev.baseline_table(data, split)
    assert set(table["group"]) == {"baseline"}
    fav = table.loc[(bl.FAVOURABLE, "raw")]
    y = data.hodge[split.test]
    assert fav["h11"] == pytest.approx(100 * np.mean(bl.number_of_factors(data.conf[split.test]) == y[:, 0]))


def test_constant_loss_reference():
    data, split = _data(), _split()
    loss = bl.constant_loss(data, split)
    assert loss > 0
    y = data.hodge[split.valid].astype(float)
    r = np.abs(y - data.hodge[split.train].mean(axis=0))
    assert loss == pytest.approx(np.where(r <= 1, 0.5 * r ** 2, r - 0.5).mean())


def test_learned_baseline_marker():
    assert bl.is_learned_baseline("HeLukas-FC") is ("HeLukas-FC" in bl.LEARNED_BASELINES)
    assert not bl.is_learned_baseline("LSTM-448") and not bl.is_learned_baseline(None)


def test_evaluate_report_prints_four_metrics_and_writes_metrics(tmp_path):
    from cicy4lib.models.checkpoint import save_checkpoint
    from cicy4lib.models import build_model

    torch.manual_seed(0)
    data, split = _data(), _split()
    run = tmp_path / "LSTM-400_72"
    save_checkpoint(run, build_model("LSTM-400"), {"scale": 6.0, "split": "72", "arch": "LSTM-400"})
    text, summary, table = ev.evaluate_report(run, data, split)
    for word in ("test accuracy (%)", "test MSE", "test MAE", "test R²", bl.FAVOURABLE, "constrained",
                 "embedded sample"):
        assert word in text
    assert set(summary["group"]) == {"model", "baseline"}
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["split"] == "72" and saved["data"]["kind"] == "embedded-sample"
    acc = saved["metrics"]["LSTM-400"]["raw"]["accuracy"]
    assert set(acc) == {"h11", "h21", "h31", "h22", "mean"}
    assert all(v is None or round(v, 2) == v for v in acc.values())
    assert bl.FAVOURABLE in saved["metrics"]


def test_cli_evaluate_and_ensemble(tmp_path, capsys, monkeypatch):
    from cicy4lib.jobs import cli

    monkeypatch.setattr(cli, "load_dataset", lambda *a, **k: _data(60))  # fast: no sample load
    from cicy4lib.models.checkpoint import save_checkpoint
    from cicy4lib.models import build_model

    torch.manual_seed(0)
    run = tmp_path / "runs" / "LSTM-400_72"
    save_checkpoint(run, build_model("LSTM-400"), {"scale": 6.0, "split": "72", "arch": "LSTM-400"})
    assert cli.main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    for word in ("test accuracy (%)", "test MSE", "test MAE", "test R²", bl.FAVOURABLE, "embedded sample"):
        assert word in out
    assert (run / "metrics.json").exists()
    # an ensemble asked for by name that cannot be built: the reason and exit status 1
    rc = cli.main(["ensemble", "--runs-dir", str(tmp_path / "runs"), "--names", "Ens-3"])
    out = capsys.readouterr().out
    assert rc == 1 and "skipped paper ensemble Ens-3: no run for" in out and "baseline" in out


def test_train_model_default_epochs_capped_off_the_real_list(tmp_path, capsys, monkeypatch):
    """train(config=None) on the sample (or on a CPU) stops at the stated cap, and says so."""
    from cicy4lib.training import recipes as defaults
    from cicy4lib.training import loop as train_mod

    monkeypatch.setattr(defaults, "EPOCH_CAP", 1)
    result = train_mod.train("BipartiteGNN-64", _data(40), _split(), output_dir=tmp_path, progress=False)
    assert result.epochs == 1
    assert "epochs capped at 1" in capsys.readouterr().out
    assert defaults.default_epochs(None, real_list=True, cuda=True) == (None, None)
    assert defaults.default_epochs(None, real_list=True, cuda=False)[0] == 1
