"""Hyperparameter search with Optuna that many machines can share.

``python -m cicy4lib search MODEL --trials N --storage URL [--study NAME] [--epochs E] [--recipe R]``

* **Storage**: SQLite by default (``sqlite:///search.db``); any database URL Optuna accepts
  (``postgresql://user:pass@host/db``, ``mysql+pymysql://...``), or Optuna's journal file storage
  on a shared file system (``journal:///shared/search.log``, or any path ending in ``.log`` /
  ``.journal``). Every worker that points at the same storage and study name works on the same
  study: several Kaggle sessions, a cluster's array job, two terminals.
* **Trials**: ``--trials N`` is the study's total (completed + pruned trials, all workers
  together), not a per-worker count: a worker stops once the study holds N of them. A trial that
  would exceed N is not run (it is recorded as failed with ``user_attrs["skipped"]``).
* **Resuming**: the study is loaded if it exists. Each trial trains into its own run directory
  ``<output_dir>/<study>/trial_NNNN``; a trial interrupted by Ctrl-C is queued again with the same
  parameters and continues from that run's ``state.pt``; a worker killed outright leaves a running
  trial that the next worker (database storage: after the heartbeat's grace period) marks failed
  and queues again the same way.
* **Pruning** on the validation loss, reported after every epoch (``--pruner median``, the default:
  :class:`optuna.pruners.MedianPruner`; ``hyperband``; ``none``). Tree models have no epochs and are
  not pruned.
* **Objective**: the run's best validation loss (in the recipe's own units; each study uses one
  recipe, so its trials compare). The test set is never looked at.
* **Search spaces** (:func:`search_space`) per model family and recipe: the architecture is fixed
  by the model name; the training settings vary (learning rate, weight decay, batch size, the
  schedule's settings, permutation augmentation for the grid models). The Huber δ is *not* searched:
  it would change the objective's scale.
* **Result**: the best trial's run directory is an ordinary run directory (``evaluate``, ``ensemble``
  and ``predict`` take it); ``<output_dir>/<study>/best_trial.json`` names it.

>>> study = run_search("HeLukas-FC", load_dataset("sample"), trials=20, storage="sqlite:///search.db",
...                    epochs=30)                                     # doctest: +SKIP
>>> best_run_dir(study)                                               # doctest: +SKIP
"""
from __future__ import annotations

import datetime
import inspect
import json
import math
import os
import random
import re
import socket
import sqlite3
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np

from .. import outputs
from ..data import load_dataset, subsample
from ..data.label import data_label, provenance
from ..errors import ConfigurationError, DataError, RunLockedError
from ..fileio import atomic_write_json
from ..training.config import TrainConfig
from ..training.recipes import recipe_values

__all__ = ["DEFAULT_STORAGE", "make_storage", "default_study_name", "search_space", "family_of", "run_search",
           "best_run_dir", "trials_frame", "study_summary", "load_study"]

DEFAULT_STORAGE = "sqlite:///search.db"
DEFAULT_OUTPUT_DIR = "search_runs"
COUNTED = ("COMPLETE", "PRUNED", "RUNNING")  # trial states that use up the study's --trials budget


# --------------------------------------------------------------------------- storage


def _is_journal(url: str) -> bool:
    return url.startswith("journal:") or url.endswith((".log", ".journal"))


def _journal_path(url: str) -> str:
    path = url[len("journal:"):] if url.startswith("journal:") else url
    if path.startswith("///"):
        path = path[2:]  # journal:///abs/path -> /abs/path
    elif path.startswith("//"):
        path = path[2:]
    return path


