"""Tests of cicy4lib.geometry: validation, products, Euler numbers."""
import numpy as np
import pytest

from cicy4lib import geometry as geo
from cicy4lib.geometry import euler as geo_euler
from cicy4lib.geometry import (
    MAX_COLS,
    MAX_ROWS,
    ConfigurationError,
    as_degree_matrix,
    euler_number,
    euler_numbers,
    is_product,
    pad_configuration,
    product_blocks,
)

# The first five entries of the CICY4 list (SPEC.md section 1) with their Euler numbers.
PUBLISHED = [([[6]], 2610), ([[2, 5]], 2190), ([[3, 4]], 1476),
             ([[2, 2, 4]], 1632), ([[2, 3, 3]], 1206)]


def _random_configs(seed, count, **kw):
    rng = np.random.default_rng(seed)
    return [geo.random_configuration(rng, **kw) for _ in range(count)]


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("conf, pattern", [
    ([[2.5, 3.5]], r"not a configuration under either reading \(as integers: non-integer entry 2.5 at row 0, column 0"),
    ([[-1, 7]], r"negative entry -1 at row 0, column 0"),
    ([[0, 0], [6, 0]], r"row 0 is all zeros"),
    ([[0, 6]], r"column 0 is all zeros"),
    ([[1, 2, 0], [5, 0, 4]], r"row 1: degrees sum to 4 but P\^5 needs 6"),
    ([[5, 5]], r"row 0: degrees sum to 5 but P\^5 needs 6"),
    ([[1, 0], [0, 6]], r"row 0: degrees sum to 1, which makes it P\^0"),
    ([[5]], r"dimension sum\(n_i\) - K = 3, not 4"),
    ([[2, 2, 2, 2]], r"dimension sum\(n_i\) - K = 3, not 4"),
    ([[2] * 5 + [1] * 16], r"21 columns: at most 20"),
    ([6], r"2-D matrix"),
    ([[1, 2], [3]], r"different lengths"),
    ("[[6]]", r"not a string"),
    ([[True]], r"row 0, column 0 is the boolean True"),
    (np.zeros((0, 3)), r"empty"),
    ([[0, 0]], r"all entries are zero"),
    ([[np.nan]], r"row 0, column 0 is nan, not a finite number"),
    ([[10**15, 6]], r"entry 1000000000000000 is too large"),
    ([[1e30, 6.0]], r"too large"),
])
def test_validation_errors_name_the_problem(conf, pattern):
    with pytest.raises(ConfigurationError, match=pattern):
        as_degree_matrix(conf)


def test_too_many_rows():
    conf = geo.random_configuration(np.random.default_rng(0), n_rows=17, max_rows=17)
    with pytest.raises(ConfigurationError, match=r"17 rows: at most 16"):
        as_degree_matrix(conf)


def test_configuration_error_is_value_error():
    assert issubclass(ConfigurationError, ValueError)


def test_float_scale_errors():
    with pytest.raises(ConfigurationError, match=r"as integers / 4 \(the declared scale\): non-integer"):
        as_degree_matrix(np.array([[1 / 6, 5 / 6]]), scale=4)
    with pytest.raises(ConfigurationError, match=r"not a configuration under either reading"):
        as_degree_matrix(np.array([[0.3, 0.7, 0.1]]))
    with pytest.raises(ConfigurationError, match=r"negative entry"):
        as_degree_matrix(np.array([[-0.5, 1.0]]))


