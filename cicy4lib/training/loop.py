"""Train one network with the paper's recipe: fast, resumable, with a wall-clock budget.

The recipe (SPEC §3) is :class:`TrainConfig`'s defaults: HuberLoss(δ=1), AdamW(lr 0.01),
batch 128 shuffled, ReduceLROnPlateau('min', factor 0.1, patience 10, min_lr 1e-8), at most 550
epochs and the published notebooks' early stopping (patience 20). :func:`finetune_config` is the
80% recipe (min_lr 1e-7), used with ``init_from=<the 72% run>``.

>>> from cicy4lib import load_dataset
>>> from cicy4lib.training.loop import TrainConfig, train
>>> result = train("LSTM-448", load_dataset("sample"), "72", TrainConfig(max_epochs=3))  # doctest: +SKIP
>>> result.stopped, result.best_val_loss                                               # doctest: +SKIP

Run directory ``<output_dir>/<run_name>`` (default run name ``f"{model}_{split}"``):

``model.pt`` / ``model.json``
    best weights (a plain state_dict) and their JSON config, written when the validation loss improves.
``state.pt``
    everything needed to continue (model, optimizer, scheduler, all RNG states, epoch, early-stopping
    state, history), written atomically after every epoch. ``train(..., resume=True)`` continues from
    it and produces exactly what an uninterrupted run would have produced (bit for bit on CPU).
``log.csv``
    one row per epoch: ``train_loss,val_loss,epoch,lr,seconds`` (the paper's two columns first).

Speed: the train and validation tensors are moved to the device once; each epoch draws a
permutation from a dedicated generator and slices batches by index (no DataLoader, no per-sample
indexing); the loss is accumulated on the device and read back once per epoch; AdamW uses its
fused kernel; validation runs in large batches under ``torch.inference_mode`` (its loss is still
the mean over batches of ``batch_size``, as the notebooks compute it). ``amp=True`` enables mixed
precision (:func:`amp_dtype`): bfloat16 or float16 + GradScaler autocast on CUDA, where the LSTM/GRU
layers run on cuDNN's RNN kernels, and bfloat16 autocast on CPUs that run it natively (AVX512-BF16,
AMX: oneDNN's LSTM and linear kernels, 1.6-1.9x float32 at equal threads on this project's 2-vCPU
machine); the output layer stays float32 (:func:`float32_output`).
cuDNN is set to deterministic kernels by default (``deterministic=False`` enables
``cudnn.benchmark`` instead: possibly faster, no longer reproducible); these flags are global.

Recipes (:mod:`cicy4lib.training.recipes`): ``TrainConfig()`` is the paper's; ``TrainConfig.fast()``
(``--recipe fast``) is an opt-in, *not the paper's* recipe that standardises the targets (the
statistics are folded into the saved model's last linear layer, so ``model.pt`` still outputs raw
Hodge numbers), starts the output bias at the target mean, uses batch 512 with a scaled lr,
warm-up + cosine (one cycle) and early stopping. A model with ``training_loss(x, y)`` is trained
on that objective instead of the Huber loss.

CPU threads: unless ``num_threads`` is given, :func:`cicy4lib.threads.configure_threads` picks the
intra-op thread count for the call (one thread per process on small machines: torch's default
of one per core is several times slower there as soon as another process runs).

GPU path and what is deterministic (``deterministic=True`` is the default; these are
expectations, which ``benchmarks/gpu_check.sh`` checks on a GPU):

- float32 (``amp=False``): cuDNN RNN kernels, cuDNN deterministic algorithms,
  ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set if unset: expected reproducible run to run on the same
  GPU model, driver and torch build; never bit-equal to the CPU.
- ``amp=True``: bfloat16 autocast on Ampere and newer (compute capability >= 8.0; no loss
  scaling needed), float16 autocast + GradScaler on older GPUs (P100, T4, V100);
  ``amp_dtype`` forces one. Autocast adds no nondeterminism of its own (same expectation as
  float32); the fused AdamW takes the GradScaler's inf check on the device, so no step
  synchronises with the host.
- ``deterministic=False``: ``cudnn.benchmark`` autotuning (kernel choice can differ between runs:
  not reproducible).
- ``compile=True``: ``torch.compile`` (``compile_mode="reduce-overhead"`` also captures CUDA
  graphs, which pays off where kernel-launch overhead dominates: small models, batch <= 512).
  Reproducible only as far as the generated kernels are (``max-autotune`` may choose
  differently between runs); first epoch pays the compilation.
- CPU ``amp=True`` (bfloat16 autocast): deterministic run to run for a fixed thread count, like
  float32 on CPU (resume stays bit-identical); results differ from float32.
- Data-parallel runs (torchrun, :mod:`cicy4lib.training.distributed`): NCCL all-reduce is reproducible for a
  fixed world size and topology in practice, not guaranteed; never bit-equal to one process.

The loss is accumulated on the device and read once per epoch; the learning rate of the
one-cycle schedule is set per step from Python floats (no synchronisation); validation runs in
``eval_batch_size`` chunks. Inputs live on the device as int8 matrices (4x less memory than
float32) and are divided by the scale batch by batch, which gives exactly ``data.features()``.

Early stopping and the time budget are checked after each epoch; the budget stops training when
the next epoch would not finish in time (elapsed + last epoch's duration > budget), leaving a
resumable ``state.pt``. A run killed mid-epoch resumes from the last completed epoch.
"""
from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from tqdm import tqdm  # a plain text bar: terminals, notebooks and papermill logs alike

