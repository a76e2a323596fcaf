"""Figures: non-empty PNGs at stable names, and the sample label in the title when asked."""
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cicy4lib.results import figures
from cicy4lib.results import published


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


# --------------------------------------------------------------------------- readability
def _axes_of(monkeypatch):
    """Capture the Figure objects the module builds (to inspect their axes before saving)."""
    seen = []
    real = figures._save

    def spy(fig, path, title):
        seen.append([(ax.get_xscale(), ax.get_yscale(), ax.get_xlim(), ax.get_ylim(), ax.get_title(),
                      [t.get_text() for t in ax.texts],
                      {"lines": [(ln.get_linestyle(), list(ln.get_ydata())) for ln in ax.get_lines()],
                       "ylabels": [ax.yaxis.get_major_formatter()(v, 0) for v in (0.1, 1, 20, 100)],
                       "xticks": list(ax.get_xticks())}) for ax in fig.axes])
        return real(fig, path, title)

    monkeypatch.setattr(figures, "_save", spy)
    return seen


def test_data_note_from_a_dataset_and_stored_in_the_png(tmp_path, history):
    data = type("D", (), {"provenance": {"kind": "generated", "source": "generated", "n": 50_000},
                          "is_real_list": False})()
    path = figures.plot_training_curves(history, tmp_path / "c.png", data=data)
    title = figures.png_title(path)
    assert "generated set, 50,000 configurations" in title and "not the CICY4 list" in title
    assert "generated set" in figures.png_text(path)["Data"]
    real = type("R", (), {"provenance": {"kind": "real-list", "n": 905_684}, "is_real_list": True})()
    assert "not the CICY4 list" not in figures.png_title(figures.plot_training_curves(history, tmp_path / "r.png",
                                                                                       data=real))


def test_loss_axis_plain_with_reference_line(tmp_path, monkeypatch):
    seen = _axes_of(monkeypatch)
    flat = pd.DataFrame({"train_loss": np.linspace(29, 28, 12), "val_loss": np.linspace(29.5, 28.2, 12)})
    figures.plot_training_curves(flat, tmp_path / "f.png", reference=28.5)
    (_, yscale, _, ylim, _, _, ax), = seen[0]
    assert yscale == "linear" and ylim[0] == 0  # a flat curve looks flat
    assert ("--", [28.5, 28.5]) in ax["lines"]
    steep = pd.DataFrame({"train_loss": np.geomspace(300, 0.1, 12), "val_loss": np.geomspace(310, 0.2, 12)})
    figures.plot_training_curves(steep, tmp_path / "s.png")
    assert seen[1][0][1] == "log"
    assert seen[1][0][-1]["ylabels"] == ["0.1", "1", "20", "100"]  # plain numbers, no 2×10¹


def test_r2_axis_clipped_with_off_scale_values_written(tmp_path, monkeypatch):
    seen = _axes_of(monkeypatch)
    ours = pd.DataFrame({"h11": [0.99, -1200.0], "h22": [0.5, -3.0]}, index=["LSTM-448_72", "constant (train mean)"])
    figures.plot_metric_comparison(ours, tmp_path / "r2.png", metric="r2", sample=True)
    axes = seen[0]
    assert all(a[2][0] >= figures.R2_FLOOR - 0.1 for a in axes)
    texts = " ".join(" ".join(a[5]) for a in axes)
    assert "-1,200" in texts and "-3.00" in texts and "e+" not in texts


def test_published_apart_for_non_list_data(tmp_path, monkeypatch):
    seen = _axes_of(monkeypatch)
    paper = published.accuracy_table("72")[list(published.HODGE)]
    ours = pd.DataFrame({"h22": [10.0, 40.0]}, index=["LSTM-448", "favourable guess (rows, 0, χ)"])
    figures.plot_ranking(ours, "h22", tmp_path / "a.png", published=paper, sample=True)
    titles = [a[4] for a in seen[0]]
    assert len(seen[0]) == 2 and any("real CICY4 list" in t for t in titles)  # a separate panel
    assert seen[0][0][2][0] == 0  # our axis starts at 0 (low values)
    figures.plot_ranking(ours, "h22", tmp_path / "b.png", published=paper)  # real list: one axis
    assert len(seen[1]) == 1


def test_hodge_axes_have_integer_ticks(tmp_path, monkeypatch, hodge):
    seen = _axes_of(monkeypatch)
    figures.plot_hodge_distributions(hodge[:20], tmp_path / "h.png")
    for *_, ax in seen[0]:
        assert np.allclose(ax["xticks"], np.round(ax["xticks"]))
