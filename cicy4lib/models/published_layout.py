"""Import of the published notebooks' state_dict layout and pickled modules."""

from __future__ import annotations

import os
import pickle
import re
import types
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from ..errors import (CheckpointError, CheckpointMismatchError, CheckpointNotFoundError, StateDictMismatchError,
                      UntrustedCheckpointError)
from .paper import HodgeNet, ModelSpec, get_spec
from .registry import build_model

# The notebooks' block classes, pickled by reference from their __main__ (SPEC.md section 2).
PUBLISHED_CLASSES = (
    "CNN_block",
    "ResNet_block",
    "LSTM_block",
    "RNN_block",
    "CNN_LSTM_hybrid",
    "CNN_RNN_hybrid",
    "ResNet_RNN_hybrid",
)
TRUST_HINT = (
    "Unpickling a whole module can execute arbitrary code. Only if you trust where the file "
    "comes from, import it with cicy4lib.models.checkpoint.import_published_module(path, trust=True)"
)





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




# --------------------------------------------------------------------------- published pickles


class PublishedModule(nn.Module):
    """Stand-in for a notebook class: holds the unpickled attributes, has no forward.

    Unpickling an ``nn.Module`` restores its ``__dict__`` (submodules, parameters,
    buffers), which is all ``state_dict()`` needs; the notebook's code is never needed.
    """

    published_class = "?"

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"stand-in for the notebook class {self.published_class}; convert it with "
            "import_published_module to get a runnable cicy4lib model"
        )


def _stand_in(name: str) -> type:
    return type(name, (PublishedModule,), {"published_class": name, "__module__": __name__})


_STAND_INS = {name: _stand_in(name) for name in PUBLISHED_CLASSES}


class _PublishedUnpickler(pickle.Unpickler):
    """Maps classes pickled from a notebook's ``__main__`` onto :class:`PublishedModule` stand-ins."""

    def find_class(self, module: str, name: str):
        if module == "__main__":
            if name not in _STAND_INS:  # a helper class of that notebook: same treatment
                _STAND_INS[name] = _stand_in(name)
            return _STAND_INS[name]
        return super().find_class(module, name)


def _published_pickle_module() -> types.ModuleType:
    """A ``pickle_module`` for ``torch.load`` whose Unpickler is :class:`_PublishedUnpickler`.

    A private module object, so nothing global (``sys.modules['__main__']``) is touched.
    """
    module = types.ModuleType("cicy4lib_published_pickle")
    module.__dict__.update({k: v for k, v in vars(pickle).items() if not k.startswith("__")})
    module.Unpickler = _PublishedUnpickler
    module.load = lambda f, **kw: _PublishedUnpickler(f, **kw).load()
    return module


def import_published_module(
    path: str | os.PathLike, *, trust: bool = False, arch: str | ModelSpec | None = None
) -> tuple[HodgeNet, dict]:
    """Convert one of the paper's published ``.pt`` files (a whole pickled module) into our model.

    Parameters
    ----------
    path : str or PathLike
        The published file, saved with ``torch.save(model)`` from a notebook.
    trust : bool
        Must be True: unpickling can execute arbitrary code, so only do it for files whose
        source you trust.
    arch : str or ModelSpec, optional
        The architecture you expect; by default inferred from the weights' shapes.

    Returns
    -------
    (model, config)
        Our registry model in eval mode, with identical weights, and a config dict
        (``arch``, ``scale`` 6.0 as in the paper, ``source``, ``published_class``).

    Raises
    ------
    UntrustedCheckpointError
        Without ``trust=True``.
    CheckpointNotFoundError, CheckpointError, CheckpointMismatchError
        Missing file, unreadable file, or weights of another architecture than ``arch``.
    """
    path = Path(path)
    if not trust:
        raise UntrustedCheckpointError(
            f"refusing to unpickle {path}: the published checkpoints are whole pickled modules "
            f"and {TRUST_HINT[0].lower()}{TRUST_HINT[1:]}"
        )
    if not path.is_file():
        raise CheckpointNotFoundError(f"no published checkpoint at {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_published_pickle_module())
    except (ImportError, AttributeError) as err:  # pickled references to code we do not have
        raise CheckpointError(f"cannot unpickle {path}: it refers to code that is not available ({err})") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
        raise CheckpointError(f"{path} is truncated or corrupt ({first_line(err)})") from None
    if isinstance(obj, nn.Module):
        published_class = type(obj).__name__
        state_dict = obj.state_dict()
    else:
        published_class = None
        state_dict = unwrap_state_dict(obj, path)
    try:
        spec = infer_spec(convert_published_state_dict(state_dict))
    except StateDictMismatchError as err:
        raise CheckpointMismatchError(f"{path}: cannot tell the architecture: {err}") from None
    if arch is not None and get_spec(arch).name != spec.name:
        raise CheckpointMismatchError(f"checkpoint is {spec.name}, expected {get_spec(arch).name} ({path})")
    try:
        model = load_published_state_dict(build_model(spec), state_dict)
    except StateDictMismatchError as err:
        raise CheckpointMismatchError(f"{path}: {err}") from None
    config = {
        "arch": spec.name,
        "scale": 6.0,  # the published notebooks divide conf.npy by its global maximum, 6
        "source": str(path),
        "published_class": published_class,
    }
    return model.eval(), config


def unwrap_state_dict(obj: Any, weights_path: Path) -> dict:
    """The tensors of a state_dict, also when wrapped as {"model": state_dict, ...}."""
    if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj)
    if isinstance(obj, Mapping):
        for key in ("model", "model_state_dict", "state_dict", "model_state"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return dict(inner)
    raise CheckpointError(
        f"{weights_path} does not hold a model state_dict (found {type(obj).__name__}"
        + (f" with keys {sorted(map(str, obj))[:6]}" if isinstance(obj, Mapping) else "")
        + ")"
    )


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
