"""Exact linear algebra over the prime field F_p (p = 2^31 - 1) for the cohomology code.

Two interchangeable backends compute the same ranks (rank and kernel dimension are
basis-free, so every result built from them is identical):

* ``"flint"``: python-flint's ``nmod_mat`` (FLINT's C routines), the default when installed;
* ``"numpy"``: the original hand-written row echelon in numpy int64 (kept for comparison
  and as the fallback when python-flint is missing).

Kernels may differ between backends by a change of basis (both span the same space).
The backend is chosen per call (``backend=``) or for a block of code with
:func:`using_backend`; :func:`get_backend` reports the active one.
"""
from __future__ import annotations

import contextlib
import contextvars

import numpy as np

PRIME = 2_147_483_647  # 2^31 - 1: products of two residues fit in int64
BACKENDS = ("flint", "numpy")

try:  # pragma: no cover - depends on the environment
    import flint as _flint
    _nmod_mat = _flint.nmod_mat
    FLINT_VERSION = getattr(_flint, "__version__", "?")
except Exception:  # noqa: BLE001 - python-flint missing or broken: numpy only
    _flint = None
    _nmod_mat = None
    FLINT_VERSION = None

DEFAULT_BACKEND = "flint" if _nmod_mat is not None else "numpy"
_ACTIVE = contextvars.ContextVar("cicy4_rank_backend", default=DEFAULT_BACKEND)

__all__ = ["PRIME", "BACKENDS", "DEFAULT_BACKEND", "FLINT_VERSION", "get_backend", "using_backend",
           "rank_mod_p", "kernel_basis", "matmul_mod", "intersect"]


def _check(backend):
    if backend not in BACKENDS:
        raise ValueError(f"rank backend must be one of {BACKENDS}, not {backend!r}")
    if backend == "flint" and _nmod_mat is None:
        raise ValueError("rank backend 'flint' needs python-flint (pip install python-flint)")
    return backend


def get_backend(backend=None):
    """The backend a call uses: ``backend`` when given, else the active one."""
    return _check(backend) if backend is not None else _ACTIVE.get()


@contextlib.contextmanager
def using_backend(backend):
    """Make ``backend`` ("flint" or "numpy"; None keeps the current one) active in a block."""
    if backend is None:
        yield _ACTIVE.get()
        return
    token = _ACTIVE.set(_check(backend))
    try:
        yield backend
    finally:
        _ACTIVE.reset(token)


# --------------------------------------------------------------------------- numpy backend
def _row_echelon(M):
    """Row-reduce ``M`` (int64, entries in [0, p)); return (reduced rows, pivot columns)."""
    M = np.array(M, dtype=np.int64) % PRIME
    rows, cols = M.shape
    pivots = []
    r = 0
    for c in range(cols):
        if r == rows:
            break
        nz = np.nonzero(M[r:, c])[0]
        if nz.size == 0:
            continue
        k = r + nz[0]
        if k != r:
            M[[r, k]] = M[[k, r]]
        inv = pow(int(M[r, c]), PRIME - 2, PRIME)
        M[r] = (M[r] * inv) % PRIME
        others = np.nonzero(M[:, c])[0]
        others = others[others != r]
        if others.size:
            f = M[others, c].copy()
            # (f * row) may reach 2^62: fine in int64, reduce before subtracting
            M[others] = (M[others] - (f[:, None] * M[r][None, :]) % PRIME) % PRIME
        pivots.append(c)
        r += 1
    return M[:r], pivots


def _kernel_numpy(M, ncols):
    R, piv = _row_echelon(M)
    pivset = set(piv)
    free = [c for c in range(ncols) if c not in pivset]
    K = np.zeros((ncols, len(free)), dtype=np.int64)
    for t, f in enumerate(free):
        K[f, t] = 1
        for row, pc in enumerate(piv):
            K[pc, t] = (-R[row, f]) % PRIME
    return K


def _matmul_numpy(A, B):
    """A @ B mod p without int64 overflow (split B into 16-bit halves)."""
    lo = B & 0xFFFF
    hi = B >> 16
    out = np.zeros((A.shape[0], B.shape[1]), dtype=np.int64)
    step = 64  # partial sums stay below 2^63
    for s in range(0, A.shape[1], step):
        a = A[:, s:s + step]
        out = (out + (a @ lo[s:s + step]) % PRIME + ((a @ hi[s:s + step]) % PRIME) * 65536) % PRIME
    return out


# --------------------------------------------------------------------------- flint backend
def _to_flint(M):
    M = np.asarray(M, dtype=np.int64) % PRIME
    r, c = M.shape
    return _nmod_mat(r, c, M.ravel().tolist(), PRIME)


def _from_flint(F, rows, cols):
    if rows == 0 or cols == 0:
        return np.zeros((rows, cols), dtype=np.int64)
    return np.array([int(x) for x in F.entries()], dtype=np.int64).reshape(rows, cols)


# --------------------------------------------------------------------------- public API
def rank_mod_p(M, backend=None) -> int:
    """Rank of an integer matrix over F_p."""
    M = np.asarray(M)
    if M.size == 0:
        return 0
    if get_backend(backend) == "flint":
        return int(_to_flint(M).rank())
    if M.shape[0] > M.shape[1]:
        M = M.T
    return len(_row_echelon(M)[1])


def kernel_basis(M, ncols, backend=None):
    """Columns (ncols x d, int64) spanning the right kernel of ``M`` (r x ncols) over F_p."""
    if ncols == 0:
        return np.zeros((0, 0), dtype=np.int64)
    M = np.asarray(M, dtype=np.int64).reshape(-1, ncols)
    if M.shape[0] == 0:
        return np.eye(ncols, dtype=np.int64)
    if get_backend(backend) == "flint":
        X, nullity = _to_flint(M).nullspace()
        if nullity == 0:
            return np.zeros((ncols, 0), dtype=np.int64)
        return _from_flint(X, ncols, ncols)[:, :nullity].copy()
    return _kernel_numpy(M, ncols)


def matmul_mod(A, B, backend=None):
    """``A @ B`` over F_p (int64 in [0, p))."""
    A = np.asarray(A, dtype=np.int64)
    B = np.asarray(B, dtype=np.int64)
    if A.size == 0 or B.size == 0:
        return np.zeros((A.shape[0], B.shape[1]), dtype=np.int64)
    if get_backend(backend) == "flint":
        return _from_flint(_to_flint(A) * _to_flint(B), A.shape[0], B.shape[1])
    return _matmul_numpy(A % PRIME, B % PRIME)


def intersect(A, B, backend=None):
    """Columns spanning span(A) ∩ span(B) over F_p."""
    M = np.hstack([A, B])
    if M.shape[1] == 0:
        return np.zeros((A.shape[0], 0), dtype=np.int64)
    ker = kernel_basis(M, M.shape[1], backend) if M.size else np.zeros((M.shape[1], 0), dtype=np.int64)
    return matmul_mod(A, ker[:A.shape[1]], backend)
