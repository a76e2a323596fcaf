"""The paper's 14 network architectures, built by name from one registry.

Every model is one row ``ModelSpec(family, rnn, hidden)``:

- ``family``: an optional convolutional feature block, ``"cnn"`` (384 features),
  ``"resnet"`` (256 features) or ``None`` (a pure recurrent model);
- ``rnn``: ``"lstm"`` or ``"gru"``, 2 layers, input size 20 (each of the 16 rows of the
  configuration matrix is one time step), zero initial state, output of the last step;
- ``hidden``: the RNN hidden size M.

The head is ``Linear(F, 1024) -> Linear(1024, 4)`` with no activation, F = conv features + M.

>>> from cicy4lib.models import build_model, count_parameters
>>> model = build_model("lstm-448")
>>> count_parameters(model)
2915332

State dicts saved from modules laid out as the published notebooks lay them out
(``cnn_block.conv1.*``, ``lstm_block.lstm.*``, ..., with their ``nn.Sequential`` alias keys)
load with :func:`load_published_state_dict`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn

from ..constants import MAX_COLS as N_COLS, MAX_ROWS as N_ROWS, N_OUTPUTS
from .registry import get_entry, register_model
HEAD_WIDTH = 1024
RNN_LAYERS = 2

FAMILIES = ("cnn", "resnet", None)
RNN_KINDS = ("lstm", "gru")
_FAMILY_LABEL = {"cnn": "CNN", "resnet": "ResNet", None: None}
_FAMILY_FEATURES = {"cnn": 384, "resnet": 256, None: 0}


@dataclass(frozen=True)
class ModelSpec:
    """One architecture: optional conv feature block, RNN kind and hidden size."""

    family: str | None
    rnn: str
    hidden: int

    def __post_init__(self):
        family = None if self.family in (None, "none", "") else str(self.family).lower()
        if family not in FAMILIES:
            raise ValueError(f"family must be one of 'cnn', 'resnet' or None, got {self.family!r}")
        rnn = str(self.rnn).lower()
        if rnn not in RNN_KINDS:
            raise ValueError(f"rnn must be 'lstm' or 'gru', got {self.rnn!r}")
        if isinstance(self.hidden, bool) or int(self.hidden) != self.hidden or self.hidden < 1:
            raise ValueError(f"hidden must be a positive integer, got {self.hidden!r}")
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "rnn", rnn)
        object.__setattr__(self, "hidden", int(self.hidden))

    @property
    def name(self) -> str:
        """Paper-style name, e.g. ``CNN-LSTM-400`` or ``LSTM-448``."""
        parts = [_FAMILY_LABEL[self.family], self.rnn.upper(), str(self.hidden)]
        return "-".join(p for p in parts if p)

    def build(self) -> "HodgeNet":
        return HodgeNet(self)

    @property
    def conv_features(self) -> int:
        return _FAMILY_FEATURES[self.family]

    @property
    def feature_size(self) -> int:
        """Width F of the head's input: conv features concatenated with the RNN output."""
        return self.conv_features + self.hidden


_PAPER_ROWS = [
    ModelSpec("cnn", "gru", 384),
    ModelSpec("cnn", "gru", 416),
    ModelSpec("resnet", "gru", 256),
    ModelSpec("resnet", "gru", 400),
    ModelSpec("cnn", "lstm", 256),
    ModelSpec("cnn", "lstm", 384),
    ModelSpec("cnn", "lstm", 400),
    ModelSpec("cnn", "lstm", 416),
    ModelSpec(None, "lstm", 400),
    ModelSpec(None, "lstm", 424),
    ModelSpec(None, "lstm", 448),
    ModelSpec(None, "lstm", 456),
    ModelSpec("resnet", "lstm", 256),
    ModelSpec("resnet", "lstm", 400),
]
# The repository README once called LSTM-456 "LSTM-455"; its notebook and parameter count are LSTM-456.
_NAME_ALIASES = {"LSTM-456": ("LSTM-455",)}


def get_spec(name: str | ModelSpec) -> ModelSpec:
    """The :class:`ModelSpec` of one of the paper's architectures (by registry name)."""
    if isinstance(name, ModelSpec):
        return name
    spec = get_entry(name).spec
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"{get_entry(name).name} is not one of the paper's CNN/ResNet-RNN/LSTM networks")
    return spec


# --------------------------------------------------------------------------- modules


