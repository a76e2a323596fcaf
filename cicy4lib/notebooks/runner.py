"""The papermill batch runner: ``python -m cicy4lib.notebooks run ...`` (and ``generate``).

The notebook collection: generated from templates, executed in batches with papermill.

Two commands (also ``python -m cicy4lib notebooks ...``)::

    python -m cicy4lib.notebooks generate [--check]
    python -m cicy4lib.notebooks run NB_OR_DIR... [--all-models] [--out DIR] [--fail-fast]
                                     [-p NAME VALUE]... [--kernel python3]

``generate`` writes one notebook per registered architecture (``Models_CNN-RNN-hybrid/`` for
the CNN/ResNet hybrids, ``Models_LSTM-based/`` for the LSTM-only models) and the four
``data-results-processing/`` notebooks, all from the templates in ``cicy4lib/notebooks/templates/``.
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
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Mapping
from unittest import mock

from ..constants import HODGE, TARGETS
from ..threads import rule_threads
from .render import DEFAULT_OUT, PATH_PARAMETERS, SUMMARY_ENV, generate, model_notebook_paths

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
    import papermill  # lazy: imports papermill, nbformat

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
    paths = model_notebook_paths(root, paper=True) if all_models else []
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
    (so the notebooks import the same library even without ``pip install``); restored afterwards."""
    package_root = str(Path(__file__).resolve().parents[2])
    path_parts = [p for p in (os.environ.get("PYTHONPATH") or "").split(os.pathsep) if p and p != package_root]
    extra = {SUMMARY_ENV: str(summary_path), "PYTHONPATH": os.pathsep.join([package_root, *path_parts])}
    if not os.environ.get("OMP_NUM_THREADS"):  # the kernel's torch threads: cicy4lib.threads' rule, not one per core
        extra["OMP_NUM_THREADS"] = str(rule_threads())
    with mock.patch.dict(os.environ, extra):
        yield


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
    out_dir : folder for the executed copies (and ``<name>.summary.json`` beside each); a
        relative path is taken relative to the caller's working directory (never the notebook's)
    fail_fast : stop after the first failure (the rest are reported as "skipped")
    cwd : run every notebook there instead of in its own folder
    log : callable for the progress lines (``None``: silent)

    Returns
    -------
    DataFrame with columns notebook, status ("ok", "FAILED", "skipped"), seconds, error, output,
    raw_<h>, constrained_<h> for h11, h21, h31, h22, mean (test accuracy %, from the notebook's
    summary where it writes one) and note.
    """
    import pandas as pd  # lazy: imports pandas
    import papermill  # lazy: imports papermill, nbformat

    log = log or (lambda *_: None)
    parameters = dict(parameters or {})
    out_dir = Path(out_dir).expanduser().absolute()  # the kernels run elsewhere: no relative paths
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [Path(p).absolute() for p in paths]
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
    print(f"executed notebooks in {Path(args.out).absolute()}")
    return 1 if (results["status"] != "ok").any() else 0


__all__ = ['build_parser', 'coerce_parameters', 'declared_parameters', 'expand_notebooks', 'format_summary', 'main', 'parse_value', 'resolve_path_parameters', 'run_notebooks']
