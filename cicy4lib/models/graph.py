"""A symmetry-aware network: message passing on the bipartite graph of a configuration.

A configuration matrix and any permutation of its rows and of its columns describe the same
manifold (SPEC §7). The CNNs and LSTMs of the paper read one arbitrary order; this network cannot
tell orders apart by construction:

- one node per projective factor P^{n_i} (row), with features (n_i, its number of nonzero entries,
  n_i²/4), where n_i = row sum − 1 (the Calabi–Yau condition);
- one node per polynomial (column), with features (its total degree, its number of nonzero entries);
- an edge between factor i and polynomial j wherever p_ij > 0, carrying the basis
  (1, p_ij, p_ij²/4) of the degree; padding rows and columns (all zero) are not nodes;
- ``layers`` rounds of message passing: factor i receives Σ_j e_ij ⊗ h_j (one linear map per edge
  basis term), updates h_i ← LayerNorm(h_i + MLP(h_i, message)); then the polynomials likewise
  from the updated factors;
- readout: the sum (÷4) and the mean over factor nodes and over polynomial nodes, plus the two
  node counts → MLP → (h11, h21, h31, h22).

Every step is either per node or a sum over neighbours, so the output is invariant under any
permutation of the rows and of the columns of the occupied block (and ignores where the block
sits in the 16×20 grid) — up to float rounding of the sums. The degrees are recovered as
``x · scale`` (``scale`` = 6, the library's default divisor; pass another when the data used
another). The last layer's bias starts at the mean Hodge numbers of the list (SPEC §1), so
training starts near the data instead of at zero.
"""
from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ..constants import DEFAULT_SCALE, N_OUTPUTS
from .paper import check_input
from .registry import register_model

HIDDEN = 64
LAYERS = 4
EDGE_BASIS = 3
HODGE_MEANS = (10.1, 0.817, 39.6, 241.0)  # SPEC §1: means over the 905,684 non-product entries


class BipartiteLayer(nn.Module):
    """One round: polynomials → factors, then factors → polynomials."""

    def __init__(self, hidden: int):
        super().__init__()
        self.to_row = nn.Linear(EDGE_BASIS * hidden, hidden)
        self.to_col = nn.Linear(EDGE_BASIS * hidden, hidden)
        self.row_mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.col_mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.row_norm = nn.LayerNorm(hidden)
        self.col_norm = nn.LayerNorm(hidden)

    def forward(self, h_row, h_col, edges, row_mask, col_mask):
        # edges (B, E, R, C); h_row (B, R, H); h_col (B, C, H); masks (B, R, 1), (B, C, 1)
        msg = self.to_row(torch.einsum("berc,bch->brhe", edges, h_col).flatten(2))
        h_row = self.row_norm(h_row + self.row_mlp(torch.cat([h_row, msg], -1))) * row_mask
        msg = self.to_col(torch.einsum("berc,brh->bche", edges, h_row).flatten(2))
        h_col = self.col_norm(h_col + self.col_mlp(torch.cat([h_col, msg], -1))) * col_mask
        return h_row, h_col


class BipartiteGraphNet(nn.Module):
    """Row/column-permutation-invariant regressor of the four Hodge numbers (see module docstring).

    ``forward`` takes (B, 16, 20) (or (B, 1, 16, 20)) floats, the padded matrices divided by
    ``scale``, and returns (B, 4).
    """

    def __init__(self, hidden: int = HIDDEN, layers: int = LAYERS, scale: float = DEFAULT_SCALE):
        super().__init__()
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.row_in = nn.Sequential(nn.Linear(3, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.col_in = nn.Sequential(nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.layers = nn.ModuleList(BipartiteLayer(hidden) for _ in range(layers))
        self.readout = nn.Sequential(
            nn.Linear(4 * hidden + 2, 2 * hidden), nn.SiLU(), nn.Linear(2 * hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, N_OUTPUTS))
        with torch.no_grad():
            self.readout[-1].bias.copy_(torch.tensor(HODGE_MEANS))

    def graph_inputs(self, x):
        """Node features, edge basis and node masks of a batch of padded matrices."""
        p = check_input(x) * self.scale  # integer degrees (up to float rounding)
        present = p > 0.5
        ind = present.to(p.dtype)
        p = p * ind
        row_mask = present.any(2).to(p.dtype).unsqueeze(-1)  # (B, R, 1)
        col_mask = present.any(1).to(p.dtype).unsqueeze(-1)  # (B, C, 1)
        n = (p.sum(2, keepdim=True) - 1) * row_mask
        rows = torch.cat([n, ind.sum(2, keepdim=True), n * n / 4], -1)
        cols = torch.cat([p.sum(1).unsqueeze(-1), ind.sum(1).unsqueeze(-1)], -1)
        edges = torch.stack([ind, p, p * p / 4], 1)
        return rows, cols, edges, row_mask, col_mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows, cols, edges, row_mask, col_mask = self.graph_inputs(x)
        h_row = self.row_in(rows) * row_mask
        h_col = self.col_in(cols) * col_mask
        for layer in self.layers:
            h_row, h_col = layer(h_row, h_col, edges, row_mask, col_mask)
        n_row, n_col = row_mask.sum(1), col_mask.sum(1)
        pooled = torch.cat([h_row.sum(1) / 4, h_row.sum(1) / n_row.clamp_min(1),
                            h_col.sum(1) / 4, h_col.sum(1) / n_col.clamp_min(1), n_row, n_col], -1)
        return self.readout(pooled)


register_model(
    "BipartiteGNN-64", partial(BipartiteGraphNet, HIDDEN, LAYERS), group="beyond",
    family="Bipartite graph network (permutation-invariant)",
    description="message passing on the factor/polynomial graph, 4 rounds of width 64; invariant to "
                "row and column permutations",
    spec={"hidden": HIDDEN, "layers": LAYERS},
)
