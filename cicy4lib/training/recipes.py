"""Named training recipes: ``"paper"`` (the default), ``"fast"`` (opt-in, not the paper's), ``"cicyminer"``.

A recipe is a set of :class:`cicy4lib.training.config.TrainConfig` values. Choose one with
``TrainConfig.from_recipe(name, **overrides)`` (``TrainConfig.fast()`` for ``"fast"``) or
``python -m cicy4lib train MODEL --recipe fast``; the recipe's name is recorded in ``model.json``
and ``state.pt`` (resuming with another recipe is refused).

``paper``
    The paper's recipe (SPEC §3), unchanged: raw Hodge numbers as targets, HuberLoss(δ=1),
    AdamW lr 0.01, batch 128, ReduceLROnPlateau(factor 0.1, patience 10), early stopping after 20
    epochs without improvement, at most 550 epochs. The model notebooks use it: they reproduce the paper.
    With raw targets and lr 0.01 a network can collapse to a constant predictor in its first
    epoch (every ReLU of the CNN block dead, the LSTM's last state saturated; measured: CNN-LSTM-400
    on the demo's 8,000 generated configurations collapses with seeds 42 and 44 and learns with
    1, 2 and 43; ``benchmarks/bench_collapse.py``). The trainer warns when the validation
    predictions become the same for every row; ``train --restarts N`` (``train_restarting``)
    starts such a run over with the next seed, as the demo does.

``fast`` -- **not the paper's recipe**; it exists to reach the paper recipe's accuracy sooner:
    - targets standardised per Hodge number with the training set's mean and standard deviation
      (h22 has mean ~241 and spread ~100: under Huber δ=1 on raw targets every output's gradient
      is clipped at 1 and AdamW moves the output bias by ~lr per step, so a short run cannot even
      reach the means);
    - the output bias starts at the target mean (zero in standardised units);
    - a batch that adapts to the training-set size, ``clip(n_train // 200, 32, 512)``
      (:func:`fast_batch_size`, applied when the run starts: ``TrainConfig.for_train_rows``), with
      the learning rate scaled by the square-root rule (``lr = 4e-3 * sqrt(batch / 128)``: 8e-3 at
      512, 5e-3 at 200), 5% linear warm-up then cosine decay to lr/100 over ``max_epochs`` (one
      cycle). Why: an epoch is then ~200 optimizer steps, so that even a few epochs of a small set
      give several hundred; at a fixed 512, CNN-LSTM-256 on 8,640 configurations got 17 steps an
      epoch and ended 6 epochs at 0.95x the constant predictor's loss (measured before/after in
      ``benchmarks/results/learning.md``). An explicit ``batch_size`` fixes the batch (lr by the same
      rule): ``TrainConfig.fast(batch_size=128)`` (lr 4e-3) is what the demo uses (LSTM-448, 5,760
      training rows, 8 epochs: best validation Huber 0.43x the constant predictor's at batch 128
      with lr 4e-3, 0.55x with lr 1e-3, 0.79x at batch 512 with lr 2e-3);
    - early stopping on the validation loss (patience 8 epochs), at most 60 epochs.

    How the de-standardisation reaches every consumer: the statistics are stored in
    ``model.json`` (``target_mean``, ``target_std``) **and** folded into the model's last linear
    layer when ``model.pt`` is written (``W <- diag(std) W``, ``b <- std * b + mean``). The saved
    model is therefore an ordinary model of its architecture that outputs raw Hodge numbers:
    evaluation, ensembles, prediction and the published-layout export need no change.
    ``state.pt`` keeps the standardised-space weights for resuming. The validation loss in
    ``log.csv`` is in standardised units for this recipe (compare recipes by accuracy, or by
    ``metrics.val_huber_raw`` in ``model.json``).

``cicyminer``
    CICYMiner's regression recipe (seed 003 §4.2): Adam lr 1e-3 (no weight decay), batch 64,
    ReduceLROnPlateau factor 0.3 after 75 epochs without improvement (min_lr 1e-6, the authors'
    code), a fixed 300 epochs, Huber δ 1.5. The loss weights (0.05/0.3/0.25/0.35, auxiliary heads
    alike) live in the model: the trainer honours ``model.training_loss(x, y)`` and
    ``model.validation_loss_per_sample(x, y)`` for any model that defines them, and calls
    ``model.fit_input_scaling(x_train)`` (inputs to [0, 1] with train statistics) on a fresh run.

Epoch defaults
--------------
Sane epoch defaults: the paper's full recipe only where it makes sense.

The paper trains up to 550 epochs on 905,684 configurations on a GPU (hours per model). On a
CPU, or on data that is not the real list (the embedded sample, the generated set, a subset),
that default would run for hours to learn what 12 epochs show; so when no epoch count is given
there, :func:`default_epochs` caps it at :data:`EPOCH_CAP` and says so in one line (the library's
``train(config=None)`` and the notebooks). Ask for any number explicitly (``epochs=550`` for the
paper's recipe) and it is used as given. The command line ``python -m cicy4lib train`` is explicit
about its recipe (``--recipe``): without ``--epochs`` it runs up to :func:`recipe_epochs`, the
recipe's own maximum (paper 550, fast 60, cicyminer 300), and says so.

>>> default_epochs(None, real_list=False, cuda=True)[0]
12
>>> default_epochs(None, real_list=True, cuda=True)[0] is None  # the recipe's own 550
True
>>> default_epochs(30, real_list=False, cuda=False)
(30, None)
>>> recipe_epochs("paper"), recipe_epochs("fast"), recipe_epochs("cicyminer")
(550, 60, 300)
"""
from __future__ import annotations