def test_all_accepted_forms_give_the_same_matrix():
    P = np.array([[2, 0, 1], [1, 2, 0], [0, 1, 2], [0, 1, 1]])  # dims 2,2,2,1; K = 3
    assert int(P.sum() - 4 - 3) == 4
    padded = pad_configuration(P)
    assert padded.dtype == np.int8 and padded.shape == (MAX_ROWS, MAX_COLS)
    with_dims = np.column_stack([P.sum(axis=1) - 1, P])
    forms = [P, P.tolist(), tuple(map(tuple, P.tolist())), P.astype(np.int8),
             P.astype(float), with_dims, with_dims.tolist(), padded,
             padded.astype(np.int64), padded / 6.0, (padded / 6.0).astype(np.float32)]
    for form in forms:
        out = as_degree_matrix(form)
        assert out.dtype == np.int64 and np.array_equal(out, P), form
    assert np.array_equal(as_degree_matrix(padded / 6.0, scale=6), P)
    assert np.array_equal(as_degree_matrix(padded / 3.0, scale=3.0), P)
    assert np.array_equal(as_degree_matrix(P, scale=6), P)  # integers are never rescaled
    for other in (2.0, 5.0):  # another divisor is never guessed: it must be declared
        with pytest.raises(ConfigurationError, match="either reading"):
            as_degree_matrix(padded / other)
        assert np.array_equal(as_degree_matrix(padded / other, scale=other), P)


@pytest.mark.parametrize("conf", [[[3.0]], [[100.0]], [[4.0, 4.0, 8.0]], [[0.5]], [[2.0]]])
def test_float_matrices_have_two_readings_only(conf):
    # the first wave read [[3.0]] with a guessed scale 2 and [[100.0]] with 1/100: both "sextics"
    with pytest.raises(ConfigurationError, match=r"as integers: .*as integers / 6"):
        euler_number(conf)


@pytest.mark.parametrize("scale", [0, -6, float("nan"), float("inf"), True, "6", [6]])
def test_bad_scale_is_a_configuration_error(scale):
    with pytest.raises(ConfigurationError, match="scale must be a positive"):
        as_degree_matrix([[1.0]], scale=scale)
    with pytest.raises(ConfigurationError, match="scale must be a positive"):
        euler_numbers(np.ones((2, 1, 1)), scale=scale)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_subclass_and_masked_inputs():
    assert euler_number(np.matrix([[2, 2, 4]])) == 1632
    assert euler_number(np.ma.masked_array([[2, 5]])) == 2190


def test_float_readings_accept_the_one_valid_reading():
    assert euler_number([[6.0]]) == 2610  # as integers
    assert euler_number([[1.0]]) == 2610  # as integers / 6
    assert euler_number([[2.0, 5.0]]) == euler_number(np.array([[2, 5]]) / 6.0) == 2190
    assert euler_number([[0.5]], scale=12) == 2610


def test_both_readings_valid_is_an_error_naming_both(monkeypatch):
    from cicy4lib.geometry import validate
    # both readings valid cannot happen for a scale > 1; force the second reading to be the first
    monkeypatch.setattr(validate, "float_readings", lambda scale: [(1.0, "as integers"), (1.0, "again")])
    with pytest.raises(ConfigurationError, match=r"ambiguous.*as integers it is the configuration \[\[6\]\].*again"):
        as_degree_matrix([[6.0]])


def test_sextic_in_rescaled_padded_form():
    x = np.zeros((16, 20))
    x[0, 0] = 1.0  # conf.npy stores the sextic as 6/6
    assert as_degree_matrix(x).tolist() == [[6]]
    assert euler_number(x) == 2610


def test_dims_and_padding_round_trip():
    P = np.array([[2, 0], [1, 1], [0, 5]])
    assert geo.dims(P).tolist() == [1, 1, 4]
    assert np.array_equal(as_degree_matrix(pad_configuration(P)), P)


# ---------------------------------------------------------------------------- products
def _permuted(P, seed):
    rng = np.random.default_rng(seed)
    return P[rng.permutation(P.shape[0])][:, rng.permutation(P.shape[1])]


def test_product_detection_under_permutations():
    k3_k3 = np.array([[3, 0], [2, 0], [0, 4]])  # P^2xP^1[3;2] x P^3[4]
    for seed in range(5):
        Q = _permuted(k3_k3, seed)
        blocks = product_blocks(Q)
        assert is_product(Q) and len(blocks) == 2
        got = sorted(sorted(Q[np.ix_(r, c)].ravel().tolist()) for r, c in blocks)
        assert got == [[2, 3], [4]]
        rows = np.concatenate([r for r, _ in blocks])
        cols = np.concatenate([c for _, c in blocks])
        assert sorted(rows) == list(range(3)) and sorted(cols) == list(range(2))


