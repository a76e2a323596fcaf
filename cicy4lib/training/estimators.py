"""Fit a scikit-learn estimator (the tree baselines) into a run directory: what :func:`train`
does for a model that has no epochs."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..constants import HODGE
from ..data.splits import as_split
from ..errors import RunExistsError
from ..fileio import jsonable
from ..outputs import child_path
from ..models.trees import (CONFIG_FILE as TREE_CONFIG_FILE, fit_tree_model, huber_loss, is_tree_run, known_rows,
                            load_tree_model, save_tree_model, tree_spec)
from .config import TrainResult
from .runs import RunLock, data_fingerprint, data_provenance


# many keyword options: the same signature as train() (cicy4lib.train_model dispatches to either)
def train_tree(model_name, data, split="72", config=None, *, output_dir="Results_p2_Trained_models",
               run_name=None, resume: bool = True, overwrite: bool = False, progress: bool = True,
               params: dict | None = None, **_ignored):
    """Fit a tree baseline and write its run directory; what :func:`cicy4lib.training.loop.train` does for
    a tree model name. Returns a :class:`cicy4lib.training.config.TrainResult` (``stopped="fitted"``).

    A run directory that already holds a tree model of the same model, split and data is loaded,
    not refitted, unless ``resume=False``; a run of anything else there is refused unless
    ``overwrite=True``.
    """
    
    spec = tree_spec(model_name)
    split = as_split(data, split)
    split_name = split.name or "custom"
    seed = int(getattr(config, "seed", 42) if config is not None else 42)
    n_jobs = int(getattr(config, "num_threads", None) or 1) if config is not None else 1
    run_dir = (child_path(output_dir, run_name, "run name") if run_name is not None
               else Path(output_dir) / f"{spec.name}_{split_name}")
    fingerprint = data_fingerprint(data, split)
    settings = {**spec.params, **(params or {})}
    run_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(run_dir):
        if (run_dir / TREE_CONFIG_FILE).exists() and not overwrite:
            old = None
            if is_tree_run(run_dir):
                old = json.loads((run_dir / TREE_CONFIG_FILE).read_text(encoding="utf-8"))
            same = (old is not None and old.get("arch") == spec.name and old.get("split") == split_name
                    and old.get("seed") == seed and old.get("recipe") == jsonable(settings)
                    and (old.get("data_fingerprint") or {}).get("content_sha256") == fingerprint["content_sha256"])
            if same and resume:
                model, cfg = load_tree_model(run_dir)
                return TrainResult(model, pd.DataFrame(), run_dir, float(cfg.get("best_val_loss", float("nan"))),
                                   "fitted", 1, 1, float(cfg.get("seconds", 0.0)))
            raise RunExistsError(f"{run_dir} holds a run ({'another' if not same else 'this'} model/data/split); "
                                 "pass overwrite=True (CLI: --overwrite) to replace it, or choose another run_name")
        t0 = time.perf_counter()
        model = fit_tree_model(spec.name, data, split.train, seed=seed, n_jobs=n_jobs, params=params)
        seconds = time.perf_counter() - t0
        vidx, yv = known_rows(data, split.valid)
        pv = model.predict_conf(np.asarray(data.conf)[vidx]) if len(vidx) else np.zeros((0, 4))
        val_loss = huber_loss(pv, yv) if len(vidx) else float("nan")
        acc = {h: 100.0 * float(np.mean(np.rint(pv[:, j]) == yv[:, j])) for j, h in enumerate(HODGE)} if len(vidx) else {}
        meta = {"split": split_name, "seed": seed, "recipe": settings, "recipe_name": "sklearn",
                "metrics": {"val_accuracy": acc, "val_huber_raw": val_loss},
                "data": data_provenance(data), "data_source": str(getattr(data, "source", "")),
                "data_fingerprint": fingerprint, "n_train": int(len(split.train)), "n_valid": int(len(vidx)),
                "best_val_loss": val_loss, "epoch": 1, "seconds": seconds, "description": spec.description}
        save_tree_model(run_dir, model, meta)
    if progress:
        print(f"{spec.name}: fitted on {len(split.train):,} rows in {seconds:.1f} s; "
              f"validation accuracy " + ", ".join(f"{h} {a:.1f}%" for h, a in acc.items()))
    history = pd.DataFrame({"train_loss": [np.nan], "val_loss": [val_loss], "epoch": [1], "lr": [np.nan],
                            "seconds": [seconds]})
    return TrainResult(model, history, run_dir, val_loss, "fitted", 1, 1, seconds)
