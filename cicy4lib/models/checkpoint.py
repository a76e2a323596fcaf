"""Checkpoints: weights as a plain state_dict plus a JSON config, written atomically.

A checkpoint is two files side by side::

    run_dir/model.pt     the model's state_dict only (loads with torch.load(weights_only=True))
    run_dir/model.json   {"arch", "scale", "split", "recipe", "metrics", "library_version",
                          "created", "sha256", ...the rest of the config}

``model.json`` records the SHA-256 of every weight file it describes (``"sha256": {"weights": ...,
"optimizer": ...}``) and of its own content (``"json_sha256"``, over the canonical JSON of every
other field: :func:`config_sha256`); :func:`load_model` recomputes both and refuses a file whose
bytes changed (a flipped bit would otherwise load silently with changed weights) and a
``model.json`` edited after saving (its scale, split or arch would silently change what the
model predicts). A run directory without ``model.json`` loads with the architecture inferred from
the weights' shapes (with a warning); a ``model.pt`` that is not a torch file is refused. Every field of
``model.json`` the library uses is checked for its type and range on load
(:func:`validate_config`): a damaged or hand-edited file gives a :class:`CheckpointError` naming
the field, never a ``TypeError`` later on. :func:`read_training_state` reads the trainer's
``state.pt`` with the same care.

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

import hashlib
import io
import json
import math
import os
import pickle
import re
import warnings
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .. import __version__
from ..data.checks import read_bytes_limited
from ..errors import (CheckpointError, DataError, CheckpointMismatchError, CheckpointNotFoundError, StateDictMismatchError,
                     UntrustedCheckpointError)
from ..fileio import atomic_write_many, jsonable
from .paper import HodgeNet, ModelSpec
from .published_layout import TRUST_HINT, first_line, unwrap_state_dict
from .published_layout import infer_spec, load_published_state_dict
from .registry import build_model, canonical_name, list_models
from .trees import is_tree_run, load_tree_model

MODEL_FILE = "model.pt"
CONFIG_FILE = "model.json"
OPTIMIZER_FILE = "optimizer.pt"
# Keys written first in model.json, in this order; the rest of the config follows.
_CONFIG_ORDER = ("arch", "scale", "split", "seed", "recipe", "metrics", "library_version", "created")
_PICKLED_OBJECT = re.compile(r"was not an allowed global|whose module \S+ is blocked|\S+ must be \S+ to load")
# model.json's "sha256" entry: which file each key stands for (relative to the weights file)
SHA256_KEY = "sha256"
# model.json's hash of its own content (every other field, canonical JSON)
JSON_SHA256_KEY = "json_sha256"

# --------------------------------------------------------------------------- paths


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(weights file, config file)`` for a run directory or a ``.pt`` file.

    A directory holds ``model.pt`` and ``model.json``; a file ``x.pt`` pairs with ``x.json``.
    """
    path = Path(path)
    if path.is_dir() or (not path.exists() and path.suffix not in (".pt", ".pth")):
        return path / MODEL_FILE, path / CONFIG_FILE
    return path, path.with_suffix(".json")


def run_dir_of(path: str | os.PathLike) -> Path:
    """The run directory of ``path``: a run directory itself, or the folder of a weight file."""
    return checkpoint_paths(path)[0].parent


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
    # Serialise everything first: an unserialisable value fails before any file is touched, and
    # the bytes are hashed into model.json before they are written.
    json.dumps(record, default=jsonable)
    blobs = {"weights": _torch_bytes({k: v.detach().cpu() for k, v in model.state_dict().items()})}
    if optimizer is not None or scheduler is not None:
        blobs["optimizer"] = _torch_bytes({
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
        })
    record[SHA256_KEY] = {role: hashlib.sha256(blob).hexdigest() for role, blob in blobs.items()}
    record = jsonable(record)  # plain JSON types (NaN -> null): what is written is what is hashed
    record.pop(JSON_SHA256_KEY, None)
    record[JSON_SHA256_KEY] = config_sha256(record)
    validate_config(record, config_path)
    text = json.dumps(record, indent=2) + "\n"
    files = [(weights_path, lambda f: f.write(blobs["weights"]))]
    if "optimizer" in blobs:
        files.append((weights_path.with_name(OPTIMIZER_FILE), lambda f: f.write(blobs["optimizer"])))
    files.append((config_path, lambda f: f.write(text.encode("utf-8"))))
    atomic_write_many(files)
    return weights_path