def safe_url(url: str) -> str:
    """The storage URL without its password (for logs and result files)."""
    if _is_journal(url) or "://" not in url:
        return url
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _sqlite_path(url: str) -> str | None:
    """The database file of a ``sqlite:///path`` URL (None for other URLs and in-memory ones)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return None if not path or path == ":memory:" else path


def storage_id(url: str | None) -> str:
    """The storage as it identifies a study's output folder: the URL without its password, a
    SQLite or journal file as its absolute path (``sqlite:///a.db`` and ``sqlite:///./a.db`` agree)."""
    url = url or DEFAULT_STORAGE
    db = _sqlite_path(url)
    if db is not None:
        return "sqlite:///" + os.path.abspath(os.path.expanduser(db))
    if _is_journal(url):
        return "journal:///" + os.path.abspath(os.path.expanduser(_journal_path(url))).lstrip("/")
    return safe_url(url)


SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_file(path) -> None:
    """Refuse a SQLite study file that is not a SQLite database or is damaged, before Optuna opens
    it (and before anything is written to it): the header is read, then ``PRAGMA quick_check``
    runs on a read-only connection. A missing or empty file is fine (a new study database).

    Raises
    ------
    DataError
        Naming the file and what is wrong with it; the file is left as it was.
    """
    path = os.path.expanduser(str(path))
    hint = "the file is left as it is: restore it from a backup, or give another --storage"
    try:
        if os.path.isdir(path):
            raise DataError(f"search storage {path} is a folder, not a SQLite database file; give a file path")
        if not os.path.exists(path):
            return
        size = os.path.getsize(path)
        if size == 0:
            return
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as err:
        raise DataError(f"search storage {path} cannot be read ({err.strerror or err})") from None
    if head != SQLITE_HEADER:
        raise DataError(f"search storage {path} is not a SQLite database (its first bytes are {head[:16]!r}); "
                        + hint)
    uri = "file:" + os.path.abspath(path).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=60)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as err:
        raise DataError(f"search storage {path} is a damaged SQLite database ({err}); {hint}") from None
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    if problems:
        raise DataError(f"search storage {path} is a damaged SQLite database (quick_check: "
                        f"{'; '.join(problems[:3])[:200]}); {hint}")


def make_storage(url: str | None = None):
    """An Optuna storage for ``url``: a database URL (RDBStorage, with a heartbeat so trials of
    killed workers are failed and queued again) or a journal file (``journal:///path``, ``*.log``).
    A SQLite file that is not a database or is damaged is refused first (:func:`check_sqlite_file`)."""
    import optuna  # lazy: imports optuna
    from optuna.storages import RDBStorage  # lazy: imports optuna

    url = url or DEFAULT_STORAGE
    db = _sqlite_path(url)
    if db is not None:
        check_sqlite_file(db)
    if _is_journal(url):
        from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage  # lazy: imports optuna

        path = _journal_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # the open(O_EXCL) lock works on NFS, where symlink locks may not
        return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    if "://" not in url:
        raise ConfigurationError(f"storage {url!r} is not a database URL (e.g. sqlite:///search.db, "
                                 "postgresql://user:pass@host/db) nor a journal file (journal:///path/search.log)")
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    if url.startswith("sqlite:///"):
        db = url[len("sqlite:///"):]
        if db and db != ":memory:":
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    params = inspect.signature(RDBStorage.__init__).parameters
    with _quiet_optuna_warnings():
        retry = _retry_class()(max_retry=3)
    callback = ({"heartbeat_stale_trial_callback": retry} if "heartbeat_stale_trial_callback" in params
                else {"failed_trial_callback": retry})
    try:
        for attempt in range(6):
            try:
                with _quiet_optuna_warnings():
                    return RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=60, grace_period=300,
                                      **callback)
            except (ImportError, ModuleNotFoundError):
                raise
            except Exception as err:  # noqa: BLE001 - workers creating the tables of a new database race
                # ("table ... already exists", "UNIQUE constraint failed: alembic_version", "locked")
                if attempt == 5:
                    first = " ".join(str(err).split())[:200]
                    raise ConfigurationError(f"storage {safe_url(url)} cannot be opened "
                                             f"({type(err).__name__}: {first})") from None

                time.sleep(0.2 + random.random())  # the other worker's schema is there on the next try
    except (ImportError, ModuleNotFoundError) as err:
        raise ConfigurationError(f"storage {safe_url(url)}: a database driver is missing ({err}); e.g. "
                                 "`pip install psycopg2-binary` for PostgreSQL") from None
    except optuna.exceptions.StorageInternalError as err:
        raise ConfigurationError(f"storage {safe_url(url)} cannot be opened: {err}") from None


def _retry_class():
    """Optuna's callback that queues a stale (killed worker's) trial again (renamed in Optuna 4.9)."""
    import optuna.storages as st  # lazy: imports optuna

    return getattr(st, "RetryHeartbeatStaleTrialCallback", None) or st.RetryFailedTrialCallback


class _quiet_optuna_warnings(warnings.catch_warnings):
    """Silence Optuna's experimental/deprecation notes about the heartbeat API we rely on."""

    def __enter__(self):
        out = super().__enter__()
        import optuna  # lazy: imports optuna

        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        return out


