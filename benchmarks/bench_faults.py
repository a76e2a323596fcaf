"""Fault and fuzz harness: bad inputs, damaged files, hostile names and links, full disks, kills.

Every case feeds the library something it must refuse (or must say a word about) and sorts
the outcome:

- **clear**: a library error (:class:`cicy4lib.errors.Cicy4Error`, or exit status 2 with one
  ``error:`` line from the command line) whose message is one line; or, where the input is
  legal but suspicious (repeated rows, a run evaluated on other data), a library warning;
- **raw**: any other exception (a traceback), or an error message of several lines;
- **silent**: accepted without an error or a warning;
- **lost**: a file that existed before the case (a shipped sample, a symlink's target, a
  saved run, another study's results) changed or disappeared. It overrides the others.

``--kills N`` adds the kill/resume test: N SIGKILLs of a training process at random moments
(some during checkpoint writes), each followed by a resume; the final weights must equal those
of an uninterrupted run bit for bit.

    python benchmarks/bench_faults.py                       # every area, >= 1,000 cases
    python benchmarks/bench_faults.py --kills 20 --report benchmarks/results/reliability.md
    python benchmarks/bench_faults.py --quick --areas matrix-text npz   # what CI runs (tests/reliability)
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import importlib
import io
import json
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cicy4lib  # noqa: E402
from cicy4lib.errors import Cicy4Error  # noqa: E402

OUTCOMES = ("clear", "raw", "silent", "lost")


def _module(*names):
    """The first of ``names`` that imports (modules move between releases)."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {names}")


def cli_main():
    return _module("cicy4lib.jobs.cli", "cicy4lib.cli").main


# --------------------------------------------------------------------------- outcome of one case

class Case:
    def __init__(self, area, name, fn, protected=()):
        self.area, self.name, self.fn, self.protected = area, name, fn, protected


def _snapshot(paths):
    out = {}
    for p in paths:
        p = Path(p)
        out[p] = p.read_bytes() if p.is_file() else None
    return out


def _is_library_warning(w) -> bool:
    cat = w.category
    return (w.filename and "cicy4lib" in str(w.filename) or cat.__module__.startswith("cicy4lib")
            or "cicy4lib" in str(getattr(cat, "__module__", "")))


def outcome_of(fn, protected=(), *, accept_warning=True):
    """Run ``fn()``; return (outcome, detail). ``fn`` may return ``"clear"``/``"silent"``/... itself
    (for checks that need more than "did it raise"), or None to be judged by what it raised."""
    before = _snapshot(protected)
    detail = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except Cicy4Error as err:
            msg = str(err)
            result = "clear" if msg.strip() and "\n" not in msg.strip() else "raw"
            detail = f"{type(err).__name__}: {msg[:160]}"
        except Exception as err:  # noqa: BLE001 - this is what the harness counts
            result = "raw"
            detail = f"{type(err).__name__}: {str(err)[:160]}"
        else:
            if isinstance(result, tuple) and len(result) == 2 and result[0] in OUTCOMES:
                result, detail = result
            elif not (isinstance(result, str) and result in OUTCOMES):
                result = None  # a value returned: the input was accepted
            if result is None:
                words = [w for w in caught if _is_library_warning(w)]
                result = "clear" if (words and accept_warning) else "silent"
                detail = str(words[0].message)[:160] if words else "accepted"
    after = _snapshot(protected)
    if any(before[p] is not None and after.get(p) != before[p] for p in before):
        changed = [str(p) for p in before if before[p] is not None and after.get(p) != before[p]]
        return "lost", f"changed or removed: {changed[:2]} ({detail})"
    return result, detail


def cli_outcome(argv, stdin=None):
    """(outcome, detail) of the command line ``argv`` run in this process."""
    main = cli_main()
    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                code = main(list(argv))
    except SystemExit as exc:
        return ("raw", f"SystemExit {exc.code}")
    except Exception as exc:  # noqa: BLE001
        return ("raw", f"{type(exc).__name__}: {str(exc)[:160]}")
    text = err.getvalue().strip()
    if code == 2 and text.startswith("error:") and "\n" not in text:
        return ("clear", text[:160])
    if code == 0:
        return ("silent", out.getvalue()[:100])
    return ("raw", f"exit {code}: {text[:160]}")


def subprocess_outcome(argv, timeout=60, env=None):
    """(outcome, detail) of ``python -m cicy4lib argv`` in a child process (for inputs that could
    hang this one: /dev/zero, FIFOs)."""
    def limit_memory():  # a reader that never stops must not take the machine with it
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    try:
        proc = subprocess.run([sys.executable, "-m", "cicy4lib", *argv], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                              preexec_fn=limit_memory if os.name == "posix" else None)
    except subprocess.TimeoutExpired:
        return "raw", f"hung for {timeout} s"
    text = proc.stderr.strip()
    if proc.returncode == 2 and text.startswith("error:") and "\n" not in text:
        return "clear", text[:160]
    if proc.returncode == 0:
        return "silent", proc.stdout[:100]
    return "raw", f"exit {proc.returncode}: {text[-300:]}"


# --------------------------------------------------------------------------- shared inputs

_SAMPLE = {}


def sample(n=60):
    """The first ``n`` configurations of the embedded sample (no repeats)."""
    if "data" not in _SAMPLE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _SAMPLE["data"] = cicy4lib.load_dataset("sample")
    return _SAMPLE["data"].subset(np.arange(n))


def write_npz(path, **arrays):
    np.savez_compressed(path, **arrays)
    return Path(path)


def npz_arrays(data, euler=True):
    out = {"conf": data.conf, "hodge": data.hodge}
    if euler:
        out["euler"] = data.euler
    return out


def npy_bytes(a, shape=None, descr=None) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a)
    data = buf.getvalue()
    if shape is None and descr is None:
        return data
    header = np.lib.format.header_data_from_array_1_0(a)
    if shape is not None:
        header["shape"] = shape
    if descr is not None:
        header["descr"] = descr
    h = io.BytesIO()
    np.lib.format.write_array_header_1_0(h, header)
    return h.getvalue() + data[len(data) - a.nbytes:]


