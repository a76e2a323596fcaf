"""Report helpers the notebooks call: data, training configs, published numbers beside ours,
summaries, and the figures of the processing notebooks."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping
import json
import numpy as np


# ============================================================================ notebook helpers


from ..fileio import atomic_write_json
from .display import data_note, is_sample, sample_banner, show_markdown, show_object
from ..constants import HODGE, TARGETS
from .render import SUMMARY_ENV, SUMMARY_FILE
from ..data import load_dataset, subsample
from ..data.choice import load_auto
from ..data.label import data_label, provenance
from ..data.splits import get_split
from ..results import baselines
from ..results.baselines import constant_loss
from ..training.config import TrainConfig, finetune_config
from ..training.recipes import default_epochs


def load_notebook_data(data="auto", max_samples=None):
    """``load_dataset(data)`` reduced to ``max_samples`` rows with ``subsample(..., seed=0)``.

    Every notebook loads its data this way, so a training notebook and the inference, metrics
    and curves notebooks run with the same ``data`` and ``max_samples`` see the same rows.
    ``data="auto"`` (the notebooks' default) is the generated set where it is present, else the
    embedded sample (:func:`cicy4lib.data.choice.load_auto`); the notebook says which.
    """
    if data is None or data == "auto":
        dataset, reason = load_auto("auto")
        if reason:
            print(f"data='auto': the generated set is not available here ({reason}); using the embedded sample")
        return subsample(dataset, max_samples, seed=0)
    return subsample(load_dataset(data), max_samples, seed=0)


def show_data(dataset, split=None) -> None:
    """One line about the data (and split sizes), plus the sample banner where it applies."""
    sample_banner(dataset)
    text = (f"data: {data_label(dataset)} (source {getattr(dataset, 'source', '?')}); "
            f"input scale {getattr(dataset, 'scale', float('nan')):g}")
    if split is not None:
        text += (f"\nsplit {split.name}: train {len(split.train):,} / valid {len(split.valid):,} / "
                 f"test {len(split.test):,}")
    print(text)


def training_config(split="72", *, init_from=None, epochs=None, batch_size=128, seed=42,
                    time_budget_h=None, data=None, **overrides):
    """The paper's recipe, or its 80% fine-tune recipe when ``split == "80"`` with ``init_from``.

    ``epochs=None``: the recipe's 550 on the real list with a GPU; otherwise (a CPU, or ``data``
    that is not the real list) capped at :data:`cicy4lib.training.recipes.EPOCH_CAP`, said in one line.
    Other ``None`` values keep the recipe's defaults.
    """
    epochs, note = default_epochs(epochs, data=data, device=overrides.get("device"))
    if note:
        print(note)

    make = finetune_config if (str(split) == "80" and init_from) else TrainConfig
    values = {"max_epochs": epochs, "batch_size": batch_size, "seed": seed,
              "time_budget_h": time_budget_h, **overrides}
    return make(**{k: v for k, v in values.items() if v is not None})


def paper_name(name: str, test: str = "72") -> str | None:
    """The paper's name for one of our rows: a run name (``LSTM-448_cv1`` -> ``LSTM-448-f1``),
    or a paper ensemble name as it is; ``None`` when the paper has no such entry."""
    from ..results import published  # lazy: imports pandas

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
    import pandas as pd  # lazy: imports pandas

    from ..results import published  # lazy: imports pandas

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


def _rounded(df, decimals=None):
    """Floats rounded for display: 2 decimals for accuracies, 3 for MSE/MAE/R²."""
    return df.round(2 if decimals is None else decimals)


def published_beside(ours, test: str = "72", *, metric: str = "accuracy", data=None, compare=None):
    """Our wide table (index names, columns [group,] h11..h22[, mean]), rounded, with the
    paper's values beside it -- for the real list only.

    For data that is not the real list (the sample, the generated set, a subset) the paper's
    numbers are left out unless ``compare=True``; then they are shown as a separate table with
    its own caption ("the real CICY4 list: not comparable"), never as columns beside ours.
    Baseline rows (group "baseline") are marked in the ``group`` column.
    """
    import pandas as pd  # lazy: imports pandas

    decimals = 2 if metric == "accuracy" else 3
    real = not is_sample(data) if data is not None else True
    numeric = [c for c in ours.columns if c in TARGETS]
    if real and compare is not False:
        ref = published_for(ours.index, test, metric)
        columns = {}
        for col in ours.columns:
            columns[col] = ours[col]
            if col in ref.columns and col in numeric:
                columns[f"{col} paper"] = ref[col]
        out = pd.DataFrame(columns, index=ours.index)
        caption = (f"Test {metric} on the {test}% test set: ours vs the paper's published values "
                   "(\"paper\" columns from Tables 2–24); baselines computed on the same rows")
        out.attrs["caption"] = caption  # for the caller; shown here from the value
        show_markdown(caption)
        return _rounded(out, decimals)

    if compare:
        ref = published_for(ours.index, test, metric)
        ref = ref[ref[[c for c in numeric if c in ref.columns]].notna().any(axis=1)]
        show_markdown("**The paper's published values, on the real CICY4 list (905,684 configurations)** -- "
                      "a different data set, shown apart because it is not comparable with ours:")
        show_object(_rounded(ref, decimals))
    out = ours.copy()
    caption = (f"Test {metric} on the {test}% test set of {data_label(data)}; baselines computed "
               "on the same rows." + ("" if compare else " The paper's real-list numbers are not set "
                                      "beside these (compare=True shows them apart)."))
    out.attrs["caption"] = caption  # for the caller; shown here from the value
    show_markdown(caption)
    return _rounded(out, decimals)


def _test_of(split) -> str:
    return "80" if str(getattr(split, "name", split)) == "80" else "72"


def accuracy_overview(table, metric: str = "accuracy"):
    """:func:`cicy4lib.results.evaluate.evaluate`'s table, wide: index (subset, kind), columns h11..mean."""
    wide = table.pivot_table(index=["subset", "kind"], columns="target", values=metric, sort=False)
    wide = wide.reindex(columns=[c for c in TARGETS if c in wide.columns])
    wide.columns.name = None
    return _rounded(wide, 2 if metric == "accuracy" else 3)


