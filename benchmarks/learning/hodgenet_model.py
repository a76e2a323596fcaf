"""Prototype of HodgeNet (research copy; the library copy is cicy4lib/models/hodgenet.py).

Message passing on the bipartite factor/polynomial graph (as BipartiteGNN) with
- richer node features, exact chi and simple invariants as global inputs,
- a global (virtual-node) context in every update,
- classification heads: h11 - rows (offset) and h21; h31, h22 from h11, h21 and chi exactly.
Input: integer degrees (B, R, C) as float (any padding), chi (B,) float.
"""
from __future__ import annotations

import torch
from torch import nn

OFF_MIN = -3          # h11 - rows >= -3 (redundant descriptions of release 2 have -1)
N_OFF = 24            # offsets -3 .. 20
N_H21 = 40            # h21 0 .. 39
EDGE_BASIS = 3
N_ROW_F = 8
N_COL_F = 6
N_GLOB = 6


def graph_features(p, chi):
    """p: (B, R, C) float integer degrees; chi (B,) float."""
    present = p > 0.5
    ind = present.to(p.dtype)
    p = p * ind
    row_mask = present.any(2).to(p.dtype).unsqueeze(-1)
    col_mask = present.any(1).to(p.dtype).unsqueeze(-1)
    n = (p.sum(2, keepdim=True) - 1) * row_mask
    rnnz = ind.sum(2, keepdim=True)
    ones = (p == 1).to(p.dtype).sum(2, keepdim=True)
    rmax = p.amax(2, keepdim=True)
    rows = torch.cat([n, rnnz, n * n / 4, ones, rmax, (n == 1).to(p.dtype) * row_mask,
                      (n == 2).to(p.dtype) * row_mask, (rnnz == 1).to(p.dtype) * row_mask], -1)
    deg = p.sum(1).unsqueeze(-1)
    cnnz = ind.sum(1).unsqueeze(-1)
    cmax = p.amax(1).unsqueeze(-1)
    cones = (p == 1).to(p.dtype).sum(1).unsqueeze(-1)
    cols = torch.cat([deg, cnnz, cmax, cones, deg * deg / 8, (deg == 2).to(p.dtype) * col_mask], -1)
    edges = torch.stack([ind, p, p * p / 4], 1)
    n_row, n_col = row_mask.sum(1), col_mask.sum(1)
    glob = torch.cat([n_row / 8, n_col / 10, chi.unsqueeze(-1) / 300, torch.log1p(chi.clamp_min(0)).unsqueeze(-1) / 6,
                      (n * row_mask).sum(1) / 16, (n == 1).to(p.dtype).mul(row_mask).sum(1) / 8], -1)
    return rows, cols, edges, row_mask, col_mask, glob


class Layer(nn.Module):
    def __init__(self, h, mlp=1):
        super().__init__()
        w = mlp * h
        self.to_row = nn.Linear(EDGE_BASIS * h, h)
        self.to_col = nn.Linear(EDGE_BASIS * h, h)
        self.row_mlp = nn.Sequential(nn.Linear(3 * h, w), nn.SiLU(), nn.Linear(w, h))
        self.col_mlp = nn.Sequential(nn.Linear(3 * h, w), nn.SiLU(), nn.Linear(w, h))
        self.glob_mlp = nn.Sequential(nn.Linear(3 * h, h), nn.SiLU(), nn.Linear(h, h))
        self.row_norm = nn.LayerNorm(h)
        self.col_norm = nn.LayerNorm(h)
        self.glob_norm = nn.LayerNorm(h)

    @staticmethod
    def _gather(edges, h):  # edges (B,E,R,C), h (B,C,H) -> (B,R,E*H)
        B, E, R, C = edges.shape
        m = torch.bmm(edges.reshape(B, E * R, C), h)  # (B, E*R, H)
        return m.reshape(B, E, R, -1).permute(0, 2, 1, 3).reshape(B, R, -1)

    def forward(self, h_row, h_col, g, edges, row_mask, col_mask):
        R, C = h_row.shape[1], h_col.shape[1]
        msg = self.to_row(self._gather(edges, h_col))
        h_row = self.row_norm(h_row + self.row_mlp(torch.cat([h_row, msg, g.unsqueeze(1).expand(-1, R, -1)], -1))) * row_mask
        msg = self.to_col(self._gather(edges.transpose(2, 3), h_row))
        h_col = self.col_norm(h_col + self.col_mlp(torch.cat([h_col, msg, g.unsqueeze(1).expand(-1, C, -1)], -1))) * col_mask
        pr = h_row.sum(1) / row_mask.sum(1).clamp_min(1)
        pc = h_col.sum(1) / col_mask.sum(1).clamp_min(1)
        g = self.glob_norm(g + self.glob_mlp(torch.cat([g, pr, pc], -1)))
        return h_row, h_col, g


