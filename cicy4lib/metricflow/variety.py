"""The varieties: a Calabi–Yau three-fold cut out by one polynomial in a product of projective spaces.

:class:`Hypersurface` holds the polynomial as an exponent matrix and coefficients and evaluates
``Q(z)`` and its gradient vectorised over points (complex128). Coordinates of all factors are
concatenated: for P^2 x P^2 a point is ``(x0, x1, x2, y0, y1, y2)``.

- :func:`fermat_quintic` — ``z0^5 + ... + z4^5`` in P^4 (SPEC §8, the paper's test case);
- :func:`from_configuration` — a configuration matrix in this library's format (rows: projective
  factors, columns: equations; the ambient dimensions follow from the Calabi–Yau condition
  ``n_j = row sum - 1``), e.g. ``[[5]]`` (quintic), ``[[3], [3]]`` (bicubic in P^2 x P^2),
  ``[[2], [2], [2], [2]]`` (tetraquadric in (P^1)^4). One equation only for now (the line sampler
  then solves a univariate polynomial); a product factor's polynomial has seeded random complex
  coefficients (generic, hence smooth), a single factor's is Fermat unless ``fermat=False``.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from ..errors import MetricFlowError


def _monomials(n_vars: int, degree: int) -> np.ndarray:
    """All exponent vectors of ``n_vars`` variables with total ``degree`` (lexicographic)."""
    out = [c for c in itertools.product(range(degree + 1), repeat=n_vars) if sum(c) == degree]
    return np.array(sorted(out, reverse=True), dtype=np.int64)


@dataclass(eq=False)
class Hypersurface:
    """``Q(z) = sum_m coeffs[m] * prod_k z_k ** exponents[m, k]`` in ``P^dims[0] x P^dims[1] x ...``."""

    dims: tuple
    exponents: np.ndarray
    coeffs: np.ndarray
    name: str = "hypersurface"
    configuration: list = field(default_factory=list)

    def __post_init__(self):
        self.dims = tuple(int(n) for n in self.dims)
        self.exponents = np.asarray(self.exponents, dtype=np.int64)
        self.coeffs = np.asarray(self.coeffs, dtype=np.complex128)
        self.n_coords = sum(n + 1 for n in self.dims)
        self.offsets = tuple(int(o) for o in np.cumsum((0,) + tuple(n + 1 for n in self.dims))[:-1])
        if self.exponents.ndim != 2 or self.exponents.shape != (len(self.coeffs), self.n_coords):
            raise MetricFlowError(f"{self.name}: exponents of shape {self.exponents.shape} do not fit "
                                  f"{len(self.coeffs)} coefficients and {self.n_coords} coordinates")
        degs = [self.exponents[:, o:o + n + 1].sum(1) for o, n in zip(self.offsets, self.dims)]
        if any(np.any(d != d[0]) for d in degs):
            raise MetricFlowError(f"{self.name}: the polynomial is not homogeneous in every factor")
        self.degrees = tuple(int(d[0]) for d in degs)
        self.dim = sum(self.dims) - 1
        self.factor_of = np.repeat(np.arange(len(self.dims)), [n + 1 for n in self.dims])
        self._dmax = int(self.exponents.max())
        # derivative d Q / d z_k as (coefficients, exponents) per coordinate
        self._grad_terms = []
        for k in range(self.n_coords):
            e = self.exponents.copy()
            c = self.coeffs * e[:, k]
            e[:, k] = np.maximum(e[:, k] - 1, 0)
            keep = c != 0
            self._grad_terms.append((c[keep], e[keep]))

    # ------------------------------------------------------------------ evaluation
    def _powers(self, z: np.ndarray) -> np.ndarray:
        """``z_k ** p`` for p = 0..max exponent: (n, N, dmax+1)."""
        pw = np.empty(z.shape + (self._dmax + 1,), dtype=np.complex128)
        pw[..., 0] = 1.0
        for p in range(1, self._dmax + 1):
            pw[..., p] = pw[..., p - 1] * z
        return pw

    @staticmethod
    def _sum_monomials(pw: np.ndarray, coeffs: np.ndarray, exps: np.ndarray) -> np.ndarray:
        mono = np.ones((pw.shape[0], len(coeffs)), dtype=np.complex128)
        for k in range(exps.shape[1]):
            col = exps[:, k]
            if np.any(col):
                mono *= pw[:, k, col]
        return mono @ coeffs

    def evaluate(self, z) -> np.ndarray:
        """``Q(z)`` for points ``z`` of shape (n, N): complex (n,)."""
        z = np.asarray(z, dtype=np.complex128)
        return self._sum_monomials(self._powers(z), self.coeffs, self.exponents)

    def gradient(self, z) -> np.ndarray:
        """``dQ/dz_k`` for points ``z`` of shape (n, N): complex (n, N)."""
        z = np.asarray(z, dtype=np.complex128)
        pw = self._powers(z)
        out = np.empty(z.shape, dtype=np.complex128)
        for k, (c, e) in enumerate(self._grad_terms):
            out[:, k] = self._sum_monomials(pw, c, e) if len(c) else 0.0
        return out

    def factor_slices(self):
        return [slice(o, o + n + 1) for o, n in zip(self.offsets, self.dims)]

    def __repr__(self):
        return f"Hypersurface({self.name!r}, dims={self.dims}, degrees={self.degrees}, terms={len(self.coeffs)})"


def fermat_quintic() -> Hypersurface:
    """The Fermat quintic ``z0^5 + z1^5 + z2^5 + z3^5 + z4^5 = 0`` in P^4."""
    return Hypersurface((4,), 5 * np.eye(5, dtype=np.int64), np.ones(5), name="Fermat quintic",
                        configuration=[[5]])


def _check_configuration(conf) -> tuple[list[int], list[int]]:
    try:
        rows = [[int(x) for x in row] for row in conf]
        if any(float(x) != int(x) for row in conf for x in row):
            raise ValueError
    except (TypeError, ValueError):
        raise MetricFlowError(f"configuration matrix {conf!r}: expected a list of rows of integers, "
                              "e.g. [[3], [3]] for the bicubic in P^2 x P^2") from None
    if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
        raise MetricFlowError(f"configuration matrix {conf!r}: rows of unequal or zero length")
    if any(x < 0 for r in rows for x in r):
        raise MetricFlowError(f"configuration matrix {conf!r}: negative degrees")
    dims = [sum(r) - 1 for r in rows]
    if any(n < 1 for n in dims):
        raise MetricFlowError(f"configuration matrix {conf!r}: a row sums to less than 2 (projective "
                              "factor of dimension < 1 under the Calabi-Yau condition n_j = row sum - 1)")
    k = len(rows[0])
    dim = sum(dims) - k
    if dim != 3:
        raise MetricFlowError(f"configuration matrix {conf!r}: a complete intersection of dimension {dim}, "
                              "not a three-fold (metricflow handles Calabi-Yau three-folds)")
    if k != 1:
        raise MetricFlowError(f"configuration matrix {conf!r}: {k} equations; only hypersurfaces (one "
                              "column) are supported so far")
    return rows, dims


def from_configuration(conf, *, dims=None, seed: int = 0, fermat: bool | None = None) -> Hypersurface:
    """The hypersurface of a one-column configuration matrix (library format, no dimension column).

    ``dims`` (optional) are the ambient dimensions: when given, the Calabi–Yau condition
    ``sum of row j = dims[j] + 1`` is checked (a :class:`MetricFlowError` names the failing row).
    Coefficients: Fermat for a single factor (unless ``fermat=False``), otherwise seeded random
    complex Gaussians over all monomials of the right multi-degree.
    """
    if dims is not None:
        try:
            rows_raw = [list(r) for r in conf]
            given = [int(n) for n in dims]
        except TypeError:
            raise MetricFlowError(f"configuration matrix {conf!r} / dims {dims!r}: not lists") from None
        if len(given) != len(rows_raw):
            raise MetricFlowError(f"dims {given} has {len(given)} entries, the matrix {len(rows_raw)} rows")
        for j, (row, n) in enumerate(zip(rows_raw, given)):
            if sum(int(x) for x in row) != n + 1:
                raise MetricFlowError(f"configuration matrix {conf!r}: row {j} sums to {sum(row)}, not "
                                      f"{n + 1} = dim + 1: not Calabi-Yau (c_1 != 0)")
    rows, ndims = _check_configuration(conf)
    degrees = [r[0] for r in rows]
    if fermat is None:
        fermat = len(rows) == 1
    if fermat:
        if len(rows) != 1:
            raise MetricFlowError("a Fermat polynomial is defined here only for a single projective factor")
        n = ndims[0] + 1
        if degrees[0] == 5:
            return fermat_quintic()
        return Hypersurface((ndims[0],), degrees[0] * np.eye(n, dtype=np.int64), np.ones(n),
                            name=f"Fermat degree {degrees[0]} in P^{ndims[0]}", configuration=rows)
    blocks = [_monomials(n + 1, d) for n, d in zip(ndims, degrees)]
    exps = np.array([np.concatenate(c) for c in itertools.product(*blocks)], dtype=np.int64)
    rng = np.random.default_rng(seed)
    coeffs = (rng.standard_normal(len(exps)) + 1j * rng.standard_normal(len(exps))) / np.sqrt(2)
    name = " x ".join(f"P^{n}" for n in ndims) + f" degree {tuple(degrees)}"
    return Hypersurface(tuple(ndims), exps, coeffs, name=name, configuration=rows)


def as_variety(variety) -> Hypersurface:
    """``None`` -> the Fermat quintic; a Hypersurface as is; a configuration matrix -> its hypersurface."""
    if variety is None:
        return fermat_quintic()
    if isinstance(variety, Hypersurface):
        return variety
    return from_configuration(variety)