def _torch_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def config_sha256(config: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``model.json``'s content without its ``json_sha256`` field: the canonical
    JSON (sorted keys, no spaces, ASCII), so re-indenting the file does not change it."""
    body = {k: v for k, v in config.items() if k != JSON_SHA256_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _build_record(model: nn.Module, config: dict, extra: dict) -> dict:
    """The model.json content: known keys first, then the rest of config and extra."""
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
        return canonical_name(name)  # any registered model, the paper's or not
    except KeyError:
        return str(name)


# --------------------------------------------------------------------------- load


def _arch_config(config, state_dict, expected, weights_path: Path, config_path: Path) -> dict:
    """The checkpoint's config with its canonical ``arch`` (inferred from the weights, with a
    warning, when ``model.json`` is missing); an architecture other than ``expected`` is refused."""
    if config is not None:
        recorded = config.get("arch")
        if recorded is None:
            raise CheckpointError(f"{config_path} has no 'arch' entry")
        recorded = _canonical(recorded)
        if expected is not None and recorded != expected:
            raise CheckpointMismatchError(f"checkpoint is {recorded}, expected {expected} ({weights_path})")
        config["arch"] = recorded
        return config
    inferred = _infer_arch_name(state_dict, weights_path, config_path)
    if expected is not None and inferred != expected:
        raise CheckpointMismatchError(
            f"checkpoint is {inferred} (inferred from the weights; {config_path.name} is "
            f"missing), expected {expected} ({weights_path})"
        )
    if expected is None:
        warnings.warn(
            f"{config_path} not found: architecture {inferred} inferred from the weights' "
            "shapes; scale and split unknown (pass arch= to state it)",
            stacklevel=3,  # the caller of load_model
        )
    return {"arch": inferred, "arch_inferred": expected is None}


def _model_with_weights(arch, state_dict, weights_path: Path, config_path: Path) -> HodgeNet:
    """Build ``arch`` and load ``state_dict`` into it."""
    try:
        model = build_model(arch)
    except KeyError as err:
        # not a registry name: a custom ModelSpec is fine if the weights say the same
        spec = _infer_arch(state_dict, weights_path)
        if spec.name.upper() != str(arch).upper():
            raise CheckpointError(f"{config_path}: {err.args[0]}") from None
        model = build_model(spec)
    try:
        load_published_state_dict(model, state_dict)
    except StateDictMismatchError as err:
        raise CheckpointMismatchError(f"{weights_path}: {err}") from None
    return model


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
    if not weights_path.exists() and is_tree_run(config_path):
        return load_tree_model(config_path, map_location=map_location)
    if not weights_path.exists():
        where = f"{path} holds no {MODEL_FILE}" if Path(path).is_dir() else f"no checkpoint at {weights_path}"
        raise CheckpointNotFoundError(where)
    config = _read_config(config_path) if config_path.exists() else None
    as_saved = dict(config) if config is not None else None  # for its own hash, checked last
    if config is not None:
        verify_sha256(weights_path, config, "weights", config_path)
    # Deserialise on the CPU and move the built model afterwards: a checkpoint written on a GPU
    # loads anywhere, and a device error is not mistaken for a corrupt file.
    on_device = isinstance(map_location, (str, torch.device))
    state_dict = _read_state_dict(weights_path, "cpu" if on_device else map_location)
    expected = None if arch is None else arch.name if isinstance(arch, ModelSpec) else canonical_name(arch)

    config = _arch_config(config, state_dict, expected, weights_path, config_path)
    model = _model_with_weights(config["arch"], state_dict, weights_path, config_path)
    if as_saved is not None:
        # last: an edit that breaks a field, the weights' hash or the architecture is named above
        verify_config_sha256(as_saved, config_path)
    if on_device:
        model.to(map_location)
    return model.eval(), config


def read_weights(path: str | os.PathLike, map_location: Any = "cpu") -> dict:
    """The state_dict of a checkpoint (run directory or ``.pt``), its SHA-256 checked against
    ``model.json`` when recorded; every problem is a :class:`CheckpointError` naming the file."""
    weights_path, config_path = checkpoint_paths(path)
    if not weights_path.exists():
        raise CheckpointNotFoundError(f"no checkpoint at {weights_path}")
    if config_path.exists():
        verify_sha256(weights_path, _read_config(config_path), "weights", config_path)
    return _read_state_dict(weights_path, map_location)


def check_zip_crc(path: str | os.PathLike, hint: str = "") -> None:
    """Verify the CRC-32 of every record of a (zip-format) ``torch.save`` file.

    ``torch.load`` does not check them, so changed bytes inside a tensor would load silently;
    files in torch's legacy (non-zip) format are left to the loader.

    Raises
    ------
    CheckpointError
        A record whose bytes no longer match its CRC-32 (the message names the file and record).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # not a zip file, or one too damaged to open: the loader's error says so
    except Exception as err:  # noqa: BLE001 - zlib.error and the like: damage inside a record
        raise CheckpointError(f"{path} is corrupt ({first_line(err)}){hint}") from None
    if bad is not None:
        raise CheckpointError(f"{path} is corrupt: its record {bad!r} fails its CRC-32 check (bytes changed "
                              f"after it was written){hint}")


