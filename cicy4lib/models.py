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

import difflib
import re
from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

N_ROWS, N_COLS = 16, 20  # padded configuration matrix; rows are the RNN's time steps
N_OUTPUTS = 4  # h11, h21, h31, h22
HEAD_WIDTH = 1024
RNN_LAYERS = 2

FAMILIES = ("cnn", "resnet", None)
RNN_KINDS = ("lstm", "gru")
_FAMILY_LABEL = {"cnn": "CNN", "resnet": "ResNet", None: None}
_FAMILY_FEATURES = {"cnn": 384, "resnet": 256, None: 0}


class StateDictMismatchError(ValueError):
    """A state_dict that does not fit the requested architecture."""


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
MODEL_SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in _PAPER_ROWS}
# The repository README once called LSTM-456 "LSTM-455"; its notebook and parameter count are LSTM-456.
_NAME_ALIASES = {"LSTM-455": "LSTM-456"}


def list_models() -> list[str]:
    """Names of all registered architectures, in the paper's table order."""
    return list(MODEL_SPECS)


def get_spec(name: str | ModelSpec) -> ModelSpec:
    """Look up a registered architecture by name (case-insensitive)."""
    if isinstance(name, ModelSpec):
        return name
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string or ModelSpec, got {type(name).__name__}")
    by_upper = {n.upper(): n for n in MODEL_SPECS}
    by_upper.update({alias.upper(): n for alias, n in _NAME_ALIASES.items()})
    key = name.strip().upper().replace("_", "-")
    if key in by_upper:
        return MODEL_SPECS[by_upper[key]]
    close = difflib.get_close_matches(key, list(by_upper), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(by_upper[c] for c in close)}?" if close else ""
    raise KeyError(f"unknown model {name!r}.{hint} Known models: {', '.join(MODEL_SPECS)}")


def canonical_name(name: str | ModelSpec) -> str:
    """The registry spelling of a model name, e.g. ``"lstm-448"`` -> ``"LSTM-448"``."""
    return get_spec(name).name


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
        x = _check_input(x)
        out, _ = self.rnn(x)  # no initial state given: zeros, as in the paper
        feats = out[:, -1, :]
        if self.features is not None:
            feats = torch.cat([self.features(x.unsqueeze(1)), feats], dim=1)
        return self.fc2(self.fc1(feats))

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}"


def _check_input(x: torch.Tensor) -> torch.Tensor:
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


def build_model(name: str | ModelSpec, *, device=None) -> HodgeNet:
    """Build an architecture by registry name (case-insensitive) or from a :class:`ModelSpec`.

    Parameters
    ----------
    name : str or ModelSpec
        E.g. ``"CNN-LSTM-400"``; see :func:`list_models`.
    device : torch.device or str, optional
        Where to allocate the parameters (``"meta"`` builds a shape-only model cheaply).
    """
    spec = get_spec(name)
    if device is None:
        return HodgeNet(spec)
    with torch.device(device):
        return HodgeNet(spec)


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters, as counted in the paper's Table 1."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def format_model_table() -> str:
    """A plain-text table of every registered model with its parameter count."""
    header = ("name", "family", "rnn", "hidden", "params")
    rows = []
    for name, spec in MODEL_SPECS.items():
        n = count_parameters(build_model(spec, device="meta"))
        rows.append((name, spec.family or "-", spec.rnn, str(spec.hidden), f"{n:,}"))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    align = ["<", "<", "<", ">", ">"]
    lines = ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)) for row in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ------------------------------------------------------------- published layout import

# The notebooks' canonical parameter names -> ours.
_PUBLISHED_RULES = [
    (re.compile(r"^cnn_block\.conv([12])\.(.+)$"), r"features.conv\1.\2"),
    (re.compile(r"^resnet_block\.conv([123])\.(.+)$"), r"features.conv\1.\2"),
    (re.compile(r"^resnet_block\.bn([12])\.(.+)$"), r"features.bn\1.\2"),
    (re.compile(r"^resnet_block\.fc0\.(.+)$"), r"features.shortcut.\1"),
    (re.compile(r"^(?:lstm_block|rnn_block)\.(?:lstm|gru)\.(.+)$"), r"rnn.\1"),
    (re.compile(r"^(?:lstm|gru)\.(.+)$"), r"rnn.\1"),  # LSTM-only notebooks
    (re.compile(r"^fc([12])\.(.+)$"), r"fc\1.\2"),
]
# The same tensors registered a second time inside nn.Sequential containers -> canonical names.
_ALIAS_RULES = [
    (re.compile(r"^cnn_block\.conv_total\.0\.(.+)$"), r"cnn_block.conv1.\1"),
    (re.compile(r"^cnn_block\.conv_total\.2\.(.+)$"), r"cnn_block.conv2.\1"),
    (re.compile(r"^resnet_block\.conv_total\.0\.(.+)$"), r"resnet_block.conv1.\1"),
    (re.compile(r"^resnet_block\.conv_total\.3\.(.+)$"), r"resnet_block.conv2.\1"),
    (re.compile(r"^resnet_block\.conv_total\.6\.(.+)$"), r"resnet_block.conv3.\1"),
    (re.compile(r"^resnet_block\.shortcut\.1\.(.+)$"), r"resnet_block.fc0.\1"),
]
_OUR_KEY = re.compile(r"^(features\.(conv[123]|bn[12]|shortcut)|rnn|fc[12])\.")


def _apply_rules(key: str, rules) -> str | None:
    for pattern, repl in rules:
        if pattern.match(key):
            return pattern.sub(repl, key)
    return None