def impossible_note(results) -> str:
    """One line per subset with impossible raw predictions (h11 < 1, h21 < 0, h31 < 20, h22 < 0).

    ``results``: an :class:`~cicy4lib.results.evaluate.Evaluation`
    (:func:`~cicy4lib.results.evaluate.evaluate_results`), or :func:`~cicy4lib.results.evaluate.evaluate`'s table."""
    from ..results.evaluate import MINIMUM, evaluation_of  # lazy: imports pandas

    lines = []
    for subset, counts in evaluation_of(results).impossible.items():
        if counts.get("rows"):
            detail = ", ".join(f"{h} < {MINIMUM[h]}: {counts[h]}" for h in HODGE if counts.get(h))
            lines.append(f"impossible raw predictions on {subset}: {counts['rows']:,} rows ({detail}); "
                         "scored as they are, never clipped")
    return "\n".join(lines)


def model_notebook_summary(model_name, split, dataset, result, evaluation, *, write=True):
    """The model notebook's closing table: test accuracies raw and constrained (percent).

    ``evaluation``: an :class:`~cicy4lib.results.evaluate.Evaluation`
    (:func:`~cicy4lib.results.evaluate.evaluate_results`), or :func:`~cicy4lib.results.evaluate.evaluate`'s
    table. With the real list the paper's published accuracies sit beside ours; with the embedded
    sample a banner says the numbers are sample numbers instead. Writes ``summary.json`` into
    the run directory (and where the batch runner asks, see :func:`write_summary`).
    """
    import pandas as pd  # lazy: imports pandas

    from ..results.evaluate import (accuracy_summary, baseline_metrics, baseline_table,  # lazy: imports pandas
                                    evaluation_of, metric_summary, write_metrics)

    evaluation = evaluation_of(evaluation)
    table = evaluation.table
    acc = accuracy_summary(table, "test")
    rows = {f"ours ({kind})": acc.loc[kind] for kind in acc.index}
    test = _test_of(split)
    paper = paper_name(result.run_dir.name, test)
    if is_sample(dataset):
        sample_banner(dataset)
    elif paper is not None:
        from ..results import published  # lazy: imports pandas

        rows[f"paper: {paper} ({test}% test, real list)"] = published.accuracy_table(test).loc[paper, list(HODGE)]
    base = baseline_table(dataset, split)
    for (name, kind), row in base.iterrows():
        if kind == "raw":  # a baseline's constrained row repeats another (constant's is constant + χ)
            rows[f"baseline: {name}"] = row[list(TARGETS)]
    out = pd.DataFrame(rows).T.reindex(columns=list(TARGETS)).astype(float)
    out.insert(0, "group", ["baseline" if str(i).startswith("baseline") else
                            ("paper" if str(i).startswith("paper") else "model") for i in out.index])
    fallbacks = evaluation.fallbacks.get("test")
    if fallbacks:
        print(f"constrained: {fallbacks} test rows fell back to the raw h31, h22 (χ-derived values impossible)")
    if write:
        summary = metric_summary(table, model_name, baseline_metrics(dataset, split))
        write_metrics(result.run_dir, summary, data=dataset, split=getattr(split, "name", split),
                      extra={"impossible": evaluation.impossible, "fallbacks": evaluation.fallbacks})

        write_summary("model", {
            "model": model_name, "split": str(getattr(split, "name", split)), "run": result.run_dir.name,
            "run_dir": str(result.run_dir), "data": provenance(dataset),
            "n": len(dataset), "stopped": result.stopped, "epochs": int(getattr(result, "epochs", len(result.history))),
            "best_val_loss": float(result.best_val_loss),
            "test_accuracy": {kind: {k: round(float(v), 2) for k, v in acc.loc[kind].to_dict().items()}
                              for kind in acc.index},
        }, run_dir=result.run_dir)
    return _rounded(out)