def default_study_name(model: str, recipe: str = "paper", split: str = "72", data=None) -> str:
    """``<model>_<recipe>_<split>_<data kind>``, e.g. ``HeLukas-FC_paper_72_embedded-sample``."""
    kind = provenance(data)["kind"] if data is not None else "data"
    n = provenance(data).get("n") if data is not None else None
    return f"{model}_{recipe}_{split}_{kind}" + (f"-{n}" if n else "")


def load_study(study_name: str, storage: str | None = None):
    import optuna  # lazy: imports optuna

    return optuna.load_study(study_name=study_name, storage=make_storage(storage))


# --------------------------------------------------------------------------- search spaces


def family_of(model: str) -> str:
    """Search-space family of a model: "trees", "hgb", "rnn", "hybrid", "graph", "dense", "cicyminer"."""
    from ..models.trees import is_tree_model, tree_spec  # lazy: imports torch

    if is_tree_model(model):
        return "hgb" if "HistGradient" in tree_spec(model).parts[0][2] else "trees"
    from ..models import get_entry  # lazy: imports torch

    entry = get_entry(model)
    text = f"{entry.name} {entry.family}".lower()
    if "cicyminer" in text or "inception" in text:
        return "cicyminer"
    if "graph" in text or "gnn" in text:
        return "graph"
    if "fully connected" in text or "lukas" in text or "dense" in text:
        return "dense"
    if entry.group == "lstm":
        return "rnn"
    return "hybrid"


def _trees_space(trial) -> dict:
    return {"n_estimators": trial.suggest_int("n_estimators", 50, 300, step=50),
            "max_features": {"sqrt": "sqrt", "0.3": 0.3, "0.6": 0.6}[
                trial.suggest_categorical("max_features", ["sqrt", "0.3", "0.6"])],
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 4)}


def _hgb_space(trial) -> dict:
    return {"learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "max_iter": trial.suggest_int("max_iter", 100, 500, step=100),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 15, 127, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-4, 1.0, log=True)}


# learning-rate ranges per recipe and family: the RNNs diverge sooner at a high lr than the others
_LR = {
    ("paper", "rnn"): (1e-4, 1e-2), ("paper", "hybrid"): (1e-4, 2e-2), ("paper", "dense"): (1e-4, 2e-2),
    ("paper", "graph"): (1e-4, 1e-2), ("paper", "cicyminer"): (1e-4, 1e-2),
    ("fast", "rnn"): (3e-4, 5e-3), ("fast", "hybrid"): (3e-4, 1e-2), ("fast", "dense"): (3e-4, 1e-2),
    ("fast", "graph"): (3e-4, 1e-2), ("fast", "cicyminer"): (3e-4, 5e-3),
    ("cicyminer", "cicyminer"): (1e-4, 3e-3),
}


def search_space(model: str, recipe: str = "paper") -> Callable:
    """``space(trial) -> dict`` of settings for one trial of ``model`` under ``recipe``.

    Tree models: estimator settings (:func:`cicy4lib.models.trees.fit_tree_model`'s ``params``).
    Networks: :class:`cicy4lib.training.config.TrainConfig` overrides on top of the recipe.
    """
    family = family_of(model)
    if family == "trees":
        return _trees_space
    if family == "hgb":
        return _hgb_space
    recipe = str(recipe).lower()
    lo, hi = _LR.get((recipe, family), (1e-4, 1e-2))

    def space(trial) -> dict:
        out = {"lr": trial.suggest_float("lr", lo, hi, log=True)}
        if recipe == "cicyminer":
            out["batch_size"] = trial.suggest_categorical("batch_size", [32, 64, 128])
            out["lr_factor"] = trial.suggest_float("lr_factor", 0.1, 0.5)
            return out
        out["weight_decay"] = trial.suggest_float("weight_decay", 1e-5, 1e-1, log=True)
        if recipe == "fast":
            out["batch_size"] = trial.suggest_categorical("batch_size", [256, 512, 1024])
            out["warmup_fraction"] = trial.suggest_float("warmup_fraction", 0.0, 0.1)
        else:
            out["batch_size"] = trial.suggest_categorical("batch_size", [64, 128, 256])
            out["lr_factor"] = trial.suggest_float("lr_factor", 0.1, 0.5)
            out["lr_patience"] = trial.suggest_int("lr_patience", 3, 12)
        if family not in ("graph",):  # the graph network is permutation-invariant already
            out["augment_permutations"] = trial.suggest_categorical("augment_permutations", [False, True])
        return out

    return space


# --------------------------------------------------------------------------- the search


def _pruner(name: str, epochs: int):
    import optuna  # lazy: imports optuna

    name = (name or "median").lower()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=min(2, max(epochs - 1, 0)))
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1), reduction_factor=3)
    if name in ("none", "nop"):
        return optuna.pruners.NopPruner()
    raise ConfigurationError(f"unknown pruner {name!r}; use median, hyperband or none")


