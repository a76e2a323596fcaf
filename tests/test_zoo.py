"""The zoo command (cicy4lib.zoo): a tiny subset, a few models, the table with baselines."""
import pandas as pd

from cicy4lib import zoo
from cicy4lib.baselines import BASELINE_GROUP, FAVOURABLE


def test_zoo_command_writes_table_with_baselines(tmp_path, capsys):
    from cicy4lib.cli import main

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
