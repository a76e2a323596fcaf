"""The notebook collection: generated from templates without drift, thin, output-free; the
papermill batch runner's parameters, progress, failures and summary."""
import ast
import json
import math
import os
from pathlib import Path

import nbformat
import pytest

from cicy4lib.results import figures
from cicy4lib import notebooks as nbk
from cicy4lib.models import list_models

ROOT = Path(__file__).resolve().parents[2]  # the checkout

MODEL_PARAMETERS = {
    "data": "auto", "split": "72", "epochs": None, "batch_size": 128, "seed": 42, "restarts": 0,
    "output_dir": "../Results_p2_Trained_models", "resume": True, "init_from": None, "time_budget_h": None, "amp": False,
    "max_samples": None, "progress": True, "figures_dir": "../Results_p1_Figures", "canonical": True,
}
PROCESSING_PARAMETERS = {"data": "auto", "models_dir": "../Results_p2_Trained_models",
                         "figures_dir": "../Results_p1_Figures", "split": "72", "max_samples": None}
COMPARE = {"compare_with_paper": None, "canonical": True}  # inference and metrics notebooks


def _parameters(nb) -> dict:
    """name -> default of the single `parameters`-tagged cell."""
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one parameters cell"
    values = {}
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds plain assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def _read(path):
    return nbformat.read(path, as_version=4)


# ------------------------------------------------------------------ the committed notebooks


def test_committed_notebooks_match_the_templates():
    drifted = nbk.drifted_notebooks(ROOT)
    assert drifted == [], f"regenerate with `python -m cicy4lib.notebooks generate`: {drifted}"


def test_one_notebook_per_registered_model():
    from cicy4lib.models.registry import get_entry

    paths = nbk.model_notebook_paths(ROOT)
    assert len(paths) == len(list_models()) and len(nbk.model_notebook_paths(ROOT, paper=True)) == 14
    for name, path in zip(list_models(), paths):
        assert path.exists() and path.stem == name
        assert path.parent.name == get_entry(name).notebook_dir
        if get_entry(name).paper:
            hybrid = name.startswith(("CNN-", "ResNet-"))
            assert path.parent.name == ("Models_CNN-RNN-hybrid" if hybrid else "Models_LSTM-based")
    folders = {get_entry(n).notebook_dir for n in list_models()}
    on_disk = {p.stem for d in folders for p in (ROOT / d).glob("*.ipynb")}
    assert on_disk == set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_model_notebook_parameters_and_title(name):
    nb = _read(nbk.model_notebook_path(name, ROOT))
    params = _parameters(nb)
    assert params.pop("model_name") == name
    assert params == MODEL_PARAMETERS
    title = nb.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith(f"# {name}")
    assert nbk.model_family(name) in title.source


def test_title_shows_the_papers_accuracies():
    source = _read(nbk.model_notebook_path("LSTM-448", ROOT)).cells[0].source
    assert "2,915,332" in source
    assert "99.74 | 97.51 | 94.24 | 78.63" in source  # 72% (Table 4)
    assert "99.85 | 98.66 | 96.26 | 84.77" in source  # 80% (Table 8)
    resnet = _read(nbk.model_notebook_path("ResNet-LSTM-256", ROOT)).cells[0].source
    assert "reports no accuracies" in resnet


@pytest.mark.parametrize("kind", nbk.PROCESSING_NOTEBOOKS)
def test_processing_notebook_parameters(kind):
    params = _parameters(_read(ROOT / "data-results-processing" / f"{kind}.ipynb"))
    expected = dict(PROCESSING_PARAMETERS)
    if kind == "data":
        expected.pop("models_dir")
        expected["out_dir"] = params.get("out_dir")
        assert isinstance(params.get("out_dir"), str)
    if kind in ("inference", "metrics"):
        expected.update(COMPARE)
    assert params == expected


def test_no_outputs_and_stable_ids():
    for path in nbk.generated_notebooks(ROOT):
        nb = _read(path)
        ids = [c.id for c in nb.cells]
        assert len(set(ids)) == len(ids)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path
        assert nb.metadata.kernelspec.name == "python3"


