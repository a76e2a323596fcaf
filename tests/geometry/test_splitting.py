"""Splittings, contractions and minimal (non-redundant) descriptions."""
import numpy as np
import pytest

from cicy4lib.geometry import euler_number
from cicy4lib.geometry.canonical import equivalent
from cicy4lib.geometry.splitting import (contractions, ineffective_rows, ineffective_splittings,
                                         minimal_description, redundant_mask, split)

# SPEC §1: an ineffective splitting of [[3,2],[1,1],[0,2]] along its third row
REDUNDANT = np.array([[3, 2, 0], [1, 1, 0], [0, 1, 1], [0, 0, 2]])
MINIMAL = np.array([[3, 2], [1, 1], [0, 2]])


def test_the_spec_example_is_redundant_along_its_third_row():
    assert euler_number(REDUNDANT) == euler_number(MINIMAL) == 864
    assert ineffective_rows([REDUNDANT]) == [[2]]
    assert redundant_mask([REDUNDANT, MINIMAL]).tolist() == [True, False]


def test_minimal_description_contracts_to_the_smaller_configuration():
    Q = minimal_description(REDUNDANT)
    assert equivalent(Q, MINIMAL)  # the same matrix up to row and column permutations
    assert euler_number(Q) == 864
    assert redundant_mask([Q]).tolist() == [False]


def test_padded_input_gives_the_same_answer():
    padded = np.zeros((16, 20), np.int64)
    padded[:4, :3] = REDUNDANT
    assert redundant_mask([padded]).tolist() == [True]


def test_split_then_contract_is_the_identity():
    P = np.array([[2, 2, 1], [2, 1, 1]])  # not a CY condition check: split/contract are combinatorial
    Q = split(P, 0, [[1, 1], [1, 1]])
    got = dict(contractions(Q))
    assert np.array_equal(got[0], P)


def test_split_rejects_parts_that_do_not_sum_to_the_column():
    with pytest.raises(ValueError, match="summing to the column"):
        split(MINIMAL, 0, [[1, 0, 0], [1, 0, 0]])


def test_ineffective_splittings_keep_the_euler_number_and_are_redundant():
    rng = np.random.default_rng(0)
    found = ineffective_splittings([MINIMAL], rng, n=5, tries=200)[0]
    assert found, "the quintic-like configuration has ineffective splittings"
    chis = [euler_number(Q) for Q in found]
    assert set(chis) == {864}
    assert redundant_mask(found).all()
    assert all(Q.shape[0] == MINIMAL.shape[0] + 1 for Q in found)