import math

from ..data.label import is_real_list
from ..errors import UnknownModelError, UnknownNameError

PAPER = "paper"
FAST_BATCH = 512
FAST_BASE_LR, FAST_BASE_BATCH = 4e-3, 128  # base lr measured on LSTM-448 at batch 128 (docstring)

RECIPES: dict[str, dict] = {
    "paper": {},  # TrainConfig's defaults are the paper's recipe
    "fast": {
        "standardize_targets": True,
        "batch_size": FAST_BATCH,  # for a large set; adaptive_batch: fast_batch_size(n_train) at train time
        "lr": FAST_BASE_LR * math.sqrt(FAST_BATCH / FAST_BASE_BATCH),
        "adaptive_batch": True,
        "weight_decay": 0.01,
        "schedule": "onecycle",
        "warmup_fraction": 0.05,
        "final_lr_fraction": 0.01,
        "patience": 8,
        "max_epochs": 60,
    },
    # CICYMiner §4.2 (seed 003): Adam lr 1e-3, batch 64, lr x 0.3 after 75 epochs without improvement
    # (floor 1e-6, the authors' ReduceLROnPlateau), a fixed 300 epochs (patience 300: no early stop),
    # Huber δ 1.5 (the model's training_loss weights its 8 outputs itself; see models/cicyminer.py)
    "cicyminer": {
        "optimizer": "adam",
        "lr": 1e-3,
        "weight_decay": 0.0,
        "batch_size": 64,
        "lr_factor": 0.3,
        "lr_patience": 75,
        "min_lr": 1e-6,
        "patience": 300,
        "max_epochs": 300,
        "huber_delta": 1.5,
    },
}

# Fine-tuning (the paper's 80% runs, ``init_from=<the 72% run>``): the recipe's values with these on
# top (the paper: the same optimizer settings, only the lr floor lower). finetune_config applies it.
FINETUNE: dict = {"min_lr": 1e-7}

DESCRIPTIONS = {
    "paper": "the paper's recipe (SPEC §3): raw targets, AdamW lr 0.01, batch 128, plateau schedule",
    "fast": "NOT the paper's: standardised targets, batch clip(n_train // 200, 32, 512), lr 4e-3 * sqrt(batch / 128), warm-up + cosine, early stopping",
    "cicyminer": "CICYMiner's regression recipe (seed 003): Huber δ 1.5, Adam lr 1e-3, batch 64",
}


def list_recipes() -> list[str]:
    return list(RECIPES)


