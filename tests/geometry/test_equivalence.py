"""Euler-equal contractions sorted by their exact Hodge numbers."""
import numpy as np

from cicy4lib.geometry.equivalence import contraction_verdicts, same_hodge_splittings
from cicy4lib.geometry.euler import euler_numbers
from cicy4lib.geometry.labelling import label_with_limit
from cicy4lib.geometry.splitting import _padded, redundant_mask

# SPEC §1: contracts along its third row to [[3,2],[1,1],[0,2]], same χ and same Hodge numbers
REDUNDANT = np.array([[3, 2, 0], [1, 1, 0], [0, 1, 1], [0, 0, 2]])
# χ 324 like one of its contractions, but h11 10 against 6 there: two manifolds
# (benchmarks/bench_redundancy_rule.py found it)
DISTINCT = np.array([[0, 0, 2, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0, 1], [2, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 2, 0],
                     [0, 1, 0, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0, 1], [1, 1, 0, 1, 0, 0, 0]])


def _labels(P):
    chi = int(euler_numbers(_padded([P]))[0])
    return chi, label_with_limit(P, 20, euler=chi)[0]


def test_same_chi_can_be_two_manifolds():
    mats = [REDUNDANT, DISTINCT]
    chis, hodge = zip(*(_labels(P) for P in mats))
    assert redundant_mask(mats, list(chis)).tolist() == [True, True]  # the χ rule calls both redundant
    v = contraction_verdicts(mats, chis, hodge)
    assert v["same"][0] == [2] and v["different"][0] == []
    assert v["same"][1] == [] and len(v["different"][1]) >= 1
    assert hodge[1][0] == 10  # h11 = b2 is topological: 10 here, 6 for the contraction


def test_same_hodge_splittings_carry_exact_labels():
    base = np.array([[3, 2], [1, 1], [0, 2]])
    chi, h = _labels(base)
    found, counts = same_hodge_splittings([base], [h], np.random.default_rng(0), n=3, tries=200)
    assert found[0] and counts["same"] == len(found[0])
    for Q in found[0]:
        assert _labels(Q) == (chi, h)
