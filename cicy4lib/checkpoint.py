"""Checkpoints: weights as a plain state_dict plus a JSON config, written atomically.

A checkpoint is two files side by side::

    run_dir/model.pt     the model's state_dict only (loads with torch.load(weights_only=True))
    run_dir/model.json   {"arch", "scale", "split", "recipe", "metrics", "library_version",
                          "created", ...the rest of the config}

Every file is written to a temporary file in the same directory, flushed and fsynced, and only
when all files of the checkpoint are staged are they moved into place with ``os.replace``:
an interrupted save leaves the previous checkpoint intact, never a truncated one.
:func:`atomic_torch_save` is the same primitive for single files (the trainer's ``state.pt``).

The paper's published ``.pt`` files are whole pickled modules; unpickling them can run
arbitrary code, so :func:`load_model` refuses them and :func:`import_published_module`
reads them only with ``trust=True``.

>>> from cicy4lib.models import build_model
>>> path = save_checkpoint(tmp_dir, build_model("LSTM-400"), {"scale": 6.0})  # doctest: +SKIP
>>> model, config = load_model(tmp_dir)  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
import re
import tempfile
import types
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

from .models import (
    HodgeNet,
    ModelSpec,
    StateDictMismatchError,
    build_model,
    convert_published_state_dict,
    get_spec,
    infer_spec,
    load_published_state_dict,
)

MODEL_FILE = "model.pt"
CONFIG_FILE = "model.json"
OPTIMIZER_FILE = "optimizer.pt"
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
# Keys written first in model.json, in this order; the rest of the config follows.
_CONFIG_ORDER = ("arch", "scale", "split", "seed", "recipe", "metrics", "library_version", "created")
_TRUST_HINT = (
    "Unpickling a whole module can execute arbitrary code. Only if you trust where the file "
    "comes from, import it with cicy4lib.checkpoint.import_published_module(path, trust=True)"
)


_PICKLED_OBJECT = re.compile(r"was not an allowed global|whose module \S+ is blocked|\S+ must be \S+ to load")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: corrupt, of another architecture, or unsafe."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file (or run directory) does not exist."""


class CheckpointMismatchError(CheckpointError, StateDictMismatchError):
    """The checkpoint's weights or config belong to another architecture."""


class UntrustedCheckpointError(CheckpointError):
    """Loading the file needs full unpickling, which was not allowed (``trust=False``)."""


# --------------------------------------------------------------------------- atomic writes