def test_three_block_product_and_connected_configurations():
    t2_t2_k3 = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 4]])
    assert len(product_blocks(_permuted(t2_t2_k3, 1))) == 3
    for conf, _ in PUBLISHED:
        assert not is_product(conf)
    chain = np.array([[4, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 3]])
    assert not is_product(chain)  # connected only through a chain of shared columns


# ---------------------------------------------------------------------------- Euler numbers
@pytest.mark.parametrize("conf, chi", PUBLISHED)
def test_published_euler_numbers(conf, chi):
    assert euler_number(conf) == chi
    assert geo_euler.euler_number_reference(np.array(conf)) == chi


def test_hand_worked_euler_numbers():
    # P^1 x P^4 [2; 5]: c4 = 205 y^4 + 350 x y^3 with x^2 = y^5 = 0, so
    # chi = int c4 (2x + 5y) = 2 * 205 + 5 * 350 = 2160.
    assert euler_number([[2], [5]]) == 2160
    # P^8[2,2,2,3]: p2 = 9 - 21 = -12, p4 = 9 - 129 = -120, c4 = 144/8 + 120/4 = 48,
    # chi = 48 * (2 * 2 * 2 * 3) = 1152.
    assert euler_number([[2, 2, 2, 3]]) == 1152


@pytest.mark.parametrize("conf, chi", [
    ([[4, 0], [0, 4]], 24 * 24),                   # K3 x K3
    ([[3, 0], [2, 0], [0, 4]], 24 * 24),           # K3 (P^2 x P^1) x K3
    ([[3, 0], [0, 5]], 0),                         # T2 x quintic
    ([[3, 0, 0], [0, 3, 0], [0, 0, 4]], 0),        # T2 x T2 x K3
    ([[2, 0], [0, 6]], 2 * 2610),                  # two points x sextic
    ([[2, 0, 0], [0, 2, 5]], 2 * 2190),            # two points x P^6[2,5]
])
def test_products_multiply_euler_numbers(conf, chi):
    assert euler_number(_permuted(np.array(conf), 3)) == chi


def test_random_products_multiply_euler_numbers():
    confs = _random_configs(5, 40, max_rows=MAX_ROWS - 1, max_cols=MAX_COLS - 1)
    doubled = []
    for P in confs:  # P (+) P^1[2]: two disjoint copies, chi doubles
        Q = np.zeros((P.shape[0] + 1, P.shape[1] + 1), dtype=np.int64)
        Q[:-1, :-1] = P
        Q[-1, -1] = 2
        doubled.append(Q)
    assert all(is_product(Q) for Q in doubled)
    assert np.array_equal(euler_numbers(doubled), 2 * euler_numbers(confs))


def test_fast_path_matches_reference():
    rng = np.random.default_rng(11)
    confs = [geo.random_configuration(rng, n_rows=int(k)) for k in rng.integers(1, 6, 150)]
    fast = euler_numbers(confs)
    slow = [geo_euler.euler_number_reference(P) for P in confs]
    assert fast.tolist() == slow


def test_fast_path_matches_reference_on_larger_shapes():
    confs = _random_configs(12, 6, n_rows=9)
    assert euler_numbers(confs).tolist() == [geo_euler.euler_number_reference(P) for P in confs]


