"""The labeller's modular linear algebra backends and its cochain-level (transferred) path.

* python-flint and the original numpy row echelon give the same ranks, kernels and products,
  and the same Hodge labels (value, method and detail) on a set of configurations;
* every accepted label satisfies both index relations;
* evaluating *every* line bundle by the perturbation-lemma transfer (the path that settles
  higher Koszul differentials and mixed-level Jacobian maps) reproduces the known Hodge
  numbers of tests/geometry/test_cohomology.py, so that path is checked against independent values.
"""
import numpy as np
import pytest

from cicy4lib.geometry import cohomology, modp
from cicy4lib.geometry.cohomology import hodge_from_degree_matrix

flint_only = pytest.mark.skipif(modp.FLINT_VERSION is None, reason="python-flint not installed")

# 12-16-row configurations (random_configuration, seed 1) with their labels: exact and generic-rank
MANY_ROWS = [
    ([[1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0],
      [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
      [0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
      [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0],
      [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0],
      [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]],
     (13, 2, 29, 208)),
    ([[0, 0, 0, 0, 0, 0, 1, 1, 0], [1, 0, 0, 0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 1, 0],
      [1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 2, 0, 0], [0, 0, 1, 0, 1, 0, 0, 0, 0],
      [0, 0, 1, 1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0, 1, 0]],
     (12, 2, 30, 208)),
    ([[0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0],
      [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0],
      [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1],
      [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]],
     (14, 0, 44, 276)),
    ([[0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
      [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0],
      [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
      [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]],
     (19, 3, 24, 210)),
]

# known values (pyCICY-cross-checked and published, from tests/geometry/test_cohomology.py) for the
# transferred path: fast ones only
KNOWN = [
    ([[2, 1], [1, 4]], (2, 0, 206, 876)),
    ([[1, 1, 1], [1, 0, 1], [1, 2, 2]], (3, 0, 120, 536)),
    ([[1, 2, 0, 0], [0, 1, 0, 1], [1, 0, 2, 1], [0, 1, 0, 1], [0, 0, 0, 2]], (6, 3, 61, 306)),
    ([[0, 3], [1, 1], [1, 1], [1, 1], [1, 1]], (5, 1, 144, 638)),
    ([[2, 0], [1, 1], [0, 3], [3, 0]], (12, 28, 56, 260)),
    ([[3, 1], [0, 2], [2, 0], [0, 2]], (4, 26, 70, 288)),
    ([[0, 1, 1, 0], [2, 0, 0, 0], [1, 1, 1, 0], [0, 1, 1, 3]], (4, 5, 77, 358)),
    ([[0, 0, 2, 0, 0], [0, 0, 1, 0, 2], [0, 0, 2, 0, 0], [1, 0, 0, 2, 0], [0, 0, 0, 1, 1],
      [1, 0, 0, 0, 1], [0, 1, 1, 0, 0]], (9, 12, 43, 228)),
    ([[1, 0, 1], [0, 1, 1], [1, 0, 2], [0, 2, 0], [2, 0, 0], [0, 2, 0]], (13, 13, 40, 230)),
    ([[6]], (1, 0, 426, 1752)),
    ([[2, 3, 3]], (1, 0, 192, 816)),
]


def _relations(res):
    h11, h21, h31, h22 = res.hodge
    assert h22 == 44 + 4 * h11 - 2 * h21 + 4 * h31
    assert res.euler == 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22
    assert h31 == res.euler // 6 - 8 - h11 + h21 and res.euler % 6 == 0


def _planted(rng, rows, cols, rank):
    A = rng.integers(0, modp.PRIME, size=(rows, rank))
    B = rng.integers(0, modp.PRIME, size=(rank, cols))
    return modp.matmul_mod(A, B, "numpy")


@flint_only
@pytest.mark.parametrize("shape, rank", [((1, 1), 1), ((5, 7), 3), ((40, 30), 27), ((12, 60), 12),
                                         ((60, 12), 5), ((0, 4), 0)])
def test_modp_backends_agree(shape, rank):
    rng = np.random.default_rng(sum(shape) + rank)
    M = _planted(rng, *shape, rank) if shape[0] else np.zeros(shape, dtype=np.int64)
    assert modp.rank_mod_p(M, "numpy") == modp.rank_mod_p(M, "flint") == rank
    for b in modp.BACKENDS:
        K = modp.kernel_basis(M, shape[1], b)
        assert K.shape == (shape[1], shape[1] - rank)
        assert not modp.matmul_mod(M, K, b).any() if M.size else True
        assert modp.rank_mod_p(K, b) == shape[1] - rank
    X = rng.integers(0, modp.PRIME, size=(shape[1], 3))
    assert np.array_equal(modp.matmul_mod(M, X, "numpy"), modp.matmul_mod(M, X, "flint"))


def test_modp_backend_selection():
    assert modp.get_backend() == modp.DEFAULT_BACKEND
    with modp.using_backend("numpy"):
        assert modp.get_backend() == "numpy"
    assert modp.get_backend() == modp.DEFAULT_BACKEND
    with pytest.raises(ValueError):
        modp.get_backend("gauss")
    with pytest.raises(ValueError):
        hodge_from_degree_matrix([[6]], rank_backend="gauss")


@flint_only
@pytest.mark.parametrize("P, hodge", MANY_ROWS + KNOWN[:6])
def test_labels_identical_between_backends(P, hodge):
    a = hodge_from_degree_matrix(P, rank_backend="numpy")
    b = hodge_from_degree_matrix(P, rank_backend="flint")
    assert a == b  # value, method, Euler number and detail
    assert a.hodge == hodge
    _relations(a)


def test_koszul_subsets_fast_path_matches_search():
    rng = np.random.default_rng(3)
    from cicy4lib.geometry import random_configuration
    for _ in range(12):
        P = random_configuration(rng, n_rows=int(rng.integers(2, 16)))
        n = tuple(int(v) for v in P.sum(1) - 1)
        bundles = [(0,) * P.shape[0], tuple(int(v) for v in P[:, 0]), tuple(int(v) for v in 2 * P[:, -1])]
        bundles += [tuple(int(i == r) for r in range(P.shape[0])) for i in range(P.shape[0])]
        for L in bundles:
            assert cohomology._koszul_subsets(P, n, L) == cohomology._koszul_subsets_general(P, n, L)


@pytest.mark.parametrize("P, hodge", KNOWN)
def test_transferred_path_reproduces_known_values(P, hodge, monkeypatch):
    monkeypatch.setattr(cohomology.config, "_FORCE_TRANSFER", True)  # read where _Config is made
    res = hodge_from_degree_matrix(P)
    assert res.hodge == hodge
    assert "perturbation-lemma transfer" in res.detail
    _relations(res)


def test_every_accepted_label_satisfies_both_relations():
    rng = np.random.default_rng(11)
    from cicy4lib.geometry import is_product, random_configuration
    seen = 0
    while seen < 12:
        P = random_configuration(rng, n_rows=int(rng.integers(1, 9)))
        if not (P.sum(0) >= 2).all() or is_product(P):
            continue
        seen += 1
        res = hodge_from_degree_matrix(P)
        assert res.method in cohomology.METHODS
        if res.hodge is None:
            assert res.method == "undetermined" and res.detail
        else:
            _relations(res)
