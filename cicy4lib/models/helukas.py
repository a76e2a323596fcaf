"""A fully connected baseline in the manner of He and Lukas, "Machine Learning Calabi-Yau
Four-folds" (arXiv:2009.02544, Phys. Lett. B 815 (2021) 136139).

What the paper establishes (its abstract, and seed 003 §2 quoting it): fully connected classifier
and regressor networks on the configuration matrix learn h11 to 96 % precision and fail on h31
(27 %); a two-branch network with feature enhancement (monomials of the defining polynomials) on
the 4×4 subset reaches ~95–98 % on h31. The paper's body (layer widths, activations, optimiser)
could not be read from the sources available to this project, so **the widths below are this
project's choice, not a transcription**: the flattened 16×20 matrix (320 inputs) → 3 hidden layers
of 1000 ReLU units with dropout 0.2 → 4 outputs (one regressor for all four Hodge numbers, where
the paper trains one network per Hodge number). Trainable parameters:
320·1000 + 1000 + 2·(1000·1000 + 1000) + 1000·4 + 4 = **2,327,004**.
The feature-enhanced two-branch h31 network is not reproduced (it needs the monomial features
and was trained on a subset only).
"""
from __future__ import annotations

from functools import partial

from torch import nn

from ..constants import MAX_COLS, MAX_ROWS, N_OUTPUTS
from .paper import check_input
from .registry import register_model

HIDDEN = (1000, 1000, 1000)
DROPOUT = 0.2


def expected_parameter_count(hidden=HIDDEN) -> int:
    """Trainable parameters of :class:`HeLukasNet` with these hidden widths."""
    total, n = 0, MAX_ROWS * MAX_COLS
    for w in hidden:
        total, n = total + n * w + w, w
    return total + n * N_OUTPUTS + N_OUTPUTS


class HeLukasNet(nn.Module):
    """Flatten (320) → [Linear → ReLU → Dropout] per hidden width → Linear(·, 4)."""

    def __init__(self, hidden=HIDDEN, dropout: float = DROPOUT):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        n = MAX_ROWS * MAX_COLS
        for w in hidden:
            layers += [nn.Linear(n, w), nn.ReLU(), nn.Dropout(dropout)]
            n = w
        layers.append(nn.Linear(n, N_OUTPUTS))
        self.net = nn.Sequential(*layers)
        self.hidden = tuple(hidden)

    def forward(self, x):
        return self.net(check_input(x))


register_model(
    "HeLukas-FC", partial(HeLukasNet, HIDDEN), group="beyond", family="Fully connected (He-Lukas style)",
    description="dense baseline after He-Lukas (arXiv:2009.02544): 320 -> 1000 -> 1000 -> 1000 -> 4 "
                "(widths chosen here; the paper's were not available)",
    spec={"hidden": HIDDEN, "dropout": DROPOUT},
)
