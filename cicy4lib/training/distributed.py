"""Data-parallel training with torchrun (DistributedDataParallel).

Usage, one machine with N GPUs (Kaggle's 2xT4: N=2), or N CPU processes with the gloo backend::

    torchrun --nproc_per_node=N -m cicy4lib train LSTM-448 --data ... [--recipe fast]
    torchrun --nnodes=2 --node_rank=R --master_addr=HOST --nproc_per_node=N -m cicy4lib train ...

Rules (:func:`cicy4lib.training.loop.train` applies them when a process group is initialised; the
command line initialises it from torchrun's environment with :func:`init_from_env`):

- **Batch size and learning rate.** ``batch_size`` is the *effective* (global) batch: each of the
  W ranks takes ``batch_size // W`` samples per step and DDP averages the gradients, so one step
  is one step of the single-process recipe with the same batch and the same lr -- no lr rescaling
  is needed and a recipe means the same thing on any number of ranks. To use W times more
  samples per step, pass ``--batch-size`` explicitly; with the fast recipe the lr then follows
  its square-root rule (:func:`cicy4lib.training.recipes.scaled_lr`). ``batch_size`` must be divisible by W.
- **Sharding.** Every rank draws the same permutation of the training set each epoch (same seeded
  generator) and takes the strided shard ``perm[rank::W]``, truncated to a common length (at most
  W-1 samples of an epoch are skipped) so every rank runs the same number of steps.
- **Validation** runs on every rank over the whole validation set; rank 0's loss is broadcast so
  early stopping, the scheduler and the time budget decide alike everywhere.
- **Files.** Only rank 0 writes ``model.pt``/``model.json``, ``state.pt`` and ``log.csv``; the
  others wait at a barrier and then read the best weights back. Resume works as for one process:
  every rank loads ``state.pt`` (a shared file system is assumed for multi-node runs).
- **Determinism.** With gloo on CPU, a W-rank run is reproducible run to run, but not bit-equal to a
  1-process run (the all-reduce sums gradients in another order).
"""
from __future__ import annotations

import os
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    return dist.get_world_size() if is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_from_env(device: str | None = None, timeout_s: float = 1800) -> torch.device | None:
    """Initialise the process group from torchrun's environment (no-op outside torchrun).

    Backend: NCCL when CUDA is available (device ``cuda:LOCAL_RANK``), gloo otherwise.
    Returns the device this rank should train on, or None when not launched by torchrun.
    """
    if not launched_by_torchrun():
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and (device is None or str(device).startswith("cuda"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if not is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=timedelta(seconds=timeout_s))
    return dev


def shutdown() -> None:
    if is_initialized():
        dist.destroy_process_group()


def shard(perm: torch.Tensor) -> torch.Tensor:
    """This rank's part of an epoch permutation: ``perm[rank::W]``, all ranks the same length."""
    w = world_size()
    if w == 1:
        return perm
    n = len(perm) // w
    return perm[rank()::w][:n]


def barrier() -> None:
    if is_initialized():
        dist.barrier()


def broadcast_float(value: float, device=None) -> float:
    """Rank 0's ``value`` on every rank."""
    if not is_initialized():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=_comm_device(device))
    dist.broadcast(t, src=0)
    return float(t.item())


def mean_float(value: float, device=None) -> float:
    """The mean of ``value`` over the ranks."""
    if not is_initialized():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=_comm_device(device))
    dist.all_reduce(t)
    return float(t.item()) / world_size()


def _comm_device(device):
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class LossModule(torch.nn.Module):
    """``forward(x, y) -> loss``: the model's own ``training_loss`` or Huber on its output.

    Wrapping this (not the bare model) in DDP lets models with their own objective
    (``training_loss``, CICYMiner) train data-parallel too: DDP synchronises whatever forward runs.
    """

    def __init__(self, model: torch.nn.Module, delta: float = 1.0):
        super().__init__()
        self.model = model
        self.delta = delta

    def forward(self, x, y):
        if hasattr(self.model, "training_loss"):
            return self.model.training_loss(x, y).float()
        return torch.nn.functional.huber_loss(self.model(x).float(), y, delta=self.delta)


def wrap(model: torch.nn.Module, delta: float, device: torch.device):
    """DDP around :class:`LossModule` (``None`` when not distributed)."""
    if not is_initialized():
        return None
    module = LossModule(model, delta)
    # static_graph: the same graph every step; it also copes with parameters forward never uses
    # (the ResNet block's published, unused BatchNorm layers)
    if device.type == "cuda":
        return DDP(module, device_ids=[device.index], output_device=device.index, static_graph=True)
    return DDP(module, static_graph=True)
