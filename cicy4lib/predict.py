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

from . import geometry

_ROW_SPLIT = re.compile(r"[;\n]+")


def parse_matrix_text(text: str) -> list[list[int]]:
    """Read a configuration matrix written as JSON, Mathematica or plain rows.

    Accepted: ``[[2,2,4]]``, ``{{2,2,4}}``, and rows separated by newlines or ``;`` with
    entries separated by spaces or commas (``"1 1 0; 1 0 1"``).

    Raises
    ------
    geometry.ConfigurationError
        If the text is not a rectangular matrix of integers.
    """
    body = text.strip()
    if not body:
        raise geometry.ConfigurationError("empty configuration matrix")
    if body[0] in "[{":
        try:
            value = json.loads(body.replace("{", "[").replace("}", "]"))
        except json.JSONDecodeError as err:
            raise geometry.ConfigurationError(f"cannot read the matrix {body!r}: {err.msg}") from None
        if isinstance(value, list) and value and not isinstance(value[0], list):
            value = [value]  # a single row such as [2, 5]
    else:
        value = [row.replace(",", " ").split() for row in _ROW_SPLIT.split(body) if row.strip()]
    rows = value if isinstance(value, list) else [value]
    if not rows or any(not isinstance(r, list) or not r for r in rows):
        raise geometry.ConfigurationError(f"cannot read the matrix {body!r}: expected rows of integers")
    if len({len(r) for r in rows}) != 1:
        raise geometry.ConfigurationError(
            f"rows have different lengths {[len(r) for r in rows]}: not a matrix")
    try:
        return [[_as_int(v) for v in r] for r in rows]
    except ValueError as err:
        raise geometry.ConfigurationError(f"cannot read the matrix {body!r}: {err}") from None


def _as_int(value) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"entry {value!r} is not an integer")
    return int(number)


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
    if exact and not report["is_product"]:
        result = geometry.hodge_numbers(P)
        report["hodge_exact"] = list(result.hodge) if result.hodge is not None else None
        report["hodge_method"] = result.method
    if checkpoints:
        import torch

        from .checkpoint import load_model
        from .evaluate import constrain

        models = [load_model(p) for p in checkpoints]
        outputs = []
        for model, config in models:
            scale = float(config.get("scale", 6.0))
            x = torch.as_tensor(geometry.pad_configuration(P), dtype=torch.float32)[None] / scale
            with torch.inference_mode():
                outputs.append(model.eval()(x).numpy()[0])
        raw = np.mean(outputs, axis=0)
        constrained, fallback = constrain(raw[None], np.array([report["euler"]]))
        report["models"] = [config.get("arch", "?") for _, config in models]
        report["prediction_raw"] = [round(float(v), 3) for v in raw]
        report["prediction_rounded"] = [int(v) for v in np.rint(raw)]
        report["prediction_constrained"] = [int(v) for v in constrained[0]]
        report["constraint_fallback"] = bool(fallback[0])
    return report
