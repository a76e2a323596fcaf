"""Hodge numbers of a single configuration matrix: exact geometry plus learned models.

``predict_configuration`` is what ``python -m cicy4lib predict`` prints. It always reports
the exact Euler number and whether the matrix is a direct product; where the cohomology
computation settles them it reports the exact Hodge numbers, and with checkpoints it adds
the network's raw and rounded predictions and the χ-constrained answer.
"""
from __future__ import annotations

import json
import re

import numpy as np

from .. import geometry
from ..constants import HODGE
from ..results.baselines import chi_completion

_ROW_SPLIT = re.compile(r"[;\n]+")


_INT_TOKEN = re.compile(r"[+-]?\d+")


def parse_matrix_text(text: str, scale=None) -> list[list[int]]:
    """Read a configuration matrix written as JSON, Mathematica or plain rows, and validate it.

    Accepted: ``[[2,2,4]]``, ``{{2,2,4}}``, a single row ``[2,2,4]``, and rows separated by
    newlines or ``;`` with entries separated by spaces or commas (``"1 1 0; 1 0 1"``). The
    parsed value goes through the library's one validation edge,
    :func:`cicy4lib.geometry.as_degree_matrix` (so floats get its two readings, as integers
    and as integers / ``scale``), and the validated degree block is returned.

    Raises
    ------
    geometry.ConfigurationError
        If the text cannot be read, or does not hold a valid configuration (naming the entry
        and the problem).
    """
    if not isinstance(text, str):
        raise geometry.ConfigurationError(f"matrix text must be a string, got {type(text).__name__}")
    body = text.strip()
    if not body:
        raise geometry.ConfigurationError("empty configuration matrix")
    _check_characters(body)
    if body[0] in "[{":
        _check_brackets(body)
        try:
            value = json.loads(body.replace("{", "[").replace("}", "]"))
        except (json.JSONDecodeError, RecursionError) as err:
            msg = err.msg if isinstance(err, json.JSONDecodeError) else "nested too deep"
            raise geometry.ConfigurationError(f"cannot read the matrix {body[:60]!r}: {msg}") from None
        if isinstance(value, list) and value and all(not isinstance(v, list) for v in value):
            value = [value]  # a single row such as [2, 5]
    else:
        value = [[_token(tok) for tok in row.replace(",", " ").split()]
                 for row in _ROW_SPLIT.split(body) if row.strip()]
    try:
        return geometry.as_degree_matrix(value, scale=scale).tolist()
    except geometry.ConfigurationError as err:
        raise geometry.ConfigurationError(f"matrix {body[:60]!r}: {err}") from None


def _check_characters(body: str) -> None:
    """Only ASCII may spell a matrix: a non-ASCII digit ('٢', '２', '²') reads as a number to
    ``int()`` and would be accepted silently; any other non-ASCII or control character is noise."""
    for i, c in enumerate(body):
        if ord(c) > 126 or (ord(c) < 32 and c not in "\t\n\r"):
            kind = "a non-ASCII digit" if c.isdigit() or c.isnumeric() else "a character"
            raise geometry.ConfigurationError(f"matrix {body[:60]!r}: {kind} {c!r} (U+{ord(c):04X}) at position {i}; "
                                              "write matrices with ASCII digits 0-9, brackets, commas and spaces")


def _check_brackets(body: str) -> None:
    """Brackets must pair up as they open: '[' with ']', '{' with '}' ('{[2,5]]' is refused)."""
    pairs, stack = {"]": "[", "}": "{"}, []
    for i, c in enumerate(body):
        if c in "[{":
            stack.append((c, i))
        elif c in "]}":
            if not stack or stack[-1][0] != pairs[c]:
                raise geometry.ConfigurationError(f"matrix {body[:60]!r}: {c!r} at position {i} does not close "
                                                  + (f"{stack[-1][0]!r} at position {stack[-1][1]}" if stack
                                                     else "any bracket"))
            stack.pop()
    if stack:
        raise geometry.ConfigurationError(f"matrix {body[:60]!r}: {stack[-1][0]!r} at position {stack[-1][1]} is never closed")