def test_notebooks_stay_thin():
    """Notebooks call the library; multi-line logic lives in cicy4lib."""
    for path in nbk.generated_notebooks(ROOT):
        for cell in _read(path).cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                statements = ast.parse(cell.source).body
                assert len(statements) <= 8, (path.name, cell.source)
                assert not any(isinstance(s, (ast.For, ast.While, ast.FunctionDef, ast.ClassDef, ast.Try))
                               for s in statements), (path.name, cell.source)


# ------------------------------------------------------------------ generation


def test_generation_is_deterministic_and_check_finds_drift(tmp_path):
    assert nbk.generate(tmp_path) != []  # fresh folder: everything written
    first = {p: p.read_bytes() for p in tmp_path.rglob("*.ipynb")}
    from cicy4lib.notebooks.metricflow_notebooks import METRICFLOW_NOTEBOOKS
    assert len(first) == (len(list_models()) + len(nbk.PROCESSING_NOTEBOOKS) + len(nbk.STUDY_NOTEBOOKS)
                          + len(METRICFLOW_NOTEBOOKS))
    assert nbk.generate(tmp_path) == []  # nothing to rewrite
    assert nbk.generate(tmp_path, check=True) == []
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.ipynb")} == first

    edited = tmp_path / "Models_LSTM-based" / "LSTM-448.ipynb"
    nb = _read(edited)
    nb.cells[3].source += "\nprint('edited by hand')"
    nbformat.write(nb, edited)
    (tmp_path / "data-results-processing" / "metrics.ipynb").unlink()
    drifted = nbk.generate(tmp_path, check=True)
    assert set(drifted) == {edited, tmp_path / "data-results-processing" / "metrics.ipynb"}
    assert nbk.main(["generate", "--check", "--root", str(tmp_path)]) == 1
    assert nbk.main(["generate", "--root", str(tmp_path)]) == 0
    assert nbk.main(["generate", "--check", "--root", str(tmp_path)]) == 0


def test_template_parsing():
    cells = nbk.parse_template("# header comment\n# %% [markdown]\n# Title\n\n# %% [parameters]\nx = 1\n# %%\n\nprint(x)\n")
    assert cells == [("markdown", [], "# Title"), ("code", ["parameters"], "x = 1"), ("code", [], "print(x)")]
    with pytest.raises(ValueError, match="before the first"):
        nbk.parse_template("x = 1\n# %%\n")
    assert nbk.fill_template("a {{name}} b", {"name": "LSTM-448"}) == "a LSTM-448 b"
    with pytest.raises(KeyError, match="missing"):
        nbk.fill_template("{{missing}}", {})


# ------------------------------------------------------------------ runner: parameters


@pytest.mark.parametrize("text, value", [
    ("1", 1), ("1500", 1500), ("0.5", 0.5), ("False", False), ("None", None), ("[1, 2]", [1, 2]),
    ("'quoted'", "quoted"), ("/tmp/x/models", "/tmp/x/models"), ("LSTM-448", "LSTM-448"), ("sample", "sample"),
])
def test_parse_value(text, value):
    assert nbk.parse_value(text) == value


def test_coerce_parameters_matches_the_notebooks_types():
    declared = {"split": "72", "epochs": None, "progress": True, "data": "sample"}
    passed, ignored = nbk.coerce_parameters(
        {"split": 80, "epochs": 1, "progress": False, "models_dir": "/x"}, declared)
    assert passed == {"split": "80", "epochs": 1, "progress": False}
    assert ignored == ["models_dir"]


def test_path_parameters_resolve_against_the_callers_folder(tmp_path):
    (tmp_path / "mydata").mkdir()
    out = nbk.resolve_path_parameters({"output_dir": "runs/models", "data": "sample", "epochs": 1,
                                       "figures_dir": "/abs/figs", "init_from": "nope"}, cwd=tmp_path)
    assert out == {"output_dir": str(tmp_path / "runs" / "models"), "data": "sample", "epochs": 1,
                   "figures_dir": "/abs/figs", "init_from": "nope"}
    assert nbk.resolve_path_parameters({"data": "mydata"}, cwd=tmp_path)["data"] == str(tmp_path / "mydata")