def _origin(trial) -> int:
    """The trial whose run directory this trial continues (itself unless it is a re-queued one)."""
    resumed = trial.user_attrs.get("resume_of")
    if resumed is not None:
        return int(resumed)
    frozen = trial.study._storage.get_trial(trial._trial_id)  # system attrs live on the stored trial
    with _quiet_optuna_warnings():
        retried = _retry_class().retried_trial_number(frozen)
    return int(retried) if retried is not None else trial.number


def _counted(study, before: int | None = None) -> int:
    from optuna.trial import TrialState  # lazy: imports optuna

    states = tuple(getattr(TrialState, s) for s in COUNTED)
    return sum(1 for t in study.get_trials(deepcopy=False, states=states)
               if before is None or t.number < before)


def _report_history(trial, run_dir: Path) -> None:
    """Re-report the epochs a resumed run already has (its log.csv) to the new trial."""
    log = run_dir / "log.csv"
    if not log.exists():
        return
    import pandas as pd  # lazy: imports pandas

    try:
        frame = pd.read_csv(log)
    except (OSError, ValueError):
        return
    for epoch, value in zip(frame.get("epoch", []), frame.get("val_loss", [])):
        if value == value:  # not NaN
            trial.report(float(value), int(epoch))


def _run_trial(trial, model, data, split, recipe, epochs, study_dir, space, device, seed, progress):  # run_search's settings, passed through
    import optuna  # lazy: imports optuna

    from ..models.trees import is_tree_model  # lazy: imports torch
    from ..training.estimators import train_tree  # lazy: imports torch, pandas
    from ..training.loop import train  # lazy: imports torch, pandas

    settings = space(trial)
    run_name = f"trial_{_origin(trial):04d}"
    run_dir = study_dir / run_name
    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    if is_tree_model(model):
        config = TrainConfig(seed=seed)
        result = train_tree(model, data, split, config, output_dir=study_dir, run_name=run_name, params=settings,
                            overwrite=True, progress=progress)
    else:
        overrides = {"max_epochs": epochs, "seed": seed, **settings}
        if device:
            overrides["device"] = device
        config = TrainConfig.from_recipe(recipe, **overrides)
        _report_history(trial, run_dir)

        def on_epoch(epoch, train_loss, val_loss):
            if not math.isfinite(val_loss):
                raise optuna.TrialPruned(f"epoch {epoch}: validation loss {val_loss} (diverged)")
            trial.report(float(val_loss), int(epoch))
            if epoch < epochs and trial.should_prune():  # the last epoch's run is finished: keep it
                raise optuna.TrialPruned(f"epoch {epoch}: validation loss {val_loss:.4g}")

        fresh = _origin(trial) == trial.number  # a new trial starts over (a directory left by a deleted
        # study of the same name is replaced); a re-queued one continues its run directory
        result = train(model, data, split, config, output_dir=study_dir, run_name=run_name, resume=not fresh,
                       overwrite=fresh, progress=progress, on_epoch=on_epoch)
    trial.set_user_attr("epochs", int(result.epochs))
    trial.set_user_attr("best_epoch", int(result.best_epoch))
    trial.set_user_attr("seconds", float(result.seconds))
    trial.set_user_attr("stopped", str(result.stopped))
    value = float(result.best_val_loss)
    if not math.isfinite(value):
        raise optuna.TrialPruned(f"validation loss {value} (diverged)")
    return value


