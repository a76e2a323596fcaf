"""The model registry: parameter counts (SPEC.md section 2), shapes, and the published layout.

The ``published_mimic`` modules below are laid out as the paper's notebooks lay out theirs
(SPEC.md section 2): the same layers registered once by name and once more inside
``nn.Sequential`` containers, which gives their state_dicts alias keys. They also follow the
published forward passes, so loading their weights into our models must reproduce outputs.
tests/models/test_checkpoint.py reuses them to build pickled "published" modules.
"""
import pytest
import torch
from torch import nn

from cicy4lib.jobs import cli
from cicy4lib.models import (
    HodgeNet,
    ModelSpec,
    StateDictMismatchError,
    build_model,
    convert_published_state_dict,
    count_parameters,
    format_model_table,
    get_entry,
    register_model,
    get_spec,
    infer_spec,
    list_models,
    load_published_state_dict,
)

# SPEC.md section 2 (Table 1 of the paper).
PARAMS = {
    "CNN-GRU-384": 2_222_276,
    "CNN-GRU-416": 2_487_748,
    "ResNet-GRU-256": 1_328_836,
    "ResNet-GRU-400": 2_336_836,
    "CNN-LSTM-256": 1_547_460,
    "CNN-LSTM-384": 2_673_860,
    "CNN-LSTM-400": 2_842_308,
    "CNN-LSTM-416": 3_016_900,
    "LSTM-400": 2_373_124,
    "LSTM-424": 2_637_316,
    "LSTM-448": 2_915_332,
    "LSTM-456": 3_011_076,
    "ResNet-LSTM-256": 1_531_588,
    "ResNet-LSTM-400": 2_826_436,
}


# --------------------------------------------------------------------------- published mimics
# Class names as in the notebooks; the LSTM-only top-level class name is not known, so it gets
# a name outside SPEC's list (this also exercises the generic stand-in of the trusted import).


class CNN_block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 128, kernel_size=4)
        self.conv2 = nn.Conv2d(128, 64, kernel_size=3)
        self.conv_total = nn.Sequential(
            self.conv1, nn.MaxPool2d(2), self.conv2, nn.MaxPool2d(2), nn.ReLU(), nn.Flatten()
        )

    def forward(self, x):  # (B, 1, 16, 20) -> (B, 384)
        return self.conv_total(x)


class ResNet_block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 128, kernel_size=4)
        self.bn1 = nn.BatchNorm2d(128)  # declared, never used in forward
        self.conv2 = nn.Conv2d(128, 64, kernel_size=3)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, kernel_size=2)
        self.fc0 = nn.Linear(320, 256, bias=False)
        self.conv_total = nn.Sequential(
            self.conv1, nn.MaxPool2d(2), nn.ReLU(),
            self.conv2, nn.MaxPool2d(2), nn.ReLU(),
            self.conv3, nn.Flatten(),
        )
        self.shortcut = nn.Sequential(nn.Flatten(), self.fc0)

    def forward(self, x):  # (B, 1, 16, 20) -> (B, 256)
        return self.conv_total(x) + self.shortcut(x)


