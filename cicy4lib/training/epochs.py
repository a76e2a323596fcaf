"""One epoch of training and one validation pass: the loops :func:`cicy4lib.training.loop.train` runs.

Inputs live on the device as int8 matrices (4x less memory than float32) and are divided by the
scale batch by batch; each epoch slices batches of a permutation by index (no DataLoader); the
loss is accumulated on the device and read back once per epoch.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ..data.dataset import CICYData
from ..errors import DataError
from ..models.hooks import hooks_of
from .augment import permute_occupied
from .config import METRIC_COLUMNS, TrainConfig
from .device import as_input, autocast


def device_tensors(data, idx, part: str, device):
    """Features (n,16,20) float32 and targets (n,4) float32 on ``device``; rows with unknown Hodge
    numbers (-1) are dropped with a warning."""
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0:
        raise DataError(f"the {part} set of the split is empty")
    hodge = np.asarray(data.hodge)[idx]
    known = (hodge >= 0).all(axis=1)
    if not known.all():
        warnings.warn(f"{part}: dropping {int((~known).sum())} rows with unknown Hodge numbers", stacklevel=3)
        idx, hodge = idx[known], hodge[known]
        if len(idx) == 0:
            raise DataError(f"the {part} set has no rows with known Hodge numbers")
    conf = getattr(data, "conf", None)
    if _plain_features(data) and conf is not None and np.asarray(conf[:1]).dtype == np.int8:
        # int8 on the device (4x smaller than float32); the trainer divides by the scale per batch
        x = torch.from_numpy(np.ascontiguousarray(np.asarray(conf)[idx] if not isinstance(conf, np.memmap)
                                                  else conf[np.sort(idx)][np.argsort(np.argsort(idx))]))
    else:
        x = torch.from_numpy(np.ascontiguousarray(data.features(idx), dtype=np.float32))
    x = x.to(device)
    y = torch.from_numpy(hodge.astype(np.float32)).to(device)
    return x, y


def _plain_features(data) -> bool:
    """True when ``data.features`` is CICYData's (``conf / scale``), so int8 ``conf`` can stand in."""
    return getattr(type(data), "features", None) is CICYData.features


def make_optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (or Adam) with the recipe's lr and weight decay; the fused kernel where this torch build has one."""
    params = list(model.parameters())
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    kwargs = {"lr": config.lr} if config.optimizer == "adam" else {"lr": config.lr,
                                                                   "weight_decay": config.weight_decay}
    if config.fused_optimizer:
        try:
            return cls(params, **kwargs, fused=True)
        except (RuntimeError, TypeError, ValueError):  # older torch, or no fused kernel for this device
            pass
    return cls(params, **kwargs)


def onecycle_lr(step: int, total_steps: int, lr: float, warmup_fraction: float, final_fraction: float) -> float:
    """Linear warm-up from lr/25 over ``warmup_fraction`` of the steps, then cosine to ``final_fraction * lr``."""
    warm = int(round(warmup_fraction * total_steps))
    if step < warm:
        return lr * (0.04 + 0.96 * (step + 1) / warm)
    span = max(1, total_steps - warm)
    t = min(1.0, (step - warm) / span)
    low = final_fraction * lr
    return low + 0.5 * (lr - low) * (1 + math.cos(math.pi * t))


# many keyword options: one epoch's settings, shared by the trainer and benchmarks/bench_train.py
def train_epoch(model, x, y, perm, *, batch_size, optimizer, delta=1.0, amp=False, scaler=None,
                augment=False, scale=None, loss_module=None, lr_at=None, first_step=0):
    """One pass over ``x[perm]`` in batches of ``batch_size`` (the last one may be partial).

    ``x`` may hold int8 matrices (then divided by ``scale`` batch by batch); ``loss_module``
    (a DDP-wrapped :class:`cicy4lib.training.distributed.LossModule`) computes the loss instead of
    ``model``; ``lr_at(step)`` sets the learning rate before each step (``first_step`` = the
    global step number of this epoch's first batch). ``amp`` may be a dtype (bfloat16).

    Returns the mean of the per-batch losses (one host synchronisation per call).
    """
    model.train()
    own_loss = hooks_of(model).training_loss
    cast = autocast(x.device, amp)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    n_batches = 0
    for start in range(0, len(perm), batch_size):
        idx = perm[start:start + batch_size]
        xb, yb = as_input(x[idx], scale), y[idx]
        if augment:  # a random representative of each configuration's permutation class
            xb = permute_occupied(xb)
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(first_step + n_batches)
        with cast:
            if loss_module is not None:
                loss = loss_module(xb, yb)
            elif own_loss is not None:  # a model with its own objective (CICYMiner)
                loss = own_loss(xb, yb).float()
            else:
                loss = F.huber_loss(model(xb).float(), yb, delta=delta)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        total += loss.detach()
        n_batches += 1
    return (total / max(n_batches, 1)).item()


