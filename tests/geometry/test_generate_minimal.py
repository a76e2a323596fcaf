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
