"""Mixed precision on the CPU: bfloat16 autocast where the CPU runs it natively, a float32 output
layer (exact integers), the same checkpoints, and a clear fallback where the CPU lacks bfloat16."""
from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn.functional as F

from cicy4lib.training import device as device_mod
from cicy4lib.models import build_model
from cicy4lib.training.config import TrainConfig
from cicy4lib.training.device import Float32Linear, amp_dtype, float32_output
from cicy4lib.training.loop import train
from cicy4lib.training.targets import output_layer

from .test_train import MODEL, assert_same_run, make_data

CPU = torch.device("cpu")
native_bf16 = pytest.mark.skipif(not device_mod.cpu_bf16_supported(),
                                 reason="this CPU has no native bfloat16 (AVX512-BF16/AMX)")


def test_amp_dtype_on_cpu_follows_the_hardware(monkeypatch):
    monkeypatch.setattr(device_mod, "cpu_bf16_supported", lambda: True)
    assert amp_dtype(CPU) == torch.bfloat16
    monkeypatch.setattr(device_mod, "cpu_bf16_supported", lambda: False)
    assert amp_dtype(CPU) is None
    assert amp_dtype(CPU, TrainConfig(amp_dtype="bfloat16")) == torch.bfloat16  # forced


def test_float32_output_layer_under_autocast():
    model = build_model("LSTM-448").eval()
    keys = list(model.state_dict())
    float32_output(model)
    layer = output_layer(model)
    assert type(layer) is Float32Linear and list(model.state_dict()) == keys  # checkpoints unchanged
    x = torch.randn(5, layer.in_features, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
        plain = F.linear(x, layer.weight, layer.bias)  # what autocast would have done
    assert out.dtype == torch.float32 and plain.dtype == torch.bfloat16
    torch.testing.assert_close(out, F.linear(x.float(), layer.weight, layer.bias))
    # a copy computes with its own weights (the folded copy that model.pt is saved from)
    twin = copy.deepcopy(model)
    tl = output_layer(twin)
    assert type(tl) is Float32Linear
    with torch.no_grad():
        tl.weight.mul_(2)
    assert not torch.equal(tl(x.float()), layer(x.float()))


def test_amp_without_native_bf16_warns_and_trains_float32(tmp_path, monkeypatch):
    monkeypatch.setattr(device_mod, "cpu_bf16_supported", lambda: False)
    data, split = make_data()
    with pytest.warns(UserWarning, match="no native bfloat16"):
        res = train(MODEL, data, split, TrainConfig(max_epochs=1, batch_size=16, device="cpu", amp=True),
                    output_dir=tmp_path, progress=False)
    assert json.loads((res.run_dir / "model.json").read_text())["amp"] is False
    assert type(output_layer(res.model)) is torch.nn.Linear


@native_bf16
@pytest.mark.parametrize("recipe", ["paper", "fast"])
def test_bf16_training_is_reproducible_and_saves_plain_checkpoints(tmp_path, recipe):
    data, split = make_data()
    cfg = TrainConfig.from_recipe(recipe, max_epochs=2, batch_size=16, device="cpu", amp=True, num_threads=1)
    a = train(MODEL, data, split, cfg, output_dir=tmp_path / "a", progress=False)
    b = train(MODEL, data, split, cfg, output_dir=tmp_path / "b", progress=False)
    assert_same_run(a, b)  # deterministic on CPU for a fixed thread count
    meta = json.loads((a.run_dir / "model.json").read_text())
    assert meta["amp"] == "bfloat16"
    f32 = train(MODEL, data, split, TrainConfig.from_recipe(recipe, max_epochs=2, batch_size=16, device="cpu",
                                                            num_threads=1),
                output_dir=tmp_path / "f32", progress=False)
    assert a.history["train_loss"].tolist() != f32.history["train_loss"].tolist()  # autocast did run
    # model.pt is a plain state_dict of the registry architecture, raw Hodge outputs
    fresh = build_model(MODEL)
    fresh.load_state_dict(torch.load(a.run_dir / "model.pt", weights_only=True))
    x = torch.as_tensor(data.features()[:8])
    with torch.no_grad():
        out = fresh.eval()(x)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert float(out[:, 3].mean()) > 1.0  # raw units, not standardised ones