def test_declared_parameters_of_a_model_notebook():
    declared = nbk.declared_parameters(nbk.model_notebook_path("LSTM-448", ROOT))
    assert declared["model_name"] == "LSTM-448" and declared["epochs"] is None and declared["split"] == "72"


# ------------------------------------------------------------------ runner: execution


def _dummy(path: Path, body: str):
    cells = [("code", ["parameters"], "x = 1\nlabel = 'a'"), ("code", [], body)]
    nbformat.write(nbk.build_notebook(cells, notebook_id="dummy"), path)
    return path


@pytest.fixture
def dummies(tmp_path):
    good = _dummy(tmp_path / "good.ipynb",
                  "from pathlib import Path\n"
                  "from cicy4lib.notebooks import write_summary\n"
                  "assert Path.cwd().name == 'nbs'\n"  # runs in the notebook's own folder
                  "write_summary('dummy', {'test_accuracy': {'raw': {'h11': 10.0 * x, 'h21': 2.0, 'h31': 3.0, "
                  "'h22': 4.0, 'mean': 5.0}}, 'note': 'label=' + label})")
    bad = _dummy(tmp_path / "bad.ipynb", "raise RuntimeError(f'broken on purpose, x={x}')")
    folder = tmp_path / "nbs"
    folder.mkdir()
    return [bad.replace(folder / "bad.ipynb"), good.replace(folder / "good.ipynb")]


def test_runner_goes_on_past_a_failure_and_reports(dummies, tmp_path, capsys):
    lines = []
    results = nbk.run_notebooks(dummies, {"x": 7, "label": 3, "unused": 1}, tmp_path / "out", log=lines.append)
    assert list(results["status"]) == ["FAILED", "ok"]
    bad, good = results.iloc[0], results.iloc[1]
    assert "RuntimeError: broken on purpose, x=7" in bad["error"]
    assert good["raw_h11"] == 70.0 and math.isnan(good["constrained_h11"])
    assert good["note"] == "label=3"  # 3 became "3": the notebook's default is a string
    assert (tmp_path / "out" / "good.ipynb").exists() and (tmp_path / "out" / "bad.ipynb").exists()
    executed = _read(tmp_path / "out" / "good.ipynb")
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert len([line for line in lines if ": start" in line]) == 2 and "not its parameters: unused" in lines[0]
    assert any("FAILED" in line for line in lines)
    text = nbk.format_summary(results)
    assert "70.0/2.0/3.0/4.0" in text and "1 ok, 1 failed" in text

    skipped = nbk.run_notebooks(dummies, {}, tmp_path / "out2", fail_fast=True, log=None)
    assert list(skipped["status"]) == ["FAILED", "skipped"]


def test_runner_command_line(dummies, tmp_path, capsys):
    good = dummies[1]
    assert nbk.main(["run", str(good), "--out", str(tmp_path / "cli"), "-p", "x", "2"]) == 0
    out = capsys.readouterr().out
    assert "good.ipynb: ok" in out and "20.0/2.0/3.0/4.0" in out
    assert nbk.main(["run", str(good), "--out", str(tmp_path / "cli"), "-p", "nope", "1"]) == 2
    assert nbk.main(["run", str(tmp_path / "missing.ipynb")]) == 2


def _outputs_text(path) -> str:
    parts = []
    for cell in _read(path).cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts += [str(v) for v in out.get("data", {}).values()]
    return "\n".join(parts)