_TORCH_MAGIC = (b"PK\x03\x04", b"\x80")  # torch.save: a zip archive (or the legacy format, a pickle)


def _check_torch_file(weights_path: Path) -> None:
    """Refuse a file that is not a torch file at all (text, JSON, an empty file) by its first bytes."""
    try:
        with open(weights_path, "rb") as f:
            head = f.read(4)
    except IsADirectoryError:
        raise CheckpointError(f"{weights_path} is a folder, not a weights file") from None
    except FileNotFoundError:
        raise CheckpointNotFoundError(f"no checkpoint at {weights_path}") from None
    except OSError as err:
        raise CheckpointError(f"{weights_path} cannot be read ({err.strerror or err})") from None
    if not head:
        raise CheckpointError(f"{weights_path} is truncated or corrupt (empty: 0 bytes); restore it or retrain")
    if not head.startswith(_TORCH_MAGIC):
        kind = "text" if all(32 <= b < 127 or b in (9, 10, 13) for b in head) else "another kind of file"
        raise CheckpointError(f"{weights_path} is not a torch weights file (it begins with {head!r}: {kind}); "
                              "restore it or retrain")


def _read_state_dict(weights_path: Path, map_location: Any) -> dict:
    """``torch.load(weights_only=True)`` with errors that name the file and the cause."""
    _check_torch_file(weights_path)
    check_zip_crc(weights_path)
    try:
        obj = torch.load(weights_path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # weights_only reports every unpickling failure the same way; a pickled object shows up
        # as a global that is not allowed (or blocked), anything else is damage to the file.
        if _PICKLED_OBJECT.search(str(err)):
            raise UntrustedCheckpointError(
                f"{weights_path} holds pickled Python objects (e.g. a whole published module), "
                f"not a plain state_dict, so weights_only loading refused it. {TRUST_HINT}"
            ) from None
        raise CheckpointError(f"{weights_path} is truncated or corrupt ({first_line(err)})") from None
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError, IndexError,
            UnicodeDecodeError, MemoryError, OverflowError, TypeError, AttributeError) as err:
        # a damaged pickle stream fails with whatever its broken opcodes lead to (KeyError: 101 ...)
        if isinstance(err, FileNotFoundError):
            raise CheckpointNotFoundError(f"no checkpoint at {weights_path}") from None
        raise CheckpointError(f"{weights_path} is truncated or corrupt "
                              f"({type(err).__name__}: {first_line(err)})") from None
    return unwrap_state_dict(obj, weights_path)


def _read_config(config_path: Path) -> dict:
    try:
        raw = read_bytes_limited(config_path, 16 << 20, "model.json")  # no device, FIFO or huge file
    except DataError as err:
        raise CheckpointError(str(err)) from None
    try:
        config = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path} is truncated or corrupt ({err})") from None
    except RecursionError:
        raise CheckpointError(f"{config_path} is corrupt (JSON nested too deeply)") from None
    except OSError as err:
        raise CheckpointError(f"{config_path} cannot be read ({err.strerror or err})") from None
    validate_config(config, config_path)
    return config