def run_search(model: str, data, *, trials: int = 20, storage: str | None = None, study_name: str | None = None,
               epochs: int = 30, split: str = "72", recipe: str = "paper", output_dir=DEFAULT_OUTPUT_DIR,
               pruner: str = "median", sampler_seed: int | None = None, seed: int = 42, device: str | None = None,
               timeout_s: float | None = None, progress: bool = False, log=print, force: bool = False):  # the options of `cicy4 search`
    """Run (or join, or resume) the study and return it; see the module docstring.

    Parameters
    ----------
    model : a registry model or a tree model (``Trees-RF``, ...).
    data : CICYData; trials train on ``split``'s train rows and are scored on its validation rows.
    trials : the study's total of completed + pruned trials to reach (all workers together).
    storage : database URL or journal file (default ``sqlite:///search.db``).
    study_name : default :func:`default_study_name`.
    epochs : maximum epochs per trial (the pruner stops the unpromising ones earlier).
    recipe : the base recipe (``paper``, ``fast``, ``cicyminer``); the space varies its settings.
    output_dir : run directories go to ``output_dir/<study_name>/trial_NNNN``.
    sampler_seed : seed of the TPE sampler (None: random; give each worker its own).
    seed : the training seed of every trial (the same for all: trials differ by their settings only).
    timeout_s : this worker stops starting new trials after this many seconds.
    force : write into ``output_dir/<study_name>`` even if it holds another study's results
        (another storage, or files no study claims); without it such a folder is refused.

    The study folder is claimed for (study name, storage) before anything runs
    (:func:`cicy4lib.outputs.claim_folder`): a second search with the same (default) name on another
    database is refused instead of overwriting the first one's runs and ``best_trial.json``. A
    study name is one plain folder name. On every start, RUNNING trials of killed workers are
    marked failed (and queued again when they had started training) before the ``--trials``
    budget is counted (:func:`fail_stale_trials`), so a killed study always resumes.
    """
    import optuna  # lazy: imports optuna

    if trials < 1:
        raise ConfigurationError(f"--trials must be positive, got {trials}")
    if epochs < 1:
        raise ConfigurationError(f"--epochs must be positive, got {epochs}")
    name, recipe = _model_and_recipe(model, recipe)
    space = search_space(name, recipe)
    split_name = split if isinstance(split, str) else (getattr(split, "name", None) or "custom")
    study_name = outputs.child_name(study_name if study_name is not None else
                                    default_study_name(name, recipe, split_name, data),
                                    "study name")
    url = storage or DEFAULT_STORAGE
    study_dir = claim_study_folder(output_dir, study_name, url, force=force)
    sampler = optuna.samplers.TPESampler(seed=sampler_seed)
    study = optuna.create_study(study_name=study_name, storage=make_storage(url), direction="minimize",
                                sampler=sampler, pruner=_pruner(pruner, epochs), load_if_exists=True)
    info = {"model": name, "recipe": recipe, "split": split_name, "epochs": epochs, "data": provenance(data)}
    _claim_search(study, info, url)
    stale = fail_stale_trials(study)
    if stale:
        log(f"study {study_name}: {len(stale)} trial(s) left RUNNING by a killed worker marked failed "
            f"({', '.join(str(n) for n in stale[:10])}); those that had started training are queued again")

    def run(trial):
        return _run_trial(trial, name, data, split, recipe, epochs, study_dir, space, device, seed, progress)

    if _counted(study) < trials:
        _optimize(study, _objective(study, trials, run, log), trials, timeout_s)
    _write_best(study, study_dir, url)
    return study


def _model_and_recipe(model: str, recipe: str) -> tuple[str, str]:
    """The model's canonical name and the recipe's (``sklearn`` for a tree model)."""
    from ..models import canonical_name  # lazy: imports torch
    from ..models.trees import is_tree_model, tree_spec  # lazy: imports torch

    name = tree_spec(model).name if is_tree_model(model) else canonical_name(model)
    if is_tree_model(name):
        return name, "sklearn"
    return name, recipe_values(recipe)["recipe_name"]


def _claim_search(study, info: dict, url: str) -> None:
    """Record ``info`` in a new study; a study that searches another model, recipe or split is an error."""
    old = study.user_attrs.get("search")
    if old is None:
        study.set_user_attr("search", info)
    elif {k: old.get(k) for k in ("model", "recipe", "split")} != {k: info[k] for k in ("model", "recipe", "split")}:
        raise ConfigurationError(f"study {study.study_name!r} in {safe_url(url)} searches {old.get('model')} / "
                                 f"{old.get('recipe')} / split {old.get('split')}, not {info['model']} / "
                                 f"{info['recipe']} / {info['split']}; choose another --study name")


