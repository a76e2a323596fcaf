"""Training-time augmentation by the data's exact symmetry.

A configuration matrix and any permutation of its rows and of its columns describe the same
manifold (same χ and Hodge numbers, SPEC §7). :func:`permute_occupied` draws, for every sample of a
batch independently, a random permutation of the occupied rows and one of the occupied columns
(rows/columns with a nonzero entry) and applies them; the zero padding stays where it is (after
the occupied block). Grid models (CNNs, LSTMs, CICYMiner) can thus be trained on random
representatives of each class: ``TrainConfig(augment_permutations=True)``.

>>> import torch
>>> from cicy4lib.training.augment import permute_occupied
>>> x = torch.zeros(1, 16, 20); x[0, :2, :2] = torch.tensor([[2., 0.], [1., 3.]]) / 6
>>> y = permute_occupied(x, generator=torch.Generator().manual_seed(0))
>>> bool(y[0, 2:].abs().sum() == 0 and y[0, :, 2:].abs().sum() == 0)
True
"""
from __future__ import annotations

import torch


def _random_order(occupied: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Per sample, indices putting the occupied positions first in random order, then the others
    in their original order. ``occupied``: (B, N) bool -> (B, N) int64."""
    b, n = occupied.shape
    keys = torch.rand(b, n, generator=generator, device="cpu" if generator is not None else occupied.device)
    keys = keys.to(occupied.device)
    rest = 1.0 + torch.arange(n, device=occupied.device, dtype=keys.dtype)  # > every random key
    keys = torch.where(occupied, keys, rest.expand(b, n))
    return keys.argsort(dim=1)


def permute_occupied(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly permute the occupied rows and the occupied columns of every matrix in a batch.

    Parameters
    ----------
    x : Tensor (B, 16, 20) (or (B, 1, 16, 20))
        Padded configuration matrices (scaled or not).
    generator : torch.Generator, optional
        A CPU generator for reproducible draws; None uses the global RNG of ``x``'s device.

    Returns
    -------
    Tensor of the same shape: each matrix a row- and column-permutation of its input.
    """
    squeeze = x.dim() == 4
    if squeeze:
        x = x.squeeze(1)
    if x.dim() != 3:
        raise ValueError(f"expected a batch (B, 16, 20), got shape {tuple(x.shape)}")
    nonzero = x != 0
    rows = _random_order(nonzero.any(2), generator)  # (B, R)
    cols = _random_order(nonzero.any(1), generator)  # (B, C)
    out = torch.gather(x, 1, rows.unsqueeze(-1).expand(-1, -1, x.shape[2]))
    out = torch.gather(out, 2, cols.unsqueeze(1).expand(-1, x.shape[1], -1))
    return out.unsqueeze(1) if squeeze else out