def recipe_values(name: str) -> dict:
    """The TrainConfig values of recipe ``name`` (a copy)."""
    key = str(name).strip().lower()
    if key not in RECIPES:
        model_recipe = _model_recipe(name)  # an architecture's own default recipe (ModelEntry.recipe)
        if model_recipe is not None:
            return model_recipe
        raise UnknownNameError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)} "
                               "or a model name with a default recipe (e.g. HodgeGNN-64)")
    return {"recipe_name": key, **RECIPES[key]}


def _model_recipe(name) -> dict | None:
    """The default recipe registered beside a model (``register_model(..., recipe={...})``, or a
    recipe of :data:`RECIPES` that the entry names: ``recipe="cicyminer"``), or None."""
    from ..models.registry import get_entry  # lazy: the registry imports torch; this module stays torch-free

    try:
        entry = get_entry(str(name))
    except UnknownModelError:
        return None
    if not entry.recipe:
        return None
    if isinstance(entry.recipe, str):  # a named recipe of this table
        return recipe_values(entry.recipe)
    return {"recipe_name": entry.name.lower(), **entry.recipe}


# The fast recipe's batch adapts to the training-set size: n_train // FAST_STEPS_PER_EPOCH rows, kept
# in [FAST_MIN_BATCH, FAST_BATCH], so that an epoch is ~200 optimizer steps and even a few epochs of a
# small set give several hundred (a fixed 512 left CNN-LSTM-256 17 steps an epoch on 8,640 rows).
FAST_STEPS_PER_EPOCH, FAST_MIN_BATCH = 200, 32


def fast_batch_size(n_train: int) -> int:
    """The fast recipe's batch for ``n_train`` training rows: ``clip(n_train // 200, 32, 512)``.

    >>> fast_batch_size(8_640), fast_batch_size(40_064), fast_batch_size(652_092)
    (43, 200, 512)
    """
    return int(min(FAST_BATCH, max(FAST_MIN_BATCH, int(n_train) // FAST_STEPS_PER_EPOCH)))


def scaled_lr(batch_size: int, base_lr: float = FAST_BASE_LR, base_batch: int = FAST_BASE_BATCH) -> float:
    """The fast recipe's learning-rate rule for another batch size (square-root scaling)."""
    return base_lr * math.sqrt(batch_size / base_batch)


# --------------------------------------------------------------------------- epoch defaults
EPOCH_CAP = 12  # every demo model's best epoch in a 15-epoch run on the sample was <= 11
PAPER_EPOCHS = 550  # TrainConfig.max_epochs, the paper's recipe (kept here so that no torch import is needed)


def recipe_epochs(recipe: str = "paper") -> int:
    """The maximum epochs of a training recipe (:mod:`cicy4lib.training.recipes`): its ``max_epochs``,
    else the paper's :data:`PAPER_EPOCHS` (``TrainConfig``'s default)."""
    return int(recipe_values(recipe).get("max_epochs", PAPER_EPOCHS))


def default_epochs(epochs=None, *, data=None, device=None, real_list: bool | None = None,
                   cuda: bool | None = None) -> tuple[int | None, str | None]:
    """(epochs to use, one-line note or None).

    ``epochs`` given: used as it is. Otherwise ``None`` (the recipe's own maximum, 550 for the
    paper's: :func:`recipe_epochs`) on the real list on a GPU, else :data:`EPOCH_CAP` with a note saying why and how to get the full recipe.
    """
    if epochs is not None:
        return int(epochs), None
    if real_list is None:
        real_list = data is not None and is_real_list(data)
    if cuda is None:
        if device is not None:
            cuda = str(device).startswith("cuda")
        else:
            try:
                import torch  # lazy: this module stays importable without torch

                cuda = torch.cuda.is_available()
            except ImportError:
                cuda = False
    if real_list and cuda:
        return None, None
    why = " and ".join(w for w, bad in (("the data is not the real CICY4 list", not real_list),
                                         ("there is no GPU", not cuda)) if bad)
    return EPOCH_CAP, (f"epochs capped at {EPOCH_CAP} because {why}; pass epochs=550 (--epochs 550) "
                       "for the paper's full recipe")