def verify_config_sha256(config: Mapping[str, Any], config_path: str | os.PathLike) -> None:
    """Refuse a ``model.json`` whose content no longer matches the ``json_sha256`` it recorded when
    it was saved (an edit after saving). Files written before the library recorded it have none."""
    expected = config.get(JSON_SHA256_KEY)
    if expected is None:
        return
    if config_sha256(config) != expected:
        raise CheckpointError(
            f"{config_path} was changed after it was saved (its content no longer matches its "
            f"{JSON_SHA256_KEY} {str(expected)[:12]}...): an edited scale, split or arch would change what "
            "the model predicts; restore the file, or save the model again with save_checkpoint")


# --------------------------------------------------------------------------- validation

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number_list(value, length=4) -> bool:
    return isinstance(value, list) and len(value) == length and all(_is_number(v) for v in value)


def _is_sha256_map(value) -> bool:
    return isinstance(value, dict) and all(isinstance(h, str) and _HEX64.fullmatch(h) for h in value.values())


# field -> (check, what it must be). Fields not listed are free-form (any JSON value).
_FIELD_RULES = {
    "arch": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
    "scale": (lambda v: _is_number(v) and v > 0, "a positive finite number"),
    "split": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "seed": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "an integer or null"),
    "recipe": (lambda v: v is None or isinstance(v, (dict, str)), "an object, a string or null"),
    "metrics": (lambda v: isinstance(v, dict), "an object"),
    "library_version": (lambda v: isinstance(v, str), "a string"),
    "created": (lambda v: isinstance(v, str), "a string"),
    "epoch": (_is_count, "a non-negative integer"),
    "best_epoch": (_is_count, "a non-negative integer"),
    "n_train": (_is_count, "a non-negative integer"),
    "n_valid": (_is_count, "a non-negative integer"),
    "best_val_loss": (lambda v: v is None or _is_number(v), "a finite number or null"),
    "init_from": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "arch_inferred": (lambda v: isinstance(v, bool), "true or false"),
    "data": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "data_fingerprint": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "target_mean": (lambda v: v is None or _is_number_list(v), "a list of 4 finite numbers or null"),
    "target_std": (lambda v: v is None or (_is_number_list(v) and all(x > 0 for x in v)),
                   "a list of 4 positive finite numbers or null"),
    SHA256_KEY: (_is_sha256_map, "an object of 64-digit lowercase hex SHA-256 strings"),
    JSON_SHA256_KEY: (lambda v: isinstance(v, str) and _HEX64.fullmatch(v) is not None,
                      "a 64-digit lowercase hex SHA-256 string"),
}


def validate_config(config: Any, config_path: str | os.PathLike = CONFIG_FILE) -> dict:
    """Check ``model.json``'s content field by field; return it.

    Fields the library reads (``arch``, ``scale``, ``split``, ``seed``, ``recipe``, ``metrics``,
    ``epoch``, ``sha256``, ...) must have their type and range; other fields are free-form.

    Raises
    ------
    CheckpointError
        Not a JSON object, or a known field of the wrong type or out of range (the message
        names the file, the field, what it must be and what it is).
    """
    if not isinstance(config, dict):
        raise CheckpointError(f"{config_path} should hold a JSON object, found {type(config).__name__}")
    for field, (check, must_be) in _FIELD_RULES.items():
        if field in config and not check(config[field]):
            raise CheckpointError(
                f"{config_path}: field {field!r} must be {must_be}, got {_short_repr(config[field])}")
    return config


def _short_repr(value, limit=80) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def verify_sha256(path: Path, config: Mapping[str, Any], role: str, config_path: Path) -> None:
    """Refuse ``path`` when its SHA-256 differs from the one ``config`` records for ``role``.

    Checkpoints written before the library recorded hashes have none: nothing to check.
    """
    expected = (config.get(SHA256_KEY) or {}).get(role)
    if expected is None:
        return
    try:
        actual = file_sha256(path)
    except OSError as err:
        raise CheckpointError(f"{path} cannot be read ({err.strerror or err})") from None
    if actual != expected:
        raise CheckpointError(
            f"{path} does not match the SHA-256 recorded in {Path(config_path).name} "
            f"(recorded {expected[:12]}..., file {actual[:12]}...): the file was changed or damaged "
            "after it was saved; restore it or retrain")