from ..data.splits import as_split
from ..errors import CheckpointError, RunMismatchError
from ..fileio import atomic_torch_save
from ..models import build_model, canonical_name
from ..models.checkpoint import read_weights, save_checkpoint
from ..models.hooks import hooks_of
from ..models.registry import SKLEARN, model_kind
from ..threads import configure_threads
from . import distributed as ddp
from .config import (COLLAPSE_SPREAD, FINISHED, LOG_COLUMNS, METRIC_COLUMNS, STATE_FORMAT, EarlyStopping, TrainConfig,
                     TrainResult, early_stopping_step)
from .device import amp_dtype, as_input, float32_output, resolve_device
from .epochs import device_tensors, make_optimizer, onecycle_lr, train_epoch, validate, validation_loss  # noqa: F401  (validation_loss: part of this module's API)
from .estimators import train_tree
from .recipes import default_epochs
from .runs import data_fingerprint, data_provenance, open_run, run_directory, write_log
from .seeding import rng_state, seed_everything, set_rng_state
from .targets import check_foldable, output_layer, output_name, raw_output_model, target_stats


def _quiet() -> bool:
    return os.environ.get("CICY4_QUIET", "").strip().lower() in ("1", "true", "yes")


# --------------------------------------------------------------------------- checkpoints of a run


def _save_best(run_dir: Path, model, meta: dict) -> None:
    save_checkpoint(run_dir, model, meta)  # model.pt (state_dict) + model.json, both atomic


def _load_best_weights(run_dir: Path, model) -> None:
    state_dict = read_weights(run_dir)  # SHA-256 checked; damage is a CheckpointError naming the file
    model.load_state_dict(state_dict)
    model.eval()


def _write_log(run_dir: Path, history: dict) -> pd.DataFrame:
    return write_log(run_dir, history, LOG_COLUMNS)


def _check_resumable(state: dict, name: str, split_name: str, config: TrainConfig, path: Path) -> None:
    hint = "Pass overwrite=True (CLI: --overwrite) to start over, or choose another run_name/output_dir."
    if state.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{path}: unknown state format {state.get('format')!r}. {hint}")
    if state["model_name"] != name:
        raise RunMismatchError(f"{path} belongs to model {state['model_name']!r}, not {name!r}. {hint}")
    if state["split"] != split_name:
        raise RunMismatchError(f"{path} was trained on split {state['split']!r}, not {split_name!r}. {hint}")
    changed = {k: (v, config.recipe()[k]) for k, v in state["recipe"].items() if config.recipe().get(k) != v}
    if changed:
        text = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in changed.items())
        raise RunMismatchError(f"{path}: the recipe differs from the saved run ({text}). {hint}")


# --------------------------------------------------------------------------- train