def zip_members(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, blob in members.items():
            z.writestr(name, blob)
    return Path(path)


# --------------------------------------------------------------------------- areas

BASE_MATRICES = ["[[2,5]]", "{{2,2,4}}", "[[1,1],[1,5]]", "{{1,1},{1,1},{2,3}}", "[[6]]", "1 1 0; 1 0 1"]
NON_ASCII_DIGITS = ["\u0662", "\u0665", "\u0966", "\uff12", "\u00b2", "\u2082", "\u0e52", "\u1813", "\U0001d7d0",
                    "\u09e8", "\u2460", "\u0f22"]
BRACKET_BREAKS = [("[[", "{["), ("]]", "}]"), ("]]", "]}"), ("{{", "[{"), ("}}", "}]"), ("]]", "]"), ("}}", "}"),
                  ("[[", "[[["), ("]]", "]]]"), ("]]", "]]}"), ("{{", "{{{"), ("]]", ")]"), ("[[", "(["),
                  ("]]", "]>"), ("[[", "[<")]
GARBAGE = ["\x00", "\x00\x01\x02", "\ufffd", "\u202e", "NaN", "inf", "-1", "1e400", "0x10", "２", "1_0", "⁵",
           "\u00a0\u2003", "1/2", "True", "None", "'", '"', "\\", "`", "%", "\x1b[31m"]


def area_matrix_text(rng, quick):
    parse = _module("cicy4lib.jobs.predict", "cicy4lib.predict").parse_matrix_text
    cases = []
    n_rounds = 2 if quick else 9
    for r in range(n_rounds):
        for base in BASE_MATRICES:
            digits = [i for i, c in enumerate(base) if c.isdigit()]
            # a non-ASCII digit in place of an ASCII one (every such digit reads as a number to int())
            for d in NON_ASCII_DIGITS[r % 3::3]:
                i = rng.choice(digits)
                text = base[:i] + d + base[i + 1:]
                cases.append(Case("matrix text", f"non-ascii digit {d!r} in {base}", lambda t=text: parse(t)))
            # mismatched or unbalanced brackets
            for old, new in BRACKET_BREAKS[r % 2::2]:
                if old in base:
                    text = base.replace(old, new, 1)
                    if text != base:
                        cases.append(Case("matrix text", f"brackets {text!r}", lambda t=text: parse(t)))
            # garbage inserted at a random place
            for g in rng.sample(GARBAGE, 4):
                i = rng.randrange(len(base) + 1)
                text = base[:i] + g + base[i:]
                if text.strip() == base.strip():
                    continue
                cases.append(Case("matrix text", f"garbage {g!r} at {i} of {base}", lambda t=text: parse(t)))
            # random binary bytes, decoded as a terminal would
            blob = bytes(rng.randrange(256) for _ in range(rng.randrange(4, 40)))
            text = blob.decode("latin-1")
            if not any(c.isdigit() for c in text):
                text += "\x00"
            cases.append(Case("matrix text", f"binary {blob[:8]!r}", lambda t=text: parse(t)))
    return cases


def area_matrix_file(rng, quick, tmp):
    """`predict FILE`: a path to something that is not matrix text."""
    cases = []
    files = {
        "binary": bytes(range(256)) * 4,
        "nul-padded": b"[[2,5]]" + b"\x00" * 64,
        "utf16": "[[2,5]]".encode("utf-16"),
        "png-like": b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(200)),
        "zip": b"PK\x03\x04" + bytes(50),
        "latin1": "[[2,5]] \xe9".encode("latin-1"),
        "huge": b"[[2,5]]" + b" " * (3 << 20),
    }
    for name, blob in files.items():
        path = tmp / f"matrix_{name}.txt"
        path.write_bytes(blob)
        cases.append(Case("matrix file", f"predict {name} file", lambda p=path: cli_outcome(["predict", str(p),
                                                                                              "--no-exact"])))
    folder = tmp / "a_folder.txt"
    folder.mkdir(exist_ok=True)
    cases.append(Case("matrix file", "predict a folder", lambda: cli_outcome(["predict", str(folder), "--no-exact"])))
    fifo = tmp / "matrix.fifo"
    if hasattr(os, "mkfifo"):
        with contextlib.suppress(OSError):
            os.mkfifo(fifo)
        cases.append(Case("matrix file", "predict a FIFO (child process)",
                          lambda: subprocess_outcome(["predict", str(fifo), "--no-exact"], timeout=60)))
    if os.path.exists("/dev/zero"):
        cases.append(Case("matrix file", "predict /dev/zero (child process)",
                          lambda: subprocess_outcome(["predict", "/dev/zero", "--no-exact"], timeout=60)))
        link = tmp / "zero_link.txt"
        with contextlib.suppress(OSError):
            os.symlink("/dev/zero", link)
        cases.append(Case("matrix file", "load_dataset(link to /dev/zero named .txt)",
                          lambda: cicy4lib.load_dataset(link)))
        npz_link = tmp / "zero_link.npz"
        with contextlib.suppress(OSError):
            os.symlink("/dev/zero", npz_link)
        cases.append(Case("matrix file", "load_dataset(link to /dev/zero named .npz)",
                          lambda: cicy4lib.load_dataset(npz_link)))
    for name, blob in files.items():
        if name == "huge":
            continue
        raw = tmp / f"raw_{name}" / "cicy4list.txt"
        raw.parent.mkdir(exist_ok=True)
        raw.write_bytes(blob)
        cases.append(Case("matrix file", f"raw list that is {name}", lambda p=raw: cicy4lib.load_dataset(p)))
    return cases


