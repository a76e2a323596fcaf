"""Training settings and results: :class:`TrainConfig` (the recipe plus how long and where a run
goes), :class:`TrainResult`, and the published notebooks' early stopping.

The defaults of :class:`TrainConfig` are the paper's recipe (SPEC §3): HuberLoss(δ=1), AdamW(lr
0.01), batch 128 shuffled, ReduceLROnPlateau('min', factor 0.1, patience 10, min_lr 1e-8), at most
550 epochs and early stopping with patience 20. The other named recipes (fast, cicyminer,
fine-tuning) are one table in :mod:`cicy4lib.training.recipes`. This module needs no torch.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: this module needs neither torch nor pandas
    import pandas
    import torch

from .recipes import FINETUNE, fast_batch_size, recipe_values, scaled_lr

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


# val_pred_spread: the largest standard deviation over validation rows of any raw output (Hodge units);
# below COLLAPSE_SPREAD the network is a constant predictor
METRIC_COLUMNS = ["elapsed", "val_huber_raw", "val_acc_h11", "val_acc_h21", "val_acc_h31", "val_acc_h22",
                  "val_pred_spread"]



@dataclass
class TrainConfig:
    """Training settings. The defaults are the paper's recipe (SPEC §3).

    Fields in :attr:`RECIPE_FIELDS` define the run: resuming with different values is refused.
    The others (``max_epochs``, ``time_budget_h``, ``amp``, ``device``, ``num_threads``,
    ``eval_batch_size``, ``deterministic``) only control how and how long it runs.

    Parameters
    ----------
    lr, weight_decay, batch_size, max_epochs, patience, lr_factor, lr_patience, min_lr, huber_delta, seed
        The recipe's optimisation values (the field comments say what each means).
    **fields
        Every other field below; :meth:`from_recipe` fills them from a named recipe.

    Raises
    ------
    ValueError
        For a value out of range (a non-positive lr or batch size, an unknown optimizer, ...).

    Examples
    --------
    >>> TrainConfig().lr, TrainConfig.from_recipe("fast").batch_size
    (0.01, 512)
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
    augment_permutations: bool = False  # random row/column permutation of each batch (cicy4lib.training.augment)
    # recipe choices beyond the paper's (cicy4lib.training.recipes); the defaults keep the paper's recipe
    recipe_name: str = "paper"  # recorded in model.json (cicy4lib.training.recipes)
    standardize_targets: bool = False  # train on (y - mean) / std of the train set; folded back on save
    optimizer: str = "adamw"  # "adamw" | "adam"
    schedule: str = "plateau"  # "plateau" (ReduceLROnPlateau) | "onecycle" (warm-up + cosine, per step)
    warmup_fraction: float = 0.0  # onecycle: share of all steps with a linear warm-up
    final_lr_fraction: float = 0.01  # onecycle: the last step's lr / lr
    amp_dtype: str | None = None  # None: bfloat16 on compute capability >= 8 and on CPU, else float16 + GradScaler
    compile: bool = False  # torch.compile the model (CUDA)
    compile_mode: str | None = None  # e.g. "reduce-overhead" (CUDA graphs), "max-autotune"
    stop_if_collapsed: bool = False  # end the run ("collapsed") when validation predictions are constant
    # fast recipe: batch_size and lr are the values for a large set; at train time the batch becomes
    # recipes.fast_batch_size(n_train) and lr follows by the square-root rule (for_train_rows). An
    # explicit batch_size in from_recipe turns it off.
    adaptive_batch: bool = False

    RECIPE_FIELDS = ("lr", "weight_decay", "batch_size", "patience", "lr_factor", "lr_patience",
                     "min_lr", "huber_delta", "seed", "recipe_name", "standardize_targets", "optimizer",
                     "schedule", "warmup_fraction", "final_lr_fraction", "augment_permutations")

    @classmethod
    def from_recipe(cls, name: str = "paper", **overrides) -> "TrainConfig":
        """A named recipe (``"paper"``, ``"fast"``, ``"cicyminer"``; see :mod:`cicy4lib.training.recipes`).

        For ``"fast"``, overriding ``batch_size`` alone rescales ``lr`` by :func:`cicy4lib.training.recipes.scaled_lr`
        and fixes the batch (``adaptive_batch=False``); without it the batch adapts to the training set
        when the run starts (:meth:`for_train_rows`).
        """
        values = recipe_values(name)
        if "batch_size" in overrides and "adaptive_batch" not in overrides:
            overrides = {**overrides, "adaptive_batch": False}
        if values["recipe_name"] == "fast" and "batch_size" in overrides and "lr" not in overrides:
            overrides = {**overrides, "lr": scaled_lr(overrides["batch_size"])}
        return cls(**{**values, **overrides})

    def for_train_rows(self, n_train: int, multiple: int = 1) -> "TrainConfig":
        """The config a run on ``n_train`` training rows uses: itself, or with ``adaptive_batch`` the batch
        :func:`cicy4lib.training.recipes.fast_batch_size` (rounded up to a multiple of ``multiple``, the
        number of DDP ranks) and ``lr`` rescaled from this config's batch by the square-root rule.
        Idempotent (a resolved config resolves to itself).

        >>> c = TrainConfig.fast().for_train_rows(8_640)
        >>> c.batch_size, round(c.lr, 5)
        (43, 0.00232)
        >>> TrainConfig.fast(batch_size=128).for_train_rows(8_640).batch_size
        128
        """
        if not self.adaptive_batch:
            return self
        batch = fast_batch_size(n_train)
        batch = -(-batch // multiple) * multiple
        return dataclasses.replace(self, batch_size=batch, lr=self.lr * math.sqrt(batch / self.batch_size))

    @classmethod
    def fast(cls, **overrides) -> "TrainConfig":
        """The fast recipe (opt-in, not the paper's; see :mod:`cicy4lib.training.recipes`)."""
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


def finetune_config(recipe: str = "paper", **overrides) -> TrainConfig:
    """A recipe's fine-tuning variant: the paper's 80% recipe for ``"paper"`` (same optimizer
    settings, ``min_lr=1e-7``; :data:`cicy4lib.training.recipes.FINETUNE`).

    Use it with ``train(..., split="80", init_from=<72% run dir or model.pt>)``.

    Parameters
    ----------
    recipe : str
        A recipe name of :mod:`cicy4lib.training.recipes`.
    **overrides
        TrainConfig fields that replace the recipe's values.

    Returns
    -------
    TrainConfig
    """
    return TrainConfig.from_recipe(recipe, **{**FINETUNE, **overrides})


@dataclass
class TrainResult:
    """What :func:`train` returns. ``model`` holds the best weights (lowest validation loss), in eval mode."""

    model: "torch.nn.Module"
    history: "pandas.DataFrame"
    run_dir: Path
    best_val_loss: float
    stopped: str  # "early_stopping" | "max_epochs" | "time_budget" | "collapsed"
    best_epoch: int = 0
    epochs: int = 0  # epochs completed so far (all calls together)
    seconds: float = 0.0  # training wall time, all calls together
    metrics: "pandas.DataFrame | None" = None  # per epoch: elapsed seconds, raw-unit val Huber, val accuracy per Hodge number


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
