"""Release 3 of the generated set keeps minimal descriptions only."""
import numpy as np

from cicy4lib.geometry import enumeration, walks
from cicy4lib.geometry.splitting import redundant_mask


def _rows(P):
    return int(np.asarray(P).any(1).sum())


def test_release3_seeds_are_every_minimal_configuration_up_to_four_rows():
    settings = walks.default_chunk_settings()
    minimal = walks.seed_layers(4, minimal=True)
    everything = enumeration.enumerate_configurations(4)
    for m, items in minimal.items():
        mats = everything[m]
        keep = ~redundant_mask(mats)
        assert len(items) == int(keep.sum()), m  # complete under the new rule
    assert walks.n_seed_chunks(settings) >= 1


def test_a_release3_walk_chunk_has_no_ineffective_splitting():
    settings = walks.default_chunk_settings(chunk_size=120)
    index = walks.n_seed_chunks(settings)  # the first walk chunk
    cands = walks.chunk_candidates(settings, index)
    assert len(cands) > 60
    mats = [P for P, _ in cands]
    assert not redundant_mask(mats, [c for _, c in cands]).any()
    assert max(_rows(P) for P in mats) >= 7  # the walk leaves the seeds


def test_release2_settings_are_kept_and_differ_from_release3():
    r2, r3 = walks.default_chunk_settings(release=2), walks.default_chunk_settings()
    assert "minimal_only" not in r2 and r3["minimal_only"] is True
    assert r2["seed"] == walks.DEFAULT_CHUNK_SEED != r3["seed"]


def test_release4_walk_keeps_chi_equal_children_of_other_hodge_numbers_only():
    from cicy4lib.geometry.equivalence import contraction_verdicts
    from cicy4lib.geometry.labelling import label_with_limit

    r3, r4 = walks.default_chunk_settings(), walks.default_chunk_settings(release=4)
    assert "minimal_rule" not in r3 and r4["minimal_rule"] == "hodge" and r4["seed"] != r3["seed"]
    settings = walks.default_chunk_settings(release=4, chunk_size=120, max_rows=10)
    cands = walks.chunk_candidates(settings, walks.n_seed_chunks(settings))
    assert len(cands) > 60
    mats, chis = [P for P, _ in cands], [c for _, c in cands]
    euler_redundant = np.flatnonzero(redundant_mask(mats, chis))
    assert len(euler_redundant) > 0  # the Hodge rule keeps what the Euler rule would drop
    for k in euler_redundant[:6]:  # each of them: every χ-equal contraction is another manifold
        h, _ = label_with_limit(mats[k], 20, euler=chis[k])
        v = contraction_verdicts([mats[k]], [chis[k]], [h])
        assert v["different"][0] and not v["same"][0] and not v["unlabelled"][0]
