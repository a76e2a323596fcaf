"""Sane epoch defaults: the paper's full recipe only where it makes sense.

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

__all__ = ["EPOCH_CAP", "PAPER_EPOCHS", "default_epochs", "recipe_epochs"]

EPOCH_CAP = 12  # every demo model's best epoch in a 15-epoch run on the sample was <= 11
PAPER_EPOCHS = 550  # TrainConfig.max_epochs, the paper's recipe (kept here so that no torch import is needed)


def recipe_epochs(recipe: str = "paper") -> int:
    """The maximum epochs of a training recipe (:mod:`cicy4lib.recipes`): its ``max_epochs``,
    else the paper's :data:`PAPER_EPOCHS` (``TrainConfig``'s default)."""
    from .recipes import recipe_values

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
        from .datalabel import is_real_list

        real_list = data is not None and is_real_list(data)
    if cuda is None:
        if device is not None:
            cuda = str(device).startswith("cuda")
        else:
            try:
                import torch

                cuda = torch.cuda.is_available()
            except ImportError:
                cuda = False
    if real_list and cuda:
        return None, None
    why = " and ".join(w for w, bad in (("the data is not the real CICY4 list", not real_list),
                                         ("there is no GPU", not cuda)) if bad)
    return EPOCH_CAP, (f"epochs capped at {EPOCH_CAP} because {why}; pass epochs=550 (--epochs 550) "
                       "for the paper's full recipe")