class CNNFeatures(nn.Module):
    """Conv(1->128, k4) -> MaxPool2 -> Conv(128->64, k3) -> MaxPool2 -> ReLU -> 384 features."""

    out_features = 384

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 128, kernel_size=4)
        self.conv2 = nn.Conv2d(128, 64, kernel_size=3)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):  # x: (B, 1, 16, 20)
        x = self.pool(self.conv2(self.pool(self.conv1(x))))  # 13x17 -> 6x8 -> 4x6 -> 2x3
        return torch.relu(x).flatten(1)


class ResNetFeatures(nn.Module):
    """Conv branch (k4, k3, k2 with pools and ReLUs) plus a linear shortcut: 256 features.

    ``bn1``/``bn2`` are never used in ``forward``; the published module declares them and the
    paper's parameter counts include their 384 affine parameters, so we keep them.
    """

    out_features = 256

    def __init__(self):
        super().__init__()
        # Same construction order as the published block, so one seed gives the same init.
        self.conv1 = nn.Conv2d(1, 128, kernel_size=4)
        self.bn1 = nn.BatchNorm2d(128)
        self.conv2 = nn.Conv2d(128, 64, kernel_size=3)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, kernel_size=2)
        self.pool = nn.MaxPool2d(2)
        self.shortcut = nn.Linear(N_ROWS * N_COLS, 256, bias=False)

    def forward(self, x):  # x: (B, 1, 16, 20)
        y = torch.relu(self.pool(self.conv1(x)))  # 13x17 -> 6x8
        y = torch.relu(self.pool(self.conv2(y)))  # 4x6 -> 2x3
        y = self.conv3(y).flatten(1)  # 128 x 1 x 2
        return y + self.shortcut(x.flatten(1))


_FEATURE_BLOCKS = {"cnn": CNNFeatures, "resnet": ResNetFeatures}
_RNN_CLASSES = {"lstm": nn.LSTM, "gru": nn.GRU}


class HodgeNet(nn.Module):
    """Optional conv feature block + 2-layer RNN over the rows + linear head -> 4 Hodge numbers.

    ``forward`` takes a float tensor (B, 16, 20) (or (B, 1, 16, 20)), the padded configuration
    matrices divided by the dataset scale, and returns raw predictions (B, 4).
    """

    def __init__(self, spec: ModelSpec):
        super().__init__()
        self.spec = spec
        self.arch = spec.name
        self.features = _FEATURE_BLOCKS[spec.family]() if spec.family else None
        self.rnn = _RNN_CLASSES[spec.rnn](
            input_size=N_COLS, hidden_size=spec.hidden, num_layers=RNN_LAYERS, batch_first=True
        )
        self.fc1 = nn.Linear(spec.feature_size, HEAD_WIDTH)
        self.fc2 = nn.Linear(HEAD_WIDTH, N_OUTPUTS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = check_input(x)
        out, _ = self.rnn(x)  # no initial state given: zeros, as in the paper
        feats = out[:, -1, :]
        if self.features is not None:
            feats = torch.cat([self.features(x.unsqueeze(1)), feats], dim=1)
        return self.fc2(self.fc1(feats))

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}"


def check_input(x: torch.Tensor) -> torch.Tensor:
    """Validate the batch shape and dtype; return it as (B, 16, 20)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() == 4 and x.shape[1] == 1:
        x = x.squeeze(1)
    if x.dim() != 3 or tuple(x.shape[1:]) != (N_ROWS, N_COLS):
        raise ValueError(
            f"expected input of shape (B, {N_ROWS}, {N_COLS}) or (B, 1, {N_ROWS}, {N_COLS}), "
            f"got {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(
            f"expected a floating-point input (the padded matrices divided by the scale), got {x.dtype}"
        )
    return x




def _family_label(spec: ModelSpec) -> str:
    if spec.family is None:
        return f"{spec.rnn.upper()}-only"
    return f"{_FAMILY_LABEL[spec.family]}-{spec.rnn.upper()} hybrid"


for _spec in _PAPER_ROWS:
    register_model(
        _spec.name, partial(HodgeNet, _spec), group="lstm" if _spec.family is None else "hybrid",
        family=_family_label(_spec), paper=True, spec=_spec, aliases=_NAME_ALIASES.get(_spec.name, ()),
        description=f"paper: {_family_label(_spec)}, hidden {_spec.hidden}",
    )
