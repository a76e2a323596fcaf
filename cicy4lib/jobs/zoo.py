"""The zoo: every registry model, the tree baselines and the zero-parameter baselines, one budget.

``python -m cicy4lib zoo [--data auto|generated|sample] [--epochs E] [--max-samples N] [--out DIR]
[--models NAME ...] [--recipe paper]``

trains each model of :func:`cicy4lib.models.list_models` and each tree model of
:mod:`cicy4lib.models.trees` on the same split with the same recipe and epoch budget (a run directory
each, under ``DIR/runs``: a second call resumes, and skips what is finished), evaluates them on
the test set and writes

``DIR/zoo.csv`` and ``DIR/zoo.md``
    one row per model and baseline: group, parameters (trainable; tree nodes for the tree models),
    training wall time, epochs, and raw and χ-constrained test accuracy per Hodge number
    and their mean; the Markdown file states the data (provenance, never dressed up as the CICY4
    list), the command, the machine and the date;
``DIR/zoo.png``
    the accuracies as a heat map, titled with the data's label.

``--data auto`` (the default) uses the large generated dataset (``load_dataset("generated")``)
where it exists and the embedded sample otherwise. A model that fails (out of memory, diverged)
gets a row with its error instead of numbers; the others go on.
"""
from __future__ import annotations

import math
import os
import platform
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import TARGETS
from ..data.choice import load_auto
from ..data.label import data_label, provenance
from ..data.splits import get_split
from ..fileio import atomic_write_text
from ..results.baselines import BASELINE_GROUP, LEARNED_GROUP, is_learned_baseline
from ..results.evaluate import baseline_table, evaluate
from ..training.config import COLLAPSE_SPREAD, TrainConfig
from ..training.recipes import recipe_values

__all__ = ["load_zoo_data", "zoo_models", "run_zoo", "zoo_results", "ZooSettings", "ZooResults", "zoo_markdown", "zoo_figure", "machine_description"]

COLUMNS = ["name", "group", "recipe", "params", "train_s", "epochs", "stopped", "collapsed",
           *(f"raw_{t}" for t in TARGETS), *(f"chi_{t}" for t in TARGETS), "run_dir", "error"]


def load_zoo_data(data="auto", max_samples=None):
    """(dataset, note): ``"auto"`` = the generated dataset if it loads, else the embedded sample
    (:func:`cicy4lib.data.choice.load_auto`); the note says which for ``"auto"``."""
    dataset, reason = load_auto(data, max_samples)
    auto = data is None or (isinstance(data, str) and data == "auto")
    if not auto:
        return dataset, ""
    if reason is None:
        return dataset, "the generated dataset"
    return dataset, f"the embedded sample (the generated dataset is not available: {reason[:160]})"


def zoo_models(models=None, *, trees: bool = True) -> list[str]:
    """The models the zoo trains: ``models`` as given, else every registry model and tree model."""
    from ..models import list_models  # lazy: imports torch
    from ..models.trees import list_tree_models  # lazy: imports torch

    if models:
        return list(models)
    return [*list_models(), *(list_tree_models() if trees else [])]


def _group(name: str) -> str:
    from ..models.trees import is_tree_model  # lazy: imports torch

    if is_tree_model(name) or is_learned_baseline(name):
        return LEARNED_GROUP
    try:
        from ..models import get_entry  # lazy: imports torch

        return "paper" if get_entry(name).paper else "beyond paper"
    except Exception:  # noqa: BLE001
        return "model"


def _params(model) -> int:
    from ..models.trees import TreeHodgeModel  # lazy: imports torch

    if isinstance(model, TreeHodgeModel):  # nodes of all trees: the tree models' "parameters"
        total = 0
        for _, est in model.parts:
            for tree in np.ravel(getattr(est, "estimators_", [])):
                total += int(getattr(getattr(tree, "tree_", None), "node_count", 0))
            for stage in getattr(est, "_predictors", []):
                total += sum(len(p.nodes) for p in stage)
        return total
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _accuracy_row(table) -> dict:
    row = {}
    part = table[table["subset"] == "test"]
    for kind, prefix in (("raw", "raw"), ("constrained", "chi")):
        sub = part[part["kind"] == kind].set_index("target")["accuracy"]
        for t in TARGETS:
            row[f"{prefix}_{t}"] = float(sub.get(t, np.nan))
    return row