def write_summary(kind: str, payload: Mapping, *, run_dir=None) -> None:
    """Write a notebook's summary: ``run_dir/summary.json`` and, under the batch runner, the
    file named by the ``CICY4_NOTEBOOK_SUMMARY`` environment variable (the runner reads it)."""
    summary = {"notebook": kind, **dict(payload)}
    targets = [Path(run_dir) / SUMMARY_FILE] if run_dir is not None else []
    if os.environ.get(SUMMARY_ENV):
        targets.append(Path(os.environ[SUMMARY_ENV]))
    for path in targets:
        atomic_write_json(summary, path, sort_keys=True)


# ------------------------------------------------------------------ inference / metrics helpers


def accuracy_tables(table) -> dict:
    """Split :func:`cicy4lib.results.ensemble.run_ensembles`' table into {kind: wide table} (percent):
    columns ``group`` (member, paper, mean, hill-climb, baseline, ...) and h11..h22, mean."""
    out = {}
    for kind in ("raw", "constrained"):
        part = table.xs(kind, level="kind")
        wide = part[[c for c in TARGETS if c in part.columns]].astype(float)
        if "group" in part.columns:
            wide.insert(0, "group", part["group"])
        out[kind] = wide
    return out


def _numeric(wide):
    return wide[[c for c in wide.columns if c in TARGETS]]


def _groups(wide) -> dict:
    return dict(wide["group"]) if "group" in wide.columns else {}


def _provenance(data):
    return provenance(data)


