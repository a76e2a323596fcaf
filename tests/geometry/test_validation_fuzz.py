"""Seeded fuzz test of the one validation edge (issue 9, item 8).

Generates >= 1,000 malformed matrices of every class the bad-input audit found (booleans,
complex, dates/durations, strings, None, other objects, NaN/inf, integers beyond int64,
nesting depth != 2, floats that only a guessed scale would read, ragged rows, and well-typed
matrices that are no configuration) and sends each through the API entry points
(``as_degree_matrix``, ``euler_number``, ``hodge_numbers``, ``is_product``,
``predict_configuration``, and ``euler_numbers`` with a batch axis). Every call must raise
:class:`ConfigurationError`; any other exception or a silent acceptance fails the test. Valid
matrices must be accepted in every accepted form. A sample goes through the CLI
(``python -m cicy4lib predict TEXT``): exit code 2, one line, no traceback.

``pytest -s`` prints the counts: inputs tried / library errors / other exceptions / silent
acceptances.
"""
import datetime
import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from fractions import Fraction

import numpy as np
import pytest

from cicy4lib import geometry
from cicy4lib.errors import ConfigurationError
from cicy4lib.geometry import as_degree_matrix, euler_number, euler_numbers, hodge_numbers, is_product
from cicy4lib.jobs.predict import predict_configuration

SEED = 20240529
N_PER_CLASS = 75  # 15 classes x 75 = 1,125 malformed inputs
PUBLISHED = [([[6]], 2610), ([[2, 5]], 2190), ([[3, 4]], 1476), ([[2, 2, 4]], 1632), ([[2, 3, 3]], 1206)]


def _valid(rng):
    if rng.random() < 0.2:
        return np.array(PUBLISHED[rng.integers(len(PUBLISHED))][0], dtype=np.int64)
    return geometry.random_configuration(rng, n_rows=int(rng.integers(1, 9)))


def _poke(rng, P, value):
    """P as nested lists with one entry replaced by ``value``."""
    rows = P.tolist()
    i, j = rng.integers(P.shape[0]), rng.integers(P.shape[1])
    rows[i][j] = value
    return rows


def _bools(rng):
    P = _valid(rng)
    kind = rng.integers(3)
    if kind == 0:
        return _poke(rng, P, bool(rng.integers(2)))
    if kind == 1:
        return _poke(rng, P, np.bool_(rng.integers(2)))
    return P > 0  # a whole bool array


def _complex(rng):
    P = _valid(rng)
    if rng.integers(2):
        return _poke(rng, P, complex(int(rng.integers(1, 4)), 0))
    return P.astype(np.complex128)


def _dates(rng):
    P = _valid(rng)
    kind = rng.integers(4)
    if kind == 0:
        return P.astype("timedelta64[s]")
    if kind == 1:
        return P.astype("datetime64[D]")
    if kind == 2:
        return _poke(rng, P, datetime.timedelta(days=int(rng.integers(1, 5))))
    return _poke(rng, P, datetime.date(2024, 1, 1 + int(rng.integers(20))))


def _strings(rng):
    P = _valid(rng)
    kind = rng.integers(3)
    if kind == 0:
        return _poke(rng, P, str(int(rng.integers(0, 7))))  # ["2", 2, 4]
    if kind == 1:
        return P.astype(str)
    return _poke(rng, P, b"2")


def _nones(rng):
    P = _valid(rng)
    return _poke(rng, P, None) if rng.integers(2) else [None] * int(rng.integers(1, 4))


def _objects(rng):
    P = _valid(rng)
    kind = rng.integers(4)
    if kind == 0:
        return _poke(rng, P, object())
    if kind == 1:
        return _poke(rng, P, {"degree": 2})
    if kind == 2:
        obj = P.astype(object)
        obj[0, 0] = "x"
        return obj
    return _poke(rng, P, Fraction(1, 3))  # a real number, but not an integer at either reading


def _non_finite(rng):
    P = _valid(rng).astype(float)
    i, j = rng.integers(P.shape[0]), rng.integers(P.shape[1])
    P[i, j] = [np.nan, np.inf, -np.inf][rng.integers(3)]
    return P if rng.integers(2) else P.tolist()


def _beyond_int64(rng):
    P = _valid(rng)
    big = 2 ** int(rng.integers(63, 80)) + int(rng.integers(0, 1000))
    if rng.integers(3) == 0:
        return _poke(rng, P, -big)
    if rng.integers(2):
        arr = P.astype(np.uint64)
        arr[0, 0] = np.uint64(2**63 + int(rng.integers(0, 2**40)))
        return arr
    return _poke(rng, P, big)


def _depth(rng):
    P = _valid(rng)
    kind = rng.integers(5)
    if kind == 0:
        return P[None].tolist()  # [[[2, 2, 4]]]
    if kind == 1:
        return P.ravel().tolist()  # 1-D
    if kind == 2:
        return int(P[0, 0])  # a scalar
    if kind == 3:
        return P[None, None]  # 4-D array
    deep = P.tolist()
    for _ in range(int(rng.integers(2, 6))):
        deep = [deep]
    return deep