class LSTM_block(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.lstm = nn.LSTM(input_size=20, hidden_size=hidden, num_layers=2, batch_first=True)

    def forward(self, x):  # (B, 16, 20) -> (B, hidden), explicit zero state
        h0 = torch.zeros(2, x.shape[0], self.hidden)
        c0 = torch.zeros(2, x.shape[0], self.hidden)
        out, _ = self.lstm(x, (h0, c0))
        return out[:, -1, :]


class RNN_block(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.gru = nn.GRU(input_size=20, hidden_size=hidden, num_layers=2, batch_first=True)

    def forward(self, x):
        out, _ = self.gru(x, torch.zeros(2, x.shape[0], self.hidden))
        return out[:, -1, :]


class _Hybrid(nn.Module):
    """conv block features ++ RNN block features -> fc1 -> fc2 (no activation)."""

    conv_name = rnn_name = None

    def forward(self, x):  # (B, 16, 20)
        conv = getattr(self, self.conv_name)(x.unsqueeze(1))
        rnn = getattr(self, self.rnn_name)(x)
        return self.fc2(self.fc1(torch.cat([conv, rnn], dim=1)))


class CNN_LSTM_hybrid(_Hybrid):
    conv_name, rnn_name = "cnn_block", "lstm_block"

    def __init__(self, hidden):
        super().__init__()
        self.cnn_block = CNN_block()
        self.lstm_block = LSTM_block(hidden)
        self.fc1 = nn.Linear(384 + hidden, 1024)
        self.fc2 = nn.Linear(1024, 4)


class CNN_RNN_hybrid(_Hybrid):
    conv_name, rnn_name = "cnn_block", "rnn_block"

    def __init__(self, hidden):
        super().__init__()
        self.cnn_block = CNN_block()
        self.rnn_block = RNN_block(hidden)
        self.fc1 = nn.Linear(384 + hidden, 1024)
        self.fc2 = nn.Linear(1024, 4)


class ResNet_RNN_hybrid(_Hybrid):
    conv_name = "resnet_block"

    def __init__(self, hidden, rnn="gru"):
        super().__init__()
        self.resnet_block = ResNet_block()
        if rnn == "gru":
            self.rnn_name, self.rnn_block = "rnn_block", RNN_block(hidden)
        else:
            self.rnn_name, self.lstm_block = "lstm_block", LSTM_block(hidden)
        self.fc1 = nn.Linear(256 + hidden, 1024)
        self.fc2 = nn.Linear(1024, 4)


class LSTM_net(nn.Module):
    """The LSTM-only notebooks: lstm, fc1, fc2 at top level."""

    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.lstm = nn.LSTM(input_size=20, hidden_size=hidden, num_layers=2, batch_first=True)
        self.fc1 = nn.Linear(hidden, 1024)
        self.fc2 = nn.Linear(1024, 4)

    def forward(self, x):
        zeros = torch.zeros(2, x.shape[0], self.hidden)
        out, _ = self.lstm(x, (zeros, zeros))
        return self.fc2(self.fc1(out[:, -1, :]))


MIMIC_CLASSES = (CNN_block, ResNet_block, LSTM_block, RNN_block,
                 CNN_LSTM_hybrid, CNN_RNN_hybrid, ResNet_RNN_hybrid, LSTM_net)


def published_mimic(name, seed=0):
    """A module laid out like the published notebook of registry model ``name``."""
    spec = get_spec(name)
    torch.manual_seed(seed)
    if spec.family is None:
        model = LSTM_net(spec.hidden)
    elif spec.family == "cnn":
        model = (CNN_LSTM_hybrid if spec.rnn == "lstm" else CNN_RNN_hybrid)(spec.hidden)
    else:
        model = ResNet_RNN_hybrid(spec.hidden, spec.rnn)
        # give the unused batch-norm buffers non-default values, so copying them is checked
        for bn in (model.resnet_block.bn1, model.resnet_block.bn2):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.num_batches_tracked.fill_(7)
    return model.eval()


def random_inputs(n=5, seed=1):
    """Like real inputs: small non-negative integers / 6 in the top-left block."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 16, 20)
    x[:, :6, :9] = torch.randint(0, 4, (n, 6, 9), generator=g).float() / 6.0
    return x + 0.01 * torch.rand(n, 16, 20, generator=g)


ALIAS_KEYS = {
    "cnn": ["cnn_block.conv_total.0.weight", "cnn_block.conv_total.2.bias"],
    "resnet": ["resnet_block.conv_total.0.weight", "resnet_block.conv_total.3.weight",
               "resnet_block.conv_total.6.bias", "resnet_block.shortcut.1.weight"],
    None: [],
}


# --------------------------------------------------------------------------- registry


def test_registry_holds_the_papers_models_in_table_order():
    assert list_models(paper=True) == list(PARAMS)
    assert list_models()[: len(PARAMS)] == list(PARAMS)
    assert get_spec("CNN-LSTM-400") == ModelSpec("cnn", "lstm", 400)
    assert get_spec("LSTM-448") == ModelSpec(None, "lstm", 448)
    assert get_spec("ResNet-GRU-256") == ModelSpec("resnet", "gru", 256)


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_builds_and_maps_a_batch_to_four_outputs(name):
    model = build_model(name)
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(3, 16, 20))
    assert out.shape == (3, 4)
    assert model.arch == get_entry(name).name


def test_a_new_architecture_is_one_registry_entry():
    from cicy4lib.models import registry

    name = "Test-Linear-8"
    try:
        @register_model(name, group="beyond", family="linear", description="test only")
        def _linear():
            return nn.Sequential(nn.Flatten(), nn.Linear(320, 4))

        assert name in list_models() and name not in list_models(paper=True)
        assert build_model("test_linear_8").arch == name
        with pytest.raises(ValueError, match="already registered"):
            register_model(name.lower(), _linear)
    finally:
        registry._REGISTRY.pop(name, None)
    assert name not in list_models()


@pytest.mark.parametrize("name", list(PARAMS))
def test_parameter_counts_match_spec(name):
    assert count_parameters(build_model(name, device="meta")) == PARAMS[name]


def test_names_are_case_insensitive_and_unknown_names_suggest():
    assert get_spec("lstm-448") is get_spec("LSTM-448")
    assert get_spec("cnn_lstm_400").name == "CNN-LSTM-400"
    assert get_spec("LSTM-455").name == "LSTM-456"  # the README's typo
    with pytest.raises(KeyError, match="LSTM-448"):
        get_spec("LSTM-449")


def test_spec_validation():
    assert ModelSpec("none", "GRU", 8) == ModelSpec(None, "gru", 8)
    for bad in [("vgg", "lstm", 8), ("cnn", "rnn", 8), ("cnn", "lstm", 0), ("cnn", "lstm", 2.5)]:
        with pytest.raises(ValueError):
            ModelSpec(*bad)


@pytest.mark.parametrize("name", ["CNN-GRU-384", "ResNet-LSTM-256", "LSTM-400"])
def test_forward_shapes(name):
    model = build_model(name).eval()
    x = random_inputs(3)
    with torch.inference_mode():
        out = model(x)
        assert out.shape == (3, 4) and out.dtype == torch.float32
        assert torch.equal(model(x.unsqueeze(1)), out)  # (B, 1, 16, 20) accepted too
    assert isinstance(model.rnn, nn.LSTM if "LSTM" in name else nn.GRU)
    assert model.rnn.batch_first and model.rnn.num_layers == 2 and model.rnn.input_size == 20


def test_forward_rejects_bad_inputs():
    model = build_model("LSTM-400")
    with pytest.raises(ValueError, match=r"\(B, 16, 20\)"):
        model(torch.zeros(2, 20, 16))
    with pytest.raises(TypeError, match="floating-point"):
        model(torch.zeros(2, 16, 20, dtype=torch.int64))


def test_model_table_and_cli(capsys):
    table = format_model_table()
    for name, n in PARAMS.items():
        line = next(l for l in table.splitlines() if l.split()[0] == name)
        assert line.split()[-1] == f"{n:,}"
    assert cli.main(["models"]) == 0
    assert "ResNet-LSTM-400" in capsys.readouterr().out


# --------------------------------------------------------------------------- published layout


@pytest.mark.parametrize("name", list(PARAMS))
def test_published_layout_loads_with_same_outputs(name):
    spec = get_spec(name)
    mimic = published_mimic(name, seed=3)
    state = mimic.state_dict()
    assert all(k in state for k in ALIAS_KEYS[spec.family])  # alias keys present
    assert count_parameters(mimic) == PARAMS[name]  # shared layers count once

    model = build_model(name)
    converted = convert_published_state_dict(state)
    # every tensor of ours filled, nothing left over
    assert set(converted) == set(model.state_dict())
    assert infer_spec(state) == spec
    assert load_published_state_dict(model, state) is model
    model.eval()
    x = random_inputs(6)
    with torch.inference_mode():
        torch.testing.assert_close(model(x), mimic(x), rtol=1e-5, atol=1e-6)


def test_load_published_builds_the_model_when_asked():
    state = published_mimic("ResNet-GRU-256").state_dict()
    model = load_published_state_dict(None, state)
    assert isinstance(model, HodgeNet) and model.arch == "ResNet-GRU-256"
    assert load_published_state_dict("resnet-gru-256", state).arch == "ResNet-GRU-256"
    assert torch.equal(model.features.bn1.running_mean, state["resnet_block.bn1.running_mean"])


def test_our_layout_loads_too():
    src = build_model("CNN-GRU-416")
    dst = load_published_state_dict(build_model("CNN-GRU-416"), src.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(src.state_dict().values(), dst.state_dict().values()))


def test_other_architecture_is_a_clear_error():
    state = published_mimic("LSTM-424").state_dict()
    with pytest.raises(StateDictMismatchError, match="LSTM-448.*shape mismatches.*looks like LSTM-424"):
        load_published_state_dict(build_model("LSTM-448"), state)

    state = published_mimic("CNN-LSTM-400").state_dict()
    with pytest.raises(StateDictMismatchError) as err:
        load_published_state_dict(build_model("LSTM-400"), state)
    msg = str(err.value)
    assert "unexpected keys: cnn_block.conv1.weight" in msg and "looks like CNN-LSTM-400" in msg

    state = published_mimic("ResNet-LSTM-256").state_dict()
    with pytest.raises(StateDictMismatchError) as err:
        load_published_state_dict(build_model("CNN-LSTM-256"), state)
    msg = str(err.value)
    assert "does not match CNN-LSTM-256" in msg and "unexpected keys: resnet_block.bn1.weight" in msg
    assert "fc1.weight: state_dict (1024, 512) vs model (1024, 640)" in msg
    assert "looks like ResNet-LSTM-256" in msg


def test_missing_and_foreign_keys_are_named():
    state = dict(published_mimic("LSTM-400").state_dict())
    del state["fc2.bias"]
    with pytest.raises(StateDictMismatchError, match=r"missing keys: fc2\.bias"):
        load_published_state_dict(build_model("LSTM-400"), state)
    state["fc2.bias"] = torch.zeros(4)
    state["decoder.weight"] = torch.zeros(3)
    del state["fc1.bias"]
    with pytest.raises(StateDictMismatchError, match=r"missing keys: fc1\.bias; unexpected keys: decoder\.weight"
                       r".*looks like LSTM-400"):
        load_published_state_dict(build_model("LSTM-400"), state)
    with pytest.raises(StateDictMismatchError, match="neither the published nor our layout: decoder.weight"):
        convert_published_state_dict(state)


def test_inconsistent_alias_is_refused():
    state = dict(published_mimic("CNN-GRU-384").state_dict())
    state["cnn_block.conv_total.0.weight"] = state["cnn_block.conv_total.0.weight"] + 1
    with pytest.raises(StateDictMismatchError, match="alias key 'cnn_block.conv_total.0.weight'"):
        load_published_state_dict(build_model("CNN-GRU-384"), state)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["LSTM-448", "CNN-GRU-384", "ResNet-LSTM-256"])
def test_cuda_forward_matches_cpu(name):
    import warnings

    model = published_mimic(name)  # any weights will do
    ours = load_published_state_dict(build_model(name), model.state_dict()).eval()
    x = random_inputs(64)
    with torch.inference_mode():
        expected = ours(x)
        ours.cuda()
        with warnings.catch_warnings():
            # e.g. "RNN module weights are not part of single contiguous chunk": the cuDNN path is off
            warnings.simplefilter("error")
            got = ours(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-2, atol=1e-3)  # TF32 convolutions allowed