@pytest.mark.slow
def test_lstm_448_notebook_end_to_end(tmp_path):
    """One epoch of the LSTM-448 notebook on a small subset, then the inference notebook."""
    models, figs = tmp_path / "models", tmp_path / "figs"
    results = nbk.run_notebooks(
        [nbk.model_notebook_path("LSTM-448", ROOT)],
        {"epochs": 1, "max_samples": 600, "output_dir": str(models), "figures_dir": str(figs), "progress": False},
        tmp_path / "executed", log=None)
    assert list(results["status"]) == ["ok"], results["error"].tolist()
    summary = json.loads((models / "LSTM-448_72" / "summary.json").read_text())
    assert 0 <= summary["test_accuracy"]["constrained"]["h11"] <= 100
    assert results["raw_h11"].iloc[0] == pytest.approx(summary["test_accuracy"]["raw"]["h11"])
    assert (figs / "fig_curves_LSTM-448_72.png").exists()
    # data="auto": the generated set where it is present (it ships with the package), labelled as such
    assert "generated set, 600 configurations – not the CICY4 list" in _outputs_text(tmp_path / "executed" / "LSTM-448.ipynb")
    results = nbk.run_notebooks([ROOT / "data-results-processing" / "inference.ipynb"],
                                {"models_dir": str(models), "figures_dir": str(figs), "max_samples": 600},
                                tmp_path / "executed", log=None)
    assert list(results["status"]) == ["ok"], results["error"].tolist()
    assert (figs / "fig_ranking_72_h22.png").exists()
    assert "not the CICY4 list" in figures.png_title(figs / "fig_ranking_72_h22.png")
    text = _outputs_text(tmp_path / "executed" / "inference.ipynb")
    assert "not set beside" in text and "favourable guess" in text


# ------------------------------------------------------------------ notebook helpers


def test_paper_names_of_our_runs():
    assert nbk.paper_name("LSTM-448_72", "72") == "LSTM-448"
    assert nbk.paper_name("LSTM-448_cv1", "72") == "LSTM-448-f1"
    assert nbk.paper_name("CNN-LSTM-400_72", "80") == "CNN-LSTM-400-d72"
    assert nbk.paper_name("CNN-LSTM-400_80", "80") == "CNN-LSTM-400"
    assert nbk.paper_name("Ens-2", "72") == "Ens-2"
    assert nbk.paper_name("ResNet-LSTM-256_72", "72") is None  # the paper reports no accuracies for it
    assert nbk.paper_name("hill-climb", "72") is None


def test_published_beside_ours():
    import pandas as pd

    ours = pd.DataFrame({"h11": [50.0, 60.0, 70.0], "h22": [1.0, 2.0, 3.0]},
                        index=["LSTM-448_72", "Ens-2", "hill-climb"])
    real = type("RealList", (), {"is_real_list": True, "provenance": {"kind": "real-list", "n": 905_684}})()
    table = nbk.published_beside(ours, "72", data=real)
    assert list(table.columns) == ["h11", "h11 paper", "h22", "h22 paper"]
    assert table.loc["LSTM-448_72", "h22 paper"] == 78.63 and table.loc["Ens-2", "h11 paper"] == 99.80
    assert math.isnan(table.loc["hill-climb", "h11 paper"])
    mse = nbk.published_beside(ours, "72", metric="mse", data=real)
    assert mse.loc["LSTM-448_72", "h11 paper"] == 0.005
    # any other data: no paper columns, unless asked (then shown apart, never beside)
    for data in ("sample", "generated", "my/folder"):
        alone = nbk.published_beside(ours, "72", data=data)
        assert list(alone.columns) == ["h11", "h22"] and "not set beside" in alone.attrs["caption"]
    asked = nbk.published_beside(ours, "72", data="sample", compare=True)
    assert list(asked.columns) == ["h11", "h22"]
    rounded = nbk.published_beside(ours / 3, "72", data="sample")
    assert rounded.loc["LSTM-448_72", "h11"] == 16.67


def test_training_config_recipes(capsys):
    import torch

    real = type("RealList", (), {"is_real_list": True})()
    full = 550 if torch.cuda.is_available() else 12  # the paper's recipe on the real list with a GPU only
    assert nbk.training_config("72", data=real).max_epochs == full
    assert nbk.training_config("72", data="sample").max_epochs == 12
    assert "epochs capped at 12" in capsys.readouterr().out
    assert nbk.training_config("72", data="sample", epochs=550).max_epochs == 550  # asked for: as given
    assert nbk.training_config("72", epochs=3, batch_size=64).max_epochs == 3
    assert nbk.training_config("80").min_lr == 1e-8  # from scratch: the 72% recipe
    assert nbk.training_config("80", init_from="runs/LSTM-448_72").min_lr == 1e-7  # fine-tune
    assert nbk.training_config("72", epochs=1, amp=True).amp and not nbk.training_config("72", epochs=1).amp


