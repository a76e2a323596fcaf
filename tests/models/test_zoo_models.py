"""The models beyond the paper: CICYMiner, the He-Lukas dense baseline, the bipartite graph network,
and the permutation augmentation."""
import numpy as np
import pytest
import torch

from cicy4lib import euler_number
from cicy4lib.training.augment import permute_occupied
from cicy4lib.models.checkpoint import load_model
from cicy4lib.data.splits import Split
from cicy4lib.models import build_model, count_parameters, get_entry, list_models
from cicy4lib.models import cicyminer, helukas
from cicy4lib.training.config import TrainConfig
from cicy4lib.training.loop import train, validation_loss

NEW_MODELS = ("CICYMiner", "HeLukas-FC", "BipartiteGNN-64")


def _configs():
    """A few genuine configurations from the sample (integer degree matrices, padded)."""
    from cicy4lib import load_dataset

    data = load_dataset("sample")
    rng = np.random.default_rng(0)
    idx = rng.choice(len(data), 12, replace=False)
    return data, idx


# ------------------------------------------------------------------------------ registry


def test_new_models_are_registered_beyond_the_paper():
    beyond = list_models(paper=False)
    for name in NEW_MODELS:
        assert name in beyond
        assert get_entry(name).notebook_dir == "Models_Beyond-paper"
    assert len(list_models(paper=True)) == 14


# ------------------------------------------------------------------------------ CICYMiner


def test_cicyminer_parameter_count_matches_its_docstring_and_derivation():
    n = count_parameters(build_model("CICYMiner", device="meta"))
    assert n == cicyminer.expected_parameter_count() == 9_027_616
    assert "9,027,616" in cicyminer.__doc__
    assert cicyminer.inception_parameters(1, 128) == 5_376  # 36·1·128 + 6·128
    trunk = build_model("CICYMiner", device="meta").trunk
    assert sum(p.numel() for p in trunk.parameters()) == 1_776_000


def test_cicyminer_forward_shapes_in_train_and_eval_mode():
    torch.manual_seed(0)
    model = build_model("CICYMiner")
    x = torch.rand(3, 16, 20)
    model.train()
    assert model(x).shape == (3, 4)
    main, aux = model.forward_with_aux(x)
    assert main.shape == aux.shape == (3, 4)
    assert model(x[:1]).shape == (1, 4)  # a one-sample training batch does not break batch norm
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (3, 4)
        assert model(x.unsqueeze(1)).shape == (3, 4)
        assert torch.equal(model(x), model.forward_with_aux(x)[0])  # eval: deterministic, same heads


def test_cicyminer_loss_weights_and_huber_delta():
    model = build_model("CICYMiner")
    assert model.loss_weights.tolist() == pytest.approx([0.05, 0.3, 0.25, 0.35])
    assert model.huber_delta == 1.5
    y = torch.zeros(2, 4)
    # residual 1 on one output (quadratic part) of the principal head only: weight × 0.5
    for k, w in enumerate((0.05, 0.3, 0.25, 0.35)):
        main = torch.zeros(2, 4)
        main[:, k] = 1.0
        assert model.weighted_huber(main, torch.zeros(2, 4), y).item() == pytest.approx(w * 0.5)
        # the auxiliary head is weighted like its principal; residual 3 > δ: δ(|r| − δ/2) = 3.375
        aux = torch.zeros(2, 4)
        aux[:, k] = 3.0
        assert model.weighted_huber(torch.zeros(2, 4), aux, y).item() == pytest.approx(w * 3.375)
    config = TrainConfig.from_recipe("cicyminer", max_epochs=5)
    assert (config.optimizer, config.lr, config.weight_decay, config.batch_size) == ("adam", 1e-3, 0.0, 64)
    assert (config.lr_factor, config.lr_patience, config.huber_delta) == (0.3, 75, 1.5)
    assert config.max_epochs == 5 and TrainConfig.from_recipe("cicyminer").max_epochs == 300


def test_cicyminer_input_scaling_uses_train_statistics():
    model = build_model("CICYMiner")
    x = torch.zeros(4, 16, 20)
    x[:, 0, 0] = torch.tensor([1.0, 2.0, 3.0, 5.0]) / 6
    model.fit_input_scaling(x)
    assert model.input_min.item() == 0.0 and model.input_max.item() == pytest.approx(5 / 6)
    assert set(model.state_dict()) >= {"input_min", "input_max", "loss_weights"}


# ------------------------------------------------------------------------------ He-Lukas


def test_helukas_shapes_and_count():
    model = build_model("HeLukas-FC")
    assert count_parameters(model) == helukas.expected_parameter_count() == 2_327_004
    assert "2,327,004" in helukas.__doc__
    model.eval()
    assert model(torch.rand(5, 16, 20)).shape == (5, 4)
    model.train()
    assert model(torch.rand(5, 1, 16, 20)).shape == (5, 4)


# ------------------------------------------------------------------------------ graph network