def recipe_for(name: str, recipe: str) -> str:
    """The recipe the zoo trains ``name`` with: ``recipe``, except for a model with its own loss
    (CICYMiner) when ``recipe`` standardises the targets: then the recipe its registry entry names
    (``ModelEntry.recipe``, CICYMiner's ``"cicyminer"``; ``"paper"`` when it names none), same epoch budget."""
    from ..models.trees import is_tree_model  # lazy: imports torch

    if is_tree_model(name):
        return "sklearn"
    if recipe_values(recipe).get("standardize_targets"):
        from ..models import build_model, get_entry  # lazy: imports torch
        from ..models.hooks import hooks_of  # lazy: imports torch

        if hooks_of(build_model(name, device="meta")).training_loss is not None:
            own = get_entry(name).recipe
            return recipe_values(own)["recipe_name"] if isinstance(own, str) else "paper"
    return recipe_values(recipe)["recipe_name"]


def estimate_minutes(name, data, split, config) -> float:
    """Training minutes ``config.max_epochs`` epochs of ``name`` would take here, from the time of one
    training step at the batch the run will use (the fast recipe's adapts to the training rows: the
    second of two steps is timed; the first warms up)."""
    import torch  # lazy: imports torch
    import torch.nn.functional as F  # lazy: imports torch

    from ..models import build_model  # lazy: imports torch
    from ..models.hooks import hooks_of  # lazy: imports torch

    config = config.for_train_rows(len(split.train))
    model = build_model(name).train()
    rows = np.asarray(split.train)[:config.batch_size]
    x = torch.from_numpy(np.ascontiguousarray(data.features(rows), dtype=np.float32))
    y = torch.from_numpy(np.asarray(data.hodge)[rows].astype(np.float32))
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    seconds = 0.0
    for _ in range(2):
        t0 = time.perf_counter()
        own_loss = hooks_of(model).training_loss
        loss = own_loss(x, y) if own_loss is not None else F.huber_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seconds = time.perf_counter() - t0
    steps = math.ceil(len(split.train) / config.batch_size)
    return seconds * steps * config.max_epochs / 60.0


def _train_one(name, settings: "ZooSettings", data: "ZooData") -> dict:
    """Train and evaluate one model under the zoo's budget: its row of the table."""
    from ..training.loop import train  # lazy: imports torch
    from ..models.trees import is_tree_model  # lazy: imports torch

    split, epochs, seed, device = data.split, settings.epochs, settings.seed, settings.device
    overrides = {"max_epochs": epochs, "seed": seed}
    if device:
        overrides["device"] = device
    recipe = recipe_for(name, settings.recipe)
    config = TrainConfig(seed=seed) if is_tree_model(name) else TrainConfig.from_recipe(recipe, **overrides)
    started = (data.runs_dir / f"{name}_{getattr(split, 'name', None) or 'custom'}" / "state.pt").exists()
    limit = settings.max_model_minutes
    if limit and not is_tree_model(name) and not started:
        minutes = estimate_minutes(name, data.dataset, split, config)
        if minutes > limit:
            raise _TooSlow(f"not trained: {epochs} epochs would take ~{minutes:.0f} min here (estimated from one "
                           f"batch-{config.batch_size} step), over --max-model-minutes {limit:g}; "
                           f"needs a faster machine (GPU)")
    t0 = time.perf_counter()
    result = train(name, data.dataset, split, config, output_dir=data.runs_dir, progress=settings.progress)
    wall = time.perf_counter() - t0
    model = result.model
    table = evaluate(model, data.dataset, split, subsets=("test",), device=device)
    return {"name": name, "group": _group(name), "recipe": recipe, "params": _params(model),
            "train_s": float(result.seconds or wall), "epochs": int(result.epochs), "stopped": str(result.stopped),
            "collapsed": collapsed(result), **_accuracy_row(table), "run_dir": str(result.run_dir), "error": ""}


def collapsed(result) -> bool:
    """Whether the saved (best-epoch) network of ``result`` is a constant predictor: its validation
    predictions the same for every row (``val_pred_spread`` below :data:`cicy4lib.training.config.COLLAPSE_SPREAD`)."""
    metrics = getattr(result, "metrics", None)
    if metrics is None or "val_pred_spread" not in metrics or not result.best_epoch:
        return False  # tree models; runs saved before the metric existed
    spread = float(metrics["val_pred_spread"].iloc[result.best_epoch - 1])
    return spread == spread and spread < COLLAPSE_SPREAD


class _TooSlow(Exception):
    """A model whose estimated training time exceeds the zoo's per-model limit."""


