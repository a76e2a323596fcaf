"""Where and in what precision a run computes: the device, mixed precision (autocast dtypes,
a float32 output layer) and the int8-to-float32 model input."""
from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F

from ..errors import ConfigurationError
from .config import TrainConfig
from .targets import output_layer


def resolve_device(device=None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU")
    return device


def cpu_bf16_supported() -> bool:
    """Whether this CPU runs bfloat16 natively (AVX512-BF16 or AMX): oneDNN's own check.

    Without it bfloat16 autocast is emulated on the CPU and slower than float32.
    """
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def amp_dtype(device: torch.device, config: TrainConfig | None = None):
    """The autocast dtype for ``amp=True``: bfloat16 on Ampere and newer and on CPUs with native
    bfloat16 (None on other CPUs: no gain there), float16 on older GPUs."""
    if config is not None and config.amp_dtype:
        return getattr(torch, config.amp_dtype)
    if device.type == "cpu":
        return torch.bfloat16 if cpu_bf16_supported() else None
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        if major >= 8:
            return torch.bfloat16
    return torch.float16


def autocast(device: torch.device, amp, dtype=None):
    """Autocast to ``amp`` (a dtype) or ``dtype``: float16 by default on CUDA, bfloat16 on CPU;
    nothing when ``amp`` is false."""
    if not amp or device.type not in ("cuda", "cpu"):
        return nullcontext()
    if isinstance(amp, torch.dtype):
        dtype = amp
    if device.type == "cpu":
        return torch.autocast("cpu", dtype=dtype or torch.bfloat16)
    return torch.autocast("cuda", dtype=dtype or torch.float16)


class Float32Linear(torch.nn.Linear):
    """An ``nn.Linear`` that computes in float32 even under autocast (same parameters and state_dict)."""

    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return F.linear(x.float(), self.weight, self.bias)


def float32_output(model) -> None:
    """Run the model's output layer in float32 even under autocast (in place; weights unchanged).

    Raw Hodge numbers reach 1,752 (h22): a bfloat16 output has 8 significant bits, a resolution of
    2 to 8 there, so a rounded prediction could never be exact. The layer is tiny (hidden -> 4), so
    this costs nothing measurable. Only the layer's class changes (to :class:`Float32Linear`): its
    parameters, the state_dict and copies stay as they were.
    """
    try:
        layer = output_layer(model)
    except ConfigurationError:  # no single output layer to single out: leave the model as it is
        return
    if type(layer) is torch.nn.Linear:
        layer.__class__ = Float32Linear


def as_input(xb: torch.Tensor, scale) -> torch.Tensor:
    """int8 matrices -> float32 model input (``conf / scale``, exactly as ``data.features``)."""
    if xb.is_floating_point():
        return xb
    return xb.to(torch.float32) / torch.tensor(scale, dtype=torch.float32, device=xb.device)