# eleven parameters: the public API (cicy4lib.train_model) as notebooks call it; recipe values are in config
def train(model_name, data, split="72", config: TrainConfig | None = None, *,
          output_dir="Results_p2_Trained_models", run_name=None, resume=True, init_from=None,
          progress=True, overwrite=False, on_epoch=None) -> TrainResult:
    """Train ``model_name`` on ``data`` with the paper's recipe; resumable.

    ``on_epoch(epoch, train_loss, val_loss)``, if given, is called after each epoch's state is saved
    (the Optuna search reports to its pruner there; an exception it raises ends training, resumably).

    Parameters
    ----------
    model_name : str
        A registered architecture, e.g. ``"LSTM-448"`` (see :func:`cicy4lib.models.list_models`).
    data : CICYData
        Needs ``features(idx)`` (float32 (n,16,20)), ``hodge`` (int64 (N,4)) and ``scale``.
    split : str or Split
        ``"72"``, ``"80"``, ``"cv0"``..``"cv4"``, ... (see :func:`cicy4lib.data.splits.get_split`) or a Split.
    config : TrainConfig, optional
        Defaults to the paper's recipe -- in full on the real list with a GPU; elsewhere capped at
        :data:`cicy4lib.training.recipes.EPOCH_CAP` epochs, said in one line (pass a config to choose).
    output_dir, run_name
        The run directory is ``output_dir/run_name``; run_name defaults to ``f"{model}_{split}"``.
    resume : bool
        Continue from ``state.pt`` when the run directory has one (a finished run returns at once);
        the saved run must be of the same model, split, recipe and data (refused otherwise).
        False starts over, which a directory holding a run refuses unless ``overwrite=True``.
    init_from : path, optional
        Run directory or ``model.pt`` to initialise the weights from (fine-tuning); ignored when
        resuming, since the saved state already holds the weights.
    progress : bool
        tqdm bar over epochs (also off when the environment sets ``CICY4_QUIET=1``).
    overwrite : bool
        Start over even if the run directory holds a run (its files are replaced).

    on_epoch : callable, optional
        ``on_epoch(epoch, train_loss, val_loss)`` after each epoch's state is saved.

    Returns
    -------
    TrainResult
        The model with the best weights (lowest validation loss), the per-epoch history, the run
        directory, how training stopped and the per-epoch metrics.

    Raises
    ------
    RunLockedError
        When another trainer holds the run directory.
    RunExistsError, RunMismatchError
        When the run directory holds another run (see ``resume`` and ``overwrite``).
    DataError
        When the split's train or validation set is empty.

    The run directory is locked while training (a second trainer gets a ``RunLockedError``) and
    every check (saved state, data fingerprint, ``init_from``) runs before anything in it changes
    (:func:`cicy4lib.training.runs.open_run`).
    """
    if config is None:  # the paper's recipe; capped on a CPU or on data that is not the real list
        epochs, note = default_epochs(None, data=data)
        config = TrainConfig() if epochs is None else TrainConfig(max_epochs=epochs)
        if note:
            print(note, flush=True)
    if model_kind(model_name) == SKLEARN:  # the registry says: estimators are fitted, no epochs
        return train_tree(model_name, data, split, config, output_dir=output_dir, run_name=run_name,
                          resume=resume, overwrite=overwrite, progress=progress)
    name = canonical_name(model_name)
    split = as_split(data, split)
    split_name = split.name or "custom"
    config = config.for_train_rows(len(split.train), multiple=ddp.world_size())  # the fast recipe's adaptive batch
    run_dir = run_directory(name, data, split, output_dir, run_name)
    device = resolve_device(config.device)
    if ddp.is_initialized() and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())  # torchrun: this rank's GPU
    amp = (amp_dtype(device, config) or False) if config.amp else False
    if config.amp and not amp:
        warnings.warn("amp=True: this CPU has no native bfloat16 (AVX512-BF16/AMX), where autocast is "
                      "slower than float32; training in float32", stacklevel=2)

    # lock, then check everything (state, data fingerprint, init_from) before changing anything;
    # under DDP only the main rank locks and writes, the others only check
    run = open_run(run_dir, resume=resume, overwrite=overwrite, fingerprint=data_fingerprint(data, split),
                   init_from=init_from, arch=name, log_columns=LOG_COLUMNS, writer=ddp.is_main(),
                   check_state=lambda saved, path: _check_resumable(saved, name, split_name, config, path))
    state = run.state
    ddp.barrier()

    old_threads = torch.get_num_threads()
    configure_threads(config.num_threads)  # None: the rule of cicy4lib.threads (1 per process on small machines)
    try:
        seed_everything(config.seed, config.deterministic)
        model = build_model(name)
        if run.init_weights is not None:
            model.load_state_dict(run.init_weights)  # fine-tuning from init_from (checked by open_run)
        model.to(device)
        if state is not None and (state["stopped"] in ("early_stopping", "collapsed")
                                  or state["epoch"] >= config.max_epochs):
            return _finished_result(model, run_dir, state, config)
        return _fit(_Job(model, name, data, split, split_name, config, device, amp, run_dir, state, init_from,
                         progress, on_epoch))
    finally:
        torch.set_num_threads(old_threads)
        run.close()


