"""The notebook collection: generated from templates, executed in batches with papermill.

Two commands (also ``python -m cicy4lib notebooks ...``)::

    python -m cicy4lib.notebooks generate [--check]
    python -m cicy4lib.notebooks run NB_OR_DIR... [--all-models] [--out DIR] [--fail-fast]
                                     [-p NAME VALUE]... [--kernel python3]

``generate`` writes one notebook per registered architecture (``Models_CNN-RNN-hybrid/`` for
the CNN/ResNet hybrids, ``Models_LSTM-based/`` for the LSTM-only models) and the four
``data-results-processing/`` notebooks, all from the templates in ``cicy4lib/templates/``.
The files carry no outputs and stable cell ids, so regeneration is byte-identical and
``--check`` (a test does the same) finds any notebook edited by hand.

``run`` executes notebooks through papermill, each in its own directory (so the notebooks'
relative ``../Results_*`` defaults work), with shared ``-p`` parameters (only those a notebook
declares are passed to it); it goes on past failures unless ``--fail-fast``, prints one line
as each notebook starts and ends and a summary table at the end, and exits non-zero if any
notebook failed. The final accuracies in that table come from a small ``summary.json`` each
notebook writes through :func:`write_summary`.

The rest of this module is the handful of helpers the notebooks call, so that the notebooks
stay a few readable library calls each.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Iterable, Mapping

HODGE = ("h11", "h21", "h31", "h22")
TARGETS = (*HODGE, "mean")
HYBRID_DIR = "Models_CNN-RNN-hybrid"
LSTM_DIR = "Models_LSTM-based"
PROCESSING_DIR = "data-results-processing"
PROCESSING_NOTEBOOKS = ("data", "curves", "inference", "metrics")
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SUMMARY_ENV = "CICY4_NOTEBOOK_SUMMARY"  # the runner tells a notebook where to copy its summary
SUMMARY_FILE = "summary.json"
DEFAULT_OUT = "outputs/executed"
# Notebook parameters that name files or folders: relative values given on the command line
# are taken relative to the caller's working directory, not the notebook's.
PATH_PARAMETERS = ("data", "output_dir", "models_dir", "figures_dir", "out_dir", "init_from")

SAMPLE_BANNER = ("**SAMPLE numbers, not the CICY4 list.** This run uses the embedded sample shipped "
                 "with cicy4lib (a few thousand generated configurations with exact Hodge numbers), "
                 "not the paper's 905,684 configurations: its accuracies say whether the code works, "
                 "not how well the model does on the real list.")

_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# ============================================================================ generation


def default_root() -> Path:
    """The project checkout holding the notebook folders (the package's parent in a checkout)."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").exists() or (checkout / LSTM_DIR).is_dir():
        return checkout
    return Path.cwd()


def model_family(name: str) -> str:
    """Human label of an architecture: "CNN-LSTM hybrid", "ResNet-GRU hybrid", "LSTM-only"."""
    from .models import get_spec

    spec = get_spec(name)
    if spec.family is None:
        return f"{spec.rnn.upper()}-only"
    return f"{'CNN' if spec.family == 'cnn' else 'ResNet'}-{spec.rnn.upper()} hybrid"


def model_notebook_path(name: str, root=None) -> Path:
    """Where the notebook of architecture ``name`` lives, e.g. Models_LSTM-based/LSTM-448.ipynb."""
    from .models import get_spec

    spec = get_spec(name)
    folder = LSTM_DIR if spec.family is None else HYBRID_DIR
    return Path(root or default_root()) / folder / f"{spec.name}.ipynb"


def model_notebook_paths(root=None) -> list[Path]:
    """The 14 model notebooks, in the registry's order."""
    from .models import list_models

    return [model_notebook_path(name, root) for name in list_models()]


def processing_notebook_paths(root=None) -> list[Path]:
    root = Path(root or default_root())
    return [root / PROCESSING_DIR / f"{kind}.ipynb" for kind in PROCESSING_NOTEBOOKS]


def parse_template(text: str) -> list[tuple[str, list[str], str]]:
    """Split a template into cells: (cell type, tags, source).

    A template is plain text in "percent" style: a line ``# %% [markdown]`` starts a markdown
    cell, ``# %% [parameters]`` a code cell tagged ``parameters`` and ``# %%`` a code cell.
    Comment lines before the first marker describe the template and are dropped, as are
    leading and trailing blank lines of each cell.
    """
    cells, kind, tags, lines = [], None, [], []

    def flush():
        if kind is not None:
            source = "\n".join(lines).strip("\n")
            if source:
                cells.append((kind, tags, source))

    for line in text.splitlines():
        marker = re.fullmatch(r"# %%(?: \[(markdown|parameters)\])?\s*", line)
        if marker:
            flush()
            kind = "markdown" if marker.group(1) == "markdown" else "code"
            tags = ["parameters"] if marker.group(1) == "parameters" else []
            lines = []
        elif kind is None:  # a header comment about the template itself, not a cell
            if line.strip() and not line.startswith("#"):
                raise ValueError(f"template text before the first '# %%' marker: {line!r}")
        else:
            lines.append(line)
    flush()
    return cells


def fill_template(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` placeholders; unknown or unfilled placeholders are an error."""
    def replace(match):
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template placeholder {{{{{key}}}}} has no value")
        return str(values[key])

    return re.sub(r"\{\{(\w+)\}\}", replace, text)


def build_notebook(cells, *, notebook_id: str):
    """An nbformat v4.5 notebook without outputs and with stable cell ids."""
    import nbformat
    from nbformat import v4

    nb = v4.new_notebook()
    nb.metadata = {"kernelspec": dict(_KERNELSPEC), "language_info": {"name": "python"}}
    for i, (kind, tags, source) in enumerate(cells):
        cell_id = f"{notebook_id}-{i:02d}"  # deterministic: regeneration is byte-identical
        if kind == "markdown":
            nb.cells.append(v4.new_markdown_cell(source, id=cell_id))
        else:
            metadata = {"tags": list(tags)} if tags else {}
            nb.cells.append(v4.new_code_cell(source, id=cell_id, metadata=metadata))
    nbformat.validate(nb)
    return nb


def _notebook_text(nb) -> str:
    import nbformat

    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _fmt_acc(values) -> str:
    return " | ".join("–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"
                      for v in values)


def _model_title(name: str) -> str:
    """The title cell: architecture, parameters, and the paper's accuracies for this model."""
    from . import published

    params = published.PARAMETER_COUNTS.get(name)
    if params is None:  # a registry model the paper's tables do not list
        from .models import build_model, count_parameters

        params = count_parameters(build_model(name, device="meta"))
    lines = [f"# {name}: {model_family(name)}", "",
             f"One of the paper's 14 architectures ({params:,} trainable parameters), trained with "
             "the paper's recipe by `cicy4lib` (resumable, with the exact-χ constrained accuracies "
             "beside the raw ones).", "",
             "Published test accuracies (%) of this model in the paper (arXiv:2405.17406), "
             "on the real CICY4 list:", "",
             "| test set | h11 | h21 | h31 | h22 |", "|---|---|---|---|---|"]
    any_row = False
    for test, label in (("72", "72% split (Tables 2–4)"), ("80", "80% split (Table 8)")):
        table = published.accuracy_table(test, kind="model")
        if name in table.index:
            lines.append(f"| {label} | " + _fmt_acc(table.loc[name, list(HODGE)].tolist()) + " |")
            any_row = True
        else:
            lines.append(f"| {label} | not reported | | | |")
    if not any_row:
        lines += ["", "The paper lists this architecture but reports no accuracies for it."]
    lines += ["", "– marks a cell lost from the paper's text (a bold best value); "
              "see `cicy4lib.published`."]
    return "\n".join(lines)


def render_model_notebook(name: str):
    from .models import canonical_name

    name = canonical_name(name)
    text = (TEMPLATE_DIR / "model.nbtpl").read_text()
    values = {"model_name": name, "title": _model_title(name)}
    return build_notebook(parse_template(fill_template(text, values)), notebook_id=_cell_prefix(name))


def render_processing_notebook(kind: str):
    if kind not in PROCESSING_NOTEBOOKS:
        raise ValueError(f"unknown processing notebook {kind!r}; known: {PROCESSING_NOTEBOOKS}")
    text = (TEMPLATE_DIR / f"{kind}.nbtpl").read_text()
    return build_notebook(parse_template(fill_template(text, {})), notebook_id=kind)


def _cell_prefix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()


def generated_notebooks(root=None) -> dict[Path, str]:
    """Every generated notebook: path -> JSON text, exactly as ``generate`` writes it."""
    root = Path(root or default_root())
    return {root / relative: text for relative, text in _rendered_notebooks(_templates_stamp())}


def _templates_stamp() -> tuple:
    """Changes whenever a template file changes (so the render cache below stays correct)."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(TEMPLATE_DIR.glob("*.nbtpl")))


@functools.lru_cache(maxsize=2)
def _rendered_notebooks(stamp) -> tuple:
    from .models import list_models

    out = []
    for name in list_models():
        relative = model_notebook_path(name, Path("/")).relative_to("/")
        out.append((relative, _notebook_text(render_model_notebook(name))))
    for kind, path in zip(PROCESSING_NOTEBOOKS, processing_notebook_paths(Path("/"))):
        out.append((path.relative_to("/"), _notebook_text(render_processing_notebook(kind))))
    return tuple(out)


def drifted_notebooks(root=None) -> list[Path]:
    """Notebooks that are missing or differ from what the templates generate."""
    return [path for path, text in generated_notebooks(root).items()
            if not path.exists() or path.read_text() != text]


def generate(root=None, *, check: bool = False) -> list[Path]:
    """Write the notebooks (or, with ``check``, only list the drifted ones).

    Returns
    -------
    The paths written (only those whose content changed), or with ``check`` the drifted paths.
    """
    changed = []
    for path, text in generated_notebooks(root).items():
        if path.exists() and path.read_text() == text:
            continue
        changed.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return changed


# ============================================================================ notebook helpers


def is_sample(data) -> bool:
    """Whether a dataset (or a ``data`` parameter) is the embedded sample."""
    source = getattr(data, "source", data)
    return str(source).strip().lower() == "sample"


def _display(obj):
    try:
        from IPython.display import display
    except ImportError:  # plain Python: print instead
        print(obj)
        return
    display(obj)


class _MarkdownText:
    """Markdown for notebook front ends, readable plain text for everything else (logs, text
    exports of executed notebooks)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return re.sub(r"^> ", "", self.text.replace("**", ""), flags=re.M)


def show_markdown(text: str):
    """Show markdown in a notebook, plain text elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(repr(_MarkdownText(text)))
    else:
        _display(_MarkdownText(text))


def show_image(path):
    """Show a PNG in a notebook (the figures module writes files and keeps no figure open)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image
    except ImportError:
        print(f"figure: {path}")
        return
    if get_ipython() is None:
        print(f"figure: {path}")
    else:
        _display(Image(filename=str(path)))


def show_images(paths):
    for path in paths:
        show_image(path)


def sample_banner(data) -> None:
    """The "SAMPLE numbers, not the CICY4 list" banner when ``data`` is the embedded sample."""
    if is_sample(data):
        show_markdown(f"> {SAMPLE_BANNER}")


def load_notebook_data(data="sample", max_samples=None):
    """``load_dataset(data)`` reduced to ``max_samples`` rows with ``subsample(..., seed=0)``.

    Every notebook loads its data this way, so a training notebook and the inference, metrics
    and curves notebooks run with the same ``data`` and ``max_samples`` see the same rows.
    """
    from .data import load_dataset, subsample

    return subsample(load_dataset(data), max_samples, seed=0)


def show_data(dataset, split=None) -> None:
    """One line about the data (and split sizes), plus the sample banner where it applies."""
    sample_banner(dataset)
    text = (f"data: {getattr(dataset, 'source', '?')}; {len(dataset):,} configurations; "
            f"input scale {getattr(dataset, 'scale', float('nan')):g}")
    if split is not None:
        text += (f"\nsplit {split.name}: train {len(split.train):,} / valid {len(split.valid):,} / "
                 f"test {len(split.test):,}")
    print(text)


def training_config(split="72", *, init_from=None, epochs=None, batch_size=128, seed=42,
                    time_budget_h=None, **overrides):
    """The paper's recipe, or its 80% fine-tune recipe when ``split == "80"`` with ``init_from``.

    ``epochs=None`` keeps the recipe's 550; other ``None`` values keep the recipe's defaults.
    """
    from .train import TrainConfig, finetune_config

    make = finetune_config if (str(split) == "80" and init_from) else TrainConfig
    values = {"max_epochs": epochs, "batch_size": batch_size, "seed": seed,
              "time_budget_h": time_budget_h, **overrides}
    return make(**{k: v for k, v in values.items() if v is not None})


def paper_name(name: str, test: str = "72") -> str | None:
    """The paper's name for one of our rows: a run name (``LSTM-448_cv1`` -> ``LSTM-448-f1``),
    or a paper ensemble name as it is; ``None`` when the paper has no such entry."""
    from . import published

    test = "80" if str(test) == "80" else "72"
    table = published.accuracy_table(test)
    if name in table.index:
        return name
    for paper, run in published.PUBLISHED_TO_RUN[test].items():
        if run == name and paper in table.index:
            return paper
    arch, _, split = str(name).rpartition("_")
    if split == test and arch in table.index:
        return arch
    return None


def published_for(names: Iterable[str], test: str = "72", metric: str = "accuracy"):
    """The paper's values for our row names (index = our names; NaN where the paper has none).

    ``metric`` "accuracy" (percent, Tables 2-9) or "mse", "mae", "r2" (Tables 13-24).
    """
    import pandas as pd

    from . import published

    test = "80" if str(test) == "80" else "72"
    if metric == "accuracy":
        table = published.accuracy_table(test)[list(HODGE)]
    else:
        table = published.metric_table(test, metric)
    names = list(names)
    rows = []
    for name in names:
        paper = paper_name(name, test)
        if paper is None and name in table.index:
            paper = name
        rows.append(table.loc[paper] if paper is not None and paper in table.index
                    else pd.Series(float("nan"), index=table.columns))
    out = pd.DataFrame(rows, index=names, columns=table.columns)
    out.insert(0, "paper name", [paper_name(n, test) or (n if n in table.index else None) for n in names])
    return out


def published_beside(ours, test: str = "72", *, metric: str = "accuracy", data=None):
    """Our wide table (index names, columns h11..h22[, mean]) with the paper's values beside.

    Columns alternate ``h11``, ``h11 paper``, ...; the caption says when ours come from the
    sample (then the two are not comparable: sample vs the real list).
    """
    import pandas as pd

    ref = published_for(ours.index, test, metric)
    columns = {}
    for col in ours.columns:
        columns[col] = ours[col]
        if col in ref.columns:
            columns[f"{col} paper"] = ref[col]
    out = pd.DataFrame(columns, index=ours.index)
    where = ("**sample (ours) vs the real CICY4 list (paper): not comparable**" if is_sample(data)
             else "ours vs the paper's published values")
    out.attrs["caption"] = f"Test {metric} on the {test}% test set: {where}; \"paper\" columns from Tables 2–24"
    show_markdown(out.attrs["caption"])
    return out


def _test_of(split) -> str:
    return "80" if str(getattr(split, "name", split)) == "80" else "72"


def accuracy_overview(table, metric: str = "accuracy"):
    """:func:`cicy4lib.evaluate.evaluate`'s table, wide: index (subset, kind), columns h11..mean."""
    wide = table.pivot_table(index=["subset", "kind"], columns="target", values=metric, sort=False)
    wide = wide.reindex(columns=[c for c in TARGETS if c in wide.columns])
    wide.columns.name = None
    return wide


def model_notebook_summary(model_name, split, dataset, result, table, *, write=True):
    """The model notebook's closing table: test accuracies raw and constrained (percent).

    With the real list the paper's published accuracies sit beside ours; with the embedded
    sample a banner says the numbers are sample numbers instead. Writes ``summary.json`` into
    the run directory (and where the batch runner asks, see :func:`write_summary`).
    """
    import pandas as pd

    from .evaluate import accuracy_summary

    acc = accuracy_summary(table, "test")
    rows = {f"ours ({kind})": acc.loc[kind] for kind in acc.index}
    test = _test_of(split)
    paper = paper_name(result.run_dir.name, test)
    if is_sample(dataset):
        sample_banner(dataset)
    elif paper is not None:
        from . import published

        rows[f"paper: {paper} ({test}% test)"] = published.accuracy_table(test).loc[paper, list(HODGE)]
    out = pd.DataFrame(rows).T.reindex(columns=list(TARGETS))
    fallbacks = table.attrs.get("fallbacks", {}).get("test")
    if fallbacks:
        print(f"constrained: {fallbacks} test rows fell back to the raw prediction (impossible χ-derived values)")
    if write:
        write_summary("model", {
            "model": model_name, "split": str(getattr(split, "name", split)), "run": result.run_dir.name,
            "run_dir": str(result.run_dir), "data": str(getattr(dataset, "source", "")),
            "n": len(dataset), "stopped": result.stopped, "epochs": int(getattr(result, "epochs", len(result.history))),
            "best_val_loss": float(result.best_val_loss),
            "test_accuracy": {kind: acc.loc[kind].to_dict() for kind in acc.index},
        }, run_dir=result.run_dir)
    return out


def write_summary(kind: str, payload: Mapping, *, run_dir=None) -> None:
    """Write a notebook's summary: ``run_dir/summary.json`` and, under the batch runner, the
    file named by the ``CICY4_NOTEBOOK_SUMMARY`` environment variable (the runner reads it)."""
    summary = {"notebook": kind, **_jsonable(dict(payload))}
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    targets = [Path(run_dir) / SUMMARY_FILE] if run_dir is not None else []
    if os.environ.get(SUMMARY_ENV):
        targets.append(Path(os.environ[SUMMARY_ENV]))
    for path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


# ------------------------------------------------------------------ inference / metrics helpers


def accuracy_tables(table) -> dict:
    """Split :func:`cicy4lib.ensemble.run_ensembles`' table into {kind: wide table} (percent)."""
    out = {}
    for kind in ("raw", "constrained"):
        part = table.xs(kind, level="kind")
        out[kind] = part[[c for c in TARGETS if c in part.columns]].astype(float)
    return out


def inference_summary(table, dataset, split, *, write=True):
    """The best row of :func:`cicy4lib.ensemble.run_ensembles`' table (highest mean raw test
    accuracy), raw and constrained; written as the notebook's summary for the batch runner."""
    import pandas as pd

    acc = accuracy_tables(table)
    best = acc["raw"]["mean"].idxmax()
    out = pd.concat([acc["raw"].loc[[best]].rename(index=lambda n: f"{n} (raw)"),
                     acc["constrained"].loc[[best]].rename(index=lambda n: f"{n} (constrained)")])
    if write:
        write_summary("inference", {
            "data": str(getattr(dataset, "source", "")), "n": len(dataset),
            "split": str(getattr(split, "name", split)), "rows": list(acc["raw"].index),
            "best": best, "note": f"best: {best}",
            "test_accuracy": {kind: acc[kind].loc[best].to_dict() for kind in acc},
            "weights": table.attrs.get("weights", {}),
        })
    return out


def ensemble_notes(table) -> str:
    """A few lines on what ``run_ensembles`` used, skipped and fitted."""
    attrs = table.attrs
    lines = []
    if attrs.get("weights"):
        weights = ", ".join(f"{k} {v:.3f}" for k, v in attrs["weights"].items() if v)
        lines.append(f"hill-climb weights (fitted on the validation set): {weights}")
    for name, absent in (attrs.get("missing") or {}).items():
        lines.append(f"paper ensemble {name} skipped: missing runs {', '.join(absent)}")
    for run, reason in (attrs.get("excluded") or {}).items():
        lines.append(f"run {run} left out: {reason}")
    return "\n".join(lines)


def ranking_figures(acc: Mapping, split, figures_dir, *, sample=False) -> list[Path]:
    """One ranking figure per Hodge number and kind (raw, constrained), the paper's beside ours."""
    from . import figures

    test = _test_of(split)
    paths = []
    for kind, wide in acc.items():
        ref = published_for(wide.index, test)
        for h in HODGE:
            suffix = "" if kind == "raw" else "constrained"
            name = figures.figure_name("ranking", test, h, suffix)
            paths.append(figures.plot_ranking(
                wide, h, Path(figures_dir) / name, published=ref,
                title=f"{h} test accuracy ({kind}), {test}% test set", sample=sample))
    return paths


def metrics_of_runs(runs_dir, dataset, split, *, hill_climb=True):
    """Test metrics (accuracy %, MSE, MAE, R²; raw and constrained) of every usable run, every
    paper ensemble whose members exist, the mean of all runs and a hill-climbed ensemble.

    Returns
    -------
    Long DataFrame: name, group, kind, target, accuracy, mse, mae, r2.
    """
    import numpy as np
    import pandas as pd

    from . import ensemble
    from .evaluate import evaluate
    from .splits import get_split

    split = split if hasattr(split, "test") else get_split(dataset, str(split))
    test = _test_of(split)
    runs, _ = ensemble.compatible_runs(runs_dir, test)
    if not runs:
        raise FileNotFoundError(f"no usable runs (*/model.pt trained on a split compatible with the "
                                f"{test}% test set) under {runs_dir}")
    test_preds = ensemble.predict_runs(runs, dataset, np.asarray(split.test))
    entries = {name: ("member", pred) for name, pred in test_preds.items()}
    for name in ensemble.paper_ensembles(test):
        members = ensemble.resolve_ensemble(name, test)
        if all(m in test_preds for m in members):
            entries[name] = ("paper", ensemble.mean_ensemble([test_preds[m] for m in members]))
    entries[ensemble.MEAN_ALL] = ("mean", ensemble.mean_ensemble(list(test_preds.values())))
    if hill_climb and len(runs) > 1:
        valid_preds = ensemble.predict_runs(runs, dataset, np.asarray(split.valid))
        fit = ensemble.hill_climb(valid_preds, np.asarray(dataset.hodge)[np.asarray(split.valid)])
        entries[ensemble.HILL_CLIMB] = ("hill-climb", ensemble.apply_weights(test_preds, fit.weights))
    frames = []
    for name, (group, pred) in entries.items():
        df = evaluate({"test": pred}, dataset, split, subsets=("test",))
        frames.append(df.assign(name=name, group=group))
    long = pd.concat(frames, ignore_index=True)
    return long[["name", "group", "kind", "target", "accuracy", "mse", "mae", "r2"]]


def metric_wide(long, metric: str = "mse", kind: str = "raw"):
    """Wide table of one metric from :func:`metrics_of_runs`: index name, columns h11..h22, mean."""
    part = long[long["kind"] == kind]
    wide = part.pivot(index="name", columns="target", values=metric)
    wide = wide.reindex(index=list(dict.fromkeys(part["name"])), columns=list(TARGETS))
    wide.columns.name = None
    return wide


def metric_figures(long, split, figures_dir, *, sample=False) -> list[Path]:
    """MSE, MAE and R² bar charts (raw predictions), the paper's values beside ours."""
    from . import figures

    test = _test_of(split)
    paths = []
    for metric in ("mse", "mae", "r2"):
        ours = metric_wide(long, metric)
        ref = published_for(ours.index, test, metric).drop(columns="paper name")
        paths.append(figures.plot_metric_comparison(
            ours, Path(figures_dir) / figures.figure_name("metrics", metric, test), published=ref,
            metric=metric, title=f"Test {metric.upper()} per Hodge number, {test}% test set",
            sample=sample))
    return paths


def find_logs(runs_dir, split=None) -> dict:
    """``log.csv`` of every run under ``runs_dir`` (optionally only runs named ``*_<split>``)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"runs directory {runs_dir} does not exist")
    logs = {}
    for log in sorted(runs_dir.glob("*/log.csv")):
        if split is None or log.parent.name.endswith(f"_{split}"):
            logs[log.parent.name] = log
    return logs


def curves_table(logs: Mapping):
    """Per run: epochs, best epoch, best validation loss, last learning rate, training time."""
    import pandas as pd

    rows = []
    for name, log in logs.items():
        hist = pd.read_csv(log)
        best = int(hist["val_loss"].idxmin()) if len(hist) else None
        rows.append({
            "run": name, "epochs": len(hist),
            "best epoch": int(hist["epoch"][best]) if best is not None and "epoch" in hist else best,
            "best val loss": float(hist["val_loss"][best]) if best is not None else float("nan"),
            "last train loss": float(hist["train_loss"].iloc[-1]) if len(hist) else float("nan"),
            "last lr": float(hist["lr"].iloc[-1]) if "lr" in hist and len(hist) else float("nan"),
            "seconds": float(hist["seconds"].sum()) if "seconds" in hist else float("nan"),
        })
    return pd.DataFrame(rows).set_index("run") if rows else pd.DataFrame()


def curve_figures(logs: Mapping, figures_dir, *, split=None, sample=False) -> list[Path]:
    """One training-curve figure per run plus an overview of all runs."""
    from . import figures

    paths = [figures.plot_training_curves(log, Path(figures_dir) / figures.figure_name("curves", name),
                                          title=f"{name}: training curves", sample=sample)
             for name, log in logs.items()]
    if logs:
        paths.append(figures.plot_curves_overview(
            logs, Path(figures_dir) / figures.figure_name("curves", "all", split),
            title=f"All runs{'' if split is None else f', split {split}'}", sample=sample))
    return paths


def split_sizes(splits: Mapping):
    """Train/valid/test sizes of several splits."""
    import pandas as pd

    return pd.DataFrame({name: {"train": len(s.train), "valid": len(s.valid), "test": len(s.test)}
                         for name, s in splits.items()}).T


def hodge_figures(dataset, splits: Mapping, figures_dir, *, sample=False) -> list[Path]:
    """Hodge-number histograms of the whole data and of each split's train/valid/test parts
    (the paper's Figs. 1-2 and 38-42)."""
    import numpy as np

    from . import figures

    hodge = np.asarray(dataset.hodge)
    paths = [figures.plot_hodge_distributions(
        hodge, Path(figures_dir) / figures.figure_name("hodge_distributions", "all"),
        title=f"Hodge numbers of all {len(hodge):,} configurations", sample=sample)]
    for name, split in splits.items():
        parts = {part: hodge[np.asarray(getattr(split, part))] for part in ("train", "valid", "test")}
        label = {"train": "train", "valid": "validation" if not str(name).startswith("cv") else "fold validation",
                 "test": "test"}
        paths.append(figures.plot_hodge_distributions(
            {label[k]: v for k, v in parts.items()},
            Path(figures_dir) / figures.figure_name("hodge_distributions", name),
            title=f"Hodge numbers, split {name}: train / validation / test", sample=sample))
    return paths


# ============================================================================ batch runner


def parse_value(text: str):
    """A ``-p`` value: a Python literal when it parses as one (1, 0.5, False, None, [1, 2]),
    else the string itself (paths, names)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def declared_parameters(path) -> dict:
    """Parameters a notebook declares in its ``parameters`` cell: name -> default value
    (the default's source text where it is not a literal)."""
    import papermill

    declared = {}
    for name, info in papermill.inspect_notebook(str(path)).items():
        declared[name] = parse_value(info.get("default", ""))
    return declared


def coerce_parameters(parameters: Mapping, declared: Mapping) -> tuple[dict, list[str]]:
    """Keep the parameters a notebook declares and match their type to its defaults.

    A value parsed as a number for a parameter whose default is a string goes back to a string
    (``-p split 80`` means ``split="80"``). The model notebooks write runs to ``output_dir`` and
    the processing notebooks read them from ``models_dir``, so in one batch ``output_dir`` also
    serves as ``models_dir`` where a notebook declares only the latter.
    Returns (parameters to pass, names ignored).
    """
    parameters = dict(parameters)
    if ("output_dir" in parameters and "models_dir" not in parameters
            and "models_dir" in declared and "output_dir" not in declared):
        parameters["models_dir"] = parameters.pop("output_dir")
    passed, ignored = {}, []
    for name, value in parameters.items():
        if name not in declared:
            ignored.append(name)
            continue
        default = declared[name]
        if isinstance(default, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        passed[name] = value
    return passed, ignored


def resolve_path_parameters(parameters: Mapping, cwd=None) -> dict:
    """Relative path parameters given on the command line, made absolute against ``cwd``
    (the notebooks run in their own folders). ``data`` is resolved only if the path exists,
    so source names such as "sample" stay as they are."""
    cwd = Path(cwd or Path.cwd())
    out = dict(parameters)
    for name in PATH_PARAMETERS:
        value = out.get(name)
        if not isinstance(value, str) or not value or Path(value).is_absolute():
            continue
        if name in ("data", "init_from") and not (cwd / value).exists():
            continue
        out[name] = str((cwd / value).resolve())
    return out


def expand_notebooks(items: Iterable, *, all_models=False, root=None) -> list[Path]:
    """Notebook paths from files and folders (a folder gives its ``*.ipynb``, sorted).

    With ``all_models`` the 14 model notebooks come first, so that e.g.
    ``run --all-models data-results-processing`` trains before it evaluates.
    """
    paths = model_notebook_paths(root) if all_models else []
    for item in items:
        item = Path(item)
        if item.is_dir():
            paths += sorted(p for p in item.glob("*.ipynb") if not p.name.startswith("."))
        elif item.suffix == ".ipynb" and item.exists():
            paths.append(item)
        else:
            raise FileNotFoundError(f"no notebook or folder {item}")
    unique = list(dict.fromkeys(p.resolve() for p in paths))
    if not unique:
        raise ValueError("no notebooks to run")
    return unique


@contextlib.contextmanager
def _kernel_environment(summary_path: Path):
    """Environment the kernel inherits: where to write the summary, and this cicy4lib on the path
    (so the notebooks import the same library even without ``pip install``)."""
    saved = {k: os.environ.get(k) for k in (SUMMARY_ENV, "PYTHONPATH", "MPLBACKEND")}
    package_root = str(Path(__file__).resolve().parent.parent)
    path_parts = [p for p in (os.environ.get("PYTHONPATH") or "").split(os.pathsep) if p]
    os.environ[SUMMARY_ENV] = str(summary_path)
    os.environ["PYTHONPATH"] = os.pathsep.join([package_root, *[p for p in path_parts if p != package_root]])
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _error_line(err: BaseException) -> str:
    ename = getattr(err, "ename", None)
    if ename is not None:  # papermill.PapermillExecutionError: the notebook's own exception
        text = f"{ename}: {getattr(err, 'evalue', '')}"
        cell = getattr(err, "exec_count", None)
        if cell is not None:
            text += f" (cell [{cell}])"
    else:
        text = f"{type(err).__name__}: {err}"
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:157] + "..."


def _output_path(path: Path, out_dir: Path, used: set) -> Path:
    out = out_dir / path.name
    if out in used:  # same file name in two folders
        out = out_dir / f"{path.parent.name}__{path.name}"
    used.add(out)
    return out


def _read_summary(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def run_notebooks(paths, parameters: Mapping | None = None, out_dir=DEFAULT_OUT, fail_fast: bool = False,
                  *, kernel_name: str = "python3", cwd=None, start_timeout: int = 180, log=print):
    """Execute notebooks with papermill and return one summary row per notebook.

    Parameters
    ----------
    paths : notebook files (see :func:`expand_notebooks` for folders)
    parameters : shared parameters; each notebook gets those it declares (types matched to its
        defaults, see :func:`coerce_parameters`). Relative paths resolve against the notebook's
        folder, where it runs (the command line makes them absolute first).
    out_dir : folder for the executed copies (and ``<name>.summary.json`` beside each)
    fail_fast : stop after the first failure (the rest are reported as "skipped")
    cwd : run every notebook there instead of in its own folder
    log : callable for the progress lines (``None``: silent)

    Returns
    -------
    DataFrame with columns notebook, status ("ok", "FAILED", "skipped"), seconds, error, output,
    raw_<h>, constrained_<h> for h11, h21, h31, h22, mean (test accuracy %, from the notebook's
    summary where it writes one) and note.
    """
    import pandas as pd
    import papermill

    log = log or (lambda *_: None)
    parameters = dict(parameters or {})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in paths]
    rows, used, failed = [], set(), False
    for i, path in enumerate(paths, 1):
        out_path = _output_path(path, out_dir, used)
        row = {"notebook": str(path), "status": "skipped", "seconds": 0.0, "error": "", "output": str(out_path),
               "note": ""}
        if failed and fail_fast:
            rows.append(row)
            continue
        summary_path = out_path.with_suffix(".summary.json")
        summary_path.unlink(missing_ok=True)
        t0 = time.perf_counter()
        try:
            passed, ignored = coerce_parameters(parameters, declared_parameters(path))
            shown = ", ".join(f"{k}={v!r}" for k, v in passed.items())
            log(f"[{i}/{len(paths)}] {path.name}: start ({shown or 'defaults'})"
                + (f"; not its parameters: {', '.join(ignored)}" if ignored else ""))
            with _kernel_environment(summary_path):
                papermill.execute_notebook(str(path), str(out_path), parameters=passed, kernel_name=kernel_name,
                                           cwd=str(cwd or path.parent), progress_bar=False, log_output=False,
                                           start_timeout=start_timeout)
            row["status"] = "ok"
        except Exception as err:  # noqa: BLE001  -- any failure is reported, the batch goes on
            row["status"], row["error"] = "FAILED", _error_line(err)
            failed = True
        row["seconds"] = round(time.perf_counter() - t0, 1)
        summary = _read_summary(summary_path)
        accuracy = summary.get("test_accuracy") or {}
        for kind in ("raw", "constrained"):
            for target in TARGETS:
                value = (accuracy.get(kind) or {}).get(target)
                row[f"{kind}_{target}"] = float("nan") if value is None else float(value)
        if summary.get("note"):
            row["note"] = str(summary["note"])
        log(f"[{i}/{len(paths)}] {path.name}: {row['status']} in {row['seconds']:.1f} s"
            + (f" -- {row['error']}" if row["error"] else ""))
        rows.append(row)
    columns = ["notebook", "status", "seconds", "error", "output",
               *(f"{k}_{t}" for k in ("raw", "constrained") for t in TARGETS), "note"]
    return pd.DataFrame(rows, columns=columns)


def format_summary(results) -> str:
    """The runner's closing table: notebook, status, seconds, test accuracies raw / constrained."""
    def accs(row, kind):
        values = [row[f"{kind}_{h}"] for h in HODGE]
        if all(math.isnan(v) for v in values):
            return ""
        return "/".join("–" if math.isnan(v) else f"{v:.1f}" for v in values)

    lines = []
    header = ("notebook", "status", "seconds", "test acc % raw (h11/h21/h31/h22)", "constrained", "error / note")
    table = [header]
    for _, row in results.iterrows():
        table.append((Path(row["notebook"]).name, row["status"], f"{row['seconds']:.1f}", accs(row, "raw"),
                      accs(row, "constrained"), row["error"] or row["note"]))
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header) - 1)]
    for r in table:
        lines.append("  ".join(f"{str(c):<{w}}" for c, w in zip(r[:-1], widths)) + "  " + str(r[-1]))
    lines.insert(1, "-" * min(160, len(lines[0]) + 10))
    n_failed = int((results["status"] == "FAILED").sum())
    lines.append(f"{len(results)} notebooks: {int((results['status'] == 'ok').sum())} ok, {n_failed} failed, "
                 f"{int((results['status'] == 'skipped').sum())} skipped; {results['seconds'].sum():.0f} s")
    return "\n".join(lines)


# ============================================================================ command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cicy4lib.notebooks",
                                     description="Generate the notebook collection or run notebooks with papermill.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("generate", help="write the model and data-results-processing notebooks from the templates")
    p.add_argument("--check", action="store_true", help="write nothing; list drifted notebooks, exit 1 if any")
    p.add_argument("--root", default=None, help="project folder (default: the checkout holding cicy4lib)")
    p = sub.add_parser("run", help="execute notebooks through papermill and print a summary")
    p.add_argument("notebooks", nargs="*", help="notebook files or folders")
    p.add_argument("--all-models", action="store_true", help="run the 14 model notebooks first")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"folder for executed copies (default {DEFAULT_OUT})")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="shared parameter (value parsed as a Python literal when it is one)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.add_argument("--cwd", default=None, help="run every notebook in this folder (default: its own folder)")
    p.add_argument("--cwd-notebook-dir", action="store_true",
                   help="run each notebook in its own folder (the default; kept for explicitness)")
    p.add_argument("--root", default=None, help="project folder for --all-models")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        changed = generate(args.root, check=args.check)
        if args.check:
            for path in changed:
                print(f"drifted: {path}")
            if changed:
                print(f"{len(changed)} notebook(s) differ from the templates; run "
                      "`python -m cicy4lib.notebooks generate`", file=sys.stderr)
                return 1
            print("all notebooks match the templates")
            return 0
        for path in changed:
            print(f"wrote {path}")
        print(f"{len(changed)} notebook(s) written" if changed else "all notebooks already up to date")
        return 0

    try:
        paths = expand_notebooks(args.notebooks, all_models=args.all_models, root=args.root)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    parameters = resolve_path_parameters({name: parse_value(value) for name, value in args.parameter})
    declared_anywhere = set()
    for path in paths:
        declared_anywhere |= set(declared_parameters(path))
    unknown = sorted(set(parameters) - declared_anywhere)
    if unknown:
        print(f"error: no notebook declares the parameter(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = run_notebooks(paths, parameters, args.out, fail_fast=args.fail_fast, kernel_name=args.kernel,
                            cwd=args.cwd, log=lambda text: print(text, flush=True))
    print()
    print(format_summary(results))
    print(f"executed notebooks in {args.out}")
    return 1 if (results["status"] != "ok").any() else 0


if __name__ == "__main__":
    sys.exit(main())