@dataclass(frozen=True)
class ZooSettings:
    """What :func:`run_zoo` is asked to do (the command line's options)."""

    data: object = "auto"
    epochs: int = 10
    max_samples: int | None = None
    out: Path = Path("zoo_output")
    models: tuple | None = None
    trees: bool = True
    recipe: str = "paper"
    split: str = "72"
    seed: int = 42
    device: str | None = None
    progress: bool = False
    command: str | None = None
    max_model_minutes: float | None = None

    def __post_init__(self):  # frozen: the normalised values are set once, here
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "models", None if self.models is None else tuple(self.models))


@dataclass
class ZooData:
    """Stage 1: the data, its split, where the runs go, and what the table says about the data."""

    dataset: object
    split: object
    note: str
    provenance: dict
    label: str
    runs_dir: Path


@dataclass
class ZooResults:
    """Stage 3: one row per model and baseline, and what the table's notes say."""

    rows: list
    data: ZooData
    settings: ZooSettings

    def notes(self) -> dict:
        """What :func:`zoo_markdown` and :func:`zoo_figure` print beside the table."""
        return dict(data=self.data.provenance, data_label=self.data.label, split=str(self.settings.split),
                    recipe=self.settings.recipe, epochs=self.settings.epochs,
                    n_test=int(len(self.data.split.test)), note=self.data.note)

    @property
    def table(self) -> pd.DataFrame:
        """One row per model and baseline, columns :data:`COLUMNS`."""
        return pd.DataFrame(self.rows).reindex(columns=COLUMNS)

    def as_frame(self) -> pd.DataFrame:
        """The table, with :meth:`notes` in ``attrs`` (:func:`run_zoo`'s return value)."""
        table = self.table
        table.attrs.update(self.notes())
        return table


def _table_and_notes(results) -> tuple[pd.DataFrame, dict]:
    """``(table, notes)``: a :class:`ZooResults`' table and notes as values, or :func:`run_zoo`'s table
    and its ``attrs`` (the same notes, for notebooks written against the table)."""
    if isinstance(results, ZooResults):
        return results.table, results.notes()
    return results, results.attrs


def prepare_zoo_data(settings: ZooSettings) -> ZooData:
    """Stage 1: load the data (``"auto"``: the generated set, else the sample) and split it."""
    dataset, note = load_zoo_data(settings.data, settings.max_samples)
    prov = provenance(dataset)
    runs_dir = Path(settings.out) / f"runs_{prov.get('kind', 'data')}-{len(dataset)}_{settings.recipe}_e{settings.epochs}"
    return ZooData(dataset, get_split(dataset, str(settings.split)), note, prov, data_label(dataset), runs_dir)


def train_zoo_models(settings: ZooSettings, data: ZooData, log=print) -> list:
    """Stage 2: train and evaluate every model; a model that fails or would be too slow gets a row
    that says why (one failing model must not end the zoo)."""
    names = zoo_models(list(settings.models) if settings.models is not None else None, trees=settings.trees)
    if data.note:
        log(f"zoo: using {data.note}")
    log(f"zoo: {len(names)} models on {data.label}, split {settings.split}, recipe {settings.recipe}, "
        f"{settings.epochs} epochs")
    rows = []
    for name in names:
        t0 = time.perf_counter()
        try:
            row = _train_one(name, settings, data)
        except KeyboardInterrupt:
            raise
        except _TooSlow as err:
            row = {"name": name, "group": _group(name), "recipe": recipe_for(name, settings.recipe), "error": str(err)}
        except Exception as err:  # noqa: BLE001 - one failing model must not end the zoo
            row = {"name": name, "group": _group(name), "error": f"{type(err).__name__}: {err}".splitlines()[0]}
            if os.environ.get("CICY4_DEBUG"):
                traceback.print_exc()
        rows.append(row)
        done = f"chi mean {row['chi_mean']:.1f}%" if "chi_mean" in row else row["error"]
        log(f"  {name}: {done} ({time.perf_counter() - t0:.0f} s)")
    return rows


def zoo_baseline_rows(data: ZooData) -> list:
    """The baselines' rows, on the same test rows as the models."""
    rows = []
    base = baseline_table(data.dataset, data.split, "test").reset_index()
    for name, part in base.groupby("name", sort=False):
        row = {"name": name, "group": BASELINE_GROUP, "recipe": "", "params": 0, "train_s": 0.0, "epochs": 0,
               "stopped": "", "collapsed": False, "run_dir": "", "error": ""}
        for kind, prefix in (("raw", "raw"), ("constrained", "chi")):
            values = part[part["kind"] == kind].iloc[0]
            for target in TARGETS:
                row[f"{prefix}_{target}"] = float(values[target])
        rows.append(row)
    return rows


