"""Tree baselines (cicy4lib.models.trees): features, train/save/load/evaluate through the common commands."""
import json

import numpy as np
import pytest

from cicy4lib.data import load_dataset, subsample
from cicy4lib.errors import CheckpointError, RunExistsError
from cicy4lib.models import trees
from cicy4lib.training.estimators import train_tree

SMALL = {"n_estimators": 5, "max_iter": 10}


@pytest.fixture(scope="module")
def data():
    return subsample(load_dataset("sample"), 400)


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = train_tree("Trees-RF", data, "72", output_dir=out, params=SMALL, progress=False)
    return result.run_dir


def test_summary_features_are_permutation_invariant(data):
    conf = data.conf[:20].copy()
    rng = np.random.default_rng(0)
    shuffled = conf[:, rng.permutation(16)][:, :, rng.permutation(20)]
    assert np.array_equal(trees.summary_features(conf), trees.summary_features(shuffled))
    f = trees.summary_features(conf)
    rows = (conf != 0).any(axis=2).sum(axis=1)
    assert np.array_equal(f[:, 0], rows)  # first column: number of factors
    assert trees.tree_features(conf).shape == (20, 16 * 20 + f.shape[1])


def test_run_directory_is_sklearn_and_safe(run_dir, data):
    config = json.loads((run_dir / "model.json").read_text())
    assert config["kind"] == "sklearn" and config["arch"] == "Trees-RF"
    assert config["data"]["kind"] == "embedded-sample" and config["split"] == "72"
    assert (run_dir / "model.skops").exists() and not (run_dir / "model.pt").exists()
    import skops.io as sio

    assert set(sio.get_untrusted_types(file=str(run_dir / "model.skops"))) <= set(trees.TRUSTED_TYPES)


def test_load_model_and_evaluate_like_a_network(run_dir, data):
    from cicy4lib.models.checkpoint import load_model
    from cicy4lib.data.splits import get_split
    from cicy4lib.results.evaluate import evaluate, predict

    model, config = load_model(run_dir)
    assert isinstance(model, trees.TreeHodgeModel) and config["kind"] == "sklearn"
    split = get_split(data, "72")
    pred = predict(model, data, split.test, scale=config["scale"])
    assert pred.shape == (len(split.test), 4) and np.isfinite(pred).all()
    direct = model.predict_conf(data.conf[split.test])
    assert np.allclose(pred, direct)
    table = evaluate(run_dir, data, split)
    assert set(table["kind"]) == {"raw", "constrained"}
    from cicy4lib.results.ensemble import find_runs

    assert run_dir.name in find_runs(run_dir.parent)


def test_train_dispatch_and_resume(data, tmp_path):
    from cicy4lib.training.config import TrainConfig
    from cicy4lib.training.loop import train

    result = train("trees-et", data, "72", TrainConfig(seed=1), output_dir=tmp_path, progress=False)
    assert result.stopped == "fitted" and (result.run_dir / "model.skops").exists()
    mtime = (result.run_dir / "model.skops").stat().st_mtime_ns
    again = train("Trees-ET", data, "72", TrainConfig(seed=1), output_dir=tmp_path, progress=False)
    assert (again.run_dir / "model.skops").stat().st_mtime_ns == mtime  # loaded, not refitted
    assert again.best_val_loss == pytest.approx(result.best_val_loss)
    with pytest.raises(RunExistsError):  # other data in the same directory
        train("Trees-ET", subsample(data, 300, seed=3), "72", TrainConfig(seed=1), output_dir=tmp_path,
              progress=False)


def test_changed_or_untrusted_estimator_file_is_refused(run_dir, tmp_path):
    import shutil

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    blob = (bad / "model.skops").read_bytes()
    (bad / "model.skops").write_bytes(blob[:-10] + b"0123456789")
    with pytest.raises(CheckpointError, match="SHA-256"):
        trees.load_tree_model(bad)
    # a file whose hash matches but which holds a type outside the trusted list
    import hashlib
    import os

    evil = sio.dumps([FunctionTransformer(func=os.getcwd)] * 3)
    (bad / "model.skops").write_bytes(evil)
    config = json.loads((bad / "model.json").read_text())
    config["estimator_sha256"] = hashlib.sha256(evil).hexdigest()
    (bad / "model.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="safely"):
        trees.load_tree_model(bad)


def test_cli_train_evaluate_predict(tmp_path, capsys):
    from cicy4lib.jobs.cli import main

    assert main(["train", "Trees-ET", "--data", "sample", "--split", "72", "--max-samples", "300",
                 "--output-dir", str(tmp_path), "--quiet"]) == 0
    run = tmp_path / "Trees-ET_72"
    assert json.loads((run / "model.json").read_text())["kind"] == "sklearn"
    assert main(["evaluate", str(run), "--max-samples", "300"]) == 0
    assert main(["predict", "[[6]]", "--checkpoint", str(run), "--no-exact", "--json"]) == 0
    out = capsys.readouterr().out
    assert "Trees-ET" in out and "prediction_constrained" in out


def test_an_estimator_is_added_like_a_network(data, tmp_path):
    """README's "Adding a model": one register_estimator call and the registry knows its kind;
    train_model, load_model and predict then work by name."""
    import cicy4lib
    from cicy4lib.models import registry

    name = "Test-Forest-1"
    spec = trees.register_estimator(name, "one forest for all four numbers",
                                    parts=[((0, 1, 2, 3), "regressor", "sklearn.ensemble.RandomForestRegressor")],
                                    params={"n_estimators": 3})
    try:
        assert registry.model_kind(name) == registry.SKLEARN and trees.tree_spec(name) is spec
        assert name in registry.list_models(kind=None) and name not in registry.list_models()
        with pytest.raises(ValueError, match="already registered"):
            trees.register_estimator(name, "again", parts=spec.parts)
        with pytest.raises(cicy4lib.ConfigurationError, match="fitted on data"):
            cicy4lib.build_model(name)
        result = cicy4lib.train_model(name, data, "72", output_dir=tmp_path, progress=False)
        assert result.stopped == "fitted"
        model, config = cicy4lib.load_model(result.run_dir)
        assert config["arch"] == name
        split = cicy4lib.get_split(data, "72")
        assert cicy4lib.predict_hodge(model, data, split.test[:5], scale=config["scale"]).shape == (5, 4)
    finally:
        registry._REGISTRY.pop(name, None)  # the registry is global: leave it as it was
        trees.TREE_MODELS.pop(name, None)
