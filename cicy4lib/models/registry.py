"""The model registry: every architecture is one entry, built by name.

A new architecture is one call (or decorator)::

    from cicy4lib.models.registry import register_model

    @register_model("MyNet-64", family="Beyond-paper", description="...")
    def my_net():
        return MyNet(64)

Entries carry what the rest of the library needs to know: the builder, a ``group`` (which
notebook folder the model's notebook lives in), a human ``family`` label, whether it is one of
the paper's 14 networks, and an optional ``spec`` (the paper's :class:`ModelSpec`).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ..errors import ConfigurationError, UnknownModelError

# what a registry entry builds: a torch network (build() returns an nn.Module), or scikit-learn
# estimators that are fitted on data (cicy4lib.training.estimators; spec: a models.trees.TreeSpec)
TORCH, SKLEARN = "torch", "sklearn"
KINDS = (TORCH, SKLEARN)

# notebook folder of each group (the paper's two folders, plus ours)
GROUP_DIRS = {
    "hybrid": "Models_CNN-RNN-hybrid",
    "lstm": "Models_LSTM-based",
    "beyond": "Models_Beyond-paper",
}


@dataclass(frozen=True)
class ModelEntry:
    """One registered architecture."""

    name: str
    build: Callable[[], Any]
    group: str = "beyond"  # key of GROUP_DIRS
    family: str = ""  # human label, e.g. "CNN-LSTM hybrid"
    description: str = ""
    paper: bool = False  # one of the 14 networks of the paper under reproduction
    spec: Any = None  # architecture details (ModelSpec for the paper's networks)
    aliases: tuple[str, ...] = field(default_factory=tuple)
    kind: str = TORCH  # TORCH or SKLEARN (see KINDS)
    # the architecture's default recipe: its TrainConfig values (TrainConfig.from_recipe(name)), or the
    # name of a recipe in cicy4lib.training.recipes that it trains with (CICYMiner: "cicyminer")
    recipe: dict | str | None = None

    @property
    def notebook_dir(self) -> str:
        return GROUP_DIRS[self.group]


_REGISTRY: dict[str, ModelEntry] = {}


def _key(name: str) -> str:
    return name.strip().upper().replace("_", "-")


def register_model(name: str, build: Callable | None = None, **fields):
    """Register ``build`` (a zero-argument callable returning an ``nn.Module``) as ``name``.

    Used as a call ``register_model(name, build, ...)`` or as a decorator
    ``@register_model(name, ...)``. Names are unique case-insensitively (``_`` reads as ``-``).

    Parameters
    ----------
    name : str
        The model's name, e.g. ``"MyNet-64"``.
    build : callable, optional
        Returns a fresh model; omitted when used as a decorator.
    **fields
        :class:`ModelEntry` fields: ``group``, ``family``, ``description``, ``paper``, ``spec``,
        ``aliases``, ``recipe`` (a dict of TrainConfig values, or a recipe's name).

    Returns
    -------
    callable
        ``build`` itself (or, as a decorator, a function that registers and returns it).

    Raises
    ------
    ValueError
        For a name that is already registered or an unknown ``group``.
    """
    def add(fn):
        entry = ModelEntry(name=name, build=fn, **fields)
        if entry.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {entry.kind!r}")
        if entry.group not in GROUP_DIRS:
            raise ValueError(f"group must be one of {sorted(GROUP_DIRS)}, got {entry.group!r}")
        taken = {_key(k) for e in _REGISTRY.values() for k in (e.name, *e.aliases)}
        for k in (name, *entry.aliases):
            if _key(k) in taken:
                raise ValueError(f"model name {k!r} is already registered")
        _REGISTRY[name] = entry
        return fn

    return add if build is None else add(build)


def get_entry(name) -> ModelEntry:
    """The registry entry of ``name`` (case-insensitive, aliases allowed)."""
    if isinstance(name, ModelEntry):
        return name
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    by_key = {}
    for entry in _REGISTRY.values():
        for k in (entry.name, *entry.aliases):
            by_key[_key(k)] = entry
    key = _key(name)
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(sorted({by_key[c].name for c in close}))}?" if close else ""
    raise UnknownModelError(f"unknown model {name!r}.{hint} Known models: {', '.join(_REGISTRY)}")


def list_models(*, paper: bool | None = None, group: str | None = None, kind: str | None = TORCH) -> list[str]:
    """Names of the registered architectures in registration order (the paper's table first).

    Parameters
    ----------
    paper : bool, optional
        True keeps the paper's 14 networks, False the others; None keeps all.
    group : str, optional
        Notebook folder key (``"hybrid"``, ``"lstm"``, ``"beyond"``) to keep.
    kind : str, optional
        :data:`TORCH` (the default: the networks), :data:`SKLEARN` (the estimators) or None (all).

    Returns
    -------
    list of str

    Examples
    --------
    >>> list_models(paper=True)[:2]
    ['CNN-GRU-384', 'CNN-GRU-416']
    """
    return [e.name for e in _REGISTRY.values()
            if (paper is None or e.paper == paper) and (group is None or e.group == group)
            and (kind is None or e.kind == kind)]


def model_kind(name) -> str | None:
    """The kind (:data:`TORCH` or :data:`SKLEARN`) of a registered name; None for any other value."""
    try:
        return get_entry(name).kind
    except (UnknownModelError, TypeError):
        return None


def canonical_name(name) -> str:
    """The registry spelling of a model name, e.g. ``"lstm-448"`` -> ``"LSTM-448"``."""
    return get_entry(name).name


def build_model(name, *, device=None):
    """Build a registered architecture by name (case-insensitive).

    Parameters
    ----------
    name : str
        E.g. ``"CNN-LSTM-400"``; see :func:`list_models`.
    device : torch.device or str, optional
        Where to allocate the parameters (``"meta"`` builds a shape-only model cheaply).

    Returns
    -------
    torch.nn.Module
        A fresh model with random weights; its ``arch`` attribute holds the registry name.

    Raises
    ------
    UnknownModelError
        For a name that is not registered (the message suggests close names).
    """
    if isinstance(name, (str, ModelEntry)):
        entry = get_entry(name)
        if entry.kind != TORCH:
            raise ConfigurationError(f"{entry.name} is a scikit-learn model: it is fitted on data "
                                     "(train it, or load its run directory), not built")
        build, arch = entry.build, entry.name
    elif callable(getattr(name, "build", None)):  # an unregistered spec, e.g. a custom ModelSpec
        build, arch = name.build, name.name
    else:
        raise TypeError(f"model must be a registry name, got {type(name).__name__}")
    if device is None:
        model = build()
    else:
        with torch.device(device):
            model = build()
    model.arch = arch  # checkpoints record it
    return model


def count_parameters(model, *, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters, as counted in the paper's Table 1.

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool
        Count only parameters with ``requires_grad`` (the paper's count).

    Returns
    -------
    int
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def format_model_table() -> str:
    """A plain-text table of every registered model with its parameter count."""
    header = ("name", "family", "paper", "params")
    rows = []
    for name, entry in ((n, e) for n, e in _REGISTRY.items() if e.kind == TORCH):
        n = count_parameters(build_model(name, device="meta"))
        rows.append((name, entry.family, "yes" if entry.paper else "-", f"{n:,}"))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    align = ["<", "<", "<", ">"]
    lines = ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)) for row in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