def _atomic_write(path: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Write ``path`` through ``write(file)`` into a temp file, fsync, then ``os.replace``.

    The temp file lives in the destination directory (same filesystem, so the rename is
    atomic) and is removed if ``write`` fails: readers see the old file or the new one.
    """
    return _atomic_write_many([(path, write)])[0]


def _atomic_write_many(items: list[tuple[str | os.PathLike, Callable]]) -> list[Path]:
    """Stage every file completely (written, fsynced), then move them into place together.

    If anything fails while staging, no destination is touched; the only window left
    between files is that of the renames themselves.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, write in items:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:  # already renamed, or never created
                pass
        raise
    for directory in {path.parent for _, path in staged}:
        _fsync_dir(directory)
    return [path for _, path in staged]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` that never leaves a partly written file at ``path``."""
    return _atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented JSON, atomically (numpy scalars, Paths, dataclasses allowed)."""
    text = json.dumps(obj, indent=2, default=_jsonable) + "\n"
    return _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _jsonable(value: Any) -> Any:
    """``json.dumps`` fallback for the values configs typically hold."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, torch.device):
        return str(value)
    if hasattr(value, "to_dict"):  # pandas objects
        return value.to_dict()
    if hasattr(value, "tolist"):  # numpy / torch arrays and scalars
        return value.tolist()
    raise TypeError(f"config value of type {type(value).__name__} is not JSON serialisable: {value!r}")


# --------------------------------------------------------------------------- paths


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(weights file, config file)`` for a run directory or a ``.pt`` file.

    A directory holds ``model.pt`` and ``model.json``; a file ``x.pt`` pairs with ``x.json``.
    """
    path = Path(path)
    if path.is_dir() or (not path.exists() and path.suffix not in (".pt", ".pth")):
        return path / MODEL_FILE, path / CONFIG_FILE
    return path, path.with_suffix(".json")


# --------------------------------------------------------------------------- save


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    config: Mapping[str, Any] | None = None,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save ``model``'s weights and its config as a checkpoint, atomically.

    Parameters
    ----------
    path : str or PathLike
        A run directory (created if needed; files ``model.pt`` and ``model.json``) or a
        ``.pt`` file path (config next to it with suffix ``.json``).
    model : HodgeNet
        The model; its architecture name is recorded as ``arch``.
    config : mapping, optional
        What else to record: ``scale``, ``split``, ``seed``, ``recipe`` (e.g. a TrainConfig),
        ``metrics``, ... Values must be JSON serialisable (numpy, Paths and dataclasses are
        converted).
    optimizer, scheduler : optional
        Their state_dicts go to ``optimizer.pt`` beside the weights, so ``model.pt`` stays a
        plain state_dict.
    extra : mapping, optional
        Additional top-level entries for ``model.json`` (e.g. ``{"epoch": 12}``); they
        override ``config``.

    Returns
    -------
    Path
        The weights file.

    Raises
    ------
    CheckpointMismatchError
        If ``config["arch"]`` names another architecture than ``model``.
    """
    weights_path, config_path = checkpoint_paths(path)
    record = _build_record(model, dict(config or {}), dict(extra or {}))
    # Serialise the JSON first: an unserialisable value fails before any file is touched.
    text = json.dumps(record, indent=2, default=_jsonable) + "\n"
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    files = [(weights_path, lambda f: torch.save(state, f))]
    if optimizer is not None or scheduler is not None:
        optim_state = {
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
        }
        files.append((weights_path.with_name(OPTIMIZER_FILE), lambda f: torch.save(optim_state, f)))
    files.append((config_path, lambda f: f.write(text.encode("utf-8"))))
    _atomic_write_many(files)
    return weights_path


def _build_record(model: nn.Module, config: dict, extra: dict) -> dict:
    """The model.json content: known keys first, then the rest of config and extra."""
    from . import __version__

    arch = getattr(model, "arch", None)
    if arch is None:
        arch = infer_spec(model.state_dict()).name
    given = config.get("arch")
    if given is not None and _canonical(given) != arch:
        raise CheckpointMismatchError(f"config says arch {given!r} but the model is {arch}")
    merged = {**config, **extra}
    merged.pop("arch_inferred", None)  # from a loaded config: the arch is stated now
    merged.update(
        arch=arch,
        library_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    ordered = {k: merged.pop(k) for k in _CONFIG_ORDER if k in merged}
    ordered.update(merged)
    return ordered


def _canonical(name: str) -> str:
    try:
        return get_spec(name).name
    except KeyError:
        return str(name)


# --------------------------------------------------------------------------- load


def load_model(
    path: str | os.PathLike,
    *,
    arch: str | ModelSpec | None = None,
    map_location: Any = "cpu",
) -> tuple[HodgeNet, dict]:
    """Load a checkpoint written by :func:`save_checkpoint` (or a published state_dict).

    Parameters
    ----------
    path : str or PathLike
        A run directory or its ``model.pt``.
    arch : str or ModelSpec, optional
        The architecture you expect; a checkpoint of another one is refused. Needed only
        when ``model.json`` is missing and you do not want it inferred from the weights.
    map_location : str, torch.device or callable
        Passed to ``torch.load``; a device also receives the returned model.

    Returns
    -------
    (model, config)
        The model in eval mode and the config dict from ``model.json`` (``arch`` always set).

    Raises
    ------
    CheckpointNotFoundError
        No such file or directory (also a FileNotFoundError).
    CheckpointError
        Truncated or corrupt file, or a pickled module instead of a state_dict.
    CheckpointMismatchError
        The weights or config belong to another architecture than ``arch`` / ``model.json``.
    """
    weights_path, config_path = checkpoint_paths(path)
    if not weights_path.exists():
        where = f"{path} holds no {MODEL_FILE}" if Path(path).is_dir() else f"no checkpoint at {weights_path}"
        raise CheckpointNotFoundError(where)
    # Deserialise on the CPU and move the built model afterwards: a checkpoint written on a GPU
    # loads anywhere, and a device error is not mistaken for a corrupt file.
    on_device = isinstance(map_location, (str, torch.device))
    state_dict = _read_state_dict(weights_path, "cpu" if on_device else map_location)
    expected = get_spec(arch).name if arch is not None else None

    if config_path.exists():
        config = _read_config(config_path)
        recorded = config.get("arch")
        if recorded is None:
            raise CheckpointError(f"{config_path} has no 'arch' entry")
        recorded = _canonical(recorded)
        if expected is not None and recorded != expected:
            raise CheckpointMismatchError(f"checkpoint is {recorded}, expected {expected} ({weights_path})")
        config["arch"] = recorded
    else:
        inferred = _infer_arch(state_dict, weights_path)
        if expected is not None and inferred.name != expected:
            raise CheckpointMismatchError(
                f"checkpoint is {inferred.name} (inferred from the weights; {config_path.name} is "
                f"missing), expected {expected} ({weights_path})"
            )
        if expected is None:
            warnings.warn(
                f"{config_path} not found: architecture {inferred.name} inferred from the weights' "
                "shapes; scale and split unknown (pass arch= to state it)",
                stacklevel=2,
            )
        config = {"arch": inferred.name, "arch_inferred": expected is None}

    try:
        model = build_model(config["arch"])
    except KeyError as err:
        # not a registry name: a custom ModelSpec is fine if the weights say the same
        spec = _infer_arch(state_dict, weights_path)
        if spec.name.upper() != str(config["arch"]).upper():
            raise CheckpointError(f"{config_path}: {err.args[0]}") from None
        model = build_model(spec)
    try:
        load_published_state_dict(model, state_dict)
    except StateDictMismatchError as err:
        raise CheckpointMismatchError(f"{weights_path}: {err}") from None
    if on_device:
        model.to(map_location)
    return model.eval(), config


def _read_state_dict(weights_path: Path, map_location: Any) -> dict:
    """``torch.load(weights_only=True)`` with errors that name the file and the cause."""
    try:
        obj = torch.load(weights_path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # weights_only reports every unpickling failure the same way; a pickled object shows up
        # as a global that is not allowed (or blocked), anything else is damage to the file.
        if _PICKLED_OBJECT.search(str(err)):
            raise UntrustedCheckpointError(
                f"{weights_path} holds pickled Python objects (e.g. a whole published module), "
                f"not a plain state_dict, so weights_only loading refused it. {_TRUST_HINT}"
            ) from None
        raise CheckpointError(f"{weights_path} is truncated or corrupt ({_first_line(err)})") from None
    except (RuntimeError, EOFError, ValueError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise CheckpointNotFoundError(f"no checkpoint at {weights_path}") from None
        raise CheckpointError(f"{weights_path} is truncated or corrupt ({_first_line(err)})") from None
    return _unwrap_state_dict(obj, weights_path)


def _unwrap_state_dict(obj: Any, weights_path: Path) -> dict:
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


def _read_config(config_path: Path) -> dict:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path} is truncated or corrupt ({err})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path} should hold a JSON object, found {type(config).__name__}")
    return config


def _infer_arch(state_dict: Mapping[str, torch.Tensor], weights_path: Path) -> ModelSpec:
    try:
        return infer_spec(state_dict)
    except StateDictMismatchError as err:
        raise CheckpointMismatchError(f"{weights_path}: cannot tell the architecture: {err}") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


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
            f"and {_TRUST_HINT[0].lower()}{_TRUST_HINT[1:]}"
        )
    if not path.is_file():
        raise CheckpointNotFoundError(f"no published checkpoint at {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_published_pickle_module())
    except (ImportError, AttributeError) as err:  # pickled references to code we do not have
        raise CheckpointError(f"cannot unpickle {path}: it refers to code that is not available ({err})") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
        raise CheckpointError(f"{path} is truncated or corrupt ({_first_line(err)})") from None
    if isinstance(obj, nn.Module):
        published_class = type(obj).__name__
        state_dict = obj.state_dict()
    else:
        published_class = None
        state_dict = _unwrap_state_dict(obj, path)
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
