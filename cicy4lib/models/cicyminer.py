"""CICYMiner: the multi-task Inception regressor of Erbin, Finotello, Schneider, Tamaazousti
(arXiv:2108.02221, §4; seed 003), ported to PyTorch.

Where the facts come from
-------------------------
The paper gives the design (§4, Fig. 2 and 4): a shared trunk of Inception modules, one branch per
Hodge number, each branch with an auxiliary output; every Inception module is two parallel
convolutions, one spanning all 16 rows (kernel 16×1) and one spanning all 20 columns (kernel 1×20),
"same" padding, concatenated and batch-normalised; 0.2 dropout before the fully connected parts;
Huber loss δ = 1.5 with weights 0.05 / 0.3 / 0.25 / 0.35 for h11 / h21 / h31 / h22 (the auxiliary
outputs weighted like their principals); Adam lr 1e-3, batch 64, learning rate × 0.3 after 75 epochs
without improvement of the validation loss; inputs rescaled to [0, 1] with train statistics,
outputs not rescaled; ~10⁷ parameters. The sizes come from the authors' public repository
(thesfinox/ml-cicy-4folds): ``cicy_diff.py`` (the multi-task network) and ``parameters_diff.json``
(its hyperparameter grid). Where that grid offers alternatives we take the choice the paper
states, else the first entry of the grid:

==========================  ==============================================================
trunk Inception filters     128, 128, 64 (``initial_filters``)
branch Inception filters    h11: 64, 32; h21: 64, 128, 32; h31: 64, 128, 32; h22: 64, 64, 32
auxiliary output            taken after the branch's 2nd Inception module: flatten → dropout 0.2 →
                            dense h11: 8, 8; h21: 16, 16; h31: 16, 16, 8; h22: 16, 16, 8 → 1
principal output            after the branch's last module: flatten → dropout 0.2 →
                            dense h11: none; h21, h31, h22: 4 (first grid entry) → 1
dense layer                 Linear → ReLU → BatchNorm (the repository's ``DenseActivation``)
Inception module            conv 16×1 → ReLU ‖ conv 1×20 → ReLU → concat → BatchNorm → ReLU;
                            no 1×1 "single" branch (first grid entry), no pooling, no reduction
normalisation               batch norm (the paper; the grid also offers layer norm)
attention (SAM/CHAM)        none: the paper adds it only as an ablation variant
activations                 ReLU (``alpha`` = 0 LeakyReLU), Glorot-uniform weights, zero biases
batch norm                  Keras defaults: momentum 0.99 (PyTorch ``momentum=0.01``), eps 1e-3
==========================  ==============================================================

Not taken from the repository: its ``loss_weights`` grid (0.15/0.35/0.20/0.30) and its label
rescaling (min-max then standardisation in ``cicy_diff.py``) — the paper's text (weights
0.05/0.3/0.25/0.35, outputs not rescaled) is the reference, and the repository's ablation script
also trains on raw labels.

Parameter count: **9,027,616** trainable parameters (the paper: "10⁷"). An Inception module
with ``c`` input channels and ``f`` filters per kernel has 16·c·f + f (rows kernel) +
20·c·f + f (columns kernel) + 2·2f (batch-norm γ, β) = 36·c·f + 6f parameters and 2f output
channels; a dense layer n → w with batch norm has n·w + w + 2w; the output layer n → 1 has n + 1.
Every feature map stays 16×20 ("same" padding), so a flattened map of C channels has 320·C values.

=================================  =========================================  ==========
block                              terms                                      parameters
=================================  =========================================  ==========
trunk                              (c,f) = (1,128), (256,128), (256,64)        1,776,000
h11 Inception modules              (128,64), (128,32)                            442,944
h11 principal head                 20,480 → 1                                     20,481
h11 auxiliary head                 20,480 → 8 → 8 → 1                            163,961
h21 Inception modules              (128,64), (128,128), (256,32)               1,180,992
h21 principal head                 20,480 → 4 → 1                                 81,937
h21 auxiliary head                 81,920 → 16 → 16 → 1                        1,311,089
h31 Inception modules              as h21                                    1,180,992
h31 principal head                 20,480 → 4 → 1                                 81,937
h31 auxiliary head                 81,920 → 16 → 16 → 8 → 1                    1,311,233
h22 Inception modules              (128,64), (128,64), (128,32)                  738,240
h22 principal head                 20,480 → 4 → 1                                 81,937
h22 auxiliary head                 40,960 → 16 → 16 → 8 → 1                      655,873
**total**                                                                  **9,027,616**
=================================  =========================================  ==========

:func:`expected_parameter_count` recomputes this from the configuration constants.

Training
--------
``forward`` returns the principal predictions (B, 4) in both modes, like every registry model, so
evaluation, ensembles and prediction work unchanged. :meth:`CICYMiner.training_loss` is the
paper's objective (sum over the 4 principal and the 4 auxiliary outputs of weight × batch-mean
Huber(δ = 1.5)); the trainer uses it when a model defines it, and the same weighted principal +
auxiliary sum is what :meth:`CICYMiner.validation_loss_per_sample` gives the plateau scheduler.
The input rescaling is part of the model: :meth:`CICYMiner.fit_input_scaling` records the
training set's minimum and maximum (buffers, saved with the weights), and ``forward`` maps
``(x - min) / (max - min)``; before fitting it is the identity (the library's inputs, the
matrices divided by the list's maximum entry 6, already lie in [0, 1]). The optimizer settings of
§4.2 are the ``"cicyminer"`` recipe (:mod:`cicy4lib.training.recipes`, ``--recipe cicyminer``,
``TrainConfig.from_recipe("cicyminer")``); the paper's split (train stratified on h21, 10 % validation at random)
is split ``"strat"`` (:func:`cicy4lib.data.splits.stratified_split`)::

    python -m cicy4lib train CICYMiner --recipe cicyminer --split strat

Cost: about 1.7 GMAC per sample for the forward pass (every map stays 16×20), so a CPU trains it
only on toy subsets; the authors needed ~5 days on a V100 for 300 epochs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..constants import HODGE, MAX_COLS, MAX_ROWS
from .paper import check_input
from .registry import register_model

TRUNK_FILTERS = (128, 128, 64)
BRANCH_FILTERS = {"h11": (64, 32), "h21": (64, 128, 32), "h31": (64, 128, 32), "h22": (64, 64, 32)}
MAIN_DENSE = {"h11": (), "h21": (4,), "h31": (4,), "h22": (4,)}
AUX_DENSE = {"h11": (8, 8), "h21": (16, 16), "h31": (16, 16, 8), "h22": (16, 16, 8)}
RECIPE = "cicyminer"  # its training recipe, by name: the values are in cicy4lib.training.recipes
AUX_AFTER = 1  # the auxiliary output branches off after the 2nd Inception module of each branch
DROPOUT = 0.2
LOSS_WEIGHTS = {"h11": 0.05, "h21": 0.3, "h31": 0.25, "h22": 0.35}  # auxiliaries: the same
HUBER_DELTA = 1.5
BN_MOMENTUM, BN_EPS = 0.01, 1e-3  # Keras BatchNormalization defaults (momentum 0.99, epsilon 1e-3)
N_CELLS = MAX_ROWS * MAX_COLS

def inception_parameters(c_in: int, filters: int) -> int:
    """Trainable parameters of one Inception module: (16 + 20)·c·f + 2f biases + 2·2f batch norm."""
    return (MAX_ROWS + MAX_COLS) * c_in * filters + 2 * filters + 2 * (2 * filters)


def dense_parameters(n_in: int, widths) -> int:
    """Dense layers (Linear + BatchNorm γ, β each) followed by the Linear(·, 1) output."""
    total = 0
    for w in widths:
        total += n_in * w + w + 2 * w
        n_in = w
    return total + n_in + 1


def expected_parameter_count() -> int:
    """CICYMiner's trainable-parameter count, computed from the configuration (9,027,616)."""
    total, c = 0, 1
    for f in TRUNK_FILTERS:
        total, c = total + inception_parameters(c, f), 2 * f
    trunk_channels = c
    for h in HODGE:
        c = trunk_channels
        for i, f in enumerate(BRANCH_FILTERS[h]):
            total, c = total + inception_parameters(c, f), 2 * f
            if i == AUX_AFTER:
                total += dense_parameters(N_CELLS * c, AUX_DENSE[h])
        total += dense_parameters(N_CELLS * c, MAIN_DENSE[h])
    return total