def _objective(study, trials: int, run, log):
    """Optuna's objective: ``run(trial)`` while the study has fewer than ``trials``; an interrupted
    trial is queued again, a failed one is recorded (a worker stops after MAX_FAILURES in a row)."""
    import optuna  # lazy: imports optuna

    failures = []

    def objective(trial):
        if _counted(study, before=trial.number) >= trials:  # another worker took the last slot meanwhile
            trial.set_user_attr("skipped", f"the study already had {trials} trials")
            raise _Surplus()
        try:
            value = run(trial)
        except optuna.TrialPruned as err:
            log(f"trial {trial.number}: pruned ({err})")
            raise
        except KeyboardInterrupt:
            # queue the same settings again: the next worker resumes this trial's run directory
            study.enqueue_trial(trial.params, user_attrs={"resume_of": _origin(trial)})
            trial.set_user_attr("interrupted", True)
            log(f"trial {trial.number}: interrupted; queued again (its run directory resumes)")
            raise
        except Exception as err:  # noqa: BLE001 - one bad trial must not end a shared study
            trial.set_user_attr("error", f"{type(err).__name__}: {err}"[:500])
            log(f"trial {trial.number}: failed ({type(err).__name__}: {err})")
            if _is_user_error(err):
                raise
            failures.append(trial.number)
            if len(failures) >= MAX_FAILURES:
                raise  # something is wrong with every trial: stop this worker, say why
            raise _TrialFailed(str(err)) from err
        failures.clear()
        log(f"trial {trial.number}: val loss {value:.5g} ({trial.params})")
        return value

    return objective


def _optimize(study, objective, trials: int, timeout_s) -> None:
    """Run trials until the study holds ``trials`` (all workers together) or ``timeout_s`` passes."""

    def enough(study_, _trial):
        # finished trials, plus those other workers are running now, fill the budget: stop here
        if _counted(study_) >= trials:
            study_.stop()

    with _quiet_optuna_warnings():
        try:
            study.optimize(objective, n_trials=None, timeout=timeout_s, callbacks=[enough],
                           catch=(_TrialFailed,), gc_after_trial=False, show_progress_bar=False)
        except _Surplus:
            pass


