"""Tests of the sample generator (cicy4lib.sample) and of the shipped sample file."""
import json

import numpy as np
import pytest

from cicy4lib import geometry
from cicy4lib.data import generated
from cicy4lib.geometry import canonical, enumeration, sample_generator, splitting


@pytest.fixture(scope="module")
def small_seeds():
    return enumeration.enumerate_configurations(2)


@pytest.fixture(scope="module")
def shipped():
    if not generated.SAMPLE_PATH.exists():
        pytest.skip("sample.npz not generated yet")
    return generated.load_sample(generated.SAMPLE_PATH)


def _permuted(P, rng):
    return P[rng.permutation(P.shape[0])][:, rng.permutation(P.shape[1])]


# --------------------------------------------------------------------- generator pieces
def test_one_row_configurations_are_the_partitions(small_seeds):
    got = sorted(tuple(sorted(P[0])) for P in small_seeds[1])
    assert got == [(2, 2, 2, 2, 2), (2, 2, 2, 3), (2, 2, 4), (2, 3, 3), (2, 5), (3, 4), (6,)]
    for Ps in small_seeds.values():
        assert all(enumeration.is_valid_cy4(P) and not geometry.is_product(P) for P in Ps)


def test_split_explicit():
    Q = splitting.split([[6]], 0, [[2], [4]])
    assert Q.tolist() == [[1, 1], [2, 4]]
    with pytest.raises(ValueError):
        splitting.split([[6]], 0, [[6], [0]])  # a zero part is a linear constraint, not a splitting


def test_random_splittings_keep_calabi_yau_and_dimension():
    rng = np.random.default_rng(0)
    for start in ([[6]], [[2, 5]], [[2, 1, 0], [1, 2, 3]]):
        assert enumeration.is_valid_cy4(start)
        P = np.array(start)
        for _ in range(8):
            Q = sample_generator.random_splitting(P, rng)
            assert Q.shape[0] == P.shape[0] + 1
            assert enumeration.is_valid_cy4(Q)
            n = Q.sum(1) - 1
            assert n.sum() - Q.shape[1] == 4  # dimension four
            geometry.as_degree_matrix(Q)  # the library's own validation accepts it
            assert not geometry.is_product(Q)
            P = Q


def _find_splitting(P, rng, effective, tries=400):
    chi = geometry.euler_number(P)
    for _ in range(tries):
        Q = sample_generator.random_splitting(P, rng)
        if (geometry.euler_number(Q) != chi) == effective:
            return Q
    pytest.skip("no such splitting found")


def test_ineffective_splittings_are_discarded(monkeypatch):
    rng = np.random.default_rng(1)
    P = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [2, 0, 1, 1], [0, 1, 1, 1]])
    assert enumeration.is_valid_cy4(P)
    chi = geometry.euler_number(P)
    bad = _find_splitting(P, rng, effective=False)
    good = _find_splitting(P, rng, effective=True)
    # an ineffective splitting contracts back to P with the same Euler number
    assert enumeration.ineffective_mask([bad], [chi])[0]
    monkeypatch.setattr(sample_generator, "random_splitting", lambda P, rng: bad)
    assert sample_generator._split_layer([(P, chi)], 5, rng, set()) == []
    monkeypatch.setattr(sample_generator, "random_splitting", lambda P, rng: good)
    kept = sample_generator._split_layer([(P, chi)], 5, rng, set())
    assert len(kept) == 1 and canonical.equivalent(kept[0][0], good)
    assert kept[0][1] == geometry.euler_number(good) != chi


def test_generated_candidates_effective_distinct_no_products(small_seeds):
    cands, _ = sample_generator.generate_candidates(40, seed=3, max_rows=6, seeds=small_seeds)
    assert len(cands) >= 30
    keys = {canonical.canonical_key(P) for P, _ in cands}
    assert len(keys) == len(cands)
    chis = geometry.euler_numbers([P for P, _ in cands])
    assert chis.tolist() == [c for _, c in cands]
    for P, chi in cands:
        assert enumeration.is_valid_cy4(P) and not geometry.is_product(P)
    # every one is reachable by an effective splitting (or is a primitive seed)
    assert not enumeration.ineffective_mask([P for P, _ in cands], chis, rule="all").any()


