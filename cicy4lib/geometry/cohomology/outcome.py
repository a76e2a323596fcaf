"""How a Hodge-number computation ends: a :class:`HodgeResult`, or ``Undetermined`` inside."""
from __future__ import annotations

from dataclasses import dataclass

METHODS = ("exact", "generic-rank", "undetermined")


@dataclass(frozen=True)
class HodgeResult:
    """Hodge numbers ``(h11, h21, h31, h22)`` of one configuration and how they were found.

    ``hodge`` is None when ``method == "undetermined"``; ``detail`` says which maps were
    computed (generic-rank) or why the result is undetermined.
    """

    hodge: tuple[int, int, int, int] | None
    method: str
    euler: int
    detail: str = ""


class Undetermined(Exception):
    """A map whose rank matters could not be computed by this implementation."""