# fourteen parameters: the command line's options, kept as keywords for notebooks and scripts;
# the stages take them as one ZooSettings
def run_zoo(data="auto", *, epochs: int = 10, max_samples=None, out="zoo_output", models=None, trees: bool = True,
            recipe: str = "paper", split: str = "72", seed: int = 42, device=None, progress: bool = False,
            command: str | None = None, max_model_minutes: float | None = None, log=print) -> pd.DataFrame:
    """Train, evaluate and tabulate; returns the table (also written to ``out``). See the module text.

    The stages: :func:`prepare_zoo_data` -> :func:`train_zoo_models` and :func:`zoo_baseline_rows`
    (a :class:`ZooResults`) -> :func:`write_zoo` (``zoo.csv``, ``zoo.md``, ``zoo.png``).
    ``max_model_minutes``: a network whose training would take longer here (estimated from one
    training step before it starts) is not trained; its row says so (e.g. CICYMiner on a CPU).
    """
    settings = ZooSettings(data=data, epochs=epochs, max_samples=max_samples, out=out, models=models,
                           trees=trees, recipe=recipe, split=split, seed=seed, device=device, progress=progress,
                           command=command, max_model_minutes=max_model_minutes)
    return zoo_results(settings, log).as_frame()


def zoo_results(settings: ZooSettings, log=print) -> ZooResults:
    """:func:`run_zoo` as a value: train, evaluate and tabulate as ``settings`` say.

    Parameters
    ----------
    settings : ZooSettings
        The options of :func:`run_zoo` (and of ``python -m cicy4lib zoo``).
    log : callable
        Receives one line per model.

    Returns
    -------
    ZooResults
        The rows and, as values, what the table's notes say; ``zoo.csv``, ``zoo.md`` and
        ``zoo.png`` are written into ``settings.out``.
    """
    zoo_data = prepare_zoo_data(settings)
    rows = train_zoo_models(settings, zoo_data, log) + zoo_baseline_rows(zoo_data)
    results = ZooResults(rows, zoo_data, settings)
    write_zoo(results, settings.out, command=settings.command)
    return results


def machine_description() -> str:
    """Host, CPU count, torch threads and GPU (if any), for the table's notes."""
    import torch  # lazy: imports torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    cpu = platform.processor() or platform.machine()
    return (f"{socket.gethostname()}: {os.cpu_count()} CPUs ({cpu}), torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), {gpu}; Python {platform.python_version()}")


def _fmt(v, digits=1):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return f"{v:.{digits}f}"


