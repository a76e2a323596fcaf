"""Figures: non-empty PNGs at stable names, and the sample label in the title when asked."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cicy4lib import figures, published


@pytest.fixture
def hodge():
    rng = np.random.default_rng(0)
    n = 300
    return np.stack([rng.integers(1, 12, n), rng.poisson(0.8, n), rng.integers(20, 80, n),
                     rng.integers(204, 400, n)], axis=1)


@pytest.fixture
def history():
    epochs = np.arange(1, 16)
    return pd.DataFrame({"train_loss": 5 * np.exp(-epochs / 4) + 0.1, "val_loss": 5 * np.exp(-epochs / 5) + 0.2,
                         "epoch": epochs, "lr": 0.01, "seconds": 1.0})


def _check_png(path, *, sample):
    assert path.exists() and path.stat().st_size > 5000
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] > 300 and image.size[1] > 200
        # 150 dpi (PNG stores pixels per metre: 150 / 0.0254 = 5905.5)
        assert round(image.info["dpi"][0]) == 150
        # not a blank canvas
        assert len(np.unique(np.asarray(image.convert("L")))) > 10
    title = figures.png_title(path)
    assert (figures.SAMPLE_LABEL in title) is sample
    return title


def test_figure_name_is_stable():
    assert figures.figure_name("ranking", "72", "h11") == "fig_ranking_72_h11.png"
    assert figures.figure_name("curves", "LSTM-448_72") == "fig_curves_LSTM-448_72.png"
    assert figures.figure_name("ranking", "72", "h11", "") == "fig_ranking_72_h11.png"
    assert figures.figure_name("hodge_distributions", "72") == "fig_hodge_distributions_72.png"


def test_hodge_distributions(tmp_path, hodge):
    path = figures.plot_hodge_distributions({"train": hodge[:200], "valid": hodge[200:240], "test": hodge[240:]},
                                            tmp_path / "fig_hodge_distributions_72.png", sample=True)
    title = _check_png(path, sample=True)
    assert title.startswith("Distribution of the Hodge numbers")


def test_hodge_distributions_single_array_and_unknowns(tmp_path, hodge):
    hodge = hodge.copy()
    hodge[:10, 1] = -1  # unknown values are skipped
    path = figures.plot_hodge_distributions(hodge, tmp_path / "h.png", title="all of it", sample=False)
    assert _check_png(path, sample=False) == "all of it"
    with pytest.raises(ValueError, match="shape"):
        figures.plot_hodge_distributions(hodge[:, :3], tmp_path / "bad.png")


def test_training_curves_from_frame_and_csv(tmp_path, history):
    path = figures.plot_training_curves(history, tmp_path / "a" / "fig_curves_LSTM-448_72.png",
                                        title="LSTM-448", sample=True)
    assert _check_png(path, sample=True).startswith("LSTM-448")
    csv = tmp_path / "log.csv"
    history[["train_loss", "val_loss"]].to_csv(csv, index=False)  # the paper's two columns only
    _check_png(figures.plot_training_curves(csv, tmp_path / "b.png"), sample=False)
    with pytest.raises(ValueError, match="val_loss"):
        figures.plot_training_curves(history.drop(columns="val_loss"), tmp_path / "c.png")


def test_curves_overview(tmp_path, history):
    path = figures.plot_curves_overview({"LSTM-448_72": history, "LSTM-424_72": history * 1.1},
                                        tmp_path / "o.png", sample=True)
    _check_png(path, sample=True)


def test_ranking_with_published(tmp_path):
    paper = published.accuracy_table("72")[list(published.HODGE)]
    ours = paper.iloc[:6] * 0.9
    path = figures.plot_ranking(ours, "h22", tmp_path / "fig_ranking_72_h22.png", published=paper, sample=True)
    _check_png(path, sample=True)
    with pytest.raises(ValueError, match="column"):
        figures.plot_ranking(ours, "h99", tmp_path / "x.png")


def test_metric_comparison(tmp_path):
    paper = published.metric_table("72", "mse")
    ours = paper.iloc[:4] * 1.2
    path = figures.plot_metric_comparison(ours, tmp_path / "fig_metrics_mse_72.png", published=paper,
                                          metric="mse", sample=False)
    assert "MSE" in _check_png(path, sample=False)


def test_no_pyplot_figures_left_open(tmp_path):
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    figures.plot_ranking(pd.DataFrame({"h11": [50.0, 60.0]}, index=["a", "b"]), "h11", tmp_path / "r.png")
    assert len(plt.get_fignums()) == before
