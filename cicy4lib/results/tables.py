"""Tables as text: Markdown pipe tables and plain-text tables, and the ensembles' accuracy table
as text and as files (the lines beneath it, a printable report, ``results.csv`` / ``results.md``
with their provenance)."""
from __future__ import annotations

import json
from dataclasses import is_dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.label import data_label, provenance
from ..fileio import atomic_write_json, atomic_write_text


def _cell(value, decimals: int) -> str:
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "–"
        return f"{value:.{decimals}f}"
    return str(value)


def markdown_table(df: pd.DataFrame, decimals: int | dict = 2, *, index: bool = True) -> str:
    """A GitHub-flavoured Markdown pipe table (no extra dependency); floats rounded to
    ``decimals`` (an int, or {column: int}), NaN shown as "–"."""
    frame = df.reset_index() if index else df
    if index and all(n is None for n in df.index.names):
        frame = frame.rename(columns={"index": ""})
    cols = [str(c) for c in frame.columns]

    def dec(col):
        return decimals.get(col, 2) if isinstance(decimals, dict) else decimals

    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(frame[c]) else "---" for c in frame.columns) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, dec(c)).replace("|", "\\|") for c, v in zip(cols, row)) + " |")
    return "\n".join(lines)


def format_table(df: pd.DataFrame, decimals: int = 2) -> str:
    """Plain-text table with floats rounded to ``decimals`` (NaN as "–") for terminals."""
    return df.to_string(float_format=lambda v: "–" if np.isnan(v) else f"{v:.{decimals}f}")


def _fmt(v, decimals=2) -> str:
    return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{decimals}f}"


def table_and_notes(results) -> tuple[pd.DataFrame, dict]:
    """``(table, notes)`` of the ensembles' results: an :class:`~cicy4lib.results.ensemble.EnsembleResults`'
    table and its other fields as values, or :func:`~cicy4lib.results.ensemble.run_ensembles`' table and its
    ``attrs`` (the same fields, for notebooks written against the table)."""
    if is_dataclass(results):
        return results.table, results.notes()
    return results, results.attrs


def ensemble_notes(results) -> list[str]:
    """Lines under the table: weights, skipped ensembles, excluded runs, impossible values, fallbacks.

    ``results``: an ``EnsembleResults`` or ``run_ensembles``' table (see :func:`table_and_notes`)."""
    _, notes = table_and_notes(results)
    lines = []
    weights = {k: v for k, v in (notes.get("weights") or {}).items() if v}
    if weights:
        lines.append("hill-climb weights (fitted on the validation set only): "
                     + ", ".join(f"{k} {v:.3f}" for k, v in sorted(weights.items(), key=lambda kv: -kv[1])))
    for name, absent in (notes.get("missing") or {}).items():
        lines.append(f"skipped paper ensemble {name}: no run for {', '.join(absent)}")
    for run, reason in (notes.get("excluded") or {}).items():
        lines.append(f"left out run {run}: {reason}")
    bad = {k: v["rows"] for k, v in (notes.get("impossible") or {}).items() if v.get("rows")}
    if bad:
        lines.append("rows with impossible raw predictions (h11 < 1, h21 < 0, h31 < 20 or h22 < 0; "
                     "scored as they are): " + ", ".join(f"{k} {v}" for k, v in bad.items()))
    fb = {k: v for k, v in (notes.get("fallbacks") or {}).items() if v}
    if fb:
        lines.append("constraint fallbacks (raw h31, h22 kept): " + ", ".join(f"{k} {v}" for k, v in fb.items()))
    return lines


def ensemble_report(results) -> str:
    """:func:`cicy4lib.results.ensemble.run_ensembles`' table as text: the accuracies (2 decimals, baselines marked), the
    hill-climbed weights, skipped ensembles and excluded runs with the reason, impossible raw
    predictions and constraint fallbacks. ``results``: an ``EnsembleResults`` or that table."""
    table, notes = table_and_notes(results)
    lines = [f"Test accuracy (%) on the {notes.get('test', '?')}% test set "
             f"({notes.get('n_test', '?'):,} rows) of {notes.get('data', 'the data')}.",
             "raw = rounded outputs; constrained = h11, h21 as predicted, h31 and h22 from them and "
             "the exact χ (nothing clipped); group \"baseline\" rows need no training (see cicy4lib.results.baselines).",
             "", table.to_string(float_format=lambda v: _fmt(v)), "", *ensemble_notes(results)]
    return "\n".join(lines).rstrip("\n")


def write_results(results, out_dir, *, data=None, title: str = "Test accuracy (%)",
                  intro: str = "") -> str:
    """Write :func:`cicy4lib.results.ensemble.run_ensembles`' table as ``results.csv`` (percentages to two decimals, with
    ``provenance.json`` beside it) and ``results.md`` (a Markdown pipe table with the data's
    provenance, the hill-climbed weights, skipped ensembles and impossible predictions); returns
    the Markdown text. ``results``: an ``EnsembleResults`` or that table."""
    table, notes = table_and_notes(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    label = data_label(data) if data is not None else notes.get("data", "")
    atomic_write_text(table.round(2).to_csv(), out_dir / "results.csv")
    if data is not None:  # the CSV's provenance, beside it (the data layer's convention)
        atomic_write_json({**provenance(data), "label": label, "files": ["results.csv", "results.md"]},
                          out_dir / "provenance.json")
    md = [f"# {title}", "", f"Data: {label}." if label else "", "", intro, "",
          "Raw = rounded network outputs. Constrained = h11 and h21 as predicted (nothing clipped), h31 and "
          "h22 from them and the exact Euler number χ (raw h31, h22 kept where that is impossible). Rows of "
          "group *baseline* need no training and are computed on the same test rows: the favourable guess "
          "(h11 = number of rows, h21 = 0, h31 and h22 from χ), the constant predictor (rounded training "
          "mean) and constant + χ.", "", markdown_table(table, 2), ""]
    md += [f"- {line}" for line in ensemble_notes(results)]
    if data is not None:
        md += ["", f"Provenance: `{json.dumps(provenance(data), default=str)}`"]
    text = "\n".join(md).replace("\n\n\n", "\n\n") + "\n"
    atomic_write_text(text, out_dir / "results.md")
    return text