def _permute_block(x, rng):
    """Permute the occupied rows and columns of each matrix with numpy (independent of augment.py)."""
    out = x.clone()
    for b in range(len(x)):
        m = x[b].numpy()
        r = int((m != 0).any(1).sum())
        c = int((m != 0).any(0).sum())
        pr, pc = rng.permutation(r), rng.permutation(c)
        out[b, :r, :c] = torch.from_numpy(m[:r, :c][pr][:, pc])
    return out


def test_graph_network_is_invariant_under_row_and_column_permutations():
    data, idx = _configs()
    x = torch.from_numpy(data.features(idx)).double()
    torch.manual_seed(0)
    model = build_model("BipartiteGNN-64").double().eval()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        ref = model(x)
        for _ in range(3):
            assert torch.allclose(model(_permute_block(x, rng)), ref, rtol=1e-9, atol=1e-9)
            assert torch.allclose(model(permute_occupied(x)), ref, rtol=1e-9, atol=1e-9)
        # and it does see the matrix: a different configuration gives a different output
        assert not torch.allclose(ref[0], ref[1])


def test_graph_network_reads_the_dimensions_of_the_factors():
    model = build_model("BipartiteGNN-64")
    x = torch.zeros(1, 16, 20)
    x[0, 0, 0] = 1.0  # the sextic [6]: one factor P^5, one polynomial of degree 6
    rows, cols, edges, row_mask, col_mask = model.graph_inputs(x)
    assert rows[0, 0].tolist() == pytest.approx([5.0, 1.0, 6.25])
    assert row_mask.sum().item() == 1 and col_mask.sum().item() == 1
    assert edges[0, :, 0, 0].tolist() == pytest.approx([1.0, 6.0, 9.0])


# ------------------------------------------------------------------------------ augmentation


def test_augmentation_keeps_the_manifold():
    data, idx = _configs()
    x = torch.from_numpy(data.features(idx))
    y = permute_occupied(x, generator=torch.Generator().manual_seed(3))
    assert y.shape == x.shape
    changed = 0
    for a, b in zip(x.numpy(), y.numpy()):
        ia, ib = np.rint(a * data.scale).astype(int), np.rint(b * data.scale).astype(int)
        assert euler_number(ib) == euler_number(ia)
        assert sorted(ia.sum(1)) == sorted(ib.sum(1)) and sorted(ia.sum(0)) == sorted(ib.sum(0))
        r, c = (ia != 0).any(1).sum(), (ia != 0).any(0).sum()
        assert not ib[r:].any() and not ib[:, c:].any()  # padding stays after the occupied block
        changed += not np.array_equal(ia, ib)
    assert changed > 0
    again = permute_occupied(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again, y)  # reproducible with a generator
    assert permute_occupied(x.unsqueeze(1)).shape == (len(idx), 1, 16, 20)


# ------------------------------------------------------------------------------ training


def _tiny_split(n_train=8, n_valid=4):
    return Split(np.arange(n_train), np.arange(n_train, n_train + n_valid), np.arange(0), name="tiny")


@pytest.mark.parametrize("name", ("HeLukas-FC", "BipartiteGNN-64", "CICYMiner"))  # cheap first: one-time imports
def test_new_model_trains_one_epoch_and_its_checkpoint_loads(name, tmp_path):
    from cicy4lib import load_dataset

    data = load_dataset("sample").subset(np.arange(12))
    n_train = 4 if name == "CICYMiner" else 8  # CICYMiner: ~10 GFLOP per sample and step
    config = TrainConfig(max_epochs=1, batch_size=2 if name == "CICYMiner" else 4, lr=1e-3, device="cpu",
                         augment_permutations=(name == "HeLukas-FC"))
    result = train(name, data, _tiny_split(n_train, 2), config, output_dir=tmp_path, progress=False)
    assert result.epochs == 1 and np.isfinite(result.best_val_loss)
    model, meta = load_model(result.run_dir)
    assert meta["arch"] == name and model.arch == name
    x = torch.from_numpy(data.features(np.arange(8, 12)))
    with torch.no_grad():
        assert torch.allclose(model(x), result.model(x), atol=1e-5)
    if name == "CICYMiner":  # the train statistics travel with the weights
        assert model.input_max.item() == pytest.approx(float(data.features(np.arange(n_train)).max()))
        y = torch.from_numpy(data.hodge[8:12].astype(np.float32))
        expected = model.validation_loss_per_sample(x, y).mean().item()
        assert validation_loss(model, x, y, batch_size=4) == pytest.approx(expected, rel=1e-5)


def test_augmentation_flag_is_part_of_the_recipe(tmp_path):
    from cicy4lib import load_dataset

    data = load_dataset("sample").subset(np.arange(12))
    config = TrainConfig(max_epochs=1, batch_size=4, device="cpu", augment_permutations=True)
    result = train("HeLukas-FC", data, _tiny_split(), config, output_dir=tmp_path, progress=False)
    _, meta = load_model(result.run_dir)
    assert meta["recipe"]["augment_permutations"] is True
    with pytest.raises(ValueError, match="recipe differs.*augment_permutations"):
        train("HeLukas-FC", data, _tiny_split(), TrainConfig(max_epochs=2, batch_size=4, device="cpu"),
              output_dir=tmp_path, progress=False)
