"""What every table, figure and notebook says about the data its numbers come from.

The dataset's provenance (``CICYData.provenance``: kind "embedded-sample", "generated",
"real-list" or "user", source, size) decides two things:

* :func:`is_real_list` -- only the real CICY4 list (905,684 non-product configurations, or
  data marked "real-list") may be set beside the paper's published numbers by default;
* :func:`data_label` -- the note every figure title and table caption of other data carries,
  e.g. "embedded sample, 10,000 configurations -- not the CICY4 list".

Datasets from before provenance existed (no ``provenance`` attribute) are read by their
``source`` ("sample" = the embedded sample, "generated" = the generated set) and size.
A bare string (a notebook's ``data`` parameter) is read the same way.
"""
from __future__ import annotations

from ..constants import REAL_LIST_NON_PRODUCT

__all__ = ["provenance", "is_real_list", "data_label", "figure_note", "NOT_LIST"]

NOT_LIST = "not the CICY4 list"
_KIND_WORDS = {"embedded-sample": "embedded sample", "generated": "generated set",
               "user": "user data", "real-list": "the CICY4 list"}


def _kind_from_source(source: str, n) -> str:
    text = str(source).strip().lower()
    if text in ("sample", "embedded-sample", "embedded sample"):
        return "embedded-sample"
    if text.startswith("generated"):
        return "generated"
    if n == REAL_LIST_NON_PRODUCT:
        return "real-list"
    return "user"


def provenance(data) -> dict:
    """The dataset's provenance dict (kind, source, n, ...), derived when the dataset has none."""
    prov = getattr(data, "provenance", None)
    if isinstance(prov, dict) and prov.get("kind"):
        out = dict(prov)
        if "n" not in out and hasattr(data, "__len__") and not isinstance(data, str):
            out["n"] = len(data)
        return out
    if isinstance(data, str) or data is None:
        return {"kind": _kind_from_source(data or "", None), "source": str(data), "n": None}
    try:
        n = len(data)
    except TypeError:
        conf = getattr(data, "conf", None)
        n = len(conf) if conf is not None else None
    source = str(getattr(data, "source", ""))
    return {"kind": _kind_from_source(source, n), "source": source, "n": None if n is None else int(n)}


def is_real_list(data) -> bool:
    """True for the real CICY4 list only (the dataset's ``is_real_list`` where it has one)."""
    flag = getattr(data, "is_real_list", None)
    if isinstance(flag, bool):
        return flag
    if callable(flag):
        return bool(flag())
    return provenance(data)["kind"] == "real-list"


def data_label(data) -> str:
    """"the CICY4 list (905,684 configurations)" or e.g. "embedded sample, 10,000
    configurations -- not the CICY4 list"."""
    prov = provenance(data)
    n = prov.get("n")
    size = f"{n:,} configurations" if isinstance(n, int) else ""
    if is_real_list(data):
        return f"the CICY4 list ({size})" if size else "the CICY4 list"
    kind = prov.get("kind", "user")
    words = _KIND_WORDS.get(kind, str(kind))
    if kind == "user" and prov.get("source"):
        words = f"user data {prov['source']}"
    if kind == "real-list":  # a subset of the list
        words = "a subset of the CICY4 list"
        return f"{words}, {size}" if size else words
    return f"{words}, {size} – {NOT_LIST}" if size else f"{words} – {NOT_LIST}"


def figure_note(data) -> str | None:
    """The note a figure of this data carries in its title (``None`` for the real list)."""
    return None if is_real_list(data) else f"({data_label(data)})"
