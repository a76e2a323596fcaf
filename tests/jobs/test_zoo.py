"""The zoo command (cicy4lib.jobs.zoo): a tiny subset, a few models, the table with baselines."""
from pathlib import Path

import pandas as pd

from cicy4lib.jobs import zoo
from cicy4lib.results.baselines import BASELINE_GROUP, FAVOURABLE


def test_zoo_command_writes_table_with_baselines(tmp_path, capsys):
    from cicy4lib.jobs.cli import main

    out = tmp_path / "zoo"
    code = main(["zoo", "--data", "sample", "--max-samples", "300", "--epochs", "1", "--out", str(out),
                 "--models", "HeLukas-FC", "Trees-ET", "--quiet"])
    assert code == 0
    table = pd.read_csv(out / "zoo.csv")
    names = table["name"].tolist()
    assert names[:2] == ["HeLukas-FC", "Trees-ET"] and FAVOURABLE in names
    assert (table.loc[table["group"] == BASELINE_GROUP, "params"] == 0).all()
    assert table["data"].str.contains("embedded sample").all()  # the data's provenance on every row
    assert table.loc[table["name"] == "HeLukas-FC", "params"].item() > 0
    for col in ("raw_h11", "chi_h11", "chi_mean", "train_s"):
        assert table[col].notna().all(), col
    md = (out / "zoo.md").read_text()
    assert "embedded sample" in md and "not the CICY4 list" in md and "machine:" in md
    assert (out / "zoo.png").stat().st_size > 0
    # a second call resumes the finished runs: same numbers
    again = zoo.run_zoo("sample", epochs=1, max_samples=300, out=out, models=["HeLukas-FC", "Trees-ET"],
                        log=lambda *a: None)
    assert again["chi_mean"].round(2).tolist() == table["chi_mean"].round(2).tolist()


def test_a_failing_model_gets_a_row_with_its_error(tmp_path):
    table = zoo.run_zoo("sample", epochs=1, max_samples=200, out=tmp_path, models=["No-Such-Model"],
                        log=lambda *a: None)
    row = table[table["name"] == "No-Such-Model"].iloc[0]
    assert "unknown model" in row["error"].lower()
    assert "failed" in (tmp_path / "zoo.md").read_text()


def test_a_model_over_the_time_limit_is_not_trained(tmp_path):
    table = zoo.run_zoo("sample", epochs=1, max_samples=200, out=tmp_path, models=["HeLukas-FC"],
                        max_model_minutes=1e-9, log=lambda *a: None)
    row = table[table["name"] == "HeLukas-FC"].iloc[0]
    assert row["error"].startswith("not trained") and pd.isna(row["chi_mean"])
    assert not (tmp_path / "runs_embedded-sample-200_paper_e1" / "HeLukas-FC_72" / "model.pt").exists()


def test_a_collapsed_network_is_marked():
    from types import SimpleNamespace

    from cicy4lib.training.config import COLLAPSE_SPREAD

    metrics = pd.DataFrame({"val_pred_spread": [0.0, 2.5]})
    assert zoo.collapsed(SimpleNamespace(metrics=metrics, best_epoch=1))
    assert not zoo.collapsed(SimpleNamespace(metrics=metrics, best_epoch=2))
    assert not zoo.collapsed(SimpleNamespace(metrics=pd.DataFrame({"val_huber_raw": [1.0]}), best_epoch=1))
    assert not zoo.collapsed(SimpleNamespace(metrics=None, best_epoch=0))  # tree models
    assert zoo.collapsed(SimpleNamespace(metrics=pd.DataFrame({"val_pred_spread": [COLLAPSE_SPREAD / 2]}), best_epoch=1))
    row = {c: None for c in zoo.COLUMNS}
    row.update(name="LSTM-448", group="LSTM", recipe="paper", params=1, train_s=1.0, epochs=3, collapsed=True, error="",
               **{f"{k}_{t}": 1.0 for k in ("raw", "chi") for t in zoo.TARGETS})
    table = pd.DataFrame([row, {**row, "name": "CNN-LSTM-400", "collapsed": False}])
    table.attrs.update(n_test=10, data_label="a test table", split="72", recipe="paper", epochs=3)
    md = zoo.zoo_markdown(table)
    assert "| LSTM-448 | LSTM | paper | 1 | 1 | 3 collapsed |" in md and "| CNN-LSTM-400 | LSTM | paper | 1 | 1 | 3 |" in md


def test_a_model_with_its_own_loss_trains_with_the_recipe_its_entry_names():
    from cicy4lib.models import get_entry
    from cicy4lib.training.recipes import recipe_values

    assert get_entry("CICYMiner").recipe == "cicyminer"
    assert recipe_values("CICYMiner") == recipe_values("cicyminer")
    assert zoo.recipe_for("CICYMiner", "fast") == "cicyminer"  # fast standardises: the model's own loss
    assert zoo.recipe_for("CICYMiner", "paper") == "paper"
    assert zoo.recipe_for("HeLukas-FC", "fast") == "fast"
    assert zoo.recipe_for("HodgeGNN-64", "fast") == "paper"  # its entry carries values, names no recipe
    assert zoo.recipe_for("Trees-ET", "fast") == "sklearn"


def test_zoo_markdown_reads_the_results_values_as_it_reads_the_table():
    from types import SimpleNamespace

    row = {c: None for c in zoo.COLUMNS}
    row.update(name="LSTM-448", group="LSTM", recipe="paper", params=1, train_s=1.0, epochs=3, collapsed=False, error="",
               **{f"{k}_{t}": 1.0 for k in ("raw", "chi") for t in zoo.TARGETS})
    data = SimpleNamespace(provenance={"kind": "sample"}, label="a test table", split=SimpleNamespace(test=range(10)),
                           note="a note")
    results = zoo.ZooResults([row], data, zoo.ZooSettings(split="72", recipe="paper", epochs=3))
    table = results.as_frame()
    assert table.attrs == results.notes()

    def undated(md):
        return [line for line in md.splitlines() if not line.startswith("- date:")]

    assert undated(zoo.zoo_markdown(results)) == undated(zoo.zoo_markdown(table))
    assert "- note: used a note" in zoo.zoo_markdown(results) and "(10 test rows)" in zoo.zoo_markdown(results)
    assert results.table.attrs == {} and results.table.equals(table)  # values as fields, the table plain


def test_zoo_settings_normalise_the_folder_and_the_models():
    settings = zoo.ZooSettings(out="somewhere", models=["LSTM-448"])
    assert settings.out == Path("somewhere") and settings.models == ("LSTM-448",)