def test_batched_equals_single_and_all_batch_forms_agree():
    confs = _random_configs(7, 120)
    single = np.array([euler_number(P) for P in confs])
    padded = np.stack([pad_configuration(P) for P in confs])
    assert np.array_equal(euler_numbers(confs), single)
    assert np.array_equal(euler_numbers(padded), single)
    assert np.array_equal(euler_numbers(list(padded)), single)
    assert np.array_equal(euler_numbers(padded / 6.0), single)
    assert np.array_equal(euler_numbers(padded / 6.0, scale=6), single)
    assert np.array_equal(euler_numbers(padded.astype(float)), single)
    assert np.array_equal(geo_euler._run_chunks(padded, None, n_jobs=2, chunk=50), single)
    # CY four-folds (and their products) have chi = 48 + 6 (h11 - h21 + h31)
    assert np.all(single % 6 == 0) and np.all(single >= 0)


def test_batch_with_dimension_column_and_mixed_forms():
    confs = [[[6]], [[6, 2, 5]], np.array([[3, 4]]) / 6.0, pad_configuration([[2, 2, 4]])]
    assert euler_numbers(confs).tolist() == [2610, 2190, 1476, 1632]
    same_shape = [[[2, 5]], np.array([[3, 4]]) / 6.0, [[2.0, 5.0]]]  # stacks to floats
    assert euler_numbers(same_shape).tolist() == [2190, 1476, 2190]
    padded = np.zeros((2, 16, 21), dtype=np.int64)
    padded[0, 0, :2] = [5, 6]  # a dimension column in the padded form
    padded[1, 0, :3] = [2, 3, 3]
    assert euler_numbers(padded).tolist() == [2610, 1206]
    assert euler_numbers(np.zeros((0, 16, 20), dtype=np.int8)).shape == (0,)


def test_batch_errors_name_the_configuration():
    padded = np.stack([pad_configuration(c) for c, _ in PUBLISHED])
    padded[3, 0, 0] = 7
    with pytest.raises(ConfigurationError, match=r"configuration 3: dimension"):
        euler_numbers(padded)
    with pytest.raises(ConfigurationError, match=r"configuration 1: .*all zeros"):
        euler_numbers([[[6]], [[0, 6]]])


def test_random_configurations_are_valid_and_list_like():
    confs = _random_configs(3, 300)
    shapes = np.array([P.shape for P in confs])
    assert shapes[:, 0].max() <= MAX_ROWS and shapes[:, 1].max() <= MAX_COLS
    assert shapes[:, 0].max() >= 12  # realistic: many configurations with 12+ rows
    for P in confs:
        assert np.array_equal(as_degree_matrix(P), P)
    ones = np.concatenate([P.sum(axis=1) - 1 for P in confs])
    assert np.mean(ones <= 2) > 0.8  # mostly P^1 and P^2 factors


# ---------------------------------------------------------------------------- Hodge numbers
def test_hodge_numbers_validates_before_delegating():
    with pytest.raises(ConfigurationError, match="dimension"):
        geo.hodge_numbers([[5]])


def test_hodge_numbers_of_published_entries():
    pytest.importorskip("cicy4lib.geometry.cohomology")
    expected = {(6,): (1, 0, 426, 1752), (2, 5): (1, 0, 356, 1472)}
    for row, hodge in expected.items():
        result = geo.hodge_numbers([list(row)])
        assert tuple(result.hodge) == hodge
        assert result.euler == euler_number([list(row)])
    # K3 x K3 is a valid four-fold but a direct product: the result says so
    assert "direct product of 2 blocks" in geo.hodge_numbers([[0, 4], [4, 0]]).detail


def test_overflow_guard_falls_back_to_python_integers(monkeypatch):
    confs = [np.array(c) for c, _ in PUBLISHED] + _random_configs(4, 5, n_rows=4)
    expected = euler_numbers(confs)
    monkeypatch.setattr(geo_euler, "INT64_SAFE", 0.0)  # every configuration counts as unsafe
    calls = []
    reference = geo_euler.euler_number_reference
    monkeypatch.setattr(geo_euler, "euler_number_reference",
                        lambda P: calls.append(P.shape) or reference(P))
    assert np.array_equal(euler_numbers(confs), expected)
    assert len(calls) == len(confs)
    assert expected[:5].tolist() == [chi for _, chi in PUBLISHED]
