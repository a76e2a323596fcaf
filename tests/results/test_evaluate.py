"""Metrics, rounding, χ-constrained predictions and the evaluate() table."""
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from cicy4lib.results import evaluate as ev


# --------------------------------------------------------------------------- stand-ins
def hodge_from(h11, h21, h31):
    """Consistent (hodge, euler) arrays from h11, h21, h31 (SPEC.md §1 relations)."""
    h11, h21, h31 = (np.asarray(a, dtype=np.int64) for a in (h11, h21, h31))
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    return np.stack([h11, h21, h31, h22], axis=1), 48 + 6 * (h11 - h21 + h31)


@dataclass
class FakeData:
    """The parts of CICYData that evaluate uses."""
    conf: np.ndarray
    hodge: np.ndarray
    euler: np.ndarray
    scale: float = 6.0
    # the stand-in's χ is exact by construction (hodge_from): said the way loaders say it, so the
    # constrained scores (data.checks.verified_euler) use it without recomputing it from conf
    meta: dict = None

    def __post_init__(self):
        if self.meta is None:
            self.meta = {"euler_verified": np.ones(len(self.conf), bool)}

    def features(self, idx=None):
        conf = self.conf if idx is None else self.conf[idx]
        return conf.astype(np.float32) / np.float32(self.scale)

    def __len__(self):
        return len(self.conf)


def fake_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    hodge, euler = hodge_from(rng.integers(1, 6, n), rng.integers(0, 3, n), rng.integers(20, 60, n))
    conf = np.zeros((n, 16, 20), dtype=np.int8)
    conf[:, 0, 0] = np.arange(n) // 100  # the row index, readable by TableModel
    conf[:, 0, 1] = np.arange(n) % 100
    return FakeData(conf, hodge, euler)


class TableModel(torch.nn.Module):
    """Returns a fixed row of ``table`` for each input: the row index is encoded in conf[0, :2]."""

    def __init__(self, table, scale=6.0):
        super().__init__()
        self.register_buffer("table", torch.as_tensor(np.asarray(table, dtype=np.float32)))
        self.scale = scale

    def forward(self, x):
        i = torch.round(x[:, 0, 0] * self.scale) * 100 + torch.round(x[:, 0, 1] * self.scale)
        return self.table[i.long()]