@torch.inference_mode()
def validation_loss(model, x, y, *, batch_size=128, eval_batch_size=4096, delta=1.0, amp=False,
                    scale=None) -> float:
    """Mean over batches of ``batch_size`` of the batch's mean Huber loss, as the notebooks compute it.

    The forward passes run in chunks of ``eval_batch_size``; the per-sample losses are then grouped
    into the training batch size, so the number matches the published per-batch average.
    """
    model.eval()
    with autocast(x.device, amp):
        own_loss = hooks_of(model).validation_loss_per_sample
        if own_loss is not None:  # the model's own objective (CICYMiner)
            per_sample = torch.cat([own_loss(as_input(x[i:i + eval_batch_size], scale),
                                                                     y[i:i + eval_batch_size])
                                    for i in range(0, len(x), eval_batch_size)]).double()
        else:
            out = torch.cat([model(as_input(x[i:i + eval_batch_size], scale)).float()
                             for i in range(0, len(x), eval_batch_size)])
            per_sample = F.huber_loss(out, y, delta=delta, reduction="none").mean(dim=1).double()
    return mean_of_batch_means(per_sample, batch_size)


@torch.inference_mode()
# nine parameters: the loop's own tensors and settings, passed as they are (no bundle built per epoch)
def validate(compiled, model, x, y_fit, y_raw, stats, scale, config, amp):
    """Validation loss in training units (mean of per-batch means) and raw-unit metrics of one pass,
    among them ``val_pred_spread``: the largest standard deviation over rows of any raw output (0: a
    constant predictor)."""
    if hooks_of(model).has_own_loss:
        loss = validation_loss(model, x, y_fit, batch_size=config.batch_size,
                               eval_batch_size=config.eval_batch_size, delta=config.huber_delta, amp=amp,
                               scale=scale)
        out = None
    else:
        compiled.eval()
        bs = config.eval_batch_size
        with autocast(x.device, amp):
            out = torch.cat([compiled(as_input(x[i:i + bs], scale)).float() for i in range(0, len(x), bs)])
        per_sample = F.huber_loss(out, y_fit, delta=config.huber_delta, reduction="none").mean(dim=1).double()
        loss = mean_of_batch_means(per_sample, config.batch_size)
    if out is None:
        model.eval()
        bs = config.eval_batch_size
        with autocast(x.device, amp):
            out = torch.cat([model(as_input(x[i:i + bs], scale)).float() for i in range(0, len(x), bs)])
    raw = out if stats is None else out * stats[1] + stats[0]
    huber = F.huber_loss(raw, y_raw, delta=1.0)
    acc = (torch.round(raw) == y_raw).double().mean(dim=0) * 100
    spread = raw.double().std(dim=0, unbiased=False).max() if len(raw) > 1 else torch.zeros((), device=raw.device)
    values = torch.cat([huber.double().reshape(1), acc, spread.double().reshape(1)]).tolist()  # one synchronisation
    return loss, dict(zip(METRIC_COLUMNS[1:], values))


def mean_of_batch_means(per_sample: torch.Tensor, batch_size: int) -> float:
    """Mean over consecutive batches of ``batch_size`` of each batch's mean (the published average)."""
    n = len(per_sample)
    n_batches = math.ceil(n / batch_size)
    padded = torch.zeros(n_batches * batch_size, dtype=per_sample.dtype, device=per_sample.device)
    padded[:n] = per_sample
    counts = torch.full((n_batches,), float(batch_size), dtype=per_sample.dtype, device=per_sample.device)
    counts[-1] = n - (n_batches - 1) * batch_size
    return (padded.view(n_batches, batch_size).sum(dim=1) / counts).mean().item()
