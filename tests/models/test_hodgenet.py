"""HodgeGNN-64 (cicy4lib/models/hodgenet.py): registry entry with its recipe, exact-integer outputs that
satisfy both index relations, permutation invariance, one epoch through the trainer, and the
``canonical`` option of prediction (any ordering of a configuration -> the same prediction)."""
import numpy as np
import pytest
import torch

from cicy4lib import load_dataset
from cicy4lib.data.splits import Split
from cicy4lib.models import build_model, get_entry, list_models
from cicy4lib.models.checkpoint import load_model
from cicy4lib.results.evaluate import canonical_matrices, predict
from cicy4lib.training.augment import permute_occupied
from cicy4lib.training.config import TrainConfig
from cicy4lib.training.loop import train


@pytest.fixture(scope="module")
def sample():
    return load_dataset("sample").subset(np.arange(64))


def _permuted(conf, seed=0):
    """Each matrix with its occupied rows and columns randomly reordered (the trainer's augmentation)."""
    x = torch.from_numpy(np.ascontiguousarray(conf))
    return permute_occupied(x, generator=torch.Generator().manual_seed(seed)).numpy()


def test_registered_beyond_the_paper_with_its_default_recipe():
    assert "HodgeGNN-64" in list_models(paper=False)
    entry = get_entry("hodgegnn-64")
    assert entry.notebook_dir == "Models_Beyond-paper" and entry.recipe["standardize_targets"] is False
    cfg = TrainConfig.from_recipe("HodgeGNN-64", max_epochs=3)
    assert cfg.recipe_name == "hodgegnn-64" and cfg.max_epochs == 3 and cfg.lr == entry.recipe["lr"]
    with pytest.raises(Exception, match="unknown recipe"):
        TrainConfig.from_recipe("LSTM-448")  # a model without a recipe of its own


def test_outputs_are_integers_that_satisfy_both_index_relations(sample):
    torch.manual_seed(0)
    model = build_model("HodgeGNN-64").eval()
    with torch.no_grad():
        out = model(torch.from_numpy(sample.features())).numpy().astype(np.float64)
    h11, h21, h31, h22 = out.T
    assert np.array_equal(out, np.rint(out))
    chi = sample.euler.astype(np.float64)
    assert np.array_equal(4 + 2 * h11 - 4 * h21 + 2 * h31 + h22, chi)
    assert np.array_equal(-4 * h11 + 2 * h21 - 4 * h31 + h22, np.full(len(chi), 44.0))


def test_invariant_under_row_and_column_permutations(sample):
    torch.manual_seed(0)
    model = build_model("HodgeGNN-64").eval()
    a = predict(model, sample.conf, scale=6.0, canonical=False)
    b = predict(model, _permuted(sample.conf), scale=6.0, canonical=False)
    assert int((a != b).any(1).sum()) == 0


def test_invalid_input_gives_nan_h31_h22_not_an_error():
    out = build_model("HodgeGNN-64").eval()(torch.rand(2, 16, 20))
    assert out.shape == (2, 4) and torch.isnan(out[:, 2:]).all() and torch.isfinite(out[:, :2]).all()


def test_one_epoch_through_the_trainer_and_the_checkpoint_loads(sample, tmp_path):
    config = TrainConfig.from_recipe("HodgeGNN-64", max_epochs=1, batch_size=8, device="cpu", amp=False)
    result = train("HodgeGNN-64", sample, Split(np.arange(32), np.arange(32, 48), np.arange(48, 64), "tiny"),
                   config, output_dir=tmp_path, progress=False)
    assert result.epochs == 1 and np.isfinite(result.best_val_loss)
    model, meta = load_model(result.run_dir)
    assert meta["arch"] == "HodgeGNN-64"
    x = torch.from_numpy(sample.features(np.arange(48, 64)))
    with torch.no_grad():
        assert torch.equal(model(x), result.model.eval()(x))


def test_canonical_option_gives_the_same_prediction_for_any_ordering(sample):
    torch.manual_seed(0)
    lstm = build_model("LSTM-448").eval()  # reads one ordering: not invariant by construction
    perm = _permuted(sample.conf, seed=1)
    assert (perm != sample.conf).any()
    assert np.array_equal(canonical_matrices(perm), canonical_matrices(sample.conf))
    assert np.array_equal(canonical_matrices(perm / 6.0, 6.0) * 6, canonical_matrices(sample.conf).astype(float))
    a = predict(lstm, sample.conf, scale=6.0, canonical=True)
    b = predict(lstm, perm, scale=6.0, canonical=True)
    assert int((np.rint(a) != np.rint(b)).any(1).sum()) == 0
    # arrays are canonicalised by default (a user's input); a dataset keeps its stored order
    assert np.array_equal(predict(lstm, perm, scale=6.0), b)