def inference_summary(results, dataset, split, *, write=True):
    """The best row of :func:`cicy4lib.results.ensemble.run_ensembles`' table (highest mean raw test
    accuracy), raw and constrained; written as the notebook's summary for the batch runner.
    ``results``: an ``EnsembleResults`` (:func:`cicy4lib.results.ensemble.ensemble_results`) or that table."""
    import pandas as pd  # lazy: imports pandas

    from ..results.tables import table_and_notes  # lazy: imports pandas

    table, notes = table_and_notes(results)
    acc = accuracy_tables(table)
    groups = _groups(acc["raw"])
    baseline_names = [n for n, g in groups.items() if str(g).startswith("baseline")]
    contenders = acc["raw"].drop(index=baseline_names)
    best = (contenders if len(contenders) else acc["raw"])["mean"].idxmax()
    acc = {k: _numeric(v) for k, v in acc.items()}
    parts = [acc["raw"].loc[[best]].rename(index=lambda n: f"{n} (raw)"),
             acc["constrained"].loc[[best]].rename(index=lambda n: f"{n} (constrained)")]
    note = f"best: {best} (mean {acc['raw'].loc[best, 'mean']:.1f} raw)"
    if baseline_names:  # the best baseline on the same rows, so a reader sees what beating it means
        top = acc["raw"].loc[baseline_names, "mean"].idxmax()
        parts.append(acc["raw"].loc[[top]].rename(index=lambda n: f"baseline: {n} (raw)"))
        note += f"; best baseline: {top} ({acc['raw'].loc[top, 'mean']:.1f})"
    out = _rounded(pd.concat(parts))
    if write:
        write_summary("inference", {
            "data": _provenance(dataset), "n": len(dataset),
            "split": str(getattr(split, "name", split)), "rows": list(acc["raw"].index),
            "best": best, "note": note,
            "baselines": {n: acc["raw"].loc[n].round(2).to_dict() for n in baseline_names},
            "test_accuracy": {kind: acc[kind].loc[best].to_dict() for kind in acc},
            "weights": notes.get("weights", {}),
        })
    return out


def ensemble_notes(results) -> str:
    """A few lines on what ``run_ensembles`` used, skipped and fitted (``ensemble.ensemble_notes``), and
    what the baseline rows and "constrained" are. ``results``: an ``EnsembleResults`` or ``run_ensembles``' table."""
    from ..results.tables import ensemble_notes  # lazy: imports pandas

    lines = ensemble_notes(results)
    lines.append("baselines (group \"baseline\": favourable guess, constant, constant + χ) are computed on the "
                 "same test rows; constrained = h31, h22 from the predicted h11, h21 and χ (h11, h21 unchanged)")
    return "\n".join(lines)


def _compare(data, compare) -> bool:
    """Whether the paper's values go into figures: the real list, or when asked (then apart)."""
    return (not is_sample(data)) if compare is None else bool(compare)


def ranking_figures(acc: Mapping, split, figures_dir, *, sample=False, data=None, compare=None) -> list[Path]:
    """One ranking figure per Hodge number and kind (raw, constrained), baselines in grey. The
    paper's values appear for the real list (diamonds beside ours) or with ``compare=True``
    (for other data in a separate, labelled panel)."""
    from ..results import figures  # lazy: imports matplotlib, pandas

    test = _test_of(split)
    note = data_note(data) if data is not None else (figures.SAMPLE_LABEL if sample else None)
    paths = []
    for kind, wide in acc.items():
        numbers = _numeric(wide)
        ref = published_for(numbers.index, test) if _compare(data if data is not None else
                                                              ("sample" if sample else None), compare) else None
        for h in HODGE:
            suffix = "" if kind == "raw" else "constrained"
            name = figures.figure_name("ranking", test, h, suffix)
            paths.append(figures.plot_ranking(
                numbers, h, Path(figures_dir) / name, published=ref, groups=_groups(wide),
                title=f"{h} test accuracy ({kind}), {test}% test set", sample=note or False))
    return paths