def test_inference_summary_picks_the_best_row(tmp_path, monkeypatch):
    import pandas as pd

    rows = []
    for name, base in (("LSTM-448_72", 50.0), ("Ens-2", 60.0), ("hill-climb", 55.0)):
        for kind, bonus in (("raw", 0.0), ("constrained", 5.0)):
            rows.append({"name": name, "kind": kind, "group": "x", "h11": base + bonus, "h21": base, "h31": base,
                         "h22": base, "mean": base + bonus / 4})
    table = pd.DataFrame(rows).set_index(["name", "kind"])
    monkeypatch.setenv(nbk.SUMMARY_ENV, str(tmp_path / "s.json"))
    out = nbk.inference_summary(table, "sample", "72")
    assert list(out.index) == ["Ens-2 (raw)", "Ens-2 (constrained)"]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["best"] == "Ens-2" and summary["test_accuracy"]["constrained"]["h11"] == 65.0


def test_output_dir_serves_as_models_dir_for_processing_notebooks():
    from cicy4lib.notebooks import coerce_parameters

    shared = {"output_dir": "/runs", "epochs": 1}
    passed, ignored = coerce_parameters(shared, {"models_dir": "../Results_p2_Trained_models"})
    assert passed == {"models_dir": "/runs"} and ignored == ["epochs"]
    # a model notebook keeps output_dir; an explicit models_dir wins
    assert coerce_parameters(shared, {"output_dir": "x", "epochs": None})[0] == shared
    both = {"output_dir": "/runs", "models_dir": "/other"}
    assert coerce_parameters(both, {"models_dir": "m"})[0] == {"models_dir": "/other"}


@pytest.mark.parametrize("relative", [True, False])
def test_runner_out_relative_or_absolute_fills_the_summary(dummies, tmp_path, monkeypatch, relative):
    """A relative --out is the caller's, not the notebook folder's; the summary columns are filled."""
    caller = tmp_path / "caller"
    caller.mkdir()
    monkeypatch.chdir(caller)
    out = "outputs/executed" if relative else str(caller / "outputs" / "executed")
    results = nbk.run_notebooks([dummies[1]], {"x": 3}, out, log=None)
    assert results["raw_h11"].iloc[0] == 30.0 and results["note"].iloc[0] == "label=a"
    assert (caller / "outputs" / "executed" / "good.ipynb").exists()
    assert (caller / "outputs" / "executed" / "good.summary.json").exists()
    assert not (dummies[1].parent / "outputs").exists()  # nothing beside the notebook


def test_kernel_environment_is_set_inside_and_restored(tmp_path, monkeypatch):
    from cicy4lib.notebooks import runner

    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv(runner.SUMMARY_ENV, raising=False)
    before = dict(os.environ)
    with runner._kernel_environment(tmp_path / "s.json"):
        assert os.environ[runner.SUMMARY_ENV] == str(tmp_path / "s.json")
        parts = os.environ["PYTHONPATH"].split(os.pathsep)
        assert parts[1:] == ["/elsewhere"] and (Path(parts[0]) / "cicy4lib").is_dir()
        assert int(os.environ["OMP_NUM_THREADS"]) >= 1
    assert dict(os.environ) == before


def test_model_and_inference_notebooks_predict_on_the_canonical_form():
    # issue 21: `canonical = True` (a parameter) reaches every prediction of these notebooks
    paths = [nbk.model_notebook_path(name, ROOT) for name in ("LSTM-448", "HodgeGNN-64")]
    paths += [ROOT / "data-results-processing" / f"{kind}.ipynb" for kind in ("inference", "metrics")]
    for path in paths:
        nb = _read(path)
        assert _parameters(nb)["canonical"] is True, path
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))
        assert "canonical=canonical" in code, path
