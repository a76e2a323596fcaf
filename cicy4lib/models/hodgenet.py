"""HodgeGNN: a compute-efficient, permutation-invariant network that learns h11 and h21 exactly.

Built on the registry's BipartiteGNN (message passing on the bipartite graph of factors P^{n_i}
and polynomials, :mod:`.graph`), with what made it learn far more per FLOP on the generated set
(measured in ``benchmarks/learning/``, numbers in ``benchmarks/results/learning.md``):

- **classification heads**: h11 − rows (an offset, classes −3..20) and h21 (classes 0..39) with
  cross-entropy, instead of regressing four numbers: 0 is the favourable case, so the network
  learns only the correction to "h11 = number of rows";
- **exact χ and simple invariants as inputs**: χ (the integral of c4, computed exactly from the
  matrix with :func:`cicy4lib.geometry.euler_numbers`, cached per configuration), row count,
  column count, Σ n_i, number of P¹ factors; richer node features (entries equal to 1, largest
  entry, P¹/P² flags for factors; degree, largest entry, ones, quadrics for polynomials);
- a **global (virtual-node) state** updated in every round and read by every node;
- **h31 and h22 from h11, h21 and χ** (SPEC §1: h31 = χ/6 − 8 − h11 + h21,
  h22 = 44 + 4 h11 − 2 h21 + 4 h31), so the four outputs are exact integers and always satisfy
  both index relations;
- each batch is cropped to its largest occupied block (padding is not a node). ``amp=True``
  (bfloat16) makes a step 1.6-2.3x faster on this machine's AMD EPYC but learned slower in the
  first epochs in the measurements; the default recipe stays float32.

``forward(x)`` takes the library's input (B, 16, 20) or (B, 1, 16, 20), the padded matrices
divided by ``scale`` (6), and returns (B, 4) Hodge numbers as floats (exact integers) like every
registry model, so prediction, evaluation, ensembles and checkpoints work unchanged. The trainer
(:func:`cicy4lib.training.loop.train`) uses :meth:`HodgeGNN.training_loss` (the summed
cross-entropies) and :meth:`HodgeGNN.validation_loss_per_sample`; train it with raw targets (the
recipe :data:`RECIPE` sets ``standardize_targets=False``).

Every step is per node or a sum/mean over nodes, so the output is invariant under row and column
permutations of the occupied block (up to float rounding of sums, which can flip an argmax only at
an exact tie; ``predict_hodge(..., canonical=True)`` removes even that).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..constants import DEFAULT_SCALE, MAX_COLS, MAX_ROWS
from .paper import check_input
from .registry import register_model

OFF_MIN = -3  # h11 - rows: classes OFF_MIN .. OFF_MIN + N_OFF - 1 (redundant descriptions have -1)
N_OFF = 24
N_H21 = 40  # h21: classes 0 .. 39 (the list's maximum is 33)
EDGE_BASIS = 3  # an edge carries (1, p, p^2/4)
N_ROW_FEATURES, N_COL_FEATURES, N_GLOBAL = 8, 6, 6
CHI_CACHE_MAX = 2_000_000  # configurations whose chi is remembered per model (about 0.5 GB at most)

# The default recipe (timm-style: beside the architecture; TrainConfig.from_recipe(<model name>)).
# Chosen on validation (benchmarks/learning/, benchmarks/results/learning.md): 30 epochs on release 3's
# 72 % split reach test h11 99.75 %, h21 98.73 % in 579 s on one CPU thread.
RECIPE = {
    "standardize_targets": False,  # the heads are classifiers on the raw Hodge numbers
    "batch_size": 256,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "optimizer": "adamw",
    "schedule": "onecycle",
    "warmup_fraction": 0.03,
    "final_lr_fraction": 0.02,
    "patience": 1000,  # the one-cycle schedule ends the run; no early stop before it
    "max_epochs": 30,
    "amp": False,  # float32: bfloat16 steps are 1.6x faster here but learned slower in the first epochs (learning.md)
}


def graph_features(p: torch.Tensor, chi: torch.Tensor):
    """Node features, edge basis, node masks and global features of integer degrees ``p`` (B, R, C)."""
    present = p > 0.5
    ind = present.to(p.dtype)
    p = p * ind
    row_mask = present.any(2).to(p.dtype).unsqueeze(-1)  # (B, R, 1)
    col_mask = present.any(1).to(p.dtype).unsqueeze(-1)  # (B, C, 1)
    n = (p.sum(2, keepdim=True) - 1) * row_mask  # P^n: n = row sum - 1
    r_nnz = ind.sum(2, keepdim=True)
    rows = torch.cat([n, r_nnz, n * n / 4, (p == 1).to(p.dtype).sum(2, keepdim=True), p.amax(2, keepdim=True),
                      (n == 1).to(p.dtype) * row_mask, (n == 2).to(p.dtype) * row_mask,
                      (r_nnz == 1).to(p.dtype) * row_mask], -1)
    deg = p.sum(1).unsqueeze(-1)
    cols = torch.cat([deg, ind.sum(1).unsqueeze(-1), p.amax(1).unsqueeze(-1),
                      (p == 1).to(p.dtype).sum(1).unsqueeze(-1), deg * deg / 8, (deg == 2).to(p.dtype) * col_mask], -1)
    edges = torch.stack([ind, p, p * p / 4], 1)  # (B, 3, R, C)
    n_row, n_col = row_mask.sum(1), col_mask.sum(1)
    chi = chi.to(p.dtype).unsqueeze(-1)
    glob = torch.cat([n_row / 8, n_col / 10, chi / 300, torch.log1p(chi.clamp_min(0)) / 6, n.sum(1) / 16,
                      ((n == 1).to(p.dtype) * row_mask).sum(1) / 8], -1)
    return rows, cols, edges, row_mask, col_mask, glob


def _euler_or_nan(m) -> float:
    from ..geometry import ConfigurationError, euler_number  # lazy: imports flint

    try:
        return float(euler_number(m))
    except ConfigurationError:
        return float("nan")


class HodgeGNNLayer(nn.Module):
    """One round: polynomials -> factors, factors -> polynomials, nodes -> global state."""

    def __init__(self, hidden: int, mlp: int = 2):
        super().__init__()
        h, w = hidden, mlp * hidden
        self.to_row = nn.Linear(EDGE_BASIS * h, h)
        self.to_col = nn.Linear(EDGE_BASIS * h, h)
        self.row_mlp = nn.Sequential(nn.Linear(3 * h, w), nn.SiLU(), nn.Linear(w, h))
        self.col_mlp = nn.Sequential(nn.Linear(3 * h, w), nn.SiLU(), nn.Linear(w, h))
        self.glob_mlp = nn.Sequential(nn.Linear(3 * h, h), nn.SiLU(), nn.Linear(h, h))
        self.row_norm = nn.LayerNorm(h)
        self.col_norm = nn.LayerNorm(h)
        self.glob_norm = nn.LayerNorm(h)

    @staticmethod
    def _gather(edges, h):
        """Σ_j e_ij ⊗ h_j for every edge basis term: edges (B, E, R, C), h (B, C, H) -> (B, R, E*H)."""
        B, E, R, C = edges.shape
        m = torch.bmm(edges.reshape(B, E * R, C), h)
        return m.reshape(B, E, R, -1).permute(0, 2, 1, 3).reshape(B, R, -1)

    def forward(self, h_row, h_col, g, edges, row_mask, col_mask):
        R, C = h_row.shape[1], h_col.shape[1]
        msg = self.to_row(self._gather(edges, h_col))
        h_row = self.row_norm(h_row + self.row_mlp(torch.cat([h_row, msg, g.unsqueeze(1).expand(-1, R, -1)], -1)))
        h_row = h_row * row_mask
        msg = self.to_col(self._gather(edges.transpose(2, 3), h_row))
        h_col = self.col_norm(h_col + self.col_mlp(torch.cat([h_col, msg, g.unsqueeze(1).expand(-1, C, -1)], -1)))
        h_col = h_col * col_mask
        mean_row = h_row.sum(1) / row_mask.sum(1).clamp_min(1)
        mean_col = h_col.sum(1) / col_mask.sum(1).clamp_min(1)
        g = self.glob_norm(g + self.glob_mlp(torch.cat([g, mean_row, mean_col], -1)))
        return h_row, h_col, g


class HodgeGNN(nn.Module):
    """Exact-integer Hodge numbers from classification heads on a bipartite graph network."""

    def __init__(self, hidden: int = 64, layers: int = 4, scale: float = DEFAULT_SCALE, mlp: int = 2):
        super().__init__()
        h = hidden
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.row_in = nn.Sequential(nn.Linear(N_ROW_FEATURES, h), nn.SiLU(), nn.Linear(h, h))
        self.col_in = nn.Sequential(nn.Linear(N_COL_FEATURES, h), nn.SiLU(), nn.Linear(h, h))
        self.glob_in = nn.Sequential(nn.Linear(N_GLOBAL, h), nn.SiLU(), nn.Linear(h, h))
        self.layers = nn.ModuleList(HodgeGNNLayer(h, mlp) for _ in range(layers))
        self.trunk = nn.Sequential(nn.Linear(5 * h, 2 * h), nn.SiLU(), nn.Linear(2 * h, 2 * h), nn.SiLU())
        self.out = nn.Linear(2 * h, N_OFF + N_H21)
        self._chi_cache: dict[bytes, int] = {}

    # ----------------------------------------------------------------------------- inputs
    def degrees(self, x: torch.Tensor) -> torch.Tensor:
        """Integer degrees (as floats) of the library's scaled input, cropped to the batch's block."""
        p = torch.round(check_input(x).float() * self.scale)
        occupied = p > 0.5
        r = int(occupied.any(2).sum(1).max().item()) if len(p) else 1
        c = int(occupied.any(1).sum(1).max().item()) if len(p) else 1
        # the block sits top-left (the library's padding); crop only when that holds
        if bool(occupied[:, r:, :].any()) or bool(occupied[:, :, c:].any()):
            return p
        return p[:, :max(r, 1), :max(c, 1)]

    def euler(self, p: torch.Tensor) -> torch.Tensor:
        """Exact χ of each configuration (cached per model: an epoch after the first costs lookups)."""
        from ..geometry import ConfigurationError, euler_numbers  # lazy: imports flint

        ints = p.detach().to("cpu", torch.int8).numpy()
        keys = [m.tobytes() + bytes(m.shape) for m in ints]
        missing = [i for i, k in enumerate(keys) if k not in self._chi_cache]
        if missing:
            padded = np.zeros((len(missing), MAX_ROWS, MAX_COLS), dtype=np.int64)
            padded[:, :ints.shape[1], :ints.shape[2]] = ints[missing]
            try:
                values = euler_numbers(padded)
            except ConfigurationError:  # not a valid configuration: no chi (h31, h22 come out NaN)
                values = np.array([_euler_or_nan(m) for m in padded], dtype=np.float64)
            if len(self._chi_cache) + len(missing) > CHI_CACHE_MAX:
                self._chi_cache.clear()
            self._chi_cache.update((keys[i], float(v)) for i, v in zip(missing, values))
        return torch.tensor([self._chi_cache[k] for k in keys], dtype=torch.float32, device=p.device)

    def _inputs(self, x):
        p = self.degrees(x)
        chi = self.euler(p)
        return p, chi

    # ----------------------------------------------------------------------------- network
    def logits(self, x: torch.Tensor):
        """(logits (B, N_OFF + N_H21), number of rows (B,), χ (B,)) of a scaled input batch."""
        p, chi = self._inputs(x)
        rows, cols, edges, row_mask, col_mask, glob = graph_features(p, torch.nan_to_num(chi))
        h_row = self.row_in(rows) * row_mask
        h_col = self.col_in(cols) * col_mask
        g = self.glob_in(glob)
        for layer in self.layers:
            h_row, h_col, g = layer(h_row, h_col, g, edges, row_mask, col_mask)
        n_row = row_mask.sum(1).clamp_min(1)
        n_col = col_mask.sum(1).clamp_min(1)
        pooled = torch.cat([h_row.sum(1) / 8, h_row.sum(1) / n_row, h_col.sum(1) / 10, h_col.sum(1) / n_col, g], -1)
        return self.out(self.trunk(pooled)).float(), row_mask.sum((1, 2)).float(), chi

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, n_row, chi = self.logits(x)
        h11 = z[:, :N_OFF].argmax(1).float() + OFF_MIN + n_row
        h21 = z[:, N_OFF:].argmax(1).float()
        h31 = chi / 6 - 8 - h11 + h21
        h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
        return torch.stack([h11, h21, h31, h22], 1)

    # ----------------------------------------------------------------------------- objective
    def _per_sample(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        z, n_row, _ = self.logits(x)
        off = (torch.round(y[:, 0].float()) - n_row).long() - OFF_MIN
        h21 = torch.round(y[:, 1].float()).long()
        return (F.cross_entropy(z[:, :N_OFF], off.clamp(0, N_OFF - 1), reduction="none")
                + F.cross_entropy(z[:, N_OFF:], h21.clamp(0, N_H21 - 1), reduction="none"))

    def training_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the h11 − rows class plus that of the h21 class (raw Hodge targets)."""
        return self._per_sample(x, y).mean()

    def validation_loss_per_sample(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._per_sample(x, y)


for _hidden, _layers in ((64, 4),):
    register_model(
        f"HodgeGNN-{_hidden}", partial(HodgeGNN, _hidden, _layers), group="beyond",
        family="Bipartite graph network with classification heads (permutation-invariant)",
        description=f"message passing on the factor/polynomial graph, {_layers} rounds of width {_hidden}, "
                    "global state, exact chi input; h11 - rows and h21 classified, h31/h22 from chi",
        spec={"hidden": _hidden, "layers": _layers}, recipe=RECIPE,
    )
