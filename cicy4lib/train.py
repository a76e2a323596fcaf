"""Train one network with the paper's recipe: fast, resumable, with a wall-clock budget.

The recipe (SPEC §3) is :class:`TrainConfig`'s defaults: HuberLoss(δ=1), AdamW(lr 0.01),
batch 128 shuffled, ReduceLROnPlateau('min', factor 0.1, patience 10, min_lr 1e-8), at most 550
epochs and the published notebooks' early stopping (patience 20). :func:`finetune_config` is the
80% recipe (min_lr 1e-7), used with ``init_from=<the 72% run>``.

>>> from cicy4lib import load_dataset
>>> from cicy4lib.train import TrainConfig, train
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

Recipes (:mod:`cicy4lib.recipes`): ``TrainConfig()`` is the paper's; ``TrainConfig.fast()``
(``--recipe fast``) is an opt-in, *not the paper's* recipe that standardises the targets (the
statistics are folded into the saved model's last linear layer, so ``model.pt`` still outputs raw
Hodge numbers), starts the output bias at the target mean, uses batch 512 with a scaled lr,
warm-up + cosine (one cycle) and early stopping. A model with ``training_loss(x, y)`` is trained
on that objective instead of the Huber loss.

CPU threads: unless ``num_threads`` is given, :func:`cicy4lib.threads.configure_threads` picks the
intra-op thread count for the call (one thread per process on small machines: torch's default
of one per core is several times slower there as soon as another process runs).

GPU path and what is deterministic (``deterministic=True`` is the default; none of this was
measured on a GPU in the session that wrote it -- see ``benchmarks/gpu_check.sh``):

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
- Data-parallel runs (torchrun, :mod:`cicy4lib.distributed`): NCCL all-reduce is reproducible for a
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

import dataclasses
import json
import math
import os
import random
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from . import distributed as ddp
from .augment import permute_occupied
from .checkpoint import read_weights, save_checkpoint
from .constants import HODGE
from .fileio import atomic_torch_save, jsonable
from .errors import CheckpointError, DataError, RunExistsError, RunMismatchError
from .models import build_model, canonical_name
from .models.trees import (CONFIG_FILE as TREE_CONFIG_FILE, _huber, _known_rows, fit_tree_model, is_tree_model,
                           is_tree_run, load_tree_model, save_tree_model, tree_spec)
from .runs import RunLock, data_fingerprint, data_provenance, open_run, write_log
from .threads import configure_threads

STATE_FORMAT = 1
LOG_COLUMNS = ["train_loss", "val_loss", "epoch", "lr", "seconds"]
FINISHED = ("early_stopping", "max_epochs", "collapsed")
# A network whose validation predictions do not vary (in raw Hodge units) over the validation rows
# has collapsed to a constant predictor: the paper's recipe (raw targets, AdamW lr 0.01) can kill
# every ReLU of the CNN block and saturate the LSTM's last state in its first epoch (CNN-LSTM-400,
# seed 42, on the demo's 8,000-row draw of the generated set: 0 of 384 CNN features alive, the
# same prediction for all 640 validation rows, 0.89x the constant predictor's loss through 8
# epochs; seeds 1, 2, 43 on the same rows learn; LSTM-448 collapsed with all 4 seeds/draws tried).
# No collapsed run we measured recovered within its budget (8 epochs, benchmarks/bench_collapse.py).
COLLAPSE_SPREAD = 1e-3


# --------------------------------------------------------------------------- configuration


@dataclass
class TrainConfig:
    """Training settings. The defaults are the paper's recipe (SPEC §3).

    Fields in :attr:`RECIPE_FIELDS` define the run: resuming with different values is refused.
    The others (``max_epochs``, ``time_budget_h``, ``amp``, ``device``, ``num_threads``,
    ``eval_batch_size``, ``deterministic``) only control how and how long it runs.
    """

    lr: float = 0.01
    weight_decay: float = 0.01  # AdamW's default
    batch_size: int = 128
    max_epochs: int = 550
    patience: int = 20  # early stopping: stop once the count of non-improving epochs exceeds this
    lr_factor: float = 0.1
    lr_patience: int = 10
    min_lr: float = 1e-8
    huber_delta: float = 1.0
    seed: int = 42
    time_budget_h: float | None = None  # wall-clock limit per call, e.g. 11.5 on Kaggle
    amp: bool = False  # mixed precision: see amp_dtype (GPU; CPUs with native bfloat16)
    device: str | None = None  # None: "cuda" if available, else "cpu"
    num_threads: int | None = None  # torch CPU threads during this call (None: leave as is)
    eval_batch_size: int = 4096
    deterministic: bool = True  # cuDNN deterministic kernels (False: cudnn.benchmark)
    fused_optimizer: bool = True  # AdamW's fused kernel (same update rule, fewer passes over memory)
    augment_permutations: bool = False  # random row/column permutation of each batch (cicy4lib.augment)
    # recipe choices beyond the paper's (cicy4lib.recipes); the defaults keep the paper's recipe
    recipe_name: str = "paper"  # recorded in model.json (cicy4lib.recipes)
    standardize_targets: bool = False  # train on (y - mean) / std of the train set; folded back on save
    optimizer: str = "adamw"  # "adamw" | "adam"
    schedule: str = "plateau"  # "plateau" (ReduceLROnPlateau) | "onecycle" (warm-up + cosine, per step)
    warmup_fraction: float = 0.0  # onecycle: share of all steps with a linear warm-up
    final_lr_fraction: float = 0.01  # onecycle: the last step's lr / lr
    amp_dtype: str | None = None  # None: bfloat16 on compute capability >= 8 and on CPU, else float16 + GradScaler
    compile: bool = False  # torch.compile the model (CUDA)
    compile_mode: str | None = None  # e.g. "reduce-overhead" (CUDA graphs), "max-autotune"
    stop_if_collapsed: bool = False  # end the run ("collapsed") when validation predictions are constant

    RECIPE_FIELDS = ("lr", "weight_decay", "batch_size", "patience", "lr_factor", "lr_patience",
                     "min_lr", "huber_delta", "seed", "recipe_name", "standardize_targets", "optimizer",
                     "schedule", "warmup_fraction", "final_lr_fraction", "augment_permutations")

    @classmethod
    def from_recipe(cls, name: str = "paper", **overrides) -> "TrainConfig":
        """A named recipe (``"paper"``, ``"fast"``, ``"cicyminer"``; see :mod:`cicy4lib.recipes`).

        For ``"fast"``, overriding ``batch_size`` alone rescales ``lr`` by :func:`cicy4lib.recipes.scaled_lr`.
        """
        from .recipes import recipe_values, scaled_lr

        values = recipe_values(name)
        if values["recipe_name"] == "fast" and "batch_size" in overrides and "lr" not in overrides:
            overrides = {**overrides, "lr": scaled_lr(overrides["batch_size"])}
        return cls(**{**values, **overrides})

    @classmethod
    def fast(cls, **overrides) -> "TrainConfig":
        """The fast recipe (opt-in, not the paper's; see :mod:`cicy4lib.recipes`)."""
        return cls.from_recipe("fast", **overrides)

    def __post_init__(self):
        positive = {"lr": self.lr, "batch_size": self.batch_size, "lr_factor": self.lr_factor,
                    "huber_delta": self.huber_delta, "eval_batch_size": self.eval_batch_size}
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value!r}")
        if int(self.max_epochs) != self.max_epochs or self.max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {self.max_epochs!r}")
        for name in ("patience", "lr_patience"):
            if int(getattr(self, name)) != getattr(self, name) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {getattr(self, name)!r}")
        if self.time_budget_h is not None and not self.time_budget_h > 0:
            raise ValueError(f"time_budget_h must be positive or None, got {self.time_budget_h!r}")
        choices = {"optimizer": ("adamw", "adam"), "schedule": ("plateau", "onecycle"),
                   "amp_dtype": (None, "bfloat16", "float16")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not 0 <= self.warmup_fraction < 1 or not 0 < self.final_lr_fraction <= 1:
            raise ValueError("warmup_fraction must be in [0, 1) and final_lr_fraction in (0, 1]")

    def recipe(self) -> dict:
        """The fields that define the run (recorded in model.json and checked on resume)."""
        return {name: getattr(self, name) for name in self.RECIPE_FIELDS}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def finetune_config(**overrides) -> TrainConfig:
    """The paper's 80% recipe: same optimizer settings (lr 0.01, factor 0.1), ``min_lr=1e-7``.

    Use it with ``train(..., split="80", init_from=<72% run dir or model.pt>)``.
    """
    return TrainConfig(**{"min_lr": 1e-7, **overrides})


@dataclass
class TrainResult:
    """What :func:`train` returns. ``model`` holds the best weights (lowest validation loss), in eval mode."""

    model: torch.nn.Module
    history: pd.DataFrame
    run_dir: Path
    best_val_loss: float
    stopped: str  # "early_stopping" | "max_epochs" | "time_budget" | "collapsed"
    best_epoch: int = 0
    epochs: int = 0  # epochs completed so far (all calls together)
    seconds: float = 0.0  # training wall time, all calls together
    metrics: pd.DataFrame | None = None  # per epoch: elapsed seconds, raw-unit val Huber, val accuracy per Hodge number


# --------------------------------------------------------------------------- early stopping


@dataclass(frozen=True)
class EarlyStopping:
    """Early-stopping state: best validation loss so far (None before the first epoch), counter."""

    best: float | None = None
    counter: int = 0


def early_stopping_step(state: EarlyStopping, val_loss: float, patience: int):
    """One epoch of the published notebooks' early stopping.

    The first epoch's loss is the first best; a strictly lower loss is a new best (save the
    checkpoint, reset the counter); anything else adds 1; stop once the counter exceeds ``patience``.

    Returns
    -------
    (EarlyStopping, improved: bool, stop: bool)
    """
    if state.best is None or val_loss < state.best:
        return EarlyStopping(best=float(val_loss), counter=0), True, False
    counter = state.counter + 1
    return EarlyStopping(best=state.best, counter=counter), False, counter > patience


# --------------------------------------------------------------------------- small helpers


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and torch (CPU and CUDA); set cuDNN to deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic and torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS reductions
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic


def resolve_device(device=None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU")
    return device


def _quiet() -> bool:
    return os.environ.get("CICY4_QUIET", "").strip().lower() in ("1", "true", "yes")


def _rng_state(shuffle: torch.Generator) -> dict:
    """All RNG states as tensors and plain values, so ``torch.load(weights_only=True)`` reads them."""
    py_version, py_keys, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = {
        "python": {"version": py_version, "keys": torch.tensor(py_keys, dtype=torch.int64), "gauss": py_gauss},
        "numpy": {"name": np_name, "keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "gauss": float(np_gauss)},
        "torch": torch.get_rng_state(),
        "shuffle": shuffle.get_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict, shuffle: torch.Generator) -> None:
    py = state["python"]
    random.setstate((py["version"], tuple(int(k) for k in py["keys"].tolist()), py["gauss"]))
    npy = state["numpy"]
    np.random.set_state((npy["name"], npy["keys"].numpy().astype(np.uint32), npy["pos"],
                         npy["has_gauss"], npy["gauss"]))
    torch.set_rng_state(state["torch"])
    shuffle.set_state(state["shuffle"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _resolve_split(data, split):
    if isinstance(split, str):
        from .data.splits import get_split

        return get_split(data, split)
    for part in ("train", "valid", "name"):
        if not hasattr(split, part):
            raise TypeError(f"split must be a split name or a Split, got {type(split).__name__}")
    return split


def _tensors(data, idx, part: str, device):
    """Features (n,16,20) float32 and targets (n,4) float32 on ``device``; rows with unknown Hodge
    numbers (-1) are dropped with a warning."""
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0:
        raise DataError(f"the {part} set of the split is empty")
    hodge = np.asarray(data.hodge)[idx]
    known = (hodge >= 0).all(axis=1)
    if not known.all():
        warnings.warn(f"{part}: dropping {int((~known).sum())} rows with unknown Hodge numbers", stacklevel=3)
        idx, hodge = idx[known], hodge[known]
        if len(idx) == 0:
            raise DataError(f"the {part} set has no rows with known Hodge numbers")
    conf = getattr(data, "conf", None)
    if _plain_features(data) and conf is not None and np.asarray(conf[:1]).dtype == np.int8:
        # int8 on the device (4x smaller than float32); the trainer divides by the scale per batch
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(conf)[idx] if not isinstance(conf, np.memmap)
                                                  else conf[np.sort(idx)][np.argsort(np.argsort(idx))]))
    else:
        x = torch.from_numpy(np.ascontiguousarray(data.features(idx), dtype=np.float32))
    x = x.to(device)
    y = torch.from_numpy(hodge.astype(np.float32)).to(device)
    return x, y


def _plain_features(data) -> bool:
    """True when ``data.features`` is CICYData's (``conf / scale``), so int8 ``conf`` can stand in."""
    from .data.dataset import CICYData

    return getattr(type(data), "features", None) is CICYData.features


def make_optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (or Adam) with the recipe's lr and weight decay; the fused kernel where this torch build has one."""
    params = list(model.parameters())
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    kwargs = {"lr": config.lr} if config.optimizer == "adam" else {"lr": config.lr,
                                                                   "weight_decay": config.weight_decay}
    if config.fused_optimizer:
        try:
            return cls(params, **kwargs, fused=True)
        except (RuntimeError, TypeError, ValueError):  # older torch, or no fused kernel for this device
            pass
    return cls(params, **kwargs)


def cpu_bf16_supported() -> bool:
    """Whether this CPU runs bfloat16 natively (AVX512-BF16 or AMX): oneDNN's own check.

    Without it bfloat16 autocast is emulated on the CPU and slower than float32.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def amp_dtype(device: torch.device, config: TrainConfig | None = None):
    """The autocast dtype for ``amp=True``: bfloat16 on Ampere and newer and on CPUs with native
    bfloat16 (None on other CPUs: no gain there), float16 on older GPUs."""
    if config is not None and config.amp_dtype:
        return getattr(torch, config.amp_dtype)
    if device.type == "cpu":
        return torch.bfloat16 if cpu_bf16_supported() else None
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        if major >= 8:
            return torch.bfloat16
    return torch.float16


def onecycle_lr(step: int, total_steps: int, lr: float, warmup_fraction: float, final_fraction: float) -> float:
    """Linear warm-up from lr/25 over ``warmup_fraction`` of the steps, then cosine to ``final_fraction * lr``."""
    warm = int(round(warmup_fraction * total_steps))
    if step < warm:
        return lr * (0.04 + 0.96 * (step + 1) / warm)
    span = max(1, total_steps - warm)
    t = min(1.0, (step - warm) / span)
    low = final_fraction * lr
    return low + 0.5 * (lr - low) * (1 + math.cos(math.pi * t))


def _autocast(device: torch.device, amp, dtype=None):
    """Autocast to ``amp`` (a dtype) or ``dtype``: float16 by default on CUDA, bfloat16 on CPU;
    nothing when ``amp`` is false."""
    if not amp or device.type not in ("cuda", "cpu"):
        return nullcontext()
    if isinstance(amp, torch.dtype):
        dtype = amp
    if device.type == "cpu":
        return torch.autocast("cpu", dtype=dtype or torch.bfloat16)
    return torch.autocast("cuda", dtype=dtype or torch.float16)


class Float32Linear(torch.nn.Linear):
    """An ``nn.Linear`` that computes in float32 even under autocast (same parameters and state_dict)."""

    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return F.linear(x.float(), self.weight, self.bias)


def float32_output(model) -> None:
    """Run the model's output layer in float32 even under autocast (in place; weights unchanged).

    Raw Hodge numbers reach 1,752 (h22): a bfloat16 output has 8 significant bits, a resolution of
    2 to 8 there, so a rounded prediction could never be exact. The layer is tiny (hidden -> 4), so
    this costs nothing measurable. Only the layer's class changes (to :class:`Float32Linear`): its
    parameters, the state_dict and copies stay as they were.
    """
    from .errors import ConfigurationError

    try:
        layer = output_layer(model)
    except ConfigurationError:  # no single output layer to single out: leave the model as it is
        return
    if type(layer) is torch.nn.Linear:
        layer.__class__ = Float32Linear


def _as_input(xb: torch.Tensor, scale) -> torch.Tensor:
    """int8 matrices -> float32 model input (``conf / scale``, exactly as ``data.features``)."""
    if xb.is_floating_point():
        return xb
    return xb.to(torch.float32) / torch.tensor(scale, dtype=torch.float32, device=xb.device)


# --------------------------------------------------------------------------- the two loops


def train_epoch(model, x, y, perm, *, batch_size, optimizer, delta=1.0, amp=False, scaler=None,
                augment=False, scale=None, loss_module=None, lr_at=None, first_step=0):
    """One pass over ``x[perm]`` in batches of ``batch_size`` (the last one may be partial).

    ``x`` may hold int8 matrices (then divided by ``scale`` batch by batch); ``loss_module``
    (a DDP-wrapped :class:`cicy4lib.distributed.LossModule`) computes the loss instead of
    ``model``; ``lr_at(step)`` sets the learning rate before each step (``first_step`` = the
    global step number of this epoch's first batch). ``amp`` may be a dtype (bfloat16).

    Returns the mean of the per-batch losses (one host synchronisation per call).
    """
    model.train()
    autocast = _autocast(x.device, amp)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    n_batches = 0
    for start in range(0, len(perm), batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = _as_input(x[idx], scale), y[idx]
        if augment:  # a random representative of each configuration's permutation class
            xb = permute_occupied(xb)
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(first_step + n_batches)
        with autocast:
            if loss_module is not None:
                loss = loss_module(xb, yb)
            elif hasattr(model, "training_loss"):  # a model with its own objective (CICYMiner)
                loss = model.training_loss(xb, yb).float()
            else:
                loss = F.huber_loss(model(xb).float(), yb, delta=delta)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        total += loss.detach()
        n_batches += 1
    return (total / max(n_batches, 1)).item()


@torch.inference_mode()
def validation_loss(model, x, y, *, batch_size=128, eval_batch_size=4096, delta=1.0, amp=False,
                    scale=None) -> float:
    """Mean over batches of ``batch_size`` of the batch's mean Huber loss, as the notebooks compute it.

    The forward passes run in chunks of ``eval_batch_size``; the per-sample losses are then grouped
    into the training batch size, so the number matches the published per-batch average.
    """
    model.eval()
    with _autocast(x.device, amp):
        if hasattr(model, "validation_loss_per_sample"):  # the model's own objective (CICYMiner)
            per_sample = torch.cat([model.validation_loss_per_sample(_as_input(x[i:i + eval_batch_size], scale),
                                                                     y[i:i + eval_batch_size])
                                    for i in range(0, len(x), eval_batch_size)]).double()
        else:
            out = torch.cat([model(_as_input(x[i:i + eval_batch_size], scale)).float()
                             for i in range(0, len(x), eval_batch_size)])
            per_sample = F.huber_loss(out, y, delta=delta, reduction="none").mean(dim=1).double()
    return _mean_of_batch_means(per_sample, batch_size)


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
        :data:`cicy4lib.defaults.EPOCH_CAP` epochs, said in one line (pass a config to choose).
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

    The run directory is locked while training (a second trainer gets a ``RunLockedError``) and
    every check (saved state, data fingerprint, ``init_from``) runs before anything in it changes
    (:func:`cicy4lib.runs.open_run`).
    """
    if config is None:  # the paper's recipe; capped on a CPU or on data that is not the real list
        from .defaults import default_epochs

        epochs, note = default_epochs(None, data=data)
        config = TrainConfig() if epochs is None else TrainConfig(max_epochs=epochs)
        if note:
            print(note, flush=True)
    if is_tree_model(model_name):  # scikit-learn baselines (Trees-RF, ...): fitted, no epochs
        return train_tree(model_name, data, split, config, output_dir=output_dir, run_name=run_name,
                          resume=resume, overwrite=overwrite, progress=progress)
    name = canonical_name(model_name)
    split = _resolve_split(data, split)
    split_name = split.name or "custom"
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
        return _fit(model, name, data, split, split_name, config, device, amp, run_dir, state, init_from,
                    progress, on_epoch)
    finally:
        torch.set_num_threads(old_threads)
        run.close()


def run_directory(model_name, data, split="72", output_dir="Results_p2_Trained_models", run_name=None) -> Path:
    """Where :func:`train` keeps the run: ``output_dir/run_name``, by default ``<model>_<split>``."""
    split_name = _resolve_split(data, split).name or "custom"
    return Path(output_dir) / (run_name or f"{canonical_name(model_name)}_{split_name}")


def _saved_seed(run_dir: Path):
    """The seed of the run saved in ``run_dir`` (None when there is none or it cannot be read)."""
    try:
        from .runs import STATE_FILE, load_state

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


def _finished_result(model, run_dir, state, config) -> TrainResult:
    """Resuming a run that already ended: load its best weights, train nothing."""
    _load_best_weights(run_dir, model)
    stopped = state["stopped"] if state["stopped"] in FINISHED else "max_epochs"
    history = pd.DataFrame(state["history"], columns=LOG_COLUMNS)
    return TrainResult(model, history, run_dir, state["best_val_loss"], stopped, state["best_epoch"],
                       state["epoch"], state["seconds"], pd.DataFrame(state.get("metrics") or {}))


def _fit(model, name, data, split, split_name, config, device, amp, run_dir, state, init_from,
         progress, on_epoch=None) -> TrainResult:
    t_start = time.perf_counter()
    main = ddp.is_main()
    x_train, y_train = _tensors(data, split.train, "train", device)
    x_valid, y_valid = _tensors(data, split.valid, "valid", device)
    scale = float(data.scale)
    if amp and not (hasattr(model, "training_loss") or hasattr(model, "validation_loss_per_sample")):
        float32_output(model)  # exact integers need float32 outputs (see float32_output)
    if state is None and init_from is None and hasattr(model, "fit_input_scaling"):
        model.fit_input_scaling(_as_input(x_train, scale))  # input rescaling with train statistics (CICYMiner)

    # targets: raw (the paper) or standardised with the train statistics (fast recipe)
    stats = None
    if config.standardize_targets:
        stats = target_stats(y_train)
        _check_foldable(model, _as_input(x_valid[:4], scale), stats)
        if state is None and init_from is None:
            with torch.no_grad():
                output_layer(model).bias.zero_()  # the output bias starts at the target mean
    y_fit = y_train if stats is None else (y_train - stats[0]) / stats[1]
    y_val_fit = y_valid if stats is None else (y_valid - stats[0]) / stats[1]

    optimizer = make_optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, "min", factor=config.lr_factor, patience=config.lr_patience, min_lr=config.min_lr)
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    shuffle = torch.Generator().manual_seed(config.seed)  # CPU generator: same permutations on any device
    world = ddp.world_size()
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by the {world} ranks")
    rank_batch = config.batch_size // world
    steps_per_epoch = math.ceil((len(x_train) // world if world > 1 else len(x_train)) / rank_batch)
    total_steps = config.max_epochs * steps_per_epoch  # the one-cycle schedule's length (fixed at the start)

    history = {col: [] for col in LOG_COLUMNS}
    metrics = {col: [] for col in METRIC_COLUMNS}
    stopper, epoch, best_epoch, seconds, step = EarlyStopping(), 0, 0, 0.0, 0
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        _set_rng_state(state["rng"], shuffle)
        stopper = EarlyStopping(state["best_val_loss"], state["counter"])
        epoch, best_epoch, seconds = state["epoch"], state["best_epoch"], state["seconds"]
        history = {col: list(state["history"][col]) for col in LOG_COLUMNS}
        saved_metrics = state.get("metrics") or {}
        metrics = {col: list(saved_metrics.get(col, [float("nan")] * epoch)) for col in METRIC_COLUMNS}
        step = state.get("step", epoch * steps_per_epoch)
        total_steps = state.get("total_steps", total_steps)
    lr_at = None
    if config.schedule == "onecycle":
        def lr_at(i, _total=total_steps):
            return onecycle_lr(i, _total, config.lr, config.warmup_fraction, config.final_lr_fraction)

    compiled = torch.compile(model, mode=config.compile_mode) if config.compile else model
    loss_module = ddp.wrap(compiled, config.huber_delta, device)

    meta = {"arch": name, "scale": scale, "split": split_name, "seed": config.seed,
            "recipe_name": config.recipe_name, "recipe": config.recipe(), "metrics": {},
            "data_source": str(getattr(data, "source", "")),
            "n_train": len(x_train), "n_valid": len(x_valid),
            "init_from": None if init_from is None else str(init_from),
            "world_size": world, "amp": str(amp).replace("torch.", "") if amp else False}
    meta["data"] = data_provenance(data)  # the dataset's provenance (a minimal one for plain data)
    meta["data_fingerprint"] = data_fingerprint(data, split)  # checked when the run is resumed
    if stats is not None:
        meta.update(target_mean=stats[0].tolist(), target_std=stats[1].tolist(),
                    target_standardisation=f"folded into {_output_name(model)} of model.pt; "
                                           "model.pt outputs raw Hodge numbers")

    from tqdm import tqdm  # plain text bar: works in terminals, notebooks and papermill logs alike

    bar = tqdm(total=config.max_epochs, initial=epoch, desc=name, unit="epoch",
               disable=not progress or _quiet() or not main, dynamic_ncols=True)
    stopped, warned_collapse = "max_epochs", False
    try:
        while epoch < config.max_epochs:
            t_epoch = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"] if lr_at is None else lr_at(step)
            perm = ddp.shard(torch.randperm(len(x_train), generator=shuffle)).to(device)
            train_loss = train_epoch(compiled, x_train, y_fit, perm, batch_size=rank_batch,
                                     optimizer=optimizer, delta=config.huber_delta, amp=amp, scaler=scaler,
                                     augment=config.augment_permutations, scale=scale, loss_module=loss_module,
                                     lr_at=lr_at, first_step=step)
            train_loss = ddp.mean_float(train_loss, device)
            step += math.ceil(len(perm) / rank_batch)
            val_loss, val_metrics = _validate(compiled, model, x_valid, y_val_fit, y_valid, stats, scale, config, amp)
            spread = val_metrics["val_pred_spread"]
            val_loss = ddp.broadcast_float(val_loss, device)
            epoch += 1
            collapsed = len(x_valid) > 1 and ddp.broadcast_float(spread, device) < COLLAPSE_SPREAD
            if collapsed and not warned_collapse and main:
                warned_collapse = True
                warnings.warn(f"{name}: after epoch {epoch} the validation predictions are the same for every "
                              f"row (spread {spread:.2g} Hodge units): the network has collapsed to a constant "
                              f"predictor (dead ReLUs, a saturated RNN), which in our measurements did not "
                              f"recover within 8 epochs; consider starting over with another seed "
                              f"(seed {config.seed} now; train --restarts N does it)"
                              + ("; stopping (stop_if_collapsed)" if config.stop_if_collapsed else ""),
                              stacklevel=3)
            stopper, improved, stop = early_stopping_step(stopper, val_loss, config.patience)
            if improved:
                best_epoch = epoch
                if main:
                    _save_best(run_dir, _raw_output_model(model, stats),
                               {**meta, "best_val_loss": val_loss, "epoch": epoch,
                                "metrics": {k: v for k, v in val_metrics.items()}})
            if not stop and lr_at is None:
                scheduler.step(val_loss)  # after the early-stopping check, as the notebooks do

            epoch_seconds = time.perf_counter() - t_epoch
            seconds += epoch_seconds
            for col, value in zip(LOG_COLUMNS, (train_loss, val_loss, epoch, lr, epoch_seconds)):
                history[col].append(value)
            for col in METRIC_COLUMNS:
                metrics[col].append(seconds if col == "elapsed" else val_metrics.get(col, float("nan")))
            elapsed = time.perf_counter() - t_start
            if stop:
                stopped = "early_stopping"
            elif collapsed and config.stop_if_collapsed:
                stopped = "collapsed"
            elif epoch >= config.max_epochs:
                stopped = "max_epochs"
            elif config.time_budget_h is not None and ddp.broadcast_float(
                    float(elapsed + epoch_seconds > config.time_budget_h * 3600), device):
                stopped = "time_budget"  # the next epoch would not finish within the budget
            else:
                stopped = None
            if main:
                _save_state(run_dir / "state.pt", {
                    "format": STATE_FORMAT, "model_name": name, "split": split_name, "recipe": config.recipe(),
                    "config": config.to_dict(), "epoch": epoch, "best_val_loss": stopper.best,
                    "counter": stopper.counter, "best_epoch": best_epoch, "seconds": seconds,
                    "stopped": stopped or "running", "history": history, "metrics": metrics,
                    "step": step, "total_steps": total_steps, "world_size": world,
                    "target_stats": None if stats is None else {"mean": stats[0].cpu(), "std": stats[1].cpu()},
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict() if scaler else {},
                    "rng": _rng_state(shuffle), "data_fingerprint": meta["data_fingerprint"]})
                _write_log(run_dir, history)
            bar.update(1)
            bar.set_postfix(train=f"{train_loss:.4g}", val=f"{val_loss:.4g}", best=f"{stopper.best:.4g}", lr=f"{lr:.1e}")
            if on_epoch is not None:
                on_epoch(epoch, train_loss, val_loss)  # e.g. optuna's report + prune (cicy4lib.search)
            if stopped:
                break
    finally:
        bar.close()

    ddp.barrier()  # rank 0 has written model.pt
    _load_best_weights(run_dir, model)
    frame = pd.DataFrame(history, columns=LOG_COLUMNS)
    return TrainResult(model, frame, run_dir, stopper.best, stopped or "max_epochs", best_epoch, epoch, seconds,
                       pd.DataFrame(metrics, columns=METRIC_COLUMNS))


# --------------------------------------------------------------------------- targets and validation

# val_pred_spread: the largest standard deviation over validation rows of any raw output (Hodge units);
# below COLLAPSE_SPREAD the network is a constant predictor
METRIC_COLUMNS = ["elapsed", "val_huber_raw", "val_acc_h11", "val_acc_h21", "val_acc_h31", "val_acc_h22",
                  "val_pred_spread"]


def target_stats(y: torch.Tensor):
    """Per-column mean and standard deviation (float32, on ``y``'s device); a constant column gets std 1."""
    y64 = y.double()
    mean = y64.mean(dim=0)
    std = y64.std(dim=0, unbiased=False) if len(y64) > 1 else torch.ones_like(mean)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    return mean.float(), std.float()


def output_layer(model) -> torch.nn.Linear:
    """The last linear layer (the one mapping to the 4 outputs): ``model.output_layer`` if defined,
    else ``model.fc2``, else the last ``nn.Linear`` with 4 outputs."""
    layer = getattr(model, "output_layer", None)
    if callable(layer) and not isinstance(layer, torch.nn.Module):
        layer = layer()
    if layer is None:
        layer = getattr(model, "fc2", None)
    if not isinstance(layer, torch.nn.Linear):
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == 4]
        layer = linears[-1] if linears else None
    if layer is None or layer.bias is None:
        from .errors import ConfigurationError

        raise ConfigurationError(f"{type(model).__name__}: standardised targets need a final nn.Linear "
                                 "with a bias (or an output_layer attribute)")
    return layer


def _output_name(model) -> str:
    layer = output_layer(model)
    return next((n for n, m in model.named_modules() if m is layer), "the output layer")


def _folded_state_dict(model, stats) -> dict:
    """The state_dict with ``W <- diag(std) W``, ``b <- std * b + mean`` in the output layer."""
    name = _output_name(model)
    prefix = f"{name}." if name else ""
    mean, std = stats
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    w, b = sd[prefix + "weight"], sd[prefix + "bias"]
    sd[prefix + "weight"] = w * std.to(w).unsqueeze(1)
    sd[prefix + "bias"] = b * std.to(b) + mean.to(b)
    return sd


def _raw_output_model(model, stats):
    """``model`` itself (raw targets), or a copy whose output layer absorbs the de-standardisation."""
    if stats is None:
        return model
    import copy

    raw = copy.deepcopy(model)
    raw.load_state_dict(_folded_state_dict(model, stats))
    return raw


def _check_foldable(model, xb, stats) -> None:
    """Refuse standardised targets for a model whose output is not an affine image of its last Linear."""
    from .errors import ConfigurationError

    if hasattr(model, "training_loss"):
        raise ConfigurationError(f"{type(model).__name__} defines its own training_loss: "
                                 "standardised targets do not apply (use its own recipe)")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            want = model(xb).float() * stats[1] + stats[0]
            got = _raw_output_model(model, stats).eval()(xb).float()
    finally:
        model.train(was_training)
    if not torch.allclose(got, want, rtol=1e-4, atol=1e-3 * float(stats[1].max())):
        raise ConfigurationError(f"{type(model).__name__}: its output is not its last linear layer's, "
                                 "so the target standardisation cannot be folded into the saved model")


@torch.inference_mode()
def _validate(compiled, model, x, y_fit, y_raw, stats, scale, config, amp):
    """Validation loss in training units (mean of per-batch means) and raw-unit metrics of one pass,
    among them ``val_pred_spread``: the largest standard deviation over rows of any raw output (0: a
    constant predictor)."""
    if hasattr(model, "validation_loss_per_sample") or hasattr(model, "training_loss"):
        loss = validation_loss(model, x, y_fit, batch_size=config.batch_size,
                               eval_batch_size=config.eval_batch_size, delta=config.huber_delta, amp=amp,
                               scale=scale)
        out = None
    else:
        compiled.eval()
        bs = config.eval_batch_size
        with _autocast(x.device, amp):
            out = torch.cat([compiled(_as_input(x[i:i + bs], scale)).float() for i in range(0, len(x), bs)])
        per_sample = F.huber_loss(out, y_fit, delta=config.huber_delta, reduction="none").mean(dim=1).double()
        loss = _mean_of_batch_means(per_sample, config.batch_size)
    if out is None:
        model.eval()
        bs = config.eval_batch_size
        with _autocast(x.device, amp):
            out = torch.cat([model(_as_input(x[i:i + bs], scale)).float() for i in range(0, len(x), bs)])
    raw = out if stats is None else out * stats[1] + stats[0]
    huber = F.huber_loss(raw, y_raw, delta=1.0)
    acc = (torch.round(raw) == y_raw).double().mean(dim=0) * 100
    spread = raw.double().std(dim=0, unbiased=False).max() if len(raw) > 1 else torch.zeros((), device=raw.device)
    values = torch.cat([huber.double().reshape(1), acc, spread.double().reshape(1)]).tolist()  # one synchronisation
    return loss, dict(zip(METRIC_COLUMNS[1:], values))


def _mean_of_batch_means(per_sample: torch.Tensor, batch_size: int) -> float:
    """Mean over consecutive batches of ``batch_size`` of each batch's mean (the published average)."""
    n = len(per_sample)
    n_batches = math.ceil(n / batch_size)
    padded = torch.zeros(n_batches * batch_size, dtype=per_sample.dtype, device=per_sample.device)
    padded[:n] = per_sample
    counts = torch.full((n_batches,), float(batch_size), dtype=per_sample.dtype, device=per_sample.device)
    counts[-1] = n - (n_batches - 1) * batch_size
    return (padded.view(n_batches, batch_size).sum(dim=1) / counts).mean().item()


def _save_state(path: Path, state: dict) -> None:
    atomic_torch_save(state, path)


# --------------------------------------------------------------------------- tree baselines


def train_tree(model_name, data, split="72", config=None, *, output_dir="Results_p2_Trained_models",
               run_name=None, resume: bool = True, overwrite: bool = False, progress: bool = True,
               params: dict | None = None, **_ignored):
    """Fit a tree baseline and write its run directory; what :func:`cicy4lib.train.train` does for
    a tree model name. Returns a :class:`cicy4lib.train.TrainResult` (``stopped="fitted"``).

    A run directory that already holds a tree model of the same model, split and data is loaded,
    not refitted, unless ``resume=False``; a run of anything else there is refused unless
    ``overwrite=True``.
    """
    
    spec = tree_spec(model_name)
    split = _resolve_split(data, split)
    split_name = split.name or "custom"
    seed = int(getattr(config, "seed", 42) if config is not None else 42)
    n_jobs = int(getattr(config, "num_threads", None) or 1) if config is not None else 1
    run_dir = Path(output_dir) / (run_name or f"{spec.name}_{split_name}")
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
        vidx, yv = _known_rows(data, split.valid)
        pv = model.predict_conf(np.asarray(data.conf)[vidx]) if len(vidx) else np.zeros((0, 4))
        val_loss = _huber(pv, yv) if len(vidx) else float("nan")
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
