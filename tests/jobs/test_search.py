"""Optuna search (cicy4lib.jobs.search): shared SQLite study, resume, pruning reports, journal storage."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from cicy4lib.jobs import search  # noqa: E402
from cicy4lib.data import load_dataset, subsample  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]  # the checkout
MODEL = "HeLukas-FC"


@pytest.fixture(scope="module")
def data():
    return subsample(load_dataset("sample"), 200)


def _finished(study):
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study.get_trials(deepcopy=False, states=states)


def _cli(tmp_path, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CICY4_QUIET": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "cicy4lib", "search", MODEL, "--storage", f"sqlite:///{tmp_path}/s.db",
           "--study", "shared", "--epochs", "1", "--max-samples", "200", "--output-dir", str(tmp_path / "runs"),
           "--quiet", *args]
    return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_processes_share_one_sqlite_study_then_resume(tmp_path, data):
    procs = [_cli(tmp_path, "--trials", "3", "--sampler-seed", str(i)) for i in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    study = search.load_study("shared", f"sqlite:///{tmp_path}/s.db")
    assert len(_finished(study)) == 3  # the study's total, not 3 per worker
    # resume in this process: one more trial, same storage, the earlier ones kept
    study = search.run_search(MODEL, data, trials=4, storage=f"sqlite:///{tmp_path}/s.db", study_name="shared",
                              epochs=1, output_dir=tmp_path / "runs", log=lambda *a: None)
    assert len(_finished(study)) == 4
    best = search.best_run_dir(study)
    assert best is not None and (best / "model.pt").exists()
    assert (tmp_path / "runs" / "shared" / "best_trial.json").exists()
    from cicy4lib.results.evaluate import evaluate

    table = evaluate(best, data, "72")  # the best trial is an ordinary run directory
    assert not table.empty


def test_epochs_are_reported_to_the_pruner_and_journal_storage(tmp_path, data):
    storage = f"journal:///{tmp_path}/study.log"
    study = search.run_search(MODEL, data, trials=1, storage=storage, epochs=2, output_dir=tmp_path / "runs",
                              log=lambda *a: None)
    (trial,) = _finished(study)
    assert sorted(trial.intermediate_values) == [1, 2]
    assert Path(trial.user_attrs["run_dir"]).is_dir()
    assert (tmp_path / "study.log").exists()


def test_interrupted_trial_is_queued_again_with_its_run_directory(tmp_path, data, monkeypatch):
    import cicy4lib.training.loop as train_module

    real_train = train_module.train
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["run_name"])
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train_module, "train", flaky)
    storage = f"sqlite:///{tmp_path}/s.db"
    kwargs = dict(trials=1, storage=storage, study_name="s", epochs=1, output_dir=tmp_path / "runs",
                  log=lambda *a: None)
    with pytest.raises(KeyboardInterrupt):
        search.run_search(MODEL, data, **kwargs)
    study = search.run_search(MODEL, data, **kwargs)
    first, second = study.get_trials(deepcopy=False)[:2]
    assert first.state == optuna.trial.TrialState.FAIL and second.params == first.params
    assert calls == ["trial_0000", "trial_0000"]  # the re-queued trial continues the same run directory


def test_search_spaces_and_storage_urls():
    for model in ("LSTM-448", "CNN-LSTM-400", "BipartiteGNN-64", "HeLukas-FC", "CICYMiner", "Trees-RF", "Trees-HGB"):
        for recipe in ("paper", "fast", "cicyminer"):
            params = search.search_space(model, recipe)(optuna.trial.FixedTrial({
                "lr": 1e-3, "weight_decay": 1e-3, "batch_size": 128 if recipe == "paper" else
                (512 if recipe == "fast" else 64), "lr_factor": 0.3, "lr_patience": 5, "warmup_fraction": 0.05,
                "augment_permutations": False, "n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 1,
                "learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "l2_regularization": 0.01}))
            assert params
    assert search.family_of("BipartiteGNN-64") == "graph" and search.family_of("LSTM-448") == "rnn"
    assert search.safe_url("postgresql://me:secret@host/db") == "postgresql://me:***@host/db"
    from cicy4lib.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        search.make_storage("not-a-url")
