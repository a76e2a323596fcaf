"""The demo's plumbing on a tiny budget: both recipes side by side, the tables, baselines rows."""
from __future__ import annotations

import json

import pytest

from cicy4lib.demo import run_demo, run_name


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
    assert "baseline" in set(table["group"])  # cicy4lib.baselines' rows
    assert (tmp_path / "models" / "ResNet-GRU-256_72_fast" / "model.pt").exists()
