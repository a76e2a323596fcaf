"""Start a run over with the next seed when its network collapses to a constant predictor."""
from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

from .config import TrainConfig, TrainResult
from .loop import train
from .runs import STATE_FILE, load_state, run_directory


def _saved_seed(run_dir: Path):
    """The seed of the run saved in ``run_dir`` (None when there is none or it cannot be read)."""
    try:
        return int(load_state(run_dir / STATE_FILE)["config"]["seed"])
    except Exception:  # noqa: BLE001 - train() itself reports a damaged state
        return None


def train_restarting(model_name, data, split="72", config: TrainConfig | None = None, *, restarts: int = 2,
                     say=None, **kwargs) -> tuple[TrainResult, list[dict]]:
    """:func:`train`, started over with the next seed when the network collapses to a constant predictor.

    The run stops as soon as its validation predictions are the same for every row
    (``stop_if_collapsed``; see :data:`COLLAPSE_SPREAD`); it is then trained afresh, in the same run
    directory, with ``seed + 1``, ... up to ``restarts`` times. Every attempt is returned, so the
    caller reports them (a restart is a choice made after seeing a failure: say so).
    ``restarts=0`` is :func:`train` itself (a collapse is warned, not stopped). Resuming
    (``resume=True``, the default) continues the run saved in the run directory even when an
    earlier call restarted it: its seed is taken if it is one of ``seed + 1`` .. ``seed + restarts``.

    Returns
    -------
    (TrainResult, list of dict)
        The last attempt's result and one ``{"seed", "stopped", "epochs", "seconds"}`` per attempt.
    """
    if int(restarts) != restarts or restarts < 0:
        raise ValueError(f"restarts must be a non-negative integer, got {restarts!r}")
    config = dataclasses.replace(config or TrainConfig(), stop_if_collapsed=restarts > 0)
    first = 0
    if restarts and kwargs.get("resume", True):
        run_dir = run_directory(model_name, data, split, kwargs.get("output_dir", "Results_p2_Trained_models"),
                                kwargs.get("run_name"))
        saved = _saved_seed(run_dir)  # None when no run is saved there
        if saved is not None and config.seed < saved <= config.seed + restarts:  # an earlier call restarted it
            first = saved - config.seed
            config = dataclasses.replace(config, seed=saved)
    attempts = []
    for attempt in range(first, int(restarts) + 1):
        if attempt > first:
            config = dataclasses.replace(config, seed=config.seed + 1)
            kwargs.update(resume=False, overwrite=True)  # the collapsed attempt's files are replaced
        with warnings.catch_warnings():
            if restarts:  # the restart is reported below instead
                warnings.filterwarnings("ignore", message=".*collapsed to a constant predictor")
            result = train(model_name, data, split, config, **kwargs)
        attempts.append({"seed": config.seed, "stopped": result.stopped, "epochs": result.epochs,
                         "seconds": round(result.seconds, 1)})
        if result.stopped != "collapsed":
            break
        if say is not None:
            say(f"{model_name}: seed {config.seed} collapsed to a constant predictor after {result.epochs} "
                f"epoch(s)" + (f"; starting over with seed {config.seed + 1}" if attempt < restarts else ""))
    return result, attempts
