"""The demo's plumbing on a tiny budget: both recipes side by side, the tables, baselines rows."""
from __future__ import annotations

import json

import pytest

from cicy4lib.jobs.demo import DEMO_RUNS, demo_pairs, run_demo, run_name


@pytest.mark.slow  # ~6 s idle; a minute on the shared machine under load
def test_demo_runs_both_recipes_and_writes_tables(tmp_path, capsys):
    table = run_demo(output_dir=tmp_path, epochs=1, models=["ResNet-GRU-256"], quiet=True, data="sample",
                     jobs=1, max_samples=400)
    assert run_name("LSTM-448", "paper") == "LSTM-448_72" and run_name("LSTM-448", "fast") == "LSTM-448_72_fast"
    for name in ("recipes.md", "recipes.csv", "results.md", "results.csv", "run.json"):
        assert (tmp_path / name).exists(), name
    info = json.loads((tmp_path / "run.json").read_text())
    assert [r["recipe"] for r in info["runs"]] == ["paper", "fast"] and info["workers"] == 1
    text = (tmp_path / "results.md").read_text()
    assert "NOT the paper's" in text and "constant's val Huber" in text
    names = {name for name, _ in table.index}
    assert {"ResNet-GRU-256_72", "ResNet-GRU-256_72_fast"} <= names
    assert "baseline" in set(table["group"])  # cicy4lib.results.baselines' rows
    side = __import__("pandas").read_csv(tmp_path / "recipes.csv")
    flagged = {f"{m} / {r}" for m, r, q in zip(side["model"], side["recipe"], side["÷ constant's"]) if not q <= 0.8}
    assert set(info["not_learned"]) == flagged  # a run that stays near the constant is named, not hidden
    assert ("Did not learn in this budget" in text) == bool(flagged)
    assert info["fast_batch"] == 128
    assert (tmp_path / "models" / "ResNet-GRU-256_72_fast" / "model.pt").exists()


def test_demo_pairs():
    # by default the paper recipe is paired only where it learns in the demo's budget (CNN-LSTM-400)
    assert demo_pairs() == [tuple(r) for r in DEMO_RUNS]
    assert ("CNN-LSTM-400", "paper") in demo_pairs() and ("CNN-LSTM-400", "fast") in demo_pairs()
    assert demo_pairs(models=["LSTM-448"]) == [("LSTM-448", "paper"), ("LSTM-448", "fast")]
    assert demo_pairs(recipes=["fast"]) == [("LSTM-448", "fast"), ("CNN-LSTM-400", "fast")]


def test_demo_gives_a_last_smaller_round_the_free_cores(tmp_path, monkeypatch):
    """Three runs on two cores: round 1 two processes x 1 thread; round 2 one run at the probe's count."""
    from cicy4lib import threads

    calls = []

    def fake_map(fn, jobs, *, workers=None, threads=1):
        calls.append((len(jobs), workers, threads))
        return [{"model": j[0], "recipe": j[1], "run": run_name(j[0], j[1]), "stopped": "max_epochs", "epochs": 1,
                 "best_epoch": 1, "best_val_loss": 1.0, "wall_s": 0.0, "history": {}, "metrics": {}} for j in jobs]

    probed = []
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.setattr(threads, "parallel_map", fake_map)
    monkeypatch.setattr(threads, "probe_threads", lambda c: probed.append(c) or {"threads": 2})
    from cicy4lib.jobs import demo

    def stop(*a, **k):  # training is done; the rest of the demo is tested above
        raise StopIteration("trained")

    monkeypatch.setattr(demo, "evaluate_runs", stop)
    with pytest.raises(StopIteration, match="trained"):
        run_demo(output_dir=tmp_path, epochs=1, quiet=True, data="sample", max_samples=200,
                 models=["LSTM-448", "CNN-LSTM-400", "LSTM-424"], recipes=["fast"])  # three runs
    assert calls == [(2, 2, 1), (1, 1, 2)] and probed == [[1, 2]]