def area_npz(rng, quick, tmp):
    """.npz archives with forged headers, bombs, truncation, flipped bytes, wrong contents."""
    cases = []
    data = sample(40)
    good = write_npz(tmp / "good.npz", **npz_arrays(data))
    blob = good.read_bytes()
    conf_npy = npy_bytes(data.conf)
    hodge_npy = npy_bytes(data.hodge)
    euler_npy = npy_bytes(data.euler)
    k = 0
    # headers that claim more (or less) than the member holds
    for shape in [(10**9, 16, 20), (2**40, 16, 20), (40, 16, 20 * 10**6), (10**12,), (41, 16, 20), (39, 16, 20),
                  (0, 16, 20), (40, 16, 21), (40, 320), (2**62, 2)][: 5 if quick else None]:
        for member in ("conf", "hodge"):
            k += 1
            src = data.conf if member == "conf" else data.hodge
            forged_shape = shape if member == "conf" else (shape[0], 4)
            if forged_shape == src.shape:
                continue
            forged = npy_bytes(src, shape=forged_shape)
            members = {"conf.npy": forged if member == "conf" else conf_npy,
                       "hodge.npy": forged if member == "hodge" else hodge_npy}
            path = zip_members(tmp / f"forged_{k}.npz", members)
            cases.append(Case("npz loader", f"{member} header claims {shape}",
                              lambda p=path: cicy4lib.load_dataset(p)))
    # bombs: small archives whose members decompress to far more than the limit set for the case
    for size in ([64 << 20] if quick else [64 << 20, 256 << 20]):
        k += 1
        path = tmp / f"bomb_{k}.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            with z.open("conf.npy", "w", force_zip64=True) as f:
                header = io.BytesIO()
                np.lib.format.write_array_header_1_0(header, {"descr": "|i1", "fortran_order": False,
                                                              "shape": (size // 320, 16, 20)})
                f.write(header.getvalue())
                chunk = bytes(1 << 20)
                for _ in range(size >> 20):
                    f.write(chunk)
            z.writestr("hodge.npy", hodge_npy)

        def bomb(p=path):
            old = os.environ.get("CICY4_MAX_ARRAY_BYTES")
            os.environ["CICY4_MAX_ARRAY_BYTES"] = str(32 << 20)
            try:
                return cicy4lib.load_dataset(p)
            finally:
                if old is None:
                    os.environ.pop("CICY4_MAX_ARRAY_BYTES", None)
                else:
                    os.environ["CICY4_MAX_ARRAY_BYTES"] = old
        cases.append(Case("npz loader", f"zip bomb {size >> 20} MiB in {path.stat().st_size:,} bytes", bomb))
    # truncated archives
    for cut in rng.sample(range(1, len(blob)), 12 if quick else 70):
        k += 1
        path = tmp / f"trunc_{k}.npz"
        path.write_bytes(blob[:cut])
        cases.append(Case("npz loader", f"truncated at {cut}", lambda p=path: cicy4lib.load_dataset(p)))
    # flipped bytes inside the compressed data of a member (the CRC or inflate must catch them)
    with zipfile.ZipFile(good) as z:
        spans = []
        for info in z.infolist():
            o = info.header_offset  # the local header's own name and extra lengths (the central one may differ)
            start = o + 30 + int.from_bytes(blob[o + 26:o + 28], "little") + int.from_bytes(blob[o + 28:o + 30], "little")
            spans.append((start, start + info.compress_size))
    for _ in range(12 if quick else 70):
        k += 1
        lo, hi = rng.choice(spans)
        i = rng.randrange(lo, hi)
        b = bytearray(blob)
        b[i] ^= 1 << rng.randrange(8)
        path = tmp / f"flip_{k}.npz"
        path.write_bytes(bytes(b))
        cases.append(Case("npz loader", f"bit flipped at {i}", lambda p=path: cicy4lib.load_dataset(p)))
    # wrong contents
    wrong = {
        "object conf": {"conf": np.array([object()] * 3, dtype=object), "hodge": data.hodge[:3]},
        "string hodge": {"conf": data.conf, "hodge": np.array(["a"] * 40)},
        "nan hodge": {"conf": data.conf, "hodge": np.full((40, 4), np.nan)},
        "complex conf": {"conf": data.conf.astype(np.complex64), "hodge": data.hodge},
        "0-d conf": {"conf": np.array(3), "hodge": data.hodge},
        "short hodge": {"conf": data.conf, "hodge": data.hodge[:39]},
        "negative degree": {"conf": -data.conf, "hodge": data.hodge},
        "no hodge": {"conf": data.conf},
        "meta not json": {"conf": data.conf, "hodge": data.hodge, "meta": np.array("{not json")},
        "meta a list": {"conf": data.conf, "hodge": data.hodge, "meta": np.array("[1, 2]")},
        "scale a string": {"conf": data.conf, "hodge": data.hodge, "meta": np.array('{"scale": "six"}')},
        "euler float": {"conf": data.conf, "hodge": data.hodge, "euler": data.euler.astype(float)},
        "is_product 2": {"conf": data.conf, "hodge": data.hodge, "is_product": np.full(40, 2)},
        "huge hodge": {"conf": data.conf, "hodge": data.hodge * 10**6},
        "swapped hodge columns": {"conf": data.conf, "hodge": data.hodge[:, ::-1]},
        "provenance kind bogus": {"conf": data.conf, "hodge": data.hodge,
                                  "meta": np.array('{"provenance": {"kind": "bogus"}}')},
        "real-list claimed": {"conf": data.conf, "hodge": data.hodge,
                              "meta": np.array('{"provenance": {"kind": "real-list"}}')},
    }
    for name, arrays in wrong.items():
        k += 1
        path = tmp / f"wrong_{k}.npz"
        try:
            np.savez(path, **arrays)
        except Exception:  # noqa: BLE001 - numpy refuses to write it: nothing to test
            continue
        cases.append(Case("npz loader", name, lambda p=path: cicy4lib.load_dataset(p)))
    for name, raw in {"npy named npz": conf_npy, "empty": b"", "text": b"conf,hodge\n1,2\n",
                      "random": bytes(rng.randrange(256) for _ in range(999))}.items():
        k += 1
        path = tmp / f"odd_{k}.npz"
        path.write_bytes(raw)
        cases.append(Case("npz loader", name, lambda p=path: cicy4lib.load_dataset(p)))
    del euler_npy
    return cases


def area_folders(rng, quick, tmp):
    """Split-file and trio folders: forged .npy headers, devices, two kinds of dataset, leakage,
    provenance that cannot be true."""
    from cicy4lib.data import write_split_files

    cases = []
    data = sample(80)
    base = tmp / "splits"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_split_files(data, "72", base)
    names = sorted(p.name for p in base.glob("*.npy"))
    k = 0

    def variant(tag):
        nonlocal k
        k += 1
        folder = tmp / f"folder_{tag}_{k}"
        shutil.copytree(base, folder)
        return folder

    for name in (names if not quick else names[:4]):
        folder = variant("forged")
        a = np.load(folder / name)
        (folder / name).write_bytes(npy_bytes(a, shape=(10**10,) + a.shape[1:]))
        cases.append(Case("split folders", f"{name}: header claims 10**10 rows", lambda f=folder: cicy4lib.load_dataset(f)))
        folder = variant("trunc")
        raw = (folder / name).read_bytes()
        (folder / name).write_bytes(raw[: rng.randrange(1, len(raw))])
        cases.append(Case("split folders", f"{name}: truncated", lambda f=folder: cicy4lib.load_dataset(f)))
    if os.path.exists("/dev/zero"):
        for name in ("conf_Xtrain.npy", "hodge_ytest.npy", "provenance.json"):
            folder = variant("zero")
            (folder / name).unlink()
            os.symlink("/dev/zero", folder / name)
            cases.append(Case("split folders", f"{name} -> /dev/zero", lambda f=folder: cicy4lib.load_dataset(f)))
    for name in ("provenance.json",):
        folder = variant("binary")
        (folder / name).write_bytes(bytes(range(256)))
        cases.append(Case("split folders", f"binary {name}", lambda f=folder: cicy4lib.load_dataset(f)))
    # two kinds of dataset in one folder
    for extra in ("trio", "chunk", "rawlist"):
        folder = variant("two-kinds")
        if extra == "trio":
            np.save(folder / "conf.npy", data.conf)
            np.save(folder / "hodge.npy", data.hodge)
            np.save(folder / "direct.npy", np.zeros(len(data), bool))
        elif extra == "chunk":
            write_npz(folder / "chunk_00000.npz", **npz_arrays(data))
        else:
            (folder / "cicy4list.txt").write_text("{}")
        cases.append(Case("split folders", f"split files + {extra}", lambda f=folder: cicy4lib.load_dataset(f)))
    # leakage: rows of one part copied into another (split files of different splits sharing rows)
    pairs = [("conf_Xtrain.npy", "hodge_ytrain.npy", "conf_Xtest.npy", "hodge_ytest.npy"),
             ("conf_Xtrain.npy", "hodge_ytrain.npy", "conf_Xvalid.npy", "hodge_yvalid.npy"),
             ("conf_Xvalid.npy", "hodge_yvalid.npy", "conf_Xtest.npy", "hodge_ytest.npy")]
    for src_c, src_h, dst_c, dst_h in pairs * (1 if quick else 4):
        folder = variant("leak")
        for f in folder.glob("*_80.npy"):
            f.unlink()
        for f in folder.glob("foldx_*.npy"):
            f.unlink()
        sc, sh = np.load(folder / src_c), np.load(folder / src_h)
        dc, dh = np.load(folder / dst_c), np.load(folder / dst_h)
        i, j = rng.randrange(len(sc)), rng.randrange(len(dc))
        dc[j], dh[j] = sc[i], sh[i]
        np.save(folder / dst_c, dc)
        np.save(folder / dst_h, dh)
        cases.append(Case("split folders", f"row {i} of {src_c} also in {dst_c}", lambda f=folder: cicy4lib.load_dataset(f)))
    # provenance that cannot be true
    for claim in ({"kind": "real-list"}, {"kind": "real-list", "n": 80}, {"kind": "user", "n": 79},
                  {"kind": "generated", "n": 10**6}, {"kind": "???"}, {"n": 80}, [1, 2]):
        folder = variant("prov")
        (folder / "provenance.json").write_text(json.dumps(claim))
        cases.append(Case("split folders", f"provenance.json {json.dumps(claim)[:40]}",
                          lambda f=folder: cicy4lib.load_dataset(f)))
    return cases


def area_labels(rng, quick, tmp):
    """Labels that are wrong but keep the index relations; a wrong stored chi; repeats."""
    from cicy4lib.data.checks import verified_euler

    cases = []
    data = sample(300)
    k = 0
    for _ in range(6 if quick else 30):
        k += 1
        i = rng.randrange(300)
        hodge, euler = data.hodge.copy(), data.euler.copy()
        # (h31 + 1, h22 + 4) keeps 44 = -4 h11 + 2 h21 - 4 h31 + h22 and moves chi by 6: a wrong
        # stored chi the labels agree with, outside the loader's spot check for most rows
        hodge[i, 2] += 1
        hodge[i, 3] += 4
        euler[i] += 6
        path = write_npz(tmp / f"chi_{k}.npz", conf=data.conf, hodge=hodge, euler=euler)

        def use_chi(p=path, i=i):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = cicy4lib.load_dataset(p)
            verified_euler(loaded)  # what the constrained scores and chi baselines use
            return "silent", f"wrong stored chi of entry {i} used"
        cases.append(Case("labels", f"wrong stored chi at {i} (relations kept)", use_chi))
    for _ in range(4 if quick else 20):
        k += 1
        i = rng.randrange(300)
        hodge = data.hodge.copy()
        hodge[i] += np.array([1, 1, 0, 2])  # keeps both relations: only recomputing finds it

        def says_what_it_checks(h=hodge):
            arrays = {"conf": data.conf, "hodge": h}
            path = write_npz(tmp / f"rel_{rng.randrange(10**9)}.npz", **arrays)
            loaded = cicy4lib.load_dataset(path)
            said = loaded.provenance.get("checks", "")
            return ("clear" if "verify" in said and "not recomputed" in said else "silent", said[:120])
        cases.append(Case("labels", f"wrong Hodge numbers at {i} keeping both relations", says_what_it_checks))
    for _ in range(4 if quick else 20):
        k += 1
        i, j = rng.sample(range(300), 2)
        conf, hodge = data.conf.copy(), data.hodge.copy()
        conf[j] = conf[i]
        if rng.random() < 0.5:
            hodge[j] = hodge[i]
            what = "repeated configuration"
        else:
            what = "one matrix under two labels"
        path = write_npz(tmp / f"dup_{k}.npz", conf=conf, hodge=hodge)
        cases.append(Case("labels", f"{what} ({i}, {j})",
                          lambda p=path: cicy4lib.load_dataset(p, compute_euler=False, check_labels=False)))
    return cases


def _tiny_run(tmp, name="run", arch="HeLukas-FC"):
    """A saved run directory (untrained weights; save_checkpoint as training saves them)."""
    run = tmp / name
    model = cicy4lib.build_model(arch)
    cicy4lib.save_checkpoint(run, model, {"arch": arch, "scale": 6.0, "split": "72"})
    return run


def area_checkpoints(rng, quick, tmp):
    cases = []
    base = _tiny_run(tmp, "ckpt_base")
    k = 0

    def variant():
        nonlocal k
        k += 1
        run = tmp / f"ckpt_{k}"
        shutil.copytree(base, run)
        return run

    run = variant()
    (run / "model.json").unlink()

    def infers(r=run):
        model, config = cicy4lib.load_model(r)
        return ("clear" if config.get("arch") == "HeLukas-FC" and config.get("arch_inferred") else "silent",
                f"arch {config.get('arch')} inferred={config.get('arch_inferred')}")
    cases.append(Case("checkpoints", "no model.json: architecture inferred", infers))
    texts = ["hello", "model weights", json.dumps({"a": 1}), "PK\x03\x04junk", "\x80\x02pickle", ""]
    for t in texts:
        run = variant()
        (run / "model.pt").write_text(t)
        cases.append(Case("checkpoints", f"model.pt is text {t[:10]!r}", lambda r=run: cicy4lib.load_model(r)))
        run = variant()
        (run / "model.json").unlink()
        (run / "model.pt").write_text(t)
        cases.append(Case("checkpoints", f"no model.json, model.pt is text {t[:10]!r}", lambda r=run: cicy4lib.load_model(r)))
    blob = (base / "model.pt").read_bytes()
    for _ in range(6 if quick else 40):
        run = variant()
        b = bytearray(blob)
        if rng.random() < 0.5:
            b = b[: rng.randrange(1, len(b))]
        else:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        (run / "model.pt").write_bytes(bytes(b))
        cases.append(Case("checkpoints", "damaged model.pt", lambda r=run: cicy4lib.load_model(r)))
    config = json.loads((base / "model.json").read_text())
    edits = [("scale", 5.0), ("scale", 6.5), ("split", "80"), ("recipe", "fast"), ("created", "2020-01-01"),
             ("library_version", "9.9"), ("note", "edited"), ("arch", "HeLukas-FC"), ("metrics", {"loss": 0.01})]
    for key, value in edits:
        run = variant()
        edited = dict(config)
        if edited.get(key) == value:
            edited[key + "_x"] = value
        else:
            edited[key] = value
        (run / "model.json").write_text(json.dumps(edited, indent=2))
        cases.append(Case("checkpoints", f"model.json edited after saving: {key}",
                          lambda r=run: cicy4lib.load_model(r)))
    for name, blob_json in {"binary": bytes(range(256)), "not an object": b"[1, 2]", "empty": b"",
                            "truncated": (base / "model.json").read_bytes()[:40]}.items():
        run = variant()
        (run / "model.json").write_bytes(blob_json)
        cases.append(Case("checkpoints", f"model.json {name}", lambda r=run: cicy4lib.load_model(r)))
    if os.path.exists("/dev/zero"):
        run = variant()
        (run / "model.json").unlink()
        os.symlink("/dev/zero", run / "model.json")
        cases.append(Case("checkpoints", "model.json -> /dev/zero (child process, 4 GB limit)",
                          lambda r=run: subprocess_outcome(["predict", "[[2,5]]", "--no-exact", "--checkpoint", str(r)],
                                                           timeout=120)))
    return cases


def area_outputs(rng, quick, tmp):
    """Output locations: names that leave the folder, defaults inside the package, folders that
    hold other data or the input, two jobs sharing a default folder."""
    outputs = importlib.import_module("cicy4lib.outputs")
    cases = []
    bad_names = ["..", ".", "../escape", "../../etc", "/tmp/abs", "a/b", "a\\b", "", " ", "~", "~root", ".hidden",
                 "x\x00y", "x\ny", "..\\..\\x", "a/../../b", "./x", "x" * 300]
    train = _module("cicy4lib.training.loop", "cicy4lib.train")
    for name in bad_names:
        cases.append(Case("outputs", f"run name {name[:20]!r}", lambda n=name: outputs.child_name(n)))
        out_dir = tmp / f"out_{abs(hash(name)) % 10**8}"
        sentinel = tmp / "outside_sentinel.txt"
        sentinel.write_text("keep")

        def train_with(n=name, o=out_dir):
            data = sample(40)
            train.train("HeLukas-FC", data, config=train.TrainConfig(max_epochs=1, batch_size=32), output_dir=o,
                        run_name=n, progress=False)
        cases.append(Case("outputs", f"train --run-name {name[:20]!r}", train_with, protected=[sentinel]))
    search = _module("cicy4lib.jobs.search", "cicy4lib.search")
    for name in bad_names[:8]:
        cases.append(Case("outputs", f"search study name {name[:20]!r}",
                          lambda n=name: search.run_search("HeLukas-FC", sample(40), trials=1, epochs=1,
                                                           storage=f"sqlite:///{tmp}/names.db", study_name=n,
                                                           output_dir=tmp / "studies", progress=False,
                                                           log=lambda *a: None)))
    shipped = outputs.PACKAGE_DIR / "_data" / "sample.npz"
    for target in [shipped, outputs.PACKAGE_DIR / "_data" / "x.npz", outputs.PACKAGE_DIR / "new.npz"]:
        cases.append(Case("outputs", f"generator --out {target.relative_to(outputs.PACKAGE_DIR.parent)}",
                          lambda t=target: outputs.sample_output(t), protected=[shipped]))
    cwd = os.getcwd()

    def default_sample_out():
        os.chdir(tmp)
        try:
            (tmp / "sample.npz").write_bytes(b"an earlier sample")
            return outputs.sample_output(None)
        finally:
            os.chdir(cwd)
    cases.append(Case("outputs", "generator default --out where a sample exists", default_sample_out,
                      protected=[shipped]))
    generate = _module("cicy4lib.jobs.generate", "cicy4lib.geometry.generate")
    if "sample_output" in getattr(generate.main, "__code__", type("x", (), {"co_names": ()})).co_names:
        cases.append(Case("outputs", "generator main without --out (refuses before generating)",
                          lambda: _in_dir(tmp / "gen_cwd", lambda: generate.main(["--n", "1", "--out",
                                                                                  str(shipped)])),
                          protected=[shipped]))
    # `data --out`: a folder that holds another dataset, or the input itself
    data = sample(60)
    src = tmp / "data_src"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from cicy4lib.data import write_split_files
        write_split_files(data, "72", src)
    src_files = sorted(src.glob("*"))
    cases.append(Case("outputs", "data --out = --source (the input itself)",
                      lambda: cli_outcome(["data", "--source", str(src), "--out", str(src)]), protected=src_files))
    other_kinds = {"trio": ("conf.npy", "hodge.npy", "direct.npy"), "chunks": ("chunk_00000.npz",),
                   "raw list": ("cicy4list.txt",), "other split files": None}
    for kind, files in other_kinds.items():
        out = tmp / f"data_out_{kind.replace(' ', '_')}"
        out.mkdir()
        if files is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                write_split_files(sample(90), "72", out)
        else:
            for f in files:
                (out / f).write_bytes(b"precious " + f.encode())
        protected = sorted(out.glob("*"))
        cases.append(Case("outputs", f"data --out a folder holding {kind}",
                          lambda o=out: cli_outcome(["data", "--out", str(o)]), protected=protected))
    # two searches with default names on two databases share an output folder
    for round_ in range(1 if quick else 3):
        studies = tmp / f"studies_{round_}"
        first_db, second_db = tmp / f"first_{round_}.db", tmp / f"second_{round_}.db"

        def two_searches(studies=studies, first_db=first_db, second_db=second_db):
            kw = dict(trials=1, epochs=1, output_dir=studies, progress=False, log=lambda *a: None)
            search.run_search("HeLukas-FC", sample(40), storage=f"sqlite:///{first_db}", **kw)
            best = sorted(studies.rglob("best_trial.json"))
            kept = {p: p.read_bytes() for p in best}
            try:
                search.run_search("HeLukas-FC", sample(40), storage=f"sqlite:///{second_db}", **kw)
            except Cicy4Error as err:
                if all(p.read_bytes() == b for p, b in kept.items()):
                    return "clear", str(err)[:160]
                return "lost", "refused, but after overwriting"
            if any(not p.exists() or p.read_bytes() != b for p, b in kept.items()):
                return "lost", "the first study's best_trial.json was overwritten"
            return "clear", "the second study got its own folder"
        cases.append(Case("outputs", "two default-named searches on two databases", two_searches))
    return cases


def _in_dir(folder, fn):
    folder.mkdir(parents=True, exist_ok=True)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return fn()
    finally:
        os.chdir(cwd)


def area_links(rng, quick, tmp):
    """Symlinks where the library writes: lock files, temporary files, run files, split files."""
    fileio = importlib.import_module("cicy4lib.fileio")
    runs = _module("cicy4lib.training.runs", "cicy4lib.runs")
    cases = []
    k = 0
    for what in ("lock", "model.json", "model.pt", "state.pt", "log.csv", "metrics.json", "temp", "verify-temp"):
        k += 1
        target = tmp / f"victim_{k}.txt"
        target.write_text("precious data that must survive\n")
        run = tmp / f"link_run_{k}"
        run.mkdir()

        if what == "lock":
            os.symlink(target, run / runs.LOCK_FILE)

            def act(run=run):
                lock = runs.RunLock(run).acquire()
                lock.release()
        elif what == "temp":
            # a link planted at every name mkstemp could pick is impossible; plant the old fixed names
            os.symlink(target, run / ".model.json.tmp")

            def act(run=run):
                fileio.atomic_write_text("{}", run / "model.json")
                return "clear", "temporary files are created exclusively"
        elif what == "verify-temp":
            os.symlink(target, run / ".mismatches.csv.tmp")
            verify = _module("cicy4lib.jobs.verify", "cicy4lib.verify")
            src = write_npz(tmp / f"verify_src_{k}.npz", **npz_arrays(sample(3)))

            def act(src=src, run=run, verify=verify):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    verify.verify(str(src), out=run, workers=1)
                return "clear", "verified without writing through the link"
        else:
            os.symlink(target, run / what)

            def act(run=run, what=what):
                fileio.atomic_write_text("new", run / what)
                return "clear", "the link was replaced, not written through"
        cases.append(Case("links", f"{what} is a symlink to another file", act, protected=[target]))
    for i in range(2 if quick else 6):
        k += 1
        target = tmp / f"victim_split_{k}.npy"
        target.write_bytes(b"precious")
        out = tmp / f"link_split_{k}"
        out.mkdir()
        name = rng.choice(["conf_Xtrain.npy", "hodge_ytest.npy", "provenance.json", "conf_Xtest_80.npy"])
        os.symlink(target, out / name)
        cases.append(Case("links", f"split file {name} is a symlink",
                          lambda o=out: cli_outcome(["data", "--out", str(o)]), protected=[target]))
    return cases


def area_disk_full(rng, quick, tmp):
    """Writes that fail as on a full disk: the message names the file and says what was kept."""
    fileio = importlib.import_module("cicy4lib.fileio")
    cases = []
    for i, err_no in enumerate([errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO] * (1 if quick else 3)):
        path = tmp / f"full_{i}.json"
        path.write_text("previous")

        def act(path=path, err_no=err_no):
            with _failing_fsync(err_no):
                try:
                    fileio.atomic_write_json({"new": 1}, path)
                except Cicy4Error as err:
                    ok = str(path) in str(err) and "kept" in str(err) and path.read_text() == "previous"
                    return ("clear" if ok else "raw"), str(err)[:160]
            return "silent", "write reported success"
        cases.append(Case("full disk", f"atomic write, errno {errno.errorcode[err_no]}", act, protected=[path]))
    train = _module("cicy4lib.training.loop", "cicy4lib.train")
    for nth in ([1, 3] if quick else [1, 2, 3, 5, 8, 13]):
        out = tmp / f"full_train_{nth}"

        def act(nth=nth, out=out):
            data = sample(64)
            # enough epochs (several writes each) that the nth write comes before training ends
            cfg = train.TrainConfig(max_epochs=2 + nth, batch_size=32)
            with _failing_fsync(errno.ENOSPC, after=nth):
                try:
                    train.train("HeLukas-FC", data, config=cfg, output_dir=out, run_name="r", progress=False)
                except Cicy4Error as err:
                    msg = str(err)
                    ok = "cannot write" in msg and "kept" in msg or "nothing was written" in msg
                    return ("clear" if ok and "\n" not in msg else "raw"), msg[:160]
            return "silent", "training reported success on a full disk"
        cases.append(Case("full disk", f"training, disk full at write {nth}", act))
    evaluate = _module("cicy4lib.results.evaluate", "cicy4lib.evaluate")
    run_dir = tmp / "full_eval"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train.train("HeLukas-FC", sample(64), config=train.TrainConfig(max_epochs=1, batch_size=32),
                    output_dir=tmp, run_name="full_eval", progress=False)
    protected = sorted(p for p in run_dir.glob("*") if p.is_file())

    def evaluate_full():
        with _failing_fsync(errno.ENOSPC):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    evaluate.evaluate_report(run_dir, sample(64))
            except Cicy4Error as err:
                return ("clear" if "kept" in str(err) or "nothing was written" in str(err) else "raw"), str(err)[:160]
        return "silent", "evaluation reported success on a full disk"
    cases.append(Case("full disk", "evaluate, disk full writing metrics.json", evaluate_full, protected=protected))
    return cases


@contextlib.contextmanager
def _failing_fsync(err_no, after=0):
    """Make the ``after``-th and later fsyncs fail with ``err_no`` (writes are staged, then fsynced)."""
    real = os.fsync
    count = [0]

    def fsync(fd):
        count[0] += 1
        if count[0] > after:
            raise OSError(err_no, os.strerror(err_no))
        return real(fd)
    os.fsync = fsync
    try:
        yield
    finally:
        os.fsync = real


def area_chunks(rng, quick, tmp):
    """Generated chunks damaged by a crash or a disk: a rerun must not count them as done."""
    outputs = importlib.import_module("cicy4lib.outputs")
    generate = _module("cicy4lib.data.generated", "cicy4lib.geometry.generate")
    cases = []
    data = sample(30)
    arrays = {"conf": data.conf, "hodge": data.hodge, "euler": data.euler}
    good_dir = tmp / "chunks_good"
    good_dir.mkdir()
    writer = getattr(generate, "write_npz_deterministic", None)
    if writer is not None:
        writer(good_dir / "chunk_00000.npz", arrays)
    else:
        write_npz(good_dir / "chunk_00000.npz", **arrays)
    blob = (good_dir / "chunk_00000.npz").read_bytes()
    for i in range(8 if quick else 40):
        folder = tmp / f"chunks_{i}"
        folder.mkdir()
        kind = ["truncate", "flip", "empty", "zeros", "no-hodge"][i % 5]
        path = folder / "chunk_00000.npz"
        if kind == "truncate":
            path.write_bytes(blob[: rng.randrange(1, len(blob))])
        elif kind == "flip":
            b = bytearray(blob)
            j = rng.randrange(40, len(b) - 60)
            b[j] ^= 0xFF
            path.write_bytes(bytes(b))
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "zeros":
            path.write_bytes(bytes(len(blob)))
        else:
            write_npz(path, conf=data.conf)
        damaged = path.read_bytes()

        def act(folder=folder, path=path, damaged=damaged):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                done = outputs.verified_chunks(folder, generate.completed_chunks(folder))
            if 0 in done:
                if outputs.chunk_ok(path) is None:
                    return "clear", "the damage did not touch the data (the file reads back whole)"
                return "silent", "a damaged chunk counted as done"
            kept = [p for p in folder.glob("chunk_00000.npz.damaged*") if p.read_bytes() == damaged]
            if not kept:
                return "lost", "the damaged chunk was deleted, not kept aside"
            return "clear", str(caught[0].message)[:160] if caught else "moved aside"
        cases.append(Case("chunks", f"chunk {kind}", act))
    return cases


def area_optuna(rng, quick, tmp):
    """Search storage: damaged SQLite files; a killed study whose RUNNING trials block resume."""
    search = _module("cicy4lib.jobs.search", "cicy4lib.search")
    cases = []
    good = tmp / "good.db"
    search.run_search("HeLukas-FC", sample(40), trials=1, epochs=1, storage=f"sqlite:///{good}",
                      output_dir=tmp / "opt_studies", progress=False, log=lambda *a: None)
    blob = good.read_bytes()
    damages = {"random": bytes(rng.randrange(256) for _ in range(4096)), "text": b"not a database\n" * 10,
               "truncated": blob[:100], "truncated-half": blob[: len(blob) // 2], "zeros": bytes(8192),
               "header-only": blob[:16] + bytes(4000)}
    for i, (name, raw) in enumerate(damages.items()):
        db = tmp / f"damaged_{i}.db"
        db.write_bytes(raw)

        def act(db=db):
            search.run_search("HeLukas-FC", sample(40), trials=1, epochs=1, storage=f"sqlite:///{db}",
                              output_dir=tmp / f"opt_d{i}", progress=False, log=lambda *a: None)
        cases.append(Case("search storage", f"damaged SQLite study: {name}", act, protected=[db]))
    for j in range(1 if quick else 3):
        db = tmp / f"stale_{j}.db"
        shutil.copy(good, db)

        def act(db=db, j=j):
            import optuna

            storage = search.make_storage(f"sqlite:///{db}")
            name = optuna.get_all_study_names(storage)[0]
            study = optuna.load_study(study_name=name, storage=storage)
            for _ in range(2):
                study.ask()  # RUNNING forever: a killed worker
            study = search.run_search("HeLukas-FC", sample(40), trials=2, epochs=1, storage=f"sqlite:///{db}",
                                      study_name=name, output_dir=tmp / f"opt_s{j}", progress=False,
                                      log=lambda *a: None)
            states = Counter(t.state.name for t in study.trials)
            if states.get("COMPLETE", 0) >= 2 and not states.get("RUNNING"):
                return "clear", f"resumed past the stale trials: {dict(states)}"
            return "silent", f"stale RUNNING trials blocked the resume: {dict(states)}"
        cases.append(Case("search storage", "killed study with stale RUNNING trials", act))
    return cases


def area_evaluate(rng, quick, tmp):
    """Runs used with data other than their own; model.json and data mismatches."""
    evaluate = _module("cicy4lib.results.evaluate", "cicy4lib.evaluate")
    train = _module("cicy4lib.training.loop", "cicy4lib.train")
    cases = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train.train("HeLukas-FC", sample(64), config=train.TrainConfig(max_epochs=1, batch_size=32),
                    output_dir=tmp, run_name="own_data", progress=False)
    run = tmp / "own_data"
    others = [("other rows", lambda: cicy4lib.load_dataset("sample").subset(np.arange(100, 164))),
              ("more rows", lambda: sample(80)),
              ("same rows, other labels", lambda: _relabelled(sample(64)))]
    for name, make in others:
        cases.append(Case("provenance", f"evaluate a run on {name}",
                          lambda make=make: evaluate.evaluate_report(run, make(), write=False)))
    return cases


def _relabelled(data):
    data.hodge = data.hodge.copy()
    data.hodge[0] += np.array([1, 1, 0, 2])
    return data


AREAS = {
    "matrix-text": lambda rng, quick, tmp: area_matrix_text(rng, quick),
    "matrix-file": area_matrix_file,
    "npz": area_npz,
    "folders": area_folders,
    "labels": area_labels,
    "checkpoints": area_checkpoints,
    "outputs": area_outputs,
    "links": area_links,
    "disk-full": area_disk_full,
    "chunks": area_chunks,
    "search": area_optuna,
    "evaluate": area_evaluate,
}


def run_areas(areas=None, *, quick=False, seed=0, verbose=False, tmp=None):
    """Run the cases of ``areas`` (all by default); return {area label: Counter} and the failures."""
    rng = random.Random(seed)
    table: dict = defaultdict(Counter)
    failures = []
    own_tmp = tmp is None
    tmp = Path(tempfile.mkdtemp(prefix="cicy4_faults_")) if own_tmp else Path(tmp)
    os.environ.setdefault("CICY4_QUIET", "1")
    try:
        for key in areas or AREAS:
            folder = tmp / key
            folder.mkdir(parents=True, exist_ok=True)
            try:
                cases = AREAS[key](rng, quick, folder)
            except Exception as err:  # noqa: BLE001 - building the cases failed: one raw result
                table[key]["raw"] += 1
                failures.append((key, "building the cases", "raw", f"{type(err).__name__}: {err}"))
                continue
            for case in cases:
                result, detail = outcome_of(case.fn, case.protected)
                table[case.area][result] += 1
                if result != "clear":
                    failures.append((case.area, case.name, result, detail))
                if verbose:
                    print(f"{case.area:16s} {result:6s} {case.name[:60]:60s} {detail[:90]}", flush=True)
    finally:
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return table, failures


# --------------------------------------------------------------------------- kill and resume

KILL_SCRIPT = r"""
import sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {root!r})
import cicy4lib
from cicy4lib import load_dataset
train = None
for name in ("cicy4lib.training.loop", "cicy4lib.train"):
    try:
        train = __import__(name, fromlist=["train"]); break
    except ImportError:
        pass
data = load_dataset("sample").subset(range(400))
cfg = train.TrainConfig(max_epochs={epochs}, batch_size=32, seed=7)
train.train("HeLukas-FC", data, config=cfg, output_dir={out!r}, run_name="run", progress=False)
"""


def kill_resume(kills=20, epochs=12, seed=0, log=print):
    """Train once uninterrupted; train again with ``kills`` SIGKILLs at random moments (each
    followed by a resume) until it finishes. Returns a dict of the figures."""
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="cicy4_kills_"))
    env = {**os.environ, "CICY4_QUIET": "1", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}

    def script(out):
        return KILL_SCRIPT.format(root=str(ROOT), epochs=epochs, out=str(out))

    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", script(tmp / "straight")], check=True, env=env)
        straight_s = time.perf_counter() - t0
        ref = (tmp / "straight" / "run" / "model.pt")
        ref_state = _state_bytes(ref)
        killed, during_write, resumes, errors = 0, 0, 0, []
        while True:
            proc = subprocess.Popen([sys.executable, "-c", script(tmp / "killed")], env=env,
                                    stderr=subprocess.PIPE)
            if killed < kills:
                # import takes a few seconds; the run lasts straight_s: kill somewhere inside it
                delay = rng.uniform(0.3, max(0.5, straight_s * 0.9))
                deadline = time.perf_counter() + delay
                while time.perf_counter() < deadline and proc.poll() is None:
                    time.sleep(0.01)
                if proc.poll() is None:
                    run = tmp / "killed" / "run"
                    writing = any(run.glob(".*.tmp")) if run.exists() else False
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    killed += 1
                    during_write += bool(writing)
                    resumes += 1
                    continue
            _, err = proc.communicate()
            if proc.returncode != 0:
                errors.append(err.decode(errors="replace")[-400:])
                if len(errors) > 3:
                    break
                continue
            if killed >= kills:
                break
            # finished before the kill: start over in a fresh folder to keep killing mid-run
            shutil.rmtree(tmp / "killed", ignore_errors=True)
        final = _state_bytes(tmp / "killed" / "run" / "model.pt")
        identical = final == ref_state
        return {"kills": killed, "during_checkpoint_writes": during_write, "resumes": resumes,
                "bit_identical": identical, "errors": errors, "straight_s": round(straight_s, 1)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _state_bytes(path) -> bytes:
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].cpu().numpy().tobytes())
    return digest.digest()


# --------------------------------------------------------------------------- report

def table_markdown(table) -> str:
    lines = ["| area | cases tried | clear errors | raw exceptions | silent acceptances | data lost |",
             "|---|---:|---:|---:|---:|---:|"]
    total = Counter()
    for area, c in table.items():
        n = sum(c.values())
        total.update(c)
        lines.append(f"| {area} | {n:,} | {c['clear']:,} | {c['raw']:,} | {c['silent']:,} | {c['lost']:,} |")
    n = sum(total.values())
    lines.append(f"| **total** | **{n:,}** | **{total['clear']:,}** | **{total['raw']:,}** | "
                 f"**{total['silent']:,}** | **{total['lost']:,}** |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--areas", nargs="*", choices=sorted(AREAS), default=None)
    ap.add_argument("--quick", action="store_true", help="fewer cases per area (what CI runs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kills", type=int, default=0, help="SIGKILLs during training (0: skip)")
    ap.add_argument("--report", default=None, help="write the table (markdown) here")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    table, failures = run_areas(args.areas, quick=args.quick, seed=args.seed, verbose=args.verbose)
    text = table_markdown(table)
    print(text)
    for area, name, result, detail in failures:
        print(f"  {result}: [{area}] {name}: {detail}")
    kills = None
    if args.kills:
        kills = kill_resume(args.kills)
        print(f"\nkill/resume: {kills['kills']} SIGKILLs during training ({kills['during_checkpoint_writes']} while a "
              f"checkpoint file was being written), {kills['resumes']} resumes, final weights bit-identical to an "
              f"uninterrupted run: {kills['bit_identical']}" + (f"; errors: {kills['errors']}" if kills["errors"] else ""))
    wall = time.perf_counter() - t0
    print(f"\n{wall:.0f} s")
    if args.report:
        command = "python benchmarks/bench_faults.py " + " ".join(argv if argv is not None else sys.argv[1:])
        body = [f"Command: `{command.strip()}`", "", f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
                "", f"Machine: {machine()}", "", f"Wall time: {wall:.0f} s", "", text, ""]
        if kills:
            body += [f"Kill/resume: {kills['kills']} SIGKILLs during training "
                     f"({kills['during_checkpoint_writes']} while a checkpoint file was being written), "
                     f"{kills['resumes']} resumes; final weights bit-identical to an uninterrupted run: "
                     f"**{kills['bit_identical']}**.", ""]
        if failures:
            body += ["Cases not clear:", ""] + [f"- {r}: [{a}] {n}: {d}" for a, n, r, d in failures] + [""]
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text("\n".join(body))
    bad = sum(c["raw"] + c["silent"] + c["lost"] for c in table.values())
    return 1 if bad or (kills and not kills["bit_identical"]) else 0


if __name__ == "__main__":
    sys.exit(main())