def claim_study_folder(output_dir, study_name: str, url: str, *, force: bool = False) -> Path:
    """``output_dir/study_name`` claimed for the study ``study_name`` in the storage ``url``
    (:func:`cicy4lib.outputs.claim_folder`); a folder of an earlier version (no owner record) whose
    ``best_trial.json`` names the same study and storage is adopted."""
    study_dir = outputs.child_path(output_dir, study_name, "study name")
    owner = {"study": study_name, "storage": storage_id(url)}
    if not force and not (study_dir / outputs.OWNER_FILE).exists() and (study_dir / "best_trial.json").is_file():
        try:
            best = json.loads((study_dir / "best_trial.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            best = None
        if isinstance(best, dict) and best.get("study") == study_name and \
                best.get("storage") in (safe_url(url), owner["storage"]):
            return outputs.claim_folder(study_dir, owner, what="search", force=True)
    return outputs.claim_folder(study_dir, owner, what="search", force=force)


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError, TypeError, OverflowError):
        return True  # another user's process, or no way to tell: assume alive
    return True


def fail_stale_trials(study) -> list[int]:
    """Mark FAILED the trials a killed worker left RUNNING, so that they no longer fill the study's
    ``--trials`` budget; return their numbers. A RUNNING trial is stale when

    - its heartbeat is older than the storage's grace period (database storage), or it has no
      heartbeat at all although the storage keeps them (every worker of this library beats from
      the start of its trial: a trial without one was started outside ``run_search`` and abandoned);
    - it was started on this machine by a process that no longer exists (any storage).

    A stale trial that had started training (it names a run directory) is queued again with the
    same parameters: the next trial continues that run (as a trial interrupted with Ctrl-C)."""
    from optuna.exceptions import UpdateFinishedTrialError  # lazy: imports optuna
    from optuna.storages._heartbeat import is_heartbeat_enabled  # lazy: imports optuna
    from optuna.trial import TrialState  # lazy: imports optuna

    storage = study._storage
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if not running:
        return []
    stale_ids = set()
    with _quiet_optuna_warnings():
        if is_heartbeat_enabled(storage):
            stale_ids.update(storage._get_stale_trial_ids(study._study_id))
            silent = _without_heartbeat(storage, running)
            if silent:
                # a worker records its first heartbeat right after creating its trial: give a trial
                # created a moment ago that moment before calling it abandoned
                now = datetime.datetime.now()
                youngest = min((now - t.datetime_start).total_seconds() if t.datetime_start else HEARTBEAT_WAIT_S
                               for t in silent)
                if youngest < HEARTBEAT_WAIT_S:
                    time.sleep(HEARTBEAT_WAIT_S - max(youngest, 0.0))
                    silent = _without_heartbeat(storage, silent)
                stale_ids.update(t._trial_id for t in silent)
    host = socket.gethostname()
    for t in running:
        attrs = t.user_attrs
        if attrs.get("host") == host and attrs.get("pid") is not None and not _alive(attrs["pid"]):
            stale_ids.add(t._trial_id)
    failed = []
    for t in running:
        if t._trial_id not in stale_ids:
            continue
        try:
            storage.set_trial_user_attr(t._trial_id, "stale", "left RUNNING by a killed worker; marked failed")
            if storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                failed.append(t)
        except UpdateFinishedTrialError:  # its worker (or another one) finished it meanwhile
            continue
    for t in failed:
        if t.user_attrs.get("run_dir") and not t.user_attrs.get("interrupted"):
            study.enqueue_trial(t.params, user_attrs={"resume_of": _origin(t)})
    return [t.number for t in failed]


HEARTBEAT_WAIT_S = 2.0  # how long a new trial may go without its first heartbeat


def _without_heartbeat(storage, trials) -> list:
    """The ``trials`` that have no heartbeat record ([] if the storage cannot say)."""
    try:
        from optuna.storages._rdb import models  # lazy: imports optuna
        from optuna.storages._rdb.storage import _create_scoped_session  # lazy: imports optuna

        ids = [t._trial_id for t in trials]
        backend = getattr(storage, "_backend", storage)  # a study's storage is a caching wrapper
        with _create_scoped_session(backend.scoped_session) as session:
            rows = (session.query(models.TrialHeartbeatModel.trial_id)
                    .filter(models.TrialHeartbeatModel.trial_id.in_(ids)).all())
        beating = {int(r[0]) for r in rows}
    except Exception:  # noqa: BLE001 - another storage or Optuna version: rely on the grace period only
        return []
    return [t for t in trials if t._trial_id not in beating]


class _Surplus(Exception):
    """A trial started after the study reached its --trials total (recorded as failed, "skipped")."""


class _TrialFailed(Exception):
    """A trial's training failed (recorded as failed with its error; the worker goes on)."""


MAX_FAILURES = 3  # consecutive failed trials after which a worker stops


def _is_user_error(err: Exception) -> bool:
    return isinstance(err, (ConfigurationError, RunLockedError))


def best_run_dir(study) -> Path | None:
    """Run directory of the study's best completed trial (None before the first one)."""
    try:
        best = study.best_trial
    except ValueError:
        return None
    path = best.user_attrs.get("run_dir")
    return Path(path) if path else None


def _write_best(study, study_dir: Path, url: str) -> Path | None:
    try:
        best = study.best_trial
    except ValueError:
        return None
    payload = {"study": study.study_name, "storage": safe_url(url), "trial": best.number, "value": best.value,
               "params": best.params, "run_dir": best.user_attrs.get("run_dir"),
               "host": best.user_attrs.get("host"), "search": study.user_attrs.get("search"),
               "trials": study_summary(study)}
    return atomic_write_json(payload, study_dir / "best_trial.json")


def study_summary(study) -> dict:
    """Counts of trials by state, e.g. ``{"COMPLETE": 12, "PRUNED": 7, "FAIL": 1}``."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def trials_frame(study):
    """The study's trials as a DataFrame (number, state, value, params, run_dir, epochs)."""
    frame = study.trials_dataframe(attrs=("number", "state", "value", "params", "user_attrs", "duration"))
    return frame


def main_search(args) -> int:
    """The ``search`` command (see :mod:`cicy4lib.jobs.cli`)."""
    import optuna  # lazy: imports optuna

    if args.quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = subsample(load_dataset(args.data), args.max_samples)
    study = run_search(args.model, data, trials=args.trials, storage=args.storage, study_name=args.study,
                       epochs=args.epochs, split=args.split, recipe=args.recipe, output_dir=args.output_dir,
                       pruner=args.pruner, sampler_seed=args.sampler_seed, seed=args.seed, device=args.device,
                       timeout_s=args.timeout, progress=not args.quiet,
                       log=(lambda *a: None) if args.quiet else print, force=getattr(args, "force", False))
    counts = study_summary(study)
    print(f"study {study.study_name} ({safe_url(args.storage or DEFAULT_STORAGE)}): "
          + ", ".join(f"{v} {k.lower()}" for k, v in sorted(counts.items())))
    best = best_run_dir(study)
    if best is not None:
        print(f"best trial {study.best_trial.number}: val loss {study.best_value:.5g}, {study.best_trial.params}")
        print(f"best run directory: {best}")
    return 0


def add_parser(sub) -> None:
    """Register the ``search`` sub-command on an argparse sub-parser collection."""
    p = sub.add_parser("search", help="Optuna hyperparameter search (shared storage, pruning, resumable)")
    p.add_argument("model", help="registry model or tree model (Trees-RF, ...)")
    p.add_argument("--trials", type=int, default=20, help="the study's total of finished trials (all workers)")
    p.add_argument("--storage", default=DEFAULT_STORAGE,
                   help="database URL (sqlite:///search.db, postgresql://...) or journal:///shared/path.log")
    p.add_argument("--study", default=None, help="study name (default: model_recipe_split_data)")
    p.add_argument("--epochs", type=int, default=30, help="maximum epochs per trial")
    p.add_argument("--recipe", default="paper", help="base recipe: paper, fast, cicyminer")
    p.add_argument("--data", default="sample")
    p.add_argument("--max-samples", type=int, default=None)
    p.add_argument("--split", default="72")
    p.add_argument("--output-dir", default=DEFAULT_OUTPUT_DIR, help="trial run directories go to DIR/<study>/")
    p.add_argument("--pruner", default="median", choices=["median", "hyperband", "none"])
    p.add_argument("--sampler-seed", type=int, default=None, help="TPE sampler seed (give each worker its own)")
    p.add_argument("--seed", type=int, default=42, help="training seed of every trial")
    p.add_argument("--device", default=None)
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--force", action="store_true",
                   help="write into DIR/<study> even if it holds another study's results (another storage)")
    p.set_defaults(func=lambda args: main_search(args))