def _guessed_scale(rng):
    P = _valid(rng)
    kind = rng.integers(4)
    if kind == 0:  # integral floats that are no configuration: [[3.0]], [[100.0]], [[4., 4., 8.]]
        return [[float(rng.integers(2, 200)) for _ in range(int(rng.integers(1, 4)))]]
    factor = [0.5, 1 / 3, 0.25, 0.2, 1 / 12, 2.0, 3.0, 1 / 7][rng.integers(8)]
    Q = P * factor
    if kind == 1:
        return Q
    if kind == 2:
        return Q.astype(np.float32)
    return geometry.pad_configuration(P) * factor


def _ragged(rng):
    P = _valid(rng).tolist()
    if len(P) == 1:
        P.append([2])
    P[int(rng.integers(len(P)))].append(1)
    return P


def _negative(rng):
    P = _valid(rng)
    return _poke(rng, P, -int(rng.integers(1, 5)))


def _not_a_configuration(rng):
    P = _valid(rng).copy()
    kind = rng.integers(4)
    if kind == 0:  # break the Calabi-Yau / dimension condition
        i, j = rng.integers(P.shape[0]), rng.integers(P.shape[1])
        P[i, j] += int(rng.integers(1, 3))
        return P
    if kind == 1:  # a zero row inside the block
        return np.vstack([np.zeros((1, P.shape[1]), np.int64), P])
    if kind == 2:  # too many rows
        return np.tile(np.array([[2, 0], [0, 2]]), (9, 1))
    return np.zeros((int(rng.integers(1, 4)), int(rng.integers(1, 4))), np.int64)  # all zeros / empty-ish


def _huge_entries(rng):
    P = _valid(rng)
    return _poke(rng, P, int(rng.integers(2**21, 2**60)))


CLASSES = {
    "bool": _bools, "complex": _complex, "datetime/timedelta": _dates, "string": _strings,
    "None": _nones, "object": _objects, "NaN/inf": _non_finite, "beyond int64": _beyond_int64,
    "depth != 2": _depth, "guessed scale": _guessed_scale, "ragged": _ragged, "negative": _negative,
    "not a configuration": _not_a_configuration, "huge entry": _huge_entries,
}


def _torch_case(rng):
    torch = pytest.importorskip("torch")
    P = _valid(rng)
    kind = rng.integers(3)
    if kind == 0:
        return torch.tensor(P > 0)  # bool tensor
    if kind == 1:
        return torch.tensor(P, dtype=torch.complex64)
    t = torch.tensor(P, dtype=torch.float64)
    t[0, 0] = float("nan")
    return t


def _malformed(rng):
    cases = []
    for name, make in CLASSES.items():
        cases += [(name, make(rng)) for _ in range(N_PER_CLASS)]
    cases += [("torch", _torch_case(rng)) for _ in range(N_PER_CLASS)]
    return cases


ENTRY_POINTS = {
    "as_degree_matrix": as_degree_matrix,
    "euler_number": euler_number,
    "hodge_numbers": hodge_numbers,
    "is_product": is_product,
    "predict_configuration": lambda c: predict_configuration(c, exact=False),
    "euler_numbers (batch axis)": lambda c: euler_numbers([c]),
}


def test_fuzz_malformed_matrices_raise_configuration_error():
    rng = np.random.default_rng(SEED)
    cases = _malformed(rng)
    assert len(cases) >= 1000
    counts = {"tried": 0, "library errors": 0, "other exceptions": 0, "silent acceptances": 0}
    failures = []
    for name, conf in cases:
        for entry, fn in ENTRY_POINTS.items():
            counts["tried"] += 1
            try:
                fn(conf)
            except ConfigurationError as err:
                counts["library errors"] += 1
                assert str(err).strip() and "\n" not in str(err), (name, entry, err)
            except Exception as err:  # noqa: BLE001 -- counted, then the test fails
                counts["other exceptions"] += 1
                failures.append((name, entry, repr(conf)[:80], f"{type(err).__name__}: {err}"))
            else:
                counts["silent acceptances"] += 1
                failures.append((name, entry, repr(conf)[:80], "accepted"))
    print(f"\nvalidation fuzz: {len(cases)} malformed matrices x {len(ENTRY_POINTS)} entry points = "
          f"{counts['tried']} inputs tried / {counts['library errors']} library errors / "
          f"{counts['other exceptions']} other exceptions / {counts['silent acceptances']} silent acceptances")
    assert not failures, "\n".join(map(str, failures[:20]))


