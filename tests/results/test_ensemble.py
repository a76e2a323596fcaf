"""Mean and weighted ensembles, hill climbing, the paper's named ensembles, run_ensembles."""
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from cicy4lib.results import ensemble as en
from cicy4lib.models.checkpoint import run_dir_of
from cicy4lib.results import published


# --------------------------------------------------------------------------- stand-ins
class FakeData(SimpleNamespace):
    """The parts of CICYData that evaluation uses."""

    def features(self, idx=None):
        conf = self.conf if idx is None else self.conf[idx]
        return conf.astype(np.float32) / np.float32(self.scale)


def fake_data(n, seed=0):
    rng = np.random.default_rng(seed)
    h11, h21, h31 = rng.integers(1, 6, n), rng.integers(0, 3, n), rng.integers(20, 60, n)
    hodge = np.stack([h11, h21, h31, 44 + 4 * h11 - 2 * h21 + 4 * h31], axis=1)
    conf = np.zeros((n, 16, 20), dtype=np.int8)
    conf[:, 0, 0], conf[:, 0, 1] = np.arange(n) // 100, np.arange(n) % 100  # row index for TableModel
    # χ exact by construction (the stand-in matrices only encode row indices): declared verified, as
    # loaders do, so data.checks.verified_euler uses it without recomputing it from conf
    return FakeData(conf=conf, hodge=hodge, euler=48 + 6 * (h11 - h21 + h31), scale=6.0,
                    meta={"euler_verified": np.ones(n, bool)})


class TableModel(torch.nn.Module):
    """Returns row i of ``table`` for the input of dataset row i (index encoded in conf[0, :2])."""

    def __init__(self, table):
        super().__init__()
        self.register_buffer("table", torch.as_tensor(np.asarray(table, dtype=np.float32)))

    def forward(self, x):
        i = torch.round(x[:, 0, 0] * 6.0) * 100 + torch.round(x[:, 0, 1] * 6.0)
        return self.table[i.long()]