def _token(tok: str):
    """A number from one plain-text token (int or float), or the token itself (refused later)."""
    if _INT_TOKEN.fullmatch(tok):
        return int(tok)
    try:
        return float(tok)
    except ValueError:
        return tok


def predict_configuration(conf, checkpoints=(), *, exact: bool = True) -> dict:
    """Everything cicy4lib can say about one configuration.

    Parameters
    ----------
    conf : str or array-like
        Degree matrix (rows = projective factors), as text ('[[2,5]]', '{{2,5}}'),
        nested lists, or any form `geometry.as_degree_matrix` accepts.
    checkpoints : sequence of paths
        ``model.pt`` files or run directories; several are averaged (mean ensemble).
    exact : bool
        Also run the line-bundle cohomology computation (can take a second).

    Returns
    -------
    dict with keys ``matrix``, ``rows``, ``cols``, ``euler``, ``is_product``,
    ``favourable_guess_h11``, and where available ``hodge_exact``, ``hodge_method``,
    ``prediction_raw``, ``prediction_rounded``, ``prediction_constrained``.

    Raises
    ------
    geometry.ConfigurationError
        If the matrix is not a valid CICY four-fold configuration.
    """
    if isinstance(conf, str):
        conf = parse_matrix_text(conf)
    P = geometry.as_degree_matrix(conf)
    report = {
        "matrix": P.tolist(),
        "rows": int(P.shape[0]),
        "cols": int(P.shape[1]),
        "euler": int(geometry.euler_number(P)),
        "is_product": bool(geometry.is_product(P)),
        "favourable_guess_h11": int(P.shape[0]),
    }

    guess = chi_completion([P.shape[0]], [0], [report["euler"]])[0]
    report["favourable_guess"] = [int(v) for v in guess]  # h11 = rows, h21 = 0, h31/h22 from χ
    if exact and not report["is_product"]:
        result = geometry.hodge_numbers(P)
        report["hodge_exact"] = list(result.hodge) if result.hodge is not None else None
        report["hodge_method"] = result.method
    if checkpoints:
        from ..models.checkpoint import load_model  # lazy: imports torch
        from ..results.ensemble import mean_ensemble  # lazy: imports pandas
        from ..results.evaluate import MINIMUM, constrain, predict  # lazy: imports pandas

        padded = geometry.pad_configuration(P)[None]  # integer (1, 16, 20): predict divides by each run's scale
        outputs, archs = [], []
        for path in checkpoints:
            model, config = load_model(path)
            outputs.append(predict(model, padded, scale=config.get("scale")))
            archs.append(config.get("arch", "?"))
        raw = mean_ensemble(outputs)[0]
        constrained, fallback = constrain(raw[None], np.array([report["euler"]]))
        report["models"] = archs
        report["prediction_raw"] = [round(float(v), 3) for v in raw]
        report["prediction_rounded"] = [int(v) for v in np.rint(raw)]
        report["prediction_constrained"] = [int(v) for v in constrained[0]]
        report["constraint_fallback"] = bool(fallback[0])
        # impossible values are shown, never silently clipped
        impossible = [f"{h} = {v} < {MINIMUM[h]}" for h, v in zip(HODGE, report["prediction_rounded"])
                      if v < MINIMUM[h]]
        report["prediction_impossible"] = impossible
        if impossible:
            report["warning"] = ("the network predicts impossible values (" + "; ".join(impossible) + "); "
                                 "the constrained answer keeps its raw h31, h22 there: do not trust this prediction")
        elif fallback[0]:
            report["warning"] = ("h31 from the predicted h11, h21 and χ would be impossible; the constrained "
                                 "answer keeps the raw h31, h22")
    return report