# --------------------------------------------------------------------------- training state

STATE_HINT = "start the run over with overwrite=True (CLI: --overwrite), or restore the file from a backup"


def read_training_state(path: str | os.PathLike, required: Mapping[str, Any] | None = None) -> dict:
    """Load a trainer's ``state.pt`` (``torch.load(weights_only=True)``), checked.

    Parameters
    ----------
    path : path of the state file.
    required : mapping field -> type or tuple of types, optional
        Fields the state must hold, with their types (``int`` does not admit ``bool``).

    Raises
    ------
    CheckpointNotFoundError
        No such file.
    CheckpointError
        Empty, truncated or corrupt file, pickled objects, not a dict, or a required field
        missing or of the wrong type; the message names the file.
    """
    path = Path(path)
    # the same stat-then-classify shape as data.checks.regular_file's; kept apart: this one raises
    # the checkpoint errors with their recovery hints (STATE_HINT), that one DataError
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CheckpointNotFoundError(f"no training state at {path}") from None
    except OSError as err:
        raise CheckpointError(f"{path} cannot be read ({err.strerror or err})") from None
    if size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes): its write was cut short; {STATE_HINT}")
    check_zip_crc(path, f"; {STATE_HINT}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if _PICKLED_OBJECT.search(str(err)):
            raise CheckpointError(f"{path} holds pickled Python objects, not a training state; {STATE_HINT}") from None
        raise CheckpointError(f"{path} is truncated or corrupt ({first_line(err)}); {STATE_HINT}") from None
    except (RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError, IndexError,
            UnicodeDecodeError, MemoryError, OverflowError) as err:
        raise CheckpointError(f"{path} is truncated or corrupt ({first_line(err)}); {STATE_HINT}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a training state (found {type(state).__name__}); {STATE_HINT}")
    for field, types in (required or {}).items():
        if field not in state:
            raise CheckpointError(f"{path} does not hold a training state (field {field!r} missing); {STATE_HINT}")
        types = types if isinstance(types, tuple) else (types,)
        value = state[field]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(t.__name__ for t in types)
            raise CheckpointError(f"{path}: field {field!r} must be {names}, got {type(value).__name__}; "
                                  f"{STATE_HINT}")
    return state


def _infer_arch_name(state_dict: Mapping[str, torch.Tensor], weights_path: Path, config_path: Path) -> str:
    """The architecture of weights saved without ``model.json``: the paper's layouts by their
    shapes (:func:`infer_spec`), else the one registry model whose parameter names and shapes
    are exactly these; otherwise a :class:`CheckpointMismatchError` saying so."""
    try:
        return infer_spec(state_dict).name
    except StateDictMismatchError as err:
        paper_error = err

    wanted = sorted((k, tuple(v.shape)) for k, v in state_dict.items() if hasattr(v, "shape"))
    matches = []
    for name in list_models():
        try:
            model = build_model(name)
        except Exception:  # noqa: BLE001 - a model that cannot be built here is no candidate
            continue
        if sorted((k, tuple(v.shape)) for k, v in model.state_dict().items()) == wanted:
            matches.append(name)
    if len(matches) == 1:
        return matches[0]
    why = (f"several registry models fit ({', '.join(matches)})" if matches
           else f"no registry model has these parameters ({first_line(paper_error)})")
    raise CheckpointMismatchError(f"{weights_path}: {config_path.name} is missing and the architecture cannot be "
                                  f"inferred from the weights: {why}; pass arch= (CLI: --arch) or restore "
                                  f"{config_path.name}")


def _infer_arch(state_dict: Mapping[str, torch.Tensor], weights_path: Path) -> ModelSpec:
    try:
        return infer_spec(state_dict)
    except StateDictMismatchError as err:
        raise CheckpointMismatchError(f"{weights_path}: cannot tell the architecture: {err}") from None