def metrics_of_runs(runs_dir, dataset, split, *, hill_climb=True, canonical=False):
    """Test metrics (accuracy %, MSE, MAE, R²; raw and constrained) of every usable run, every
    paper ensemble whose members exist, the mean of all runs and a hill-climbed ensemble.
    ``canonical``: canonical-form inputs (:func:`cicy4lib.results.ensemble.predict_runs`).

    Returns
    -------
    Long DataFrame: name, group, kind, target, accuracy, mse, mae, r2.
    """
    import pandas as pd  # lazy: imports pandas

    from ..results import ensemble  # lazy: imports pandas
    from ..results.evaluate import evaluate_results  # lazy: imports pandas

    split = split if hasattr(split, "test") else get_split(dataset, str(split))
    test = _test_of(split)
    runs, _ = ensemble.compatible_runs(runs_dir, test)
    if not runs:
        raise FileNotFoundError(f"no usable runs (*/model.pt trained on a split compatible with the "
                                f"{test}% test set) under {runs_dir}")
    test_preds = ensemble.predict_runs(runs, dataset, np.asarray(split.test), split=split, canonical=canonical)

    entries = {name: (baselines.LEARNED_GROUP if baselines.is_learned_baseline(ensemble._run_arch(runs[name]))
                      else "member", pred) for name, pred in test_preds.items()}
    for name in ensemble.paper_ensembles(test):
        members = ensemble.resolve_ensemble(name, test)
        if all(m in test_preds for m in members):
            entries[name] = ("paper", ensemble.mean_ensemble([test_preds[m] for m in members]))
    entries[ensemble.MEAN_ALL] = ("mean", ensemble.mean_ensemble(list(test_preds.values())))
    if hill_climb and len(runs) > 1:
        valid_preds = ensemble.predict_runs(runs, dataset, np.asarray(split.valid), canonical=canonical)
        fit = ensemble.hill_climb(valid_preds, np.asarray(dataset.hodge)[np.asarray(split.valid)])
        entries[ensemble.HILL_CLIMB] = ("hill-climb", ensemble.apply_weights(test_preds, fit.weights))
    for name, preds in baselines.baseline_predictions(dataset, split, ("test",)).items():
        entries[name] = (baselines.BASELINE_GROUP, preds["test"])
    frames = []
    for name, (group, pred) in entries.items():
        df = evaluate_results({"test": pred}, dataset, split, subsets=("test",)).table
        frames.append(df.assign(name=name, group=group))
    long = pd.concat(frames, ignore_index=True)
    return long[["name", "group", "kind", "target", "accuracy", "mse", "mae", "r2"]]


def metric_wide(long, metric: str = "mse", kind: str = "raw"):
    """Wide table of one metric from :func:`metrics_of_runs`: index name, columns group,
    h11..h22, mean (rounded: 2 decimals for accuracy, 3 otherwise)."""
    part = long[long["kind"] == kind]
    wide = part.pivot(index="name", columns="target", values=metric)
    order = list(dict.fromkeys(part["name"]))
    wide = wide.reindex(index=order, columns=list(TARGETS))
    wide.columns.name = None
    if "group" in part.columns:
        wide.insert(0, "group", part.drop_duplicates("name").set_index("name")["group"].reindex(order))
    return _rounded(wide, 2 if metric == "accuracy" else 3)


def metric_figures(long, split, figures_dir, *, sample=False, data=None, compare=None) -> list[Path]:
    """MSE, MAE and R² bar charts (raw predictions), baselines in grey; the paper's values for
    the real list (beside ours) or with ``compare=True`` (for other data in a separate row)."""
    from ..results import figures  # lazy: imports matplotlib, pandas

    test = _test_of(split)
    note = data_note(data) if data is not None else (figures.SAMPLE_LABEL if sample else None)
    show_ref = _compare(data if data is not None else ("sample" if sample else None), compare)
    paths = []
    for metric in ("mse", "mae", "r2"):
        wide = metric_wide(long, metric)
        ours = _numeric(wide)
        ref = published_for(ours.index, test, metric).drop(columns="paper name") if show_ref else None
        paths.append(figures.plot_metric_comparison(
            ours, Path(figures_dir) / figures.figure_name("metrics", metric, test), published=ref,
            groups=_groups(wide), metric=metric,
            title=f"Test {figures._metric_label(metric)} per Hodge number, {test}% test set", sample=note or False))
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
    import pandas as pd  # lazy: imports pandas

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
    return pd.DataFrame(rows).set_index("run").round({"best val loss": 4, "last train loss": 4, "seconds": 1}) \
        if rows else pd.DataFrame()