def fake_split(n, name="72"):
    idx = np.arange(n)
    return SimpleNamespace(train=idx[: n // 2], valid=idx[n // 2: 3 * n // 4], test=idx[3 * n // 4:], name=name)


# --------------------------------------------------------------------------- metrics
def test_metrics_hand_computed():
    y = np.array([[1, 0, 20, 200], [2, 1, 30, 300], [3, 0, 40, 400], [4, 2, 50, 500]])
    pred = np.array([
        [1.2, 0.4, 20.0, 201.6],   # h22 rounds to 202: error 2
        [2.0, 0.6, 31.0, 300.0],   # h21 ok (1), h31 error 1
        [2.6, 0.0, 40.0, 400.0],   # h11 rounds to 3
        [4.0, 0.9, 50.0, 499.0],   # h21 rounds to 1 (error -1), h22 error -1
    ])
    t = ev.metrics_table(y, pred)
    assert list(t.index) == ["h11", "h21", "h31", "h22", "mean"]
    assert list(t.columns) == ["accuracy", "mse", "mae", "r2"]
    assert t.loc["h11", "accuracy"] == 100.0
    assert t.loc["h21", "accuracy"] == 75.0 and t.loc["h31", "accuracy"] == 75.0
    assert t.loc["h22", "accuracy"] == 50.0
    assert t.loc["mean", "accuracy"] == pytest.approx(75.0)
    # rounded errors: h21 (0, 0, 0, -1), h31 (0, 1, 0, 0), h22 (2, 0, 0, -1)
    assert t.loc["h21", "mse"] == pytest.approx(0.25) and t.loc["h21", "mae"] == pytest.approx(0.25)
    assert t.loc["h22", "mse"] == pytest.approx(5 / 4) and t.loc["h22", "mae"] == pytest.approx(3 / 4)
    # r2 = 1 - SSE / SST; h21 truth (0, 1, 0, 2): mean 0.75, SST = 2.75
    assert t.loc["h21", "r2"] == pytest.approx(1 - 1 / 2.75)
    assert t.loc["h22", "r2"] == pytest.approx(1 - 5 / 50000)
    assert t.loc["h11", "r2"] == 1.0 and t.loc["h11", "mse"] == 0.0
    assert t.loc["mean", "mse"] == pytest.approx((0 + 0.25 + 0.25 + 1.25) / 4)
    assert t.attrs["n"] == 4


def test_metrics_raw_option_uses_unrounded_outputs():
    y = np.array([[1, 0, 20, 200], [2, 1, 30, 300]])
    pred = y + np.array([[0.2, -0.2, 0.4, 0.0], [0.0, 0.2, -0.4, 0.0]])
    raw = ev.metrics_table(y, pred, rounded=False)
    assert raw.loc["h11", "mse"] == pytest.approx(0.02) and raw.loc["h31", "mae"] == pytest.approx(0.4)
    assert ev.metrics_table(y, pred).loc["h31", "mse"] == 0.0  # rounded: all exact
    assert raw.loc["h11", "accuracy"] == 100.0  # accuracy always after rounding


def test_rounding_is_half_to_even():
    y = np.array([[2, 0, 20, 200]] * 4)
    pred = np.array([[1.5, 0.5, 20.5, 200.5], [2.5, 0.49, 19.5, 199.51],
                     [2.49, -0.5, 21.5, 201.5], [2.51, 0.51, 20.4999, 200.0]])
    assert ev.round_predictions(pred).tolist() == [[2, 0, 20, 200], [2, 0, 20, 200], [2, 0, 22, 202], [3, 1, 20, 200]]
    t = ev.metrics_table(y, pred)
    assert t.loc["h11", "accuracy"] == 75.0 and t.loc["h21", "accuracy"] == 75.0


def test_metrics_skip_unknown_truth_and_validate():
    y = np.array([[1, 0, 20, 200], [-1, -1, -1, -1]])
    pred = np.array([[1.0, 0, 20, 200], [5.0, 5, 5, 5]])
    t = ev.metrics_table(y, pred)
    assert t.loc["mean", "accuracy"] == 100.0 and t.attrs["n"] == 1
    assert np.isnan(t.loc["h11", "r2"])  # undefined for one sample (no sklearn warning)
    with pytest.raises(ValueError, match="shape"):
        ev.metrics_table(y[:, :3], pred[:, :3])
    with pytest.raises(ValueError, match="rows"):
        ev.metrics_table(y, pred[:1])
    with pytest.raises(ValueError, match="NaN"):
        ev.metrics_table(y, np.full((2, 4), np.nan))


# --------------------------------------------------------------------------- constraint
def test_constrain_hand_examples():
    hodge, euler = hodge_from([1, 3, 2], [0, 1, 0], [426, 40, 25])
    assert hodge.tolist() == [[1, 0, 426, 1752], [3, 1, 40, 214], [2, 0, 25, 152]]
    pred = hodge.astype(float) + np.array([[0.3, 0.2, -7.0, 30.0], [-0.4, 0.4, 2.2, 9.0], [0.1, -0.1, 0.3, -0.2]])
    fixed, fallback = ev.constrain(pred, euler)
    assert fixed.tolist() == hodge.tolist()  # h31, h22 repaired from chi
    assert fallback.tolist() == [False, False, False]
    assert fixed.dtype == np.int64

    # a wrong h21 moves h31 and h22 with it (the relation is exact, the input is not)
    fixed, _ = ev.constrain(np.array([[1.0, 1.0, 426.0, 1752.0]]), np.array([2610]))
    assert fixed.tolist() == [[1, 1, 427, 1754]]


def test_constrain_fallbacks_counted():
    pred = np.array([
        [1.0, 0.0, 426.2, 1751.8],   # fine: chi of the sextic
        [2.2, 0.1, 30.4, 200.3],     # chi unknown -> fallback
        [5.0, 0.0, 21.0, 150.0],     # chi = 48 + 6 * (1 + 20) but h11 = 5 -> h31 = 17 < 20 -> fallback
        [1.0, 0.0, 50.0, 300.0],     # chi not divisible by 6 -> fallback
        [-0.7, -2.0, 426.0, 1752.0],  # impossible h11, h21: nothing clipped, raw h31/h22 kept
    ])
    euler = np.array([2610, -1, 48 + 6 * 21, 2611, 2610])
    fixed, fallback = ev.constrain(pred, euler)
    assert fallback.tolist() == [False, True, True, True, True]
    assert int(fallback.sum()) == 4
    assert fixed[0].tolist() == [1, 0, 426, 1752]
    assert fixed[1].tolist() == [2, 0, 30, 200]  # rounded raw h31/h22 kept
    assert fixed[2].tolist() == [5, 0, 21, 150]
    assert fixed[3].tolist() == [1, 0, 50, 300]
    assert fixed[4].tolist() == [-1, -2, 426, 1752]  # h11, h21 as predicted (rounded), not clipped
    with pytest.raises(ValueError, match="euler"):
        ev.constrain(pred, euler[:2])


# --------------------------------------------------------------------------- predict / evaluate
def test_predict_batches_and_modes():
    data = fake_data(50)
    table = np.arange(200, dtype=np.float32).reshape(50, 4)
    model = TableModel(table).train()
    idx = np.array([3, 7, 49, 0])
    out = ev.predict(model, data, idx, batch_size=3)
    assert out.dtype == np.float32 and out.shape == (4, 4)
    np.testing.assert_array_equal(out, table[idx])
    assert not model.training  # left in eval mode
    np.testing.assert_array_equal(ev.predict(model, data), table)
    # an explicit scale (the checkpoint's) overrides the dataset's
    np.testing.assert_array_equal(ev.predict(TableModel(table, scale=3.0), data, idx, scale=3.0), table[idx])


def test_predict_real_model_shape():
    from cicy4lib.models import build_model

    torch.manual_seed(0)
    data = fake_data(10)
    out = ev.predict(build_model("LSTM-400"), data, np.arange(5), batch_size=2)
    assert out.shape == (5, 4) and np.all(np.isfinite(out))


def _perturbed_table(data, seed=1):
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 0.6, size=data.hodge.shape)
    noise[:, :2] = rng.uniform(-0.45, 0.45, size=(len(noise), 2))  # h11, h21 right after rounding
    return data.hodge + noise


def test_evaluate_layout_model_preds_and_summary():
    data = fake_data(80)
    split = fake_split(80)
    table = _perturbed_table(data)
    df = ev.evaluate(TableModel(table), data, split)
    assert list(df.columns) == ["subset", "kind", "target", "accuracy", "mse", "mae", "r2"]
    assert len(df) == 3 * 2 * 5
    assert set(df["subset"]) == {"train", "valid", "test"} and set(df["kind"]) == {"raw", "constrained"}
    assert set(df.attrs["fallbacks"]) == {"train", "valid", "test"}
    assert df.attrs["n"] == {"train": 40, "valid": 20, "test": 20}

    # the same numbers from precomputed predictions, and metrics_table agrees
    preds = {s: table[getattr(split, s)] for s in ("valid", "test")}
    df2 = ev.evaluate(preds, data, split)
    assert set(df2["subset"]) == {"valid", "test"}
    pd.testing.assert_frame_equal(df[df.subset == "test"].reset_index(drop=True),
                                  df2[df2.subset == "test"].reset_index(drop=True))
    expected = ev.metrics_table(data.hodge[split.test], table[split.test])
    got = df[(df.subset == "test") & (df.kind == "raw")].set_index("target")
    assert got.loc["h31", "accuracy"] == pytest.approx(expected.loc["h31", "accuracy"])

    wide = ev.accuracy_summary(df)
    assert list(wide.index) == ["raw", "constrained"]
    assert list(wide.columns) == ["h11", "h21", "h31", "h22", "mean"]
    # h11, h21 right everywhere here, so the constrained h31, h22 are exact
    assert wide.loc["constrained", "h31"] == 100.0 and wide.loc["constrained", "h22"] == 100.0
    assert wide.loc["raw", "h22"] < 100.0
    assert df.attrs["fallbacks"]["test"] == 0


def test_evaluate_counts_fallbacks_for_unknown_euler():
    data = fake_data(40)
    data.euler[:] = -1
    split = fake_split(40)
    df = ev.evaluate({"test": data.hodge[split.test].astype(float)}, data, split)
    assert df.attrs["fallbacks"] == {"test": len(split.test)}
    wide = ev.accuracy_summary(df, "test")
    assert (wide == 100.0).all().all()  # falls back to the (here perfect) raw predictions


def test_evaluate_validates():
    data = fake_data(20)
    split = fake_split(20)
    with pytest.raises(ValueError, match="rows"):
        ev.evaluate({"test": np.zeros((3, 4))}, data, split)
    with pytest.raises(ValueError, match="subset"):
        ev.evaluate({"test": np.zeros((5, 4))}, data, split, subsets=("tests",))
    with pytest.raises(TypeError):
        ev.evaluate({"test": np.zeros((5, 4))}, data, 72)


def test_evaluate_run_dir(tmp_path):
    checkpoint = pytest.importorskip("cicy4lib.models.checkpoint")
    from cicy4lib.models import build_model

    torch.manual_seed(0)
    model = build_model("LSTM-400")
    checkpoint.save_checkpoint(tmp_path / "LSTM-400_72", model, {"scale": 6.0, "split": "72"})
    data = fake_data(16)
    split = fake_split(16)
    df = ev.evaluate(tmp_path / "LSTM-400_72", data, split, subsets=("test",))
    direct = ev.evaluate(model, data, split, subsets=("test",))
    pd.testing.assert_frame_equal(df, direct)


def test_evaluate_with_cicydata_and_split_name():
    data_mod = pytest.importorskip("cicy4lib.data")
    splits = pytest.importorskip("cicy4lib.data.splits")
    fake = fake_data(50)
    data = data_mod.CICYData(fake.conf, fake.hodge, fake.euler, np.zeros(50, bool), np.arange(50), source="test",
                             meta=dict(fake.meta))
    split = splits.get_split(data, "72")
    table = _perturbed_table(fake)
    df = ev.evaluate(TableModel(table), data, "72", subsets=("test",))
    expected = ev.metrics_table(data.hodge[split.test], table[split.test])
    got = df[df.kind == "raw"].set_index("target")
    assert got["accuracy"].tolist() == pytest.approx(expected["accuracy"].tolist())


def test_constrained_h11_h21_equal_raw_and_impossible_counted():
    rng = np.random.default_rng(1)
    pred = rng.normal(0, 3, size=(200, 4)) + np.array([2, 0, 30, 200])
    euler = np.full(200, 2610)
    fixed, _ = ev.constrain(pred, euler)
    assert (fixed[:, :2] == np.rint(pred[:, :2])).all()  # "constrained" changes h31, h22 only
    counts = ev.impossible_counts(np.array([[0.2, -0.6, 19.0, -1.0], [1.0, 0.0, 20.0, 0.0]]))
    assert counts == {"h11": 1, "h21": 1, "h31": 1, "h22": 1, "rows": 1}
    assert ev.clip_to_range(np.array([[0.2, -0.6, 19.0, -1.0]])).tolist() == [[1, 0, 20, 0]]


def test_markdown_table_is_a_pipe_table():
    df = pd.DataFrame({"h11": [0.44999999999999996, np.nan], "note": ["a|b", "c"]}, index=["x", "y"])
    text = ev.markdown_table(df)
    lines = text.splitlines()
    assert lines[0].startswith("| ") and set(lines[1]) <= set("|-:")
    assert "0.45" in text and "0.4499" not in text and "–" in text and "a\\|b" in text


def test_split_repr_is_short():
    from cicy4lib.data.splits import Split

    split = Split(np.arange(7000), np.arange(7000, 8000), np.arange(8000, 10000), "72")
    assert repr(split) == "Split('72': train 7,000 / valid 1,000 / test 2,000)"
    assert len(str(split)) < 80


def test_evaluate_results_are_values_and_evaluate_keeps_its_attrs():
    data = fake_data(80)
    split = fake_split(80)
    model = TableModel(_perturbed_table(data))
    results = ev.evaluate_results(model, data, split)
    assert isinstance(results, ev.Evaluation)
    assert results.n == {"train": 40, "valid": 20, "test": 20}
    assert set(results.fallbacks) == set(results.impossible) == {"train", "valid", "test"}
    assert results.table.attrs == {}  # the values travel as fields, not in the table
    df = ev.evaluate(model, data, split)  # the table notebooks were written against
    pd.testing.assert_frame_equal(df, results.table)
    assert df.attrs == results.notes()
    # the one reader of those attrs turns the old table back into the same values
    again = ev.evaluation_of(df)
    assert (again.fallbacks, again.impossible, again.n) == (results.fallbacks, results.impossible, results.n)
    assert ev.evaluation_of(results) is results