class HodgeNet(nn.Module):
    def __init__(self, hidden=96, layers=6, head="cls", mlp=1):
        super().__init__()
        h = hidden
        self.head = head
        self.row_in = nn.Sequential(nn.Linear(N_ROW_F, h), nn.SiLU(), nn.Linear(h, h))
        self.col_in = nn.Sequential(nn.Linear(N_COL_F, h), nn.SiLU(), nn.Linear(h, h))
        self.glob_in = nn.Sequential(nn.Linear(N_GLOB, h), nn.SiLU(), nn.Linear(h, h))
        self.layers = nn.ModuleList(Layer(h, mlp) for _ in range(layers))
        self.trunk = nn.Sequential(nn.Linear(5 * h, 2 * h), nn.SiLU(), nn.Linear(2 * h, 2 * h), nn.SiLU())
        n_out = N_OFF + N_H21 if head == "cls" else 2
        self.out = nn.Linear(2 * h, n_out)

    def logits(self, p, chi):
        rows, cols, edges, row_mask, col_mask, glob = graph_features(p, chi)
        h_row = self.row_in(rows) * row_mask
        h_col = self.col_in(cols) * col_mask
        g = self.glob_in(glob)
        for layer in self.layers:
            h_row, h_col, g = layer(h_row, h_col, g, edges, row_mask, col_mask)
        nr = row_mask.sum(1).clamp_min(1)
        nc = col_mask.sum(1).clamp_min(1)
        pooled = torch.cat([h_row.sum(1) / 8, h_row.sum(1) / nr, h_col.sum(1) / 10, h_col.sum(1) / nc, g], -1)
        return self.out(self.trunk(pooled)), row_mask.sum((1, 2))

    def loss(self, p, chi, hodge):
        z, nrow = self.logits(p, chi)
        off = (hodge[:, 0] - nrow).round().long() - OFF_MIN
        if self.head == "cls":
            return (nn.functional.cross_entropy(z[:, :N_OFF], off.clamp(0, N_OFF - 1))
                    + nn.functional.cross_entropy(z[:, N_OFF:], hodge[:, 1].long().clamp(0, N_H21 - 1)))
        target = torch.stack([hodge[:, 0] - nrow, hodge[:, 1]], 1).float()
        return nn.functional.smooth_l1_loss(z, target, beta=0.5)

    @torch.no_grad()
    def hodge(self, p, chi):
        z, nrow = self.logits(p, chi)
        if self.head == "cls":
            h11 = z[:, :N_OFF].argmax(1).to(p.dtype) + OFF_MIN + nrow
            h21 = z[:, N_OFF:].argmax(1).to(p.dtype)
        else:
            h11 = (z[:, 0] + nrow).round().clamp_min(1)
            h21 = z[:, 1].round().clamp_min(0)
        h31 = chi / 6 - 8 - h11 + h21
        h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
        return torch.stack([h11, h21, h31, h22], 1)