def _finished_result(model, run_dir, state, config) -> TrainResult:
    """Resuming a run that already ended: load its best weights, train nothing."""
    _load_best_weights(run_dir, model)
    stopped = state["stopped"] if state["stopped"] in FINISHED else "max_epochs"
    history = pd.DataFrame(state["history"], columns=LOG_COLUMNS)
    return TrainResult(model, history, run_dir, state["best_val_loss"], stopped, state["best_epoch"],
                       state["epoch"], state["seconds"], pd.DataFrame(state.get("metrics") or {}))


@dataclass
class _Job:
    """One call of :func:`train` as :func:`_fit` sees it (one value instead of thirteen parameters)."""

    model: torch.nn.Module
    name: str
    data: object
    split: object
    split_name: str
    config: TrainConfig
    device: torch.device
    amp: object  # False, or the autocast dtype
    run_dir: Path
    state: dict | None
    init_from: object
    progress: bool
    on_epoch: Callable | None = None

    @property
    def fresh(self) -> bool:
        """A new run from random weights (neither resumed nor fine-tuned)."""
        return self.state is None and self.init_from is None


@dataclass
class _Tensors:
    """The train and validation rows on the device, and the targets the loss sees."""

    x_train: torch.Tensor
    y_fit: torch.Tensor  # training targets in training units (standardised for the fast recipe)
    x_valid: torch.Tensor
    y_val_fit: torch.Tensor
    y_valid: torch.Tensor  # raw Hodge numbers
    stats: tuple | None  # (mean, std) of the train targets when standardised
    scale: float


@dataclass
class _Optimisation:
    """Optimizer, schedules and the data-parallel batch split of a run."""

    optimizer: torch.optim.Optimizer
    scheduler: object
    scaler: object
    shuffle: torch.Generator
    world: int
    rank_batch: int
    steps_per_epoch: int
    total_steps: int
    lr_at: Callable | None = None


@dataclass
class _Progress:
    """What the epochs so far left: logs, early-stopping state, counters."""

    history: dict
    metrics: dict
    stopper: EarlyStopping = field(default_factory=EarlyStopping)
    epoch: int = 0
    best_epoch: int = 0
    seconds: float = 0.0
    step: int = 0


def _prepare_tensors(job: _Job) -> _Tensors:
    model, config = job.model, job.config
    x_train, y_train = device_tensors(job.data, job.split.train, "train", job.device)
    x_valid, y_valid = device_tensors(job.data, job.split.valid, "valid", job.device)
    scale = float(job.data.scale)
    hooks = hooks_of(model)
    if job.amp and not hooks.has_own_loss:
        float32_output(model)  # exact integers need float32 outputs (see float32_output)
    if job.fresh and hooks.fit_input_scaling is not None:
        hooks.fit_input_scaling(as_input(x_train, scale))  # input rescaling with train statistics (CICYMiner)
    # targets: raw (the paper) or standardised with the train statistics (fast recipe)
    stats = None
    if config.standardize_targets:
        stats = target_stats(y_train)
        check_foldable(model, as_input(x_valid[:4], scale), stats)
        if job.fresh:
            with torch.no_grad():
                output_layer(model).bias.zero_()  # the output bias starts at the target mean
    y_fit = y_train if stats is None else (y_train - stats[0]) / stats[1]
    y_val_fit = y_valid if stats is None else (y_valid - stats[0]) / stats[1]
    return _Tensors(x_train, y_fit, x_valid, y_val_fit, y_valid, stats, scale)