def _standardized(log) -> bool:
    """Whether a run trained on standardised targets (its log.csv is then in those units)."""
    try:
        meta = json.loads((Path(log).parent / "model.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(meta.get("target_std")) or bool(meta.get("standardize_targets"))


def reference_losses(dataset, split="72") -> dict:
    """The constant predictor's validation Huber loss, raw and standardised units:
    ``{"raw": float, "standardized": float}`` (the loss figures' reference line)."""
    split = split if hasattr(split, "test") else get_split(dataset, str(split or "72"))
    return {"raw": constant_loss(dataset, split), "standardized": constant_loss(dataset, split, standardized=True)}


def curve_figures(logs: Mapping, figures_dir, *, split=None, sample=False, data=None, reference=None,
                  overview: bool = True) -> list[Path]:
    """One training-curve figure per run plus (``overview``) one of all runs, each with the
    constant predictor's loss as a dashed reference line (``reference``: :func:`reference_losses`;
    runs trained on standardised targets get the standardised value and say so on the axis)."""
    from ..results import figures  # lazy: imports matplotlib, pandas

    note = data_note(data) if data is not None else (figures.SAMPLE_LABEL if sample else None)
    reference = reference or {}
    paths = []
    for name, log in logs.items():
        std = _standardized(log)
        paths.append(figures.plot_training_curves(log, Path(figures_dir) / figures.figure_name("curves", name),
                                                  title=f"{name}: training curves", sample=note or False,
                                                  reference=reference.get("standardized" if std else "raw"),
                                                  ylabel="Huber loss (standardised targets)" if std else "Huber loss"))
    if logs and overview:
        kinds = {_standardized(log) for log in logs.values()}
        ref = reference.get("standardized" if kinds == {True} else "raw") if len(kinds) == 1 else None
        paths.append(figures.plot_curves_overview(
            logs, Path(figures_dir) / figures.figure_name("curves", "all", split),
            title=f"All runs{'' if split is None else f', split {split}'}", sample=note or False, reference=ref))
    return paths


def split_sizes(splits: Mapping):
    """Train/valid/test sizes of several splits."""
    import pandas as pd  # lazy: imports pandas

    return pd.DataFrame({name: {"train": len(s.train), "valid": len(s.valid), "test": len(s.test)}
                         for name, s in splits.items()}).T


def hodge_figures(dataset, splits: Mapping, figures_dir, *, sample=False, data=None) -> list[Path]:
    """Hodge-number histograms of the whole data and of each split's train/valid/test parts
    (the paper's Figs. 1-2 and 38-42)."""
    from ..results import figures  # lazy: imports matplotlib, pandas

    hodge = np.asarray(dataset.hodge)
    sample = (data_note(data if data is not None else dataset) or False) if (data is not None or sample) else False
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

__all__ = ['accuracy_overview', 'accuracy_tables', 'curve_figures', 'curves_table', 'ensemble_notes', 'find_logs', 'hodge_figures', 'impossible_note', 'inference_summary', 'load_notebook_data', 'metric_figures', 'metric_wide', 'metrics_of_runs', 'model_notebook_summary', 'paper_name', 'published_beside', 'published_for', 'ranking_figures', 'reference_losses', 'show_data', 'split_sizes', 'training_config', 'write_summary']