def test_canonical_form_under_permutations(small_seeds):
    rng = np.random.default_rng(2)
    Ps = small_seeds[2][:40] + [np.array([[1, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0],
                                          [1, 0, 0, 1, 1], [0, 0, 1, 1, 0]]).T[:4]]
    for P in small_seeds[2][:40]:
        key = canonical.canonical_key(P)
        for _ in range(3):
            assert canonical.canonical_key(_permuted(P, rng)) == key
    # a symmetric configuration (a cycle of P^1's) too
    cyc = np.array([[1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 0],
                    [0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1]])
    for _ in range(5):
        assert canonical.equivalent(cyc, _permuted(cyc, rng))
    # distinct configurations keep distinct keys
    keys = [canonical.canonical_key(P) for P in small_seeds[2]]
    assert len(set(keys)) == len(keys)
    assert not canonical.equivalent([[1, 1], [2, 4]], [[1, 1], [3, 3]])
    assert len(Ps) == 41


def test_generator_deterministic(small_seeds):
    kw = dict(n=30, seed=11, workers=1, max_rows=5, seeds=small_seeds)
    a = sample_generator.build_sample(**kw)
    b = sample_generator.build_sample(**kw)
    assert len(a["id"]) >= 20
    for key in ("conf", "euler", "hodge", "method", "id", "is_product"):
        np.testing.assert_array_equal(a[key], b[key])
    c = sample_generator.build_sample(**{**kw, "seed": 13, "timeout": 5.0})
    assert not np.array_equal(a["conf"], c["conf"]) or not np.array_equal(a["hodge"], c["hodge"])
    chi = a["euler"]
    h11, h21, h31, h22 = a["hodge"].T
    assert (chi == 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22).all()
    assert (a["method"] != "undetermined").all()


# --------------------------------------------------------------------- the shipped file
def test_shipped_keys_dtypes_shapes(shipped):
    N = len(shipped["id"])
    assert N >= 5000
    assert generated.SAMPLE_PATH.stat().st_size < 5_000_000
    assert shipped["conf"].dtype == np.int8 and shipped["conf"].shape == (N, 16, 20)
    assert shipped["euler"].dtype == np.int64 and shipped["euler"].shape == (N,)
    assert shipped["hodge"].dtype == np.int64 and shipped["hodge"].shape == (N, 4)
    assert shipped["method"].dtype == np.dtype("<U16") and shipped["method"].shape == (N,)
    assert shipped["is_product"].dtype == bool and not shipped["is_product"].any()
    np.testing.assert_array_equal(shipped["id"], np.arange(N))
    assert set(shipped["method"]) <= {"exact", "generic-rank"}
    meta = shipped["meta"]
    for key in ("seed", "generator_version", "n_generated", "n_undetermined"):
        assert key in meta
    with np.load(generated.SAMPLE_PATH) as z:
        assert set(z.files) == set(sample_generator.META_KEYS)
        json.loads(str(z["meta"]))


def test_shipped_euler_and_relations(shipped):
    chi = shipped["euler"]
    np.testing.assert_array_equal(geometry.euler_numbers(shipped["conf"].astype(np.int64)), chi)
    h11, h21, h31, h22 = shipped["hodge"].T
    assert (chi == 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22).all()
    assert (44 == -4 * h11 + 2 * h21 - 4 * h31 + h22).all()
    assert (h11 >= 1).all() and (h21 >= 0).all() and (h31 >= 0).all()


def test_shipped_valid_distinct_no_products(shipped):
    conf = shipped["conf"]
    rows = (conf != 0).any(2).sum(1)
    cols = (conf != 0).any(1).sum(1)
    keys = set()
    for A, m, K in zip(conf, rows, cols):
        P = A[:m, :K].astype(np.int64)
        assert enumeration.is_valid_cy4(P)
        keys.add(P.tobytes() + bytes([m, K]))
    # entries are stored in canonical form, so equivalent ones would be byte-identical
    assert len(keys) == len(conf)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(conf), size=min(300, len(conf)), replace=False):
        P = conf[i, :rows[i], :cols[i]].astype(np.int64)
        np.testing.assert_array_equal(canonical.canonical_form(_permuted(P, rng)), P)
        assert not geometry.is_product(P)
