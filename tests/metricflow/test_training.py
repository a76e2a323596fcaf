"""Resumable training runs: bit-identical resume on CPU, loading, refusals."""
import json

import numpy as np
import pytest
import torch

from cicy4lib import metricflow as mf
from cicy4lib.errors import MetricFlowError
from cicy4lib.metricflow.training import MetricTrainConfig, train_metric

TINY = dict(n_points=300, epochs=3, batch_size=64, lr=3e-3, hidden=(16, 16, 16), sigma_train_points=100)


def _strip(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


@pytest.mark.parametrize("kind", ["phi", "multiplicative"])
def test_resume_is_bit_identical(tmp_path, kind):
    cfg = MetricTrainConfig(model=kind, **TINY)
    full, h_full = train_metric(tmp_path / "full", cfg, threads=1, progress=False)
    part, _ = train_metric(tmp_path / "part", cfg, threads=1, progress=False, max_epochs_this_call=1)
    assert json.loads((tmp_path / "part" / "model.json").read_text())["epoch"] == 1
    resumed, h_res = train_metric(tmp_path / "part", cfg, threads=1, progress=False)
    for (k, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k
    assert _strip(h_full) == _strip(h_res)
    assert len(h_full) == 4 and h_full[0]["epoch"] == 0
    assert (tmp_path / "full" / "model.pt").read_bytes() == (tmp_path / "part" / "model.pt").read_bytes()


def test_load_and_use(tmp_path):
    cfg = MetricTrainConfig(model="phi", **TINY)
    model, history = train_metric(tmp_path / "r", cfg, threads=1, progress=False)
    loaded = mf.load_metric_model(tmp_path / "r")
    z = mf.quintic_points(50, seed=9)
    assert np.array_equal(mf.metric(z, loaded), mf.metric(z, model))
    assert mf.sigma_measure(z, loaded) == pytest.approx(mf.sigma_measure(z, model))
    assert history[-1]["sigma_val"] < history[0]["sigma_val"]      # it learns, even this small
    assert loaded.history == json.loads((tmp_path / "r" / "model.json").read_text())["history"]
    assert (tmp_path / "r" / "log.txt").read_text().count("\n") == 4


def test_refusals(tmp_path):
    cfg = MetricTrainConfig(model="phi", **dict(TINY, epochs=1))
    train_metric(tmp_path / "r", cfg, threads=1, progress=False)
    other = MetricTrainConfig(model="phi", **dict(TINY, epochs=1, lr=1e-2))
    with pytest.raises(MetricFlowError, match="another config .*lr"):
        train_metric(tmp_path / "r", other, threads=1, progress=False)
    with pytest.raises(MetricFlowError, match="no model.json"):
        mf.load_metric_model(tmp_path)
    weights = tmp_path / "r" / "model.pt"
    blob = bytearray(weights.read_bytes())
    blob[-30] ^= 1
    weights.write_bytes(bytes(blob))
    with pytest.raises(MetricFlowError, match="SHA-256"):
        mf.load_metric_model(tmp_path / "r")
    with pytest.raises(MetricFlowError, match="loss"):
        MetricTrainConfig(loss="l3").check()


def test_bicubic_run(tmp_path):
    cfg = MetricTrainConfig(model="phi", configuration=[[3], [3]], **dict(TINY, epochs=1))
    model, history = train_metric(tmp_path / "b", cfg, threads=1, progress=False)
    assert model.variety.dims == (2, 2) and np.isfinite(history[-1]["sigma_val"])
    loaded = mf.load_metric_model(tmp_path / "b")
    assert loaded.variety.dims == (2, 2)


def test_finished_run_without_state_file_is_read_not_retrained(tmp_path):
    cfg = MetricTrainConfig(model="phi", **dict(TINY, epochs=1))
    model, history = train_metric(tmp_path / "r", cfg, threads=1, progress=False)
    (tmp_path / "r" / "state.pt").unlink()          # as shipped in Results_p2_Trained_models/metricflow/
    again, h2 = train_metric(tmp_path / "r", cfg, threads=1, progress=False)
    assert h2 == history
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    longer = MetricTrainConfig(model="phi", **dict(TINY, epochs=2))
    with pytest.raises(MetricFlowError, match="state.pt is missing"):
        train_metric(tmp_path / "r", longer, threads=1, progress=False)


def test_more_epochs_continue_the_run(tmp_path):
    short = MetricTrainConfig(model="multiplicative", **dict(TINY, epochs=1))
    train_metric(tmp_path / "r", short, threads=1, progress=False)
    cfg = MetricTrainConfig(model="multiplicative", **TINY)
    _, h = train_metric(tmp_path / "r", cfg, threads=1, progress=False)
    _, h_full = train_metric(tmp_path / "f", cfg, threads=1, progress=False)
    assert _strip(h) == _strip(h_full)