def zoo_markdown(results, *, command: str | None = None) -> str:
    """The table as Markdown, with its data, command, machine and date above it.

    ``results``: a :class:`ZooResults` or :func:`run_zoo`'s table."""
    table, a = _table_and_notes(results)
    lines = [f"# Zoo: test accuracy (%) on {a.get('data_label', 'the data')}", "",
             f"- data: {a.get('data_label', '')} (provenance: {a.get('data', {})})",
             f"- split {a.get('split')} ({a.get('n_test', '?'):,} test rows); recipe {a.get('recipe')}; "
             f"at most {a.get('epochs')} epochs per network (same budget for all; a model with its own loss, "
             f"CICYMiner, trains with its own recipe when the recipe standardises targets); trees: default settings",
             f"- machine: {machine_description()}",
             f"- date: {datetime.now(timezone.utc).isoformat(timespec='minutes')}"]
    if command:
        lines.append(f"- command: `{command}`")
    if a.get("note"):
        lines.append(f"- note: used {a['note']}")
    lines += ["", "raw = rounded outputs; χ = h11, h21 as predicted, h31 and h22 from them and the exact Euler "
              "number. params: trainable parameters (tree models: tree nodes). time: training wall time. "
              "\"collapsed\" after the epochs: the network's validation predictions are the same for every row "
              "(a constant predictor; `train --restarts N` starts such a run over with another seed).", ""]
    head = ["model", "group", "recipe", "params", "time (s)", "epochs",
            *(f"raw {t}" for t in TARGETS), *(f"χ {t}" for t in TARGETS)]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")
    for _, r in table.iterrows():
        if isinstance(r.get("error"), str) and r["error"]:
            text = r["error"] if r["error"].startswith("not trained") else f"failed: {r['error']}"
            cells = [r["name"], r["group"], r["recipe"] if isinstance(r["recipe"], str) else "", "", "", "", text] \
                + [""] * (2 * len(TARGETS) - 1)
        else:
            params = "" if pd.isna(r["params"]) else f"{int(r['params']):,}"
            cells = [r["name"], r["group"], r["recipe"] if isinstance(r["recipe"], str) else "", params,
                     _fmt(r["train_s"], 0),
                     "" if pd.isna(r["epochs"]) else str(int(r["epochs"])) + (" collapsed" if r.get("collapsed") is True
                                                                              else ""),
                     *(_fmt(r[f"raw_{t}"]) for t in TARGETS), *(_fmt(r[f"chi_{t}"]) for t in TARGETS)]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def zoo_figure(results, path):
    """Heat map of raw and χ-constrained test accuracy per model and Hodge number; returns the path.

    ``results``: a :class:`ZooResults` or :func:`run_zoo`'s table."""
    import matplotlib  # lazy: imports matplotlib

    table, a = _table_and_notes(results)

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # lazy: imports matplotlib

    ok = table[table["error"].fillna("") == ""]
    cols = [*(f"raw_{t}" for t in TARGETS), *(f"chi_{t}" for t in TARGETS)]
    values = ok[cols].to_numpy(dtype=float)
    labels = [f"{r['name']} ({_short(r['params'])}, {_fmt(r['train_s'], 0)} s)" if r["group"] != "baseline"
              else f"{r['name']} (baseline)" for _, r in ok.iterrows()]
    fig, ax = plt.subplots(figsize=(11, 0.38 * len(ok) + 2.0))
    im = ax.imshow(values, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(cols)), [c.replace("raw_", "raw ").replace("chi_", "χ ") for c in cols], rotation=30)
    ax.set_yticks(range(len(ok)), labels)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if values[i, j] < 60 else "black")
    ax.axvline(len(TARGETS) - 0.5, color="white", lw=2)
    ax.set_title(f"Zoo: test accuracy (%), {a.get('epochs')} epochs, recipe {a.get('recipe')}, split {a.get('split')}\n"
                 f"({a.get('data_label', '')})", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _short(n) -> str:
    if n is None or pd.isna(n):
        return "?"
    n = int(n)
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else str(n)


def write_zoo(results, out, *, command: str | None = None) -> dict:
    """Write ``zoo.csv``, ``zoo.md`` and ``zoo.png`` into ``out``; returns their paths.

    ``results``: a :class:`ZooResults` or :func:`run_zoo`'s table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table, a = _table_and_notes(results)
    csv = table.copy()
    csv.insert(0, "data", a.get("data_label", ""))
    paths = {"csv": atomic_write_text(csv.to_csv(index=False, float_format="%.2f"), out / "zoo.csv"),
             "md": atomic_write_text(zoo_markdown(results, command=command), out / "zoo.md"),
             "png": zoo_figure(results, out / "zoo.png")}
    return paths


def main_zoo(args) -> int:
    command = "python -m cicy4lib " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith(
        ("__main__.py", "cicy4", "cicy4lib")) else None
    settings = ZooSettings(data=args.data, epochs=args.epochs, max_samples=args.max_samples, out=args.out,
                           models=args.models, trees=not args.no_trees, recipe=args.recipe, split=args.split,
                           seed=args.seed, device=args.device, progress=not args.quiet, command=command,
                           max_model_minutes=args.max_model_minutes)
    results = zoo_results(settings, log=(lambda *a: None) if args.quiet else print)
    print(zoo_markdown(results, command=command))
    print(f"wrote {Path(args.out) / 'zoo.md'}, zoo.csv, zoo.png")
    return 0


def add_parser(sub) -> None:
    """Register the ``zoo`` sub-command."""
    p = sub.add_parser("zoo", help="train every model and baseline with one budget; table + figure")
    p.add_argument("--data", default="auto", help="auto (generated if present, else sample), generated, sample, a path")
    p.add_argument("--epochs", type=int, default=10, help="epoch budget of every network")
    p.add_argument("--max-samples", type=int, default=None)
    p.add_argument("--out", default="zoo_output")
    p.add_argument("--models", nargs="*", default=None, help="only these models (default: all registry + tree models)")
    p.add_argument("--no-trees", action="store_true", help="leave out the tree models")
    p.add_argument("--recipe", default="paper")
    p.add_argument("--split", default="72")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--device", default=None)
    p.add_argument("--max-model-minutes", type=float, default=None,
                   help="leave out a network whose training would take longer here (estimated from one step)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=lambda args: main_zoo(args))