# --------------------------------------------------------------------------- notebook helpers


def study_data_label(study) -> str:
    """The data label of the study's trials (from the provenance the search recorded)."""
    prov = (study.user_attrs.get("search") or {}).get("data") or {}
    return data_label(SimpleNamespace(provenance=prov)) if prov.get("kind") else "data unknown"


# the search notebook's parameters, one keyword each
def notebook_study(study_name=None, storage: str | None = None, *, model: str = "HeLukas-FC", trials: int = 0,
                   epochs: int = 5, data="sample", max_samples=None, recipe: str = "paper",
                   output_dir=DEFAULT_OUTPUT_DIR):
    """The study the search notebook shows: ``trials > 0`` first runs (or resumes) the search up to that
    total; ``study_name`` None picks the study of ``model`` (by :func:`default_study_name`), or the only
    study in the storage."""
    import optuna  # lazy: imports optuna

    if trials and trials > 0:
        dataset = subsample(load_dataset(data), max_samples)
        return run_search(model, dataset, trials=trials, storage=storage, study_name=study_name, epochs=epochs,
                          recipe=recipe, output_dir=output_dir, log=lambda *a: None)
    store = make_storage(storage)
    names = optuna.get_all_study_names(store)
    if study_name is None:
        if len(names) != 1:
            raise ConfigurationError(f"{safe_url(storage or DEFAULT_STORAGE)} holds {len(names)} studies "
                                     f"({', '.join(names) or 'none'}); name one (study = ...)")
        study_name = names[0]
    return optuna.load_study(study_name=study_name, storage=store)


def study_figures(study, figures_dir, *, prefix: str | None = None) -> list[Path]:
    """Optuna's matplotlib plots of the study (history, intermediate values, parameter importances,
    slices), each titled with the data label; written as PNG files, returned as paths.
    Plots a study cannot have yet (importances need two completed trials) are left out."""
    import matplotlib  # lazy: imports matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # lazy: imports matplotlib
    import optuna.visualization.matplotlib as ovm  # lazy: imports matplotlib, optuna

    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    prefix = prefix or re.sub(r"[^A-Za-z0-9._-]+", "_", f"search_{study.study_name}")
    note = study_data_label(study)
    plots = {"history": ovm.plot_optimization_history, "intermediate": ovm.plot_intermediate_values,
             "importances": ovm.plot_param_importances, "slice": ovm.plot_slice}
    paths = []
    with _quiet_optuna_warnings():
        for key, plot in plots.items():
            try:
                ax = plot(study)
            except (ValueError, RuntimeError, ZeroDivisionError):  # not enough trials for this plot yet
                plt.close("all")
                continue
            fig = np.ravel(ax)[0].figure
            fig.suptitle(f"{study.study_name}: {key} ({note})", fontsize=9)
            path = figures_dir / f"{prefix}_{key}.png"
            fig.savefig(path, dpi=110, bbox_inches="tight")
            plt.close(fig)
            paths.append(path)
    return paths