def fake_split(n, name="72"):
    idx = np.arange(n)
    return SimpleNamespace(train=idx[: n // 2], valid=idx[n // 2: 3 * n // 4], test=idx[3 * n // 4:], name=name)


def _truth(n=100, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(1, 10, n), rng.integers(0, 3, n), rng.integers(20, 90, n),
                     rng.integers(200, 400, n)], axis=1)


def complementary_models(y, n_right_a=60, seed=0):
    """A right on the first rows, B on the rest; their even mean is right everywhere; C is noise."""
    n = len(y)
    err_a = np.where(np.arange(n)[:, None] < n_right_a, 0.2, 0.7) * np.ones((1, 4))
    err_b = np.where(np.arange(n)[:, None] < n_right_a, -0.7, -0.2) * np.ones((1, 4))
    noise = np.random.default_rng(seed).normal(0, 5, size=y.shape)
    return {"A": y + err_a, "B": y + err_b, "C": y + noise}


# --------------------------------------------------------------------------- combining
def test_mean_ensemble():
    a, b, c = np.zeros((3, 4)), np.ones((3, 4)), np.full((3, 4), 5.0)
    out = en.mean_ensemble([a, b, c])
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_allclose(out, 2.0)
    np.testing.assert_allclose(en.mean_ensemble({"a": a, "b": b}), 0.5)
    with pytest.raises(ValueError):
        en.mean_ensemble([])
    with pytest.raises(ValueError, match="rows"):
        en.mean_ensemble([a, np.zeros((2, 4))])


def test_apply_weights_normalises():
    a, b, c = np.zeros((2, 4)), np.full((2, 4), 4.0), np.full((2, 4), 100.0)
    np.testing.assert_allclose(en.apply_weights({"a": a, "b": b, "c": c}, {"a": 1, "b": 3}), 3.0)
    np.testing.assert_allclose(en.apply_weights({"a": a, "b": b}, {"a": 0.25, "b": 0.75, "z": 0.0}), 3.0)
    np.testing.assert_allclose(en.apply_weights({"a": a, "b": b}, {"a": 2, "b": 2}), en.mean_ensemble([a, b]))
    with pytest.raises(KeyError):
        en.apply_weights({"a": a}, {"a": 1, "b": 1})
    with pytest.raises(ValueError):
        en.apply_weights({"a": a}, {"a": 0})


# --------------------------------------------------------------------------- hill climbing
def test_hill_climb_picks_the_complementary_pair():
    y = _truth()
    preds = complementary_models(y)
    result = en.hill_climb(preds, y)
    assert result.weights == pytest.approx({"A": 0.5, "B": 0.5, "C": 0.0})
    assert result.score == 100.0
    assert result.members == ["A", "B"]
    assert [h[1] for h in result.history] == ["A", "B"]  # starts from the best single model
    assert result.history[0] == (0, "A", 1.0, pytest.approx(60.0))
    assert result.history[1][2] == pytest.approx(0.5)
    assert sum(result.weights.values()) == pytest.approx(1.0)


def test_hill_climb_weight_grid_and_ties():
    y = _truth()
    preds = complementary_models(y)
    # weights 0.25 and 0.5 for B both reach 100%: the tie goes to the smaller weight
    result = en.hill_climb(preds, y, weight_grid=[0.5, 0.25])
    assert result.weights == pytest.approx({"A": 0.75, "B": 0.25, "C": 0.0})
    assert result.score == 100.0
    # equal single models: name order decides, and the climb is deterministic
    same = {"Z": preds["A"], "M": preds["A"].copy()}
    r1, r2 = en.hill_climb(same, y), en.hill_climb(dict(reversed(list(same.items()))), y)
    assert r1.history[0][1] == "M" and r1.weights == r2.weights == {"M": 1.0, "Z": 0.0}


def test_hill_climb_cannot_improve_best_single():
    y = _truth()
    rng = np.random.default_rng(3)
    preds = {"best": y + rng.uniform(-0.3, 0.3, y.shape), "noisy1": y + rng.normal(0, 3, y.shape),
             "noisy2": y + rng.normal(0, 3, y.shape)}
    result = en.hill_climb(preds, y)
    assert result.weights == {"best": 1.0, "noisy1": 0.0, "noisy2": 0.0}
    assert len(result.history) == 1 and result.score == 100.0


def test_hill_climb_scores_and_list_input():
    y = _truth()
    preds = complementary_models(y)
    by_mse = en.hill_climb(preds, y, score="neg_mse")
    assert by_mse.members == ["A", "B"]
    # A's errors (0.2, 0.7) and B's (-0.7, -0.2) cancel best at an even mix
    assert by_mse.weights["A"] == pytest.approx(0.5)
    # a callable score: h11 accuracy only
    h11_only = en.hill_climb(preds, y, score=lambda yt, yp: float(np.mean(np.rint(yp[:, 0]) == yt[:, 0])))
    assert h11_only.score == 1.0
    listed = en.hill_climb([preds["A"], preds["B"], preds["C"]], y, names=["A", "B", "C"])
    assert listed.weights == pytest.approx(en.hill_climb(preds, y).weights)
    with pytest.raises(ValueError):
        en.hill_climb(preds, y, score="f1")
    with pytest.raises(ValueError, match="rows"):
        en.hill_climb(preds, y[:10])
    # max_iter=0: the best single model only
    assert en.hill_climb(preds, y, max_iter=0).weights == {"A": 1.0, "B": 0.0, "C": 0.0}


def test_hill_climb_repeats_a_model():
    # the best mix is 2:1 -- reachable only with replacement (A, then B, then A again)
    err_a = np.array([0.0, 0.7, -0.6, 0.1, 0.0, 0.7])
    err_b = np.array([1.2, -0.8, 0.3, 0.1, 1.2, -0.8])
    # h11 right for A on rows 0, 3, 4 (3/6); B: 2, 3 (2/6); even mix: 1, 2, 3, 5 (4/6); 2A + B: all
    y = np.full((6, 4), 10)
    a, b = y.astype(float), y.astype(float)
    a[:, 0] += err_a
    b[:, 0] += err_b
    result = en.hill_climb({"A": a, "B": b}, y)
    assert result.weights == pytest.approx({"A": 2 / 3, "B": 1 / 3})
    assert result.score == 100.0


# --------------------------------------------------------------------------- paper ensembles
def test_paper_ensembles_come_from_published():
    assert dict(en.PAPER_ENSEMBLES) == published.ENSEMBLE_MEMBERS
    with pytest.raises(TypeError):
        en.PAPER_ENSEMBLES["new"] = ("x",)  # read-only view of the single source
    assert "Ens-2" in en.paper_ensembles("72") and "Ens-80-4" not in en.paper_ensembles("72")
    assert "Ens-80-4" in en.paper_ensembles("80") and "Ens-2" not in en.paper_ensembles("80")
    assert en.resolve_ensemble("Ens-2") == ["LSTM-448_72", "LSTM-424_72", "CNN-LSTM-400_72"]
    assert en.resolve_ensemble("Ens-0f1f4-CL400") == ["LSTM-448_cv1", "LSTM-448_cv4", "LSTM-448_72", "CNN-LSTM-400_72"]
    assert "CNN-LSTM-400_72" in en.resolve_ensemble("Ens-80-4", "80")
    with pytest.raises(KeyError):
        en.resolve_ensemble("Ens-80-4", "72")


# --------------------------------------------------------------------------- run_ensembles
from cicy4lib.results.baselines import list_baselines  # noqa: E402

BASELINES = list_baselines()

def _fake_runs(tmp_path, data, tables, splits=None):
    """Run directories with a model.pt marker and model.json; load_run is patched to TableModels."""
    for name, table in tables.items():
        d = tmp_path / name
        d.mkdir()
        (d / "model.pt").write_bytes(b"stand-in")
        split = (splits or {}).get(name, name.rsplit("_", 1)[1])
        (d / "model.json").write_text(json.dumps({"arch": name.split("_")[0], "scale": 6.0, "split": split}))


@pytest.fixture
def run_setup(tmp_path, monkeypatch):
    n = 200
    data = fake_data(n)
    split = fake_split(n)
    y = data.hodge
    models = complementary_models(y, n_right_a=120)
    tables = {"LSTM-448_72": models["A"], "LSTM-424_72": models["B"], "CNN-LSTM-400_72": models["C"],
              "LSTM-448_80": y.astype(float)}  # trained on part of the 72% test set: never used for "72"
    _fake_runs(tmp_path, data, tables)
    monkeypatch.setattr(en, "load_run", lambda path: (TableModel(tables[run_dir_of(path).name]), {"scale": 6.0}))
    return SimpleNamespace(runs=tmp_path, data=data, split=split, tables=tables)


def test_run_ensembles_layout(run_setup):
    s = run_setup
    df = en.run_ensembles(s.runs, s.data, s.split)
    names = list(dict.fromkeys(df.index.get_level_values("name")))
    assert names == ["CNN-LSTM-400_72", "LSTM-424_72", "LSTM-448_72", "Ens-1", "Ens-2", "Ens-4", en.MEAN_ALL, en.HILL_CLIMB,
                     *BASELINES]
    assert set(df.loc[BASELINES[0]]["group"]) == {"baseline"}
    assert df.index.names == ["name", "kind"]
    assert list(df.columns) == ["group", "h11", "h21", "h31", "h22", "mean"]
    assert set(df.index.get_level_values("kind")) == {"raw", "constrained"}
    assert df.loc[("Ens-2", "raw"), "group"] == "paper" and df.loc[(en.HILL_CLIMB, "raw"), "group"] == "hill-climb"
    assert "LSTM-448_80" in df.attrs["excluded"]
    assert df.attrs["missing"]["Ens-3"] == ["CNN-LSTM-384_72"]
    assert "Ens-0f1f4-CL400" in df.attrs["missing"]
    assert df.attrs["members"]["Ens-2"] == ["LSTM-448_72", "LSTM-424_72", "CNN-LSTM-400_72"]
    assert df.attrs["test"] == "72"

    # Ens-4 = mean of A and B: right everywhere; the hill climb finds the same pair on validation
    assert df.loc[("Ens-4", "raw"), "mean"] == 100.0
    assert df.attrs["weights"] == pytest.approx({"CNN-LSTM-400_72": 0.0, "LSTM-424_72": 0.5, "LSTM-448_72": 0.5})
    assert df.loc[(en.HILL_CLIMB, "raw"), "mean"] == 100.0

    # members' accuracies agree with metrics_table on the test rows
    from cicy4lib.results.evaluate import metrics_table

    expected = metrics_table(s.data.hodge[s.split.test], s.tables["LSTM-448_72"][s.split.test])["accuracy"]
    assert df.loc[("LSTM-448_72", "raw"), ["h11", "h21", "h31", "h22", "mean"]].tolist() == pytest.approx(expected.tolist())


def test_run_ensembles_options(run_setup):
    s = run_setup
    df = en.run_ensembles(s.runs, s.data, s.split, names=["Ens-4", "Ens-3"], members=["LSTM-448_72"], hill_climb=False)
    names = list(dict.fromkeys(df.index.get_level_values("name")))
    assert names == ["LSTM-448_72", "Ens-4", en.MEAN_ALL, *BASELINES]
    assert df.attrs["weights"] == {} and list(df.attrs["missing"]) == ["Ens-3"]
    with pytest.raises(FileNotFoundError):
        en.run_ensembles(s.runs, s.data, s.split, members=["nope_72"])
    # on the 80% test set the _80 run is allowed and the 80% paper ensembles are used
    df80 = en.run_ensembles(s.runs, s.data, fake_split(200, name="80"), hill_climb=False)
    assert "LSTM-448_80" in df80.index.get_level_values("name")
    assert "Ens-80-1" in df80.attrs["missing"] and df80.attrs["test"] == "80"


def test_run_ensembles_hill_climb_sees_validation_only(run_setup, monkeypatch):
    s = run_setup
    seen = {}
    real = en._hill_climb

    def spy(valid_preds, y_valid, **kw):
        seen["y"] = np.array(y_valid)
        seen["preds"] = {k: np.array(v) for k, v in valid_preds.items()}
        return real(valid_preds, y_valid, **kw)

    monkeypatch.setattr(en, "_hill_climb", spy)
    en.run_ensembles(s.runs, s.data, s.split)
    np.testing.assert_array_equal(seen["y"], s.data.hodge[s.split.valid])
    for name, pred in seen["preds"].items():
        np.testing.assert_array_equal(pred, s.tables[name][s.split.valid].astype(np.float32))

    # wrecking the test labels changes test accuracies, never the fitted weights
    before = en.run_ensembles(s.runs, s.data, s.split)
    s.data.hodge[s.split.test] = 1
    after = en.run_ensembles(s.runs, s.data, s.split)
    assert after.attrs["weights"] == before.attrs["weights"]
    assert after.loc[(en.HILL_CLIMB, "raw"), "h31"] != before.loc[(en.HILL_CLIMB, "raw"), "h31"]


def test_run_ensembles_real_checkpoints(tmp_path):
    checkpoint = pytest.importorskip("cicy4lib.models.checkpoint")
    from cicy4lib.results.evaluate import metrics_table
    from cicy4lib.models import build_model

    torch.manual_seed(0)
    for name in ("LSTM-448", "LSTM-424"):
        checkpoint.save_checkpoint(tmp_path / f"{name}_72", build_model(name), {"scale": 6.0, "split": "72"})
    data = fake_data(24)
    split = fake_split(24)
    df = en.run_ensembles(tmp_path, data, split)
    names = list(dict.fromkeys(df.index.get_level_values("name")))
    assert names == ["LSTM-424_72", "LSTM-448_72", "Ens-4", en.MEAN_ALL, en.HILL_CLIMB, *BASELINES]
    assert df[["h11", "h21", "h31", "h22", "mean"]].notna().all().all()
    assert sum(df.attrs["weights"].values()) == pytest.approx(1.0)
    # a list of paths (a model.pt file too) is named by run directory
    preds = en.predict_runs([tmp_path / "LSTM-424_72" / "model.pt"], data, split.test)
    assert list(preds) == ["LSTM-424_72"] and preds["LSTM-424_72"].shape == (6, 4)
    member = df.loc[("LSTM-424_72", "raw"), ["h11", "h21", "h31", "h22", "mean"]].astype(float)
    expected = metrics_table(data.hodge[split.test], preds["LSTM-424_72"])["accuracy"]
    assert member.tolist() == pytest.approx(expected.tolist())


def test_run_ensembles_warns_on_leaky_members(run_setup):
    s = run_setup
    with pytest.warns(UserWarning, match="inflated"):
        df = en.run_ensembles(s.runs, s.data, s.split, names=[], members=["LSTM-448_80"], hill_climb=False)
    assert df.loc[("LSTM-448_80", "raw"), "mean"] == 100.0


def test_ensemble_report_and_command(run_setup, tmp_path):
    s = run_setup
    lines = []
    rc = en.ensemble_command(s.runs, s.data, s.split, names=["Ens-4", "Ens-3"], hill_climb=True, out=lines.append)
    text = "\n".join(lines)
    assert rc == 0
    assert "hill-climb weights" in text and "LSTM-424_72 0.500" in text
    assert "skipped paper ensemble Ens-3: no run for CNN-LSTM-384_72" in text
    assert "left out run LSTM-448_80" in text and "baseline" in text
    assert "0.44999" not in text
    # nothing asked for could be built: exit status 1 with the reason
    lines.clear()
    rc = en.ensemble_command(s.runs, s.data, s.split, names=["Ens-3"], out=lines.append)
    assert rc == 1 and "could be built" in lines[-1]


def test_default_runs_dir(tmp_path):
    checkout = Path(__file__).resolve().parents[2] / en.DEFAULT_RUNS_DIR  # the checkout (tests/results/ -> root)
    assert en.default_runs_dir(tmp_path) in (tmp_path / en.DEFAULT_RUNS_DIR, checkout)
    runs = tmp_path / en.DEFAULT_RUNS_DIR / "LSTM-448_72"
    runs.mkdir(parents=True)
    (runs / "model.pt").write_bytes(b"x")
    assert en.default_runs_dir(tmp_path) == tmp_path / en.DEFAULT_RUNS_DIR


def test_the_report_reads_the_results_values_as_it_reads_the_table(tmp_path):
    """EnsembleResults' fields and run_ensembles' attrs (its as_frame) say the same: report, notes,
    files, inference summary."""
    import pandas as pd
    from pandas.testing import assert_frame_equal

    from cicy4lib.notebooks import reports

    rows = []
    for name, group, base in (("LSTM-448_72", "member", 50.0), ("Ens-2", "paper", 60.0),
                              (en.HILL_CLIMB, "hill-climb", 55.0), (BASELINES[0], "baseline", 40.0)):
        for kind, bonus in (("raw", 0.0), ("constrained", 5.0)):
            rows.append({"name": name, "kind": kind, "group": group, "h11": base + bonus, "h21": base,
                         "h31": base, "h22": base, "mean": base + bonus / 4})
    results = en.EnsembleResults(
        table=pd.DataFrame(rows).set_index(["name", "kind"]), weights={"LSTM-448_72": 1.0},
        members={"Ens-2": ["LSTM-448_72"]}, missing={"Ens-3": ["CNN-LSTM-384_72"]},
        excluded={"LSTM-448_80": "trained on part of the test set"}, fallbacks={"Ens-2": 3},
        valid_score={}, test="72", impossible={"Ens-2": {"rows": 2}}, data="a test table", n_test=100)
    table = results.as_frame()
    assert table.attrs == results.notes()
    assert en.ensemble_report(results) == en.ensemble_report(table)
    text = reports.ensemble_notes(results)
    assert text == reports.ensemble_notes(table)
    for part in ("LSTM-448_72 1.000", "skipped paper ensemble Ens-3", "left out run LSTM-448_80", "Ens-2 2", "Ens-2 3"):
        assert part in text, part
    assert en.write_results(results, tmp_path / "a") == en.write_results(table, tmp_path / "b")
    assert (tmp_path / "a" / "results.csv").read_bytes() == (tmp_path / "b" / "results.csv").read_bytes()
    assert_frame_equal(reports.inference_summary(results, "sample", "72", write=False),
                       reports.inference_summary(table, "sample", "72", write=False))
