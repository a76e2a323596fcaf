"""Labelling a configuration with its Hodge numbers under a time limit, in one place.

Both generators and the verifier label through :func:`label_with_limit` (one configuration,
:func:`cicy4lib.chunked.time_limit`: CPU seconds, main thread or worker thread alike);
:func:`label_one`/:func:`label_all` label a list in worker processes. A configuration whose
labels fail :func:`index_relations_hold` is never shipped. :func:`labeller_version` names the
labelling code that made a file's labels.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from ..chunked import TaskTimeout, time_limit
from . import cohomology

LABEL_TIMEOUT_S = 20.0  # per configuration; a timed-out configuration is not shipped
# geometry modules that make or order configurations but never compute a label: left out of
# labeller_version, so moving generator code does not change the labeller's version (the
# cohomology package's modules, cohomology/*.py, are all hashed)
NOT_LABELLING = ("__init__.py", "random.py", "generate.py", "canonical.py", "enumeration.py", "labelling.py",
                 "sample_generator.py", "walks.py", "equivalence.py")


def label_detailed(P, timeout, euler=None):
    """Hodge numbers of one configuration within ``timeout`` CPU seconds, with what went wrong.

    Parameters
    ----------
    P : array_like of int, shape (m, K)
        Degree block.
    timeout : float or None
        CPU seconds allowed (None or 0: no limit).
    euler : int, optional
        The exact Euler number when the caller has it (batched: generation and verification
        compute all of a chunk's at once), so the labeller does not compute it again.

    Returns
    -------
    tuple
        ``(hodge, method, detail)``: ``hodge`` a tuple of four ints or None; ``method`` how it
        was found, or ``"timeout"``/``"error"``; ``detail`` empty, or the limit or the error
        (a failure is counted and reported, never shipped).
    """
    try:
        with time_limit(timeout):
            # through the module: a test (or a caller) that replaces the labeller is heard here
            res = cohomology.hodge_from_degree_matrix(np.asarray(P, dtype=np.int64), euler=euler)
        return (None if res.hodge is None else tuple(int(h) for h in res.hodge)), res.method, ""
    except TaskTimeout:
        return None, "timeout", f"> {timeout:g} s"
    except Exception as exc:  # a failure is recorded as such, never shipped
        return None, "error", f"{type(exc).__name__}: {exc}"[:200]


def label_with_limit(P, timeout, euler=None):
    """``(hodge tuple or None, method)`` of one configuration within ``timeout`` CPU seconds.

    Parameters
    ----------
    P : array_like of int, shape (m, K)
    timeout : float or None
        CPU seconds (None or 0: no limit).
    euler : int, optional
        Its exact Euler number when the caller has it.

    Returns
    -------
    tuple
        ``(hodge, method)`` as in :func:`label_detailed`.
    """
    return label_detailed(P, timeout, euler)[:2]


def label_one(args):
    """Hodge numbers of one configuration, for a process pool: :func:`label_detailed` of a tuple.

    Parameters
    ----------
    args : tuple
        ``(P, timeout)`` or ``(P, timeout, euler)``.

    Returns
    -------
    tuple
        ``(hodge tuple or None, method, detail)``.
    """
    P, timeout, euler = (tuple(args) + (None,))[:3]
    return label_detailed(P, timeout, euler)


def label_all(matrices, workers=2, timeout=LABEL_TIMEOUT_S, log=None, eulers=None):
    """Label every matrix, in order, with ``workers`` processes.

    Parameters
    ----------
    matrices : list of array_like
        Degree blocks.
    workers : int
        Processes (1: in this process).
    timeout : float
        CPU seconds per configuration.
    log : callable, optional
        Progress lines.
    eulers : list of int, optional
        Their exact Euler numbers when known (the labeller then skips its own χ).

    Returns
    -------
    list of tuple
        :func:`label_one` of each matrix.
    """
    if eulers is None:
        eulers = [None] * len(matrices)
    tasks = [(P, timeout, chi) for P, chi in zip(matrices, eulers)]
    if workers <= 1:
        return [label_one(t) for t in tasks]
    import multiprocessing as mp  # lazy: only the parallel path needs it

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    out = []
    t0 = time.perf_counter()
    with ctx.Pool(workers) as pool:
        for i, res in enumerate(pool.imap(label_one, tasks, chunksize=4)):
            out.append(res)
            if log and (i + 1) % 1000 == 0:
                log(f"  labelled {i + 1}/{len(tasks)} ({time.perf_counter() - t0:.0f} s)")
    return out


def index_relations_hold(h, chi):
    """Whether Hodge numbers satisfy both index relations with the Euler number.

    Parameters
    ----------
    h : sequence of 4 int
        (h11, h21, h31, h22).
    chi : int
        Euler number.

    Returns
    -------
    bool
        χ = 4 + 2h11 − 4h21 + 2h31 + h22 and 44 = −4h11 + 2h21 − 4h31 + h22.
    """
    h11, h21, h31, h22 = h
    return chi == 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22 and 44 == -4 * h11 + 2 * h21 - 4 * h31 + h22


_LABELLER_VERSION = []


def labeller_version():
    """Version of the code that labels.

    The cohomology module's own version string where it has one, plus a digest of the geometry
    modules the labels depend on (every ``geometry/*.py`` except :data:`NOT_LABELLING`, and every
    ``geometry/cohomology/*.py``, each named by its path below ``geometry/``), taken
    once per process (:mod:`cohomology` is imported before hashing), so it describes the code in
    memory even if the files change while a long run goes on.

    Returns
    -------
    str
        ``"<version or 'unversioned'>+<12 hex digits>"``.
    """
    if not _LABELLER_VERSION:
        here = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        files = [p for p in sorted(here.glob("*.py")) if p.name not in NOT_LABELLING]
        for path in files + sorted(here.glob("cohomology/*.py")):
            name = path.relative_to(here).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes())
        version = getattr(cohomology, "LABELLER_VERSION", getattr(cohomology, "__version__", ""))
        _LABELLER_VERSION.append(f"{version or 'unversioned'}+{digest.hexdigest()[:12]}")
    return _LABELLER_VERSION[0]