class _BatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d that accepts a training batch of one sample (uses the running statistics then),
    as Keras does not fail on it either; a trailing partial batch of size 1 would otherwise raise."""

    def forward(self, x):
        if self.training and x.shape[0] == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                False, 0.0, self.eps)
        return super().forward(x)


class InceptionModule(nn.Module):
    """conv(16×1) → ReLU ‖ conv(1×20) → ReLU, concatenated (2f channels) → BatchNorm → ReLU.

    "Same" padding as Keras pads an even kernel k: (k−1)//2 before, the rest after, so every map
    stays 16×20.
    """

    def __init__(self, c_in: int, filters: int):
        super().__init__()
        self.pad_rows = nn.ZeroPad2d((0, 0, (MAX_ROWS - 1) // 2, MAX_ROWS // 2))
        self.rows = nn.Conv2d(c_in, filters, (MAX_ROWS, 1))
        self.pad_cols = nn.ZeroPad2d(((MAX_COLS - 1) // 2, MAX_COLS // 2, 0, 0))
        self.cols = nn.Conv2d(c_in, filters, (1, MAX_COLS))
        self.norm = nn.BatchNorm2d(2 * filters, momentum=BN_MOMENTUM, eps=BN_EPS)
        self.out_channels = 2 * filters

    def forward(self, x):
        y = torch.cat([F.relu(self.rows(self.pad_rows(x))), F.relu(self.cols(self.pad_cols(x)))], dim=1)
        return F.relu(self.norm(y))


class DenseHead(nn.Module):
    """Flatten → Dropout → [Linear → ReLU → BatchNorm] per width → Linear(·, 1)."""

    def __init__(self, n_in: int, widths, dropout: float = DROPOUT):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(dropout)]
        for w in widths:
            layers += [nn.Linear(n_in, w), nn.ReLU(), _BatchNorm1d(w, momentum=BN_MOMENTUM, eps=BN_EPS)]
            n_in = w
        layers.append(nn.Linear(n_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class HodgeBranch(nn.Module):
    """The task-specific part for one Hodge number: Inception modules, principal and auxiliary heads."""

    def __init__(self, c_in: int, filters, main_dense, aux_dense, aux_after: int = AUX_AFTER):
        super().__init__()
        if not 0 <= aux_after < len(filters):
            raise ValueError(f"aux_after must index one of the {len(filters)} modules, got {aux_after}")
        blocks, c, c_aux = [], c_in, None
        for i, f in enumerate(filters):
            blocks.append(InceptionModule(c, f))
            c = blocks[-1].out_channels
            if i == aux_after:
                c_aux = c
        self.blocks = nn.ModuleList(blocks)
        self.aux_after = aux_after
        self.head = DenseHead(N_CELLS * c, main_dense)
        self.aux_head = DenseHead(N_CELLS * c_aux, aux_dense)

    def forward(self, z, with_aux: bool = False):
        tap = None
        for i, block in enumerate(self.blocks):
            z = block(z)
            if i == self.aux_after:
                tap = z
        main = self.head(z)
        return (main, self.aux_head(tap)) if with_aux else main


class CICYMiner(nn.Module):
    """Shared Inception trunk + one branch per Hodge number, each with an auxiliary output.

    ``forward(x)`` takes (B, 16, 20) (or (B, 1, 16, 20)) floats and returns the principal
    predictions (B, 4) = (h11, h21, h31, h22). See the module docstring for the configuration.
    """

    def __init__(self):
        super().__init__()
        blocks, c = [], 1
        for f in TRUNK_FILTERS:
            blocks.append(InceptionModule(c, f))
            c = blocks[-1].out_channels
        self.trunk = nn.Sequential(*blocks)
        self.branches = nn.ModuleDict({
            h: HodgeBranch(c, BRANCH_FILTERS[h], MAIN_DENSE[h], AUX_DENSE[h]) for h in HODGE})
        self.register_buffer("loss_weights", torch.tensor([LOSS_WEIGHTS[h] for h in HODGE]))
        self.register_buffer("input_min", torch.tensor(0.0))
        self.register_buffer("input_max", torch.tensor(1.0))
        self.huber_delta = HUBER_DELTA
        self._glorot_init()

    def _glorot_init(self):
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    @torch.no_grad()
    def fit_input_scaling(self, x_train: torch.Tensor) -> None:
        """Record the training inputs' minimum and maximum: ``forward`` then maps them to [0, 1]."""
        lo, hi = x_train.min().to(self.input_min), x_train.max().to(self.input_max)
        if not hi > lo:
            raise ValueError("fit_input_scaling: the training inputs are constant")
        self.input_min.copy_(lo)
        self.input_max.copy_(hi)

    def _trunk(self, x):
        x = check_input(x)
        x = (x - self.input_min) / (self.input_max - self.input_min)
        return self.trunk(x.unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self._trunk(x)
        return torch.cat([self.branches[h](z) for h in HODGE], dim=1)

    def forward_with_aux(self, x: torch.Tensor):
        """(principal (B, 4), auxiliary (B, 4)) predictions."""
        z = self._trunk(x)
        outs = [self.branches[h](z, with_aux=True) for h in HODGE]
        return torch.cat([o[0] for o in outs], 1), torch.cat([o[1] for o in outs], 1)

    def weighted_huber(self, main, aux, y, reduction: str = "mean"):
        """Σ_k w_k (Huber(main_k, y_k) + Huber(aux_k, y_k)), δ = 1.5; per sample or batch mean."""
        main_l = F.huber_loss(main.float(), y, delta=self.huber_delta, reduction="none")
        aux_l = F.huber_loss(aux.float(), y, delta=self.huber_delta, reduction="none")
        per_sample = ((main_l + aux_l) * self.loss_weights).sum(dim=1)
        return per_sample.mean() if reduction == "mean" else per_sample

    def training_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The paper's objective on one batch (the sum over outputs of weight × batch-mean Huber)."""
        main, aux = self.forward_with_aux(x)
        return self.weighted_huber(main, aux, y)

    def validation_loss_per_sample(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The same objective per sample (B,), for the validation loss the scheduler watches."""
        main, aux = self.forward_with_aux(x)
        return self.weighted_huber(main, aux, y, reduction="none")


register_model(
    "CICYMiner", CICYMiner, group="beyond", family="Inception multi-task (CICYMiner)",
    description="CICYMiner (arXiv:2108.02221 §4) ported to PyTorch: shared Inception trunk, a principal "
                "and an auxiliary head per Hodge number, weighted Huber loss",
    spec={"trunk": TRUNK_FILTERS, "branches": BRANCH_FILTERS, "main_dense": MAIN_DENSE,
          "aux_dense": AUX_DENSE, "recipe": RECIPE},
    recipe=RECIPE,
)