def convert_published_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a notebook-layout state_dict to our parameter names.

    Alias keys (``conv_total.*``, ``shortcut.1.*``) must hold the same tensors as the names
    they duplicate; they are checked and dropped. Keys already in our layout pass through.

    Raises
    ------
    StateDictMismatchError
        On a key that belongs to neither layout, or an alias that disagrees with its original.
    """
    return _convert_with_origin(state_dict)[0]


def _convert_with_origin(state_dict, *, strict: bool = True):
    """Converted state_dict and, for each new key, the key it came from (for error messages).

    With ``strict=False`` keys of neither layout pass through unchanged (the caller reports
    them as unexpected, together with the missing ones).
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"expected a state_dict (mapping of names to tensors), got {type(state_dict).__name__}")
    state_dict = _strip_wrapper_prefix(state_dict)
    canonical: dict[str, torch.Tensor] = {}
    aliases: dict[str, tuple[str, torch.Tensor]] = {}
    unknown = []
    for key, value in state_dict.items():
        target = _apply_rules(key, _ALIAS_RULES)
        if target is not None:
            aliases[target] = (key, value)
        else:
            canonical[key] = value
    for target, (alias_key, value) in aliases.items():
        if target not in canonical:
            canonical[target] = value  # only the Sequential copy was kept; it is the same layer
        elif not (
            canonical[target].shape == value.shape and torch.equal(canonical[target].cpu(), value.cpu())
        ):
            raise StateDictMismatchError(
                f"alias key {alias_key!r} should hold the same tensor as {target!r} but differs; "
                "the state_dict is inconsistent"
            )
    converted, origin = {}, {}
    for key, value in canonical.items():
        new_key = key if _OUR_KEY.match(key) else _apply_rules(key, _PUBLISHED_RULES)
        if new_key is None:
            unknown.append(key)
            if not strict:
                converted[key], origin[key] = value, key
        else:
            converted[new_key] = value
            origin[new_key] = key
    if unknown and strict:
        raise StateDictMismatchError(
            f"state_dict has keys of neither the published nor our layout: {_short_list(unknown)}"
        )
    return converted, origin


def _strip_wrapper_prefix(state_dict: Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
    """Drop the ``module.`` (DataParallel) or ``_orig_mod.`` (torch.compile) prefix on every key."""
    for prefix in ("module.", "_orig_mod."):
        if state_dict and all(k.startswith(prefix) for k in state_dict):
            state_dict = {k[len(prefix):]: v for k, v in state_dict.items()}
    return state_dict


def infer_spec(state_dict: Mapping[str, torch.Tensor]) -> ModelSpec:
    """Infer the architecture (conv family, RNN kind, hidden size) from a state_dict's shapes.

    Accepts our layout and the published notebooks' layout.
    """
    sd = _convert_with_origin(state_dict, strict=False)[0]  # only a few known keys matter
    if "rnn.weight_hh_l0" not in sd or "rnn.weight_ih_l0" not in sd:
        raise StateDictMismatchError("state_dict has no recurrent layer (rnn.weight_hh_l0 missing)")
    gate_rows, hidden = sd["rnn.weight_hh_l0"].shape
    kinds = {4: "lstm", 3: "gru"}
    if gate_rows % hidden or gate_rows // hidden not in kinds:
        raise StateDictMismatchError(
            f"recurrent weight of shape {tuple(sd['rnn.weight_hh_l0'].shape)} is neither an LSTM nor a GRU"
        )
    if "features.conv3.weight" in sd:
        family = "resnet"
    elif "features.conv1.weight" in sd:
        family = "cnn"
    else:
        family = None
    return ModelSpec(family, kinds[gate_rows // hidden], hidden)


def load_published_state_dict(
    model: HodgeNet | str | ModelSpec | None, state_dict: Mapping[str, torch.Tensor]
) -> HodgeNet:
    """Load a state_dict in the published notebooks' layout (or ours) into ``model``.

    Every parameter and buffer of ``model`` must be filled and every tensor of
    ``state_dict`` used; otherwise a :class:`StateDictMismatchError` names the missing and
    unexpected keys and the shape mismatches (and the architecture the state_dict looks like).

    Parameters
    ----------
    model : HodgeNet, str, ModelSpec or None
        The model to fill, or an architecture to build first; None infers the
        architecture from the state_dict's shapes (:func:`infer_spec`).
    state_dict : mapping of str to Tensor
        Notebook layout (alias keys included) or ours.

    Returns
    -------
    HodgeNet
        ``model`` (or the newly built one) holding the weights.
    """
    converted, origin = _convert_with_origin(state_dict, strict=False)
    if model is None:
        model = build_model(infer_spec(converted))
    elif isinstance(model, (str, ModelSpec)):
        model = build_model(model)
    check_state_dict(model, converted, origin=origin)
    model.load_state_dict(converted, strict=True)
    return model


def check_state_dict(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], *, origin: Mapping[str, str] | None = None
) -> None:
    """Raise :class:`StateDictMismatchError` unless ``state_dict`` (our layout) fits ``model`` exactly.

    ``origin`` maps our key names back to the caller's (published) names for the message.
    """
    origin = origin or {}
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [origin.get(k, k) for k in state_dict if k not in expected]
    shapes = [
        f"{origin.get(k, k)}: state_dict {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if not (missing or unexpected or shapes):
        return
    arch = getattr(model, "arch", type(model).__name__)
    parts = [f"state_dict does not match {arch}"]
    if missing:
        parts.append(f"missing keys: {_short_list(missing)}")
    if unexpected:
        parts.append(f"unexpected keys: {_short_list(unexpected)}")
    if shapes:
        parts.append(f"shape mismatches: {_short_list(shapes)}")
    try:
        parts.append(f"it looks like {infer_spec(state_dict).name}")
    except (StateDictMismatchError, ValueError):
        pass
    raise StateDictMismatchError("; ".join(parts))


def _short_list(items, limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


if __name__ == "__main__":
    print(format_model_table())
