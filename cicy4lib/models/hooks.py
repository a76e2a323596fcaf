"""What a network may bring beside ``forward``: its own loss, its own input scaling.

The trainer and the zoo ask :func:`hooks_of` once instead of probing a model for method names.
A model opts in by defining the methods of a protocol below (CICYMiner: all three; HodgeGNN-64:
the two losses); nothing needs registering.

>>> from torch import nn
>>> hooks_of(nn.Linear(2, 4)).has_own_loss
False
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Protocol, runtime_checkable

import torch


@runtime_checkable
class OwnTrainingLoss(Protocol):
    """A model trained on its own objective instead of the Huber loss (e.g. a weighted multi-task loss)."""

    def training_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The scalar loss of a batch (inputs ``x``, raw Hodge numbers ``y``)."""


@runtime_checkable
class OwnValidationLoss(Protocol):
    """A model whose validation loss (early stopping, the plateau schedule) is its own, per sample."""

    def validation_loss_per_sample(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One loss per row of ``x``."""


@runtime_checkable
class InputScaling(Protocol):
    """A model that rescales its inputs with statistics of the training set, fitted once on a fresh run."""

    def fit_input_scaling(self, x_train: torch.Tensor) -> None:
        """Record the statistics of the training inputs (float32, ``conf / scale``)."""


@dataclass(frozen=True)
class ModelHooks:
    """The hooks a model implements (None where it does not)."""

    training_loss: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None
    validation_loss_per_sample: Optional[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = None
    fit_input_scaling: Optional[Callable[[torch.Tensor], None]] = None

    @property
    def has_own_loss(self) -> bool:
        """Either loss is the model's own: its output need not be the Huber loss's input in raw units."""
        return self.training_loss is not None or self.validation_loss_per_sample is not None


def hooks_of(model) -> ModelHooks:
    """The hooks ``model`` implements (see the protocols above).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    ModelHooks
    """
    return ModelHooks(
        training_loss=model.training_loss if isinstance(model, OwnTrainingLoss) else None,
        validation_loss_per_sample=(model.validation_loss_per_sample if isinstance(model, OwnValidationLoss)
                                    else None),
        fit_input_scaling=model.fit_input_scaling if isinstance(model, InputScaling) else None,
    )
