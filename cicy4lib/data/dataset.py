"""The dataset every source loads into: :class:`CICYData`, and :func:`subsample`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .splits import Split

from ..constants import DEFAULT_SCALE, MAX_COLS as N_COLS, MAX_ROWS as N_ROWS, REAL_LIST_NON_PRODUCT
from ..errors import DataError, UsageError

PROVENANCE_KINDS = ("embedded-sample", "generated", "real-list", "user")


@dataclass(eq=False)  # arrays inside: compare fields explicitly
class CICYData:
    """Configurations and their labels, padded to 16 x 20.

    Attributes
    ----------
    conf : int8 (N, 16, 20) integer degree matrices, top-left corner, zeros elsewhere.
    hodge : int64 (N, 4) h11, h21, h31, h22; -1 where unknown.
    euler : int64 (N,) Euler numbers; -1 where unknown.
    is_product : bool (N,) direct products (dropped by default when loading).
    ids : int64 (N,) list IDs (1-based); -1 where the source has none (Kaggle split files).
    scale : float, divisor turning ``conf`` into model input (6 unless told otherwise).
    source : str, where the data came from ("sample", a path, ...).
    splits : dict name -> Split of predefined splits (published Kaggle files), or None.
    meta : dict, free-form metadata (the sample's metadata, scale inference, ...).
    provenance : dict, where the data came from: ``{"kind": "embedded-sample" | "generated" |
        "real-list" | "user", "source": str, "n": int, ...}``; ``n`` follows every subset.
        Readers fill it; files written from the data carry it (``provenance.json``).
    """

    conf: np.ndarray
    hodge: np.ndarray
    euler: np.ndarray
    is_product: np.ndarray
    ids: np.ndarray
    scale: float = DEFAULT_SCALE
    source: str = ""
    splits: dict | None = None
    meta: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.conf)
        if not isinstance(self.provenance, dict):
            raise DataError(f"{self.source}: provenance must be a dict, got {type(self.provenance).__name__}")
        prov = dict(self.provenance)
        if "kind" not in prov:  # data built by hand: the embedded sample's name is the one hint
            prov["kind"] = "embedded-sample" if str(self.source) == "sample" else "user"
        prov.setdefault("source", str(self.source))
        if prov["kind"] not in PROVENANCE_KINDS:
            raise DataError(f"{self.source}: provenance kind {prov['kind']!r} is not one of {PROVENANCE_KINDS}")
        prov["n"] = n
        self.provenance = prov
        if not isinstance(self.conf, np.ndarray) or self.conf.dtype.kind not in "iu":
            raise DataError(f"{self.source}: conf must be an integer array of degrees "
                            f"(got {getattr(self.conf, 'dtype', type(self.conf).__name__)}); "
                            "load files with load_dataset, which reads scaled floats")
        if self.conf.ndim != 3 or self.conf.shape[1:] != (N_ROWS, N_COLS):
            raise DataError(f"{self.source}: conf must have shape (N, {N_ROWS}, {N_COLS}), got {self.conf.shape}")
        for name, shape in (("hodge", (n, 4)), ("euler", (n,)), ("is_product", (n,)), ("ids", (n,))):
            if getattr(self, name).shape != shape:
                raise DataError(f"{self.source}: {name} has shape {getattr(self, name).shape}, expected {shape}")
        if not self.scale > 0:
            raise DataError(f"{self.source}: scale must be positive, got {self.scale}")

    def __len__(self) -> int:
        return len(self.conf)

    @property
    def is_real_list(self) -> bool:
        """True only for the real CICY4 list: provenance kind "real-list" and all 905,684
        non-product configurations present (a subsample or the embedded sample is not)."""
        return (self.provenance.get("kind") == "real-list"
                and int(np.count_nonzero(~self.is_product)) == REAL_LIST_NON_PRODUCT)

    def __repr__(self) -> str:
        splits = ", ".join(self.splits) if self.splits else "none"
        return (f"CICYData(n={len(self)}, scale={self.scale:g}, source={self.source!r}, "
                f"kind={self.provenance.get('kind')!r}, splits: {splits})")

    def features(self, idx=None) -> np.ndarray:
        """Model input: float32 (n, 16, 20) = ``conf[idx] / scale``."""
        conf = self.conf if idx is None else self.conf[idx]
        return conf.astype(np.float32) / np.float32(self.scale)

    def subset(self, idx) -> "CICYData":
        """The rows ``idx`` (indices or boolean mask); predefined splits are re-indexed to them."""
        idx = np.asarray(idx)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64)
        # per-row arrays in meta (the sample's "method", the raw list's "flag") follow the rows
        meta = {k: v[idx] if isinstance(v, np.ndarray) and v.shape[:1] == (len(self),) else v
                for k, v in self.meta.items()}
        return replace(self, conf=self.conf[idx], hodge=self.hodge[idx], euler=self.euler[idx],
                       is_product=self.is_product[idx], ids=self.ids[idx],
                       splits=_reindex_splits(self.splits, idx, len(self)), meta=meta,
                       provenance=dict(self.provenance))  # __post_init__ sets the new n


def _reindex_splits(splits, idx, n):
    """Splits restricted to the rows ``idx`` and renumbered; None if ``idx`` repeats rows."""
    if not splits or len(np.unique(idx)) != len(idx):
        return None
    new_pos = np.full(n, -1, np.int64)
    new_pos[idx] = np.arange(len(idx))

    def keep(part):
        mapped = new_pos[part]
        return mapped[mapped >= 0]

    return {name: Split(keep(s.train), keep(s.valid), keep(s.test), s.name) for name, s in splits.items()}


def subsample(data: CICYData, max_samples: int | None, seed: int = 0) -> CICYData:
    """A deterministic random subset of ``max_samples`` rows (kept in dataset order).

    ``max_samples`` None or >= len(data) returns ``data`` itself.
    """
    if max_samples is None or max_samples >= len(data):
        return data
    if max_samples < 1:
        raise UsageError(f"max_samples must be positive, got {max_samples}")
    keep = np.sort(np.random.default_rng(seed).choice(len(data), int(max_samples), replace=False))
    out = data.subset(keep)
    out.provenance["subsample"] = {"of": len(data), "max_samples": int(max_samples), "seed": int(seed)}
    return out