def test_error_messages_name_entry_and_problem():
    cases = [
        ([[True, 6]], r"row 0, column 0 is the boolean True"),
        ([["2", 2, 4]], r"row 0, column 0 is the string '2'"),
        ([[2, None, 4]], r"row 0, column 1 is null"),
        ([[2, 2, 2**64]], r"row 0, column 2 is 18446744073709551616, beyond the 64-bit integer range"),
        (np.array([[2, 2, 4]]).astype("timedelta64[s]"), r"time durations \(timedelta64\)"),
        ([[2, 2, complex(4, 0)]], r"row 0, column 2 is the complex number"),
        ([[[2, 2, 4]]], r"2-D matrix, got 3-D shape \(1, 1, 3\)"),
        ([[2.0, 2.0, float("nan")]], r"row 0, column 2 is nan, not a finite number"),
        ([[3.0]], r"as integers: dimension .* as integers / 6 \(the declared scale\): dimension"),
        ([[100.0]], r"either reading"),
        ([[4.0, 4.0, 8.0]], r"either reading"),
    ]
    for conf, pattern in cases:
        with pytest.raises(ConfigurationError, match=pattern):
            euler_number(conf)


def _accepted_forms(P, rng):
    torch = pytest.importorskip("torch")
    padded = geometry.pad_configuration(P)
    return {
        "int lists": P.tolist(),
        "int tuples": tuple(map(tuple, P.tolist())),
        "numpy int8": P.astype(np.int8),
        "numpy uint8": P.astype(np.uint8),
        "numpy int64": P.astype(np.int64),
        "numpy int scalars in lists": [[np.int32(v) for v in row] for row in P],
        "padded int8": padded,
        "float at scale 1": P.astype(float),
        "float lists at scale 1": P.astype(float).tolist(),
        "float at scale 6": P / 6.0,
        "float32 at scale 6": (P / 6.0).astype(np.float32),
        "padded float at scale 6": padded / 6.0,
        "torch int64": torch.tensor(P),
        "torch float32 at scale 1": torch.tensor(P, dtype=torch.float32),
        "torch float32 at scale 6": torch.tensor(P / 6.0, dtype=torch.float32),
        "torch bfloat16 at scale 1": torch.tensor(P, dtype=torch.bfloat16),
        "list of torch rows": [torch.tensor(row) for row in P],
    }


def test_valid_matrices_accepted_in_every_form():
    rng = np.random.default_rng(SEED + 1)
    confs = [np.array(c) for c, _ in PUBLISHED] + [_valid(rng) for _ in range(25)]
    expected = [geometry.euler.euler_number_reference(P) for P in confs]
    n = 0
    for P, chi in zip(confs, expected):
        for form_name, form in _accepted_forms(P, rng).items():
            assert np.array_equal(as_degree_matrix(form), P), form_name
            assert euler_number(form) == chi, form_name
            assert is_product(form) == is_product(P)
            n += 1
        assert euler_number(P / 3.0, scale=3) == chi  # another scale, when declared
    batch = np.stack([geometry.pad_configuration(P) for P in confs])
    assert euler_numbers(batch / 6.0).tolist() == expected
    assert euler_numbers(batch.astype(float)).tolist() == expected
    assert euler_numbers([P.tolist() for P in confs]).tolist() == expected
    print(f"\nvalidation fuzz: {n} valid inputs accepted in {n // len(confs)} forms")


# --------------------------------------------------------------------------- through the CLI

def _cli_texts(rng):
    texts = []
    for name, conf in _malformed(rng):
        if isinstance(conf, np.ndarray) and conf.dtype.kind in "fiu":
            conf = conf.tolist()
        try:
            text = json.dumps(conf, allow_nan=True)
        except (TypeError, ValueError):
            continue
        texts.append((name, text))
    picked = [texts[i] for i in rng.choice(len(texts), 40, replace=False)]
    picked += [("depth", "[[[2,2,4]]]"), ("null", "[null]"), ("string", '["2", 2, 4]'),
               ("beyond int64", "[[18446744073709551616]]"), ("garbage", "{{2, x, 4}}"),
               ("plain rows", "2 2 a"), ("unbalanced", "[[2,2,4]"), ("deep", "[" * 3000 + "]" * 3000),
               ("empty", "   "), ("mathematica bool", "{{True, 6}}")]
    return picked


def test_cli_predict_gives_one_line_errors():
    from cicy4lib.jobs import cli

    rng = np.random.default_rng(SEED + 2)
    texts = _cli_texts(rng)
    assert len(texts) >= 30
    bad = []
    for name, text in texts:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(["predict", text, "--no-exact"])
            except SystemExit as exc:  # argparse
                code = exc.code
        message = err.getvalue()
        if code != 2 or "Traceback" in message or not message.startswith("error:") or message.count("\n") > 1:
            bad.append((name, text[:60], code, message[:200]))
    print(f"\nvalidation fuzz: {len(texts)} malformed matrix texts through `predict`, "
          f"{len(texts) - len(bad)} one-line errors with exit code 2")
    assert not bad, bad


def test_cli_subprocess_no_traceback():
    # the audit's 27-line traceback, as a user runs it (one process: the rest run in-process above)
    proc = subprocess.run([sys.executable, "-m", "cicy4lib", "predict", "[[[2,2,4]]]", "--no-exact"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")