def _make_optimisation(job: _Job, n_train: int) -> _Optimisation:
    config = job.config
    optimizer = make_optimizer(job.model, config)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, "min", factor=config.lr_factor, patience=config.lr_patience, min_lr=config.min_lr)
    scaler = torch.amp.GradScaler("cuda") if job.amp == torch.float16 else None
    shuffle = torch.Generator().manual_seed(config.seed)  # CPU generator: same permutations on any device
    world = ddp.world_size()
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by the {world} ranks")
    rank_batch = config.batch_size // world
    steps_per_epoch = math.ceil((n_train // world if world > 1 else n_train) / rank_batch)
    total_steps = config.max_epochs * steps_per_epoch  # the one-cycle schedule's length (fixed at the start)
    return _Optimisation(optimizer, scheduler, scaler, shuffle, world, rank_batch, steps_per_epoch, total_steps)


def _restore(job: _Job, opt: _Optimisation) -> _Progress:
    """A fresh run's empty progress, or the saved run's (weights, optimizer and RNG states too)."""
    state = job.state
    if state is None:
        return _Progress({col: [] for col in LOG_COLUMNS}, {col: [] for col in METRIC_COLUMNS})
    job.model.load_state_dict(state["model"])
    opt.optimizer.load_state_dict(state["optimizer"])
    opt.scheduler.load_state_dict(state["scheduler"])
    if opt.scaler is not None and state.get("scaler"):
        opt.scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"], opt.shuffle)
    epoch = state["epoch"]
    saved_metrics = state.get("metrics") or {}
    opt.total_steps = state.get("total_steps", opt.total_steps)
    return _Progress(history={col: list(state["history"][col]) for col in LOG_COLUMNS},
                     metrics={col: list(saved_metrics.get(col, [float("nan")] * epoch)) for col in METRIC_COLUMNS},
                     stopper=EarlyStopping(state["best_val_loss"], state["counter"]), epoch=epoch,
                     best_epoch=state["best_epoch"], seconds=state["seconds"],
                     step=state.get("step", epoch * opt.steps_per_epoch))


def _run_meta(job: _Job, t: _Tensors, world: int) -> dict:
    """What model.json records about the run besides the weights."""
    config, amp = job.config, job.amp
    meta = {"arch": job.name, "scale": t.scale, "split": job.split_name, "seed": config.seed,
            "recipe_name": config.recipe_name, "recipe": config.recipe(), "metrics": {},
            "data_source": str(getattr(job.data, "source", "")),
            "n_train": len(t.x_train), "n_valid": len(t.x_valid),
            "init_from": None if job.init_from is None else str(job.init_from),
            "world_size": world, "amp": str(amp).replace("torch.", "") if amp else False}
    meta["data"] = data_provenance(job.data)  # the dataset's provenance (a minimal one for plain data)
    meta["data_fingerprint"] = data_fingerprint(job.data, job.split)  # checked when the run is resumed
    if t.stats is not None:
        meta.update(target_mean=t.stats[0].tolist(), target_std=t.stats[1].tolist(),
                    target_standardisation=f"folded into {output_name(job.model)} of model.pt; "
                                           "model.pt outputs raw Hodge numbers")
    return meta


def _warn_collapsed(job: _Job, epoch: int, spread: float) -> None:
    config = job.config
    warnings.warn(f"{job.name}: after epoch {epoch} the validation predictions are the same for every "
                  f"row (spread {spread:.2g} Hodge units): the network has collapsed to a constant "
                  f"predictor (dead ReLUs, a saturated RNN), which in our measurements did not "
                  f"recover within 8 epochs; consider starting over with another seed "
                  f"(seed {config.seed} now; train --restarts N does it)"
                  + ("; stopping (stop_if_collapsed)" if config.stop_if_collapsed else ""),
                  stacklevel=4)


def _stop_reason(job: _Job, stop: bool, collapsed: bool, epoch: int, elapsed: float, epoch_seconds: float):
    """Why the run ends after this epoch, or None to go on."""
    config = job.config
    if stop:
        return "early_stopping"
    if collapsed and config.stop_if_collapsed:
        return "collapsed"
    if epoch >= config.max_epochs:
        return "max_epochs"
    if config.time_budget_h is not None and ddp.broadcast_float(
            float(elapsed + epoch_seconds > config.time_budget_h * 3600), job.device):
        return "time_budget"  # the next epoch would not finish within the budget
    return None


def _state_record(job: _Job, t: _Tensors, opt: _Optimisation, p: _Progress, meta: dict, stopped) -> dict:
    """Everything ``state.pt`` holds to continue the run exactly."""
    config, stats = job.config, t.stats
    return {"format": STATE_FORMAT, "model_name": job.name, "split": job.split_name, "recipe": config.recipe(),
            "config": config.to_dict(), "epoch": p.epoch, "best_val_loss": p.stopper.best,
            "counter": p.stopper.counter, "best_epoch": p.best_epoch, "seconds": p.seconds,
            "stopped": stopped or "running", "history": p.history, "metrics": p.metrics,
            "step": p.step, "total_steps": opt.total_steps, "world_size": opt.world,
            "target_stats": None if stats is None else {"mean": stats[0].cpu(), "std": stats[1].cpu()},
            "model": job.model.state_dict(), "optimizer": opt.optimizer.state_dict(),
            "scheduler": opt.scheduler.state_dict(), "scaler": opt.scaler.state_dict() if opt.scaler else {},
            "rng": rng_state(opt.shuffle), "data_fingerprint": meta["data_fingerprint"]}


def _fit(job: _Job) -> TrainResult:
    t_start = time.perf_counter()
    main = ddp.is_main()
    model, config, device, amp = job.model, job.config, job.device, job.amp
    t = _prepare_tensors(job)
    opt = _make_optimisation(job, len(t.x_train))
    p = _restore(job, opt)
    if config.schedule == "onecycle":
        def lr_at(i, _total=opt.total_steps):
            return onecycle_lr(i, _total, config.lr, config.warmup_fraction, config.final_lr_fraction)
        opt.lr_at = lr_at
    compiled = torch.compile(model, mode=config.compile_mode) if config.compile else model
    loss_module = ddp.wrap(compiled, config.huber_delta, device)
    meta = _run_meta(job, t, opt.world)

    bar = tqdm(total=config.max_epochs, initial=p.epoch, desc=job.name, unit="epoch",
               disable=not job.progress or _quiet() or not main, dynamic_ncols=True)
    stopped, warned_collapse = "max_epochs", False
    try:
        while p.epoch < config.max_epochs:
            t_epoch = time.perf_counter()
            lr = opt.optimizer.param_groups[0]["lr"] if opt.lr_at is None else opt.lr_at(p.step)
            perm = ddp.shard(torch.randperm(len(t.x_train), generator=opt.shuffle)).to(device)
            train_loss = train_epoch(compiled, t.x_train, t.y_fit, perm, batch_size=opt.rank_batch,
                                     optimizer=opt.optimizer, delta=config.huber_delta, amp=amp, scaler=opt.scaler,
                                     augment=config.augment_permutations, scale=t.scale, loss_module=loss_module,
                                     lr_at=opt.lr_at, first_step=p.step)
            train_loss = ddp.mean_float(train_loss, device)
            p.step += math.ceil(len(perm) / opt.rank_batch)
            val_loss, val_metrics = validate(compiled, model, t.x_valid, t.y_val_fit, t.y_valid, t.stats, t.scale,
                                              config, amp)
            spread = val_metrics["val_pred_spread"]
            val_loss = ddp.broadcast_float(val_loss, device)
            p.epoch += 1
            collapsed = len(t.x_valid) > 1 and ddp.broadcast_float(spread, device) < COLLAPSE_SPREAD
            if collapsed and not warned_collapse and main:
                warned_collapse = True
                _warn_collapsed(job, p.epoch, spread)
            p.stopper, improved, stop = early_stopping_step(p.stopper, val_loss, config.patience)
            if improved:
                p.best_epoch = p.epoch
                if main:
                    _save_best(job.run_dir, raw_output_model(model, t.stats),
                               {**meta, "best_val_loss": val_loss, "epoch": p.epoch, "metrics": dict(val_metrics)})
            if not stop and opt.lr_at is None:
                opt.scheduler.step(val_loss)  # after the early-stopping check, as the notebooks do

            epoch_seconds = time.perf_counter() - t_epoch
            p.seconds += epoch_seconds
            for col, value in zip(LOG_COLUMNS, (train_loss, val_loss, p.epoch, lr, epoch_seconds)):
                p.history[col].append(value)
            for col in METRIC_COLUMNS:
                p.metrics[col].append(p.seconds if col == "elapsed" else val_metrics.get(col, float("nan")))
            stopped = _stop_reason(job, stop, collapsed, p.epoch, time.perf_counter() - t_start, epoch_seconds)
            if main:
                _save_state(job.run_dir / "state.pt", _state_record(job, t, opt, p, meta, stopped))
                _write_log(job.run_dir, p.history)
            bar.update(1)
            bar.set_postfix(train=f"{train_loss:.4g}", val=f"{val_loss:.4g}", best=f"{p.stopper.best:.4g}",
                            lr=f"{lr:.1e}")
            if job.on_epoch is not None:
                job.on_epoch(p.epoch, train_loss, val_loss)  # e.g. optuna's report + prune (cicy4lib.jobs.search)
            if stopped:
                break
    finally:
        bar.close()

    ddp.barrier()  # rank 0 has written model.pt
    _load_best_weights(job.run_dir, model)
    frame = pd.DataFrame(p.history, columns=LOG_COLUMNS)
    return TrainResult(model, frame, job.run_dir, p.stopper.best, stopped or "max_epochs", p.best_epoch, p.epoch,
                       p.seconds, pd.DataFrame(p.metrics, columns=METRIC_COLUMNS))


def _save_state(path: Path, state: dict) -> None:
    atomic_torch_save(state, path)
