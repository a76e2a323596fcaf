"""Checkpoints: round trip, refusals, atomic saves, and the trusted import of published pickles."""
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import cicy4lib
from cicy4lib.models.checkpoint import load_model, save_checkpoint
from cicy4lib.errors import CheckpointError, CheckpointMismatchError, CheckpointNotFoundError, UntrustedCheckpointError
from cicy4lib.fileio import atomic_torch_save
from cicy4lib.models.published_layout import import_published_module
from cicy4lib.models import ModelSpec, build_model


def _load_mimics():
    """tests/models/test_models.py's published-layout modules, imported by path (any pytest import mode)."""
    spec = importlib.util.spec_from_file_location("_cicy4_published_mimics", Path(__file__).with_name("test_models.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mimics = _load_mimics()
X = mimics.random_inputs(4)


def _outputs(model):
    with torch.inference_mode():
        return model.eval()(X)


def _model(name="LSTM-400", seed=0):
    torch.manual_seed(seed)
    return build_model(name)


CONFIG = {"scale": 6.0, "split": "72", "seed": 42, "recipe": {"lr": 0.01}, "metrics": {"val_loss": 0.5}}


# --------------------------------------------------------------------------- round trip


def test_round_trip_run_dir(tmp_path):
    model = _model("CNN-GRU-384")
    weights = save_checkpoint(tmp_path / "run", model, CONFIG, extra={"epoch": np.int64(12)})
    assert weights == tmp_path / "run" / "model.pt"
    # model.pt is a plain state_dict: weights_only loading works without our code
    state = torch.load(weights, weights_only=True)
    assert set(state) == set(model.state_dict())
    record = json.loads((tmp_path / "run" / "model.json").read_text())
    assert record["arch"] == "CNN-GRU-384" and record["library_version"] == cicy4lib.__version__
    assert record["epoch"] == 12 and record["split"] == "72" and "created" in record
    assert list(record)[:2] == ["arch", "scale"]

    loaded, config = load_model(tmp_path / "run")
    assert config["arch"] == "CNN-GRU-384" and config["recipe"] == {"lr": 0.01}
    assert not loaded.training
    assert torch.equal(_outputs(loaded), _outputs(model))
    loaded2, _ = load_model(weights, arch="cnn-gru-384")  # the .pt path and a case-free arch
    assert torch.equal(_outputs(loaded2), _outputs(model))
    assert not list((tmp_path / "run").glob("*.tmp"))  # no temp files left behind


def test_round_trip_pt_file_and_optimizer(tmp_path):
    model = _model("ResNet-LSTM-256")
    # anything with state_dict() will do (a real optimizer's first construction imports ~6 s of torch)
    opt = SimpleNamespace(state_dict=lambda: {"state": {}, "param_groups": [{"lr": 0.01, "params": [0]}]})
    path = save_checkpoint(tmp_path / "best.pt", model, {"scale": 6.0}, optimizer=opt)
    assert path == tmp_path / "best.pt" and (tmp_path / "best.json").exists()
    optim_state = torch.load(tmp_path / "optimizer.pt", weights_only=True)
    assert optim_state == {"optimizer": opt.state_dict(), "scheduler": None}
    loaded, config = load_model(path)
    assert config["arch"] == "ResNet-LSTM-256"
    assert torch.equal(_outputs(loaded), _outputs(model))


def test_config_arch_must_match_the_model(tmp_path):
    with pytest.raises(CheckpointMismatchError, match="LSTM-424"):
        save_checkpoint(tmp_path, _model("LSTM-400"), {"arch": "LSTM-424"})
    with pytest.raises(TypeError, match="not JSON serialisable"):
        save_checkpoint(tmp_path, _model("LSTM-400"), {"bad": object()})
    assert not (tmp_path / "model.pt").exists()  # nothing written when the config is bad


# --------------------------------------------------------------------------- refusals


def test_arch_mismatch(tmp_path):
    save_checkpoint(tmp_path, _model("LSTM-424"), CONFIG)
    with pytest.raises(CheckpointError, match="checkpoint is LSTM-424, expected LSTM-448"):
        load_model(tmp_path, arch="LSTM-448")


def test_custom_spec_round_trip(tmp_path):
    model = build_model(ModelSpec("cnn", "gru", 24))  # not a registry model
    save_checkpoint(tmp_path, model, CONFIG)
    loaded, config = load_model(tmp_path)
    assert config["arch"] == "CNN-GRU-24"
    assert torch.equal(_outputs(loaded), _outputs(model))


def test_resaving_a_loaded_config(tmp_path):
    save_checkpoint(tmp_path / "a", _model("LSTM-400"), CONFIG)
    (tmp_path / "a" / "model.json").unlink()
    with pytest.warns(UserWarning):
        model, config = load_model(tmp_path / "a")
    save_checkpoint(tmp_path / "b", model, config)
    assert "arch_inferred" not in json.loads((tmp_path / "b" / "model.json").read_text())


def test_weights_of_another_architecture(tmp_path):
    save_checkpoint(tmp_path, _model("LSTM-424"), CONFIG)
    # model.json says LSTM-400 but the weights are LSTM-424's
    record = json.loads((tmp_path / "model.json").read_text())
    (tmp_path / "model.json").write_text(json.dumps({**record, "arch": "LSTM-400"}))
    with pytest.raises(CheckpointMismatchError, match="does not match LSTM-400.*looks like LSTM-424"):
        load_model(tmp_path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at") as err:
        load_model(tmp_path / "nope" / "model.pt")
    assert str(err.value) == f"no checkpoint at {tmp_path / 'nope' / 'model.pt'}"
    assert isinstance(err.value, CheckpointError)
    with pytest.raises(CheckpointNotFoundError, match="holds no model.pt"):
        load_model(tmp_path)
    with pytest.raises(CheckpointNotFoundError):
        import_published_module(tmp_path / "missing.pt", trust=True)


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("damage", ["empty", "100 bytes", "half", "garbled"])
def test_truncated_or_corrupt_file(tmp_path, damage, legacy):
    model = _model("LSTM-400")
    save_checkpoint(tmp_path, model, CONFIG)
    weights = tmp_path / "model.pt"
    torch.save(model.state_dict(), weights, _use_new_zipfile_serialization=not legacy)
    data = bytearray(weights.read_bytes())
    if damage == "garbled":
        data[200:260] = b"x" * 60
    else:
        data = data[: {"empty": 0, "100 bytes": 100, "half": len(data) // 2}[damage]]
    weights.write_bytes(bytes(data))
    # model.json's SHA-256 catches the damage first ...
    with pytest.raises(CheckpointError, match=r"model\.pt does not match the SHA-256 recorded in model\.json"):
        load_model(tmp_path)
    # ... and a checkpoint without one (older versions) still gets a clear error from the loader
    record = json.loads((tmp_path / "model.json").read_text())
    del record["sha256"], record["json_sha256"]  # as an older version wrote it
    (tmp_path / "model.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=r"model\.pt is (truncated or )?corrupt"):
        load_model(tmp_path)


def test_corrupt_json(tmp_path):
    save_checkpoint(tmp_path, _model("LSTM-400"), CONFIG)
    (tmp_path / "model.json").write_text('{"arch": "LSTM-4')
    with pytest.raises(CheckpointError, match=r"model\.json is truncated or corrupt"):
        load_model(tmp_path)


def test_missing_json_infers_the_architecture(tmp_path):
    model = _model("CNN-LSTM-256")
    save_checkpoint(tmp_path, model, CONFIG)
    (tmp_path / "model.json").unlink()
    with pytest.warns(UserWarning, match="CNN-LSTM-256 inferred"):
        loaded, config = load_model(tmp_path)
    assert config["arch"] == "CNN-LSTM-256" and config["arch_inferred"]
    assert torch.equal(_outputs(loaded), _outputs(model))
    loaded, config = load_model(tmp_path, arch="CNN-LSTM-256")  # stated: no warning needed
    assert not config["arch_inferred"]
    with pytest.raises(CheckpointMismatchError, match="checkpoint is CNN-LSTM-256 .*expected CNN-LSTM-384"):
        load_model(tmp_path, arch="CNN-LSTM-384")


def test_published_state_dict_as_model_pt(tmp_path):
    mimic = mimics.published_mimic("ResNet-GRU-400", seed=5)
    torch.save(mimic.state_dict(), tmp_path / "model.pt")  # notebook key layout, alias keys included
    loaded, config = load_model(tmp_path, arch="ResNet-GRU-400")
    assert config["arch"] == "ResNet-GRU-400"
    torch.testing.assert_close(_outputs(loaded), _outputs(mimic), rtol=1e-5, atol=1e-6)


def test_whole_module_is_refused_by_load_model(tmp_path):
    torch.save(_model("LSTM-400"), tmp_path / "model.pt")  # a pickled module, not a state_dict
    with pytest.raises(UntrustedCheckpointError, match="arbitrary code.*trust=True"):
        load_model(tmp_path, arch="LSTM-400")


def test_wrapped_and_prefixed_state_dicts(tmp_path):
    model = _model("LSTM-400")
    prefixed = {f"module.{k}": v for k, v in mimics.published_mimic("LSTM-400").state_dict().items()}
    torch.save(prefixed, tmp_path / "model.pt")  # DataParallel-style keys
    loaded, _ = load_model(tmp_path, arch="LSTM-400")
    torch.testing.assert_close(_outputs(loaded), _outputs(mimics.published_mimic("LSTM-400")))


def test_non_state_dict_content(tmp_path):
    torch.save({"epoch": 3}, tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="does not hold a model state_dict"):
        load_model(tmp_path, arch="LSTM-400")
    # a trainer-style wrapper {"model": state_dict, ...} is unwrapped
    model = _model("LSTM-400")
    torch.save({"model": model.state_dict(), "epoch": 3}, tmp_path / "model.pt")
    loaded, _ = load_model(tmp_path, arch="LSTM-400")
    assert torch.equal(_outputs(loaded), _outputs(model))


# --------------------------------------------------------------------------- atomic saves


def test_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    old = _model("LSTM-400", seed=1)
    save_checkpoint(tmp_path, old, CONFIG)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 partial bytes of a zip archive")  # the start of a real save ...
        raise KeyboardInterrupt("simulated crash mid-write")  # ... then the process dies

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, _model("LSTM-400", seed=2), {**CONFIG, "split": "80"})
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save({"epoch": 1}, tmp_path / "model.pt")
    monkeypatch.setattr(torch, "save", real_save)

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # intact, no temp files
    loaded, config = load_model(tmp_path)
    assert config["split"] == "72"
    assert torch.equal(_outputs(loaded), _outputs(old))


def test_failure_while_staging_the_config_touches_nothing(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, _model("LSTM-400", seed=1), CONFIG)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # model.pt staged; model.json's fsync fails (disk full, ...)
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        save_checkpoint(tmp_path, _model("LSTM-400", seed=2), CONFIG)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_saved_files_get_the_usual_permissions(tmp_path):
    save_checkpoint(tmp_path, _model("LSTM-400"), CONFIG)
    umask = os.umask(0)
    os.umask(umask)
    for name in ("model.pt", "model.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_torch_save_replaces(tmp_path):
    target = tmp_path / "sub" / "state.pt"
    atomic_torch_save({"epoch": 1}, target)
    atomic_torch_save({"epoch": 2}, target)
    assert torch.load(target, weights_only=True) == {"epoch": 2}
    assert os.listdir(target.parent) == ["state.pt"]


# --------------------------------------------------------------------------- published pickles


def _save_published_pickle(monkeypatch, name, path, seed=0, legacy=False):
    """torch.save a whole mimic module whose classes look like they live in a notebook's __main__."""
    mimic = mimics.published_mimic(name, seed=seed)
    with monkeypatch.context() as m:
        main = sys.modules["__main__"]
        for cls in mimics.MIMIC_CLASSES:
            m.setattr(cls, "__module__", "__main__")
            m.setattr(main, cls.__name__, cls, raising=False)
        with warnings.catch_warnings():  # legacy format: "couldn't retrieve source code"
            warnings.simplefilter("ignore", UserWarning)
            torch.save(mimic, path, _use_new_zipfile_serialization=not legacy)
    for cls in mimics.MIMIC_CLASSES:  # gone again: the import must not need them
        assert getattr(sys.modules["__main__"], cls.__name__, None) is not cls
    return mimic


@pytest.mark.parametrize("name, legacy", [
    ("CNN-LSTM-400", False), ("ResNet-GRU-256", False), ("LSTM-448", False), ("CNN-GRU-416", True),
])
def test_trusted_import_of_published_pickle(tmp_path, monkeypatch, name, legacy):
    path = tmp_path / f"{name}.pt"
    mimic = _save_published_pickle(monkeypatch, name, path, seed=7, legacy=legacy)

    with pytest.raises(UntrustedCheckpointError, match="arbitrary code.*trust=True"):
        import_published_module(path)
    with pytest.raises(UntrustedCheckpointError, match="trust=True"):
        load_model(path, arch=name)  # weights_only refuses it too

    model, config = import_published_module(path, trust=True)
    assert config["arch"] == name and config["scale"] == 6.0
    assert config["published_class"] == type(mimic).__name__
    torch.testing.assert_close(_outputs(model), _outputs(mimic), rtol=1e-5, atol=1e-6)
    assert "CNN_block" not in vars(sys.modules["__main__"])  # nothing leaked into __main__

    with pytest.raises(CheckpointMismatchError, match=f"checkpoint is {name}, expected LSTM-400"):
        import_published_module(path, trust=True, arch="LSTM-400")

    # converted, it is an ordinary safe checkpoint
    save_checkpoint(tmp_path / "converted", model, config)
    again, _ = load_model(tmp_path / "converted", arch=name)
    assert torch.equal(_outputs(again), _outputs(model))


def test_trusted_import_of_truncated_pickle(tmp_path, monkeypatch):
    path = tmp_path / "CNN-GRU-384.pt"
    _save_published_pickle(monkeypatch, "CNN-GRU-384", path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        import_published_module(path, trust=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_load_onto_cuda(tmp_path):
    model = _model("CNN-LSTM-256")
    save_checkpoint(tmp_path, model.cuda(), CONFIG)  # saved from the GPU, stored as CPU tensors
    assert all(t.device.type == "cpu" for t in torch.load(tmp_path / "model.pt", weights_only=True).values())
    loaded, _ = load_model(tmp_path, map_location="cuda")
    assert next(loaded.parameters()).is_cuda
    loaded_cpu, _ = load_model(tmp_path)
    assert next(loaded_cpu.parameters()).device.type == "cpu"


# --------------------------------------------------------------------------- integrity and field validation


def test_flipped_bytes_in_model_pt_are_refused(tmp_path):
    model = _model("LSTM-400")
    save_checkpoint(tmp_path, model, CONFIG)
    record = json.loads((tmp_path / "model.json").read_text())
    assert set(record["sha256"]) == {"weights"} and len(record["sha256"]["weights"]) == 64
    weights = tmp_path / "model.pt"
    data = bytearray(weights.read_bytes())
    # flip one bit inside a weight tensor's bytes: torch alone would load the changed weights silently
    offset = len(data) - 2000
    data[offset] ^= 0x01
    weights.write_bytes(bytes(data))
    record_without = {k: v for k, v in record.items() if k not in ("sha256", "json_sha256")}  # an older version's
    with pytest.raises(CheckpointError, match=r"model\.pt does not match the SHA-256 recorded in model\.json"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps(record_without))
    assert not torch.equal(_load_plain(weights, model), _outputs(model))  # torch alone loads other weights
    with pytest.raises(CheckpointError, match="CRC-32"):  # without a recorded hash: the zip CRC check
        load_model(tmp_path)


def _load_plain(weights, model):
    """Outputs of ``model``'s architecture with ``weights`` loaded by torch alone (no checks)."""
    clone = _model(model.arch)
    clone.load_state_dict(torch.load(weights, weights_only=True))
    return _outputs(clone)


def test_optimizer_file_is_hashed_too(tmp_path):
    opt = SimpleNamespace(state_dict=lambda: {"state": {}, "param_groups": [{"lr": 0.01, "params": [0]}]})
    save_checkpoint(tmp_path, _model("LSTM-400"), CONFIG, optimizer=opt)
    record = json.loads((tmp_path / "model.json").read_text())
    from cicy4lib.models.checkpoint import file_sha256

    assert record["sha256"] == {"weights": file_sha256(tmp_path / "model.pt"),
                                "optimizer": file_sha256(tmp_path / "optimizer.pt")}


@pytest.mark.parametrize("field, value, words", [
    ("arch", 5, "'arch' must be a non-empty string, got 5"),
    ("arch", ["LSTM-400"], "'arch' must be a non-empty string"),
    ("arch", "", "'arch' must be a non-empty string"),
    ("scale", -6, "'scale' must be a positive finite number, got -6"),
    ("scale", 0, "'scale' must be a positive"),
    ("scale", "6", "'scale' must be a positive finite number, got \"6\""),
    ("scale", True, "'scale' must be a positive"),
    ("scale", None, "'scale' must be a positive"),
    ("scale", {"value": 6}, "'scale' must be a positive"),
    ("split", 72, "'split' must be a string or null"),
    ("seed", 4.2, "'seed' must be an integer or null"),
    ("seed", False, "'seed' must be an integer"),
    ("recipe", [1, 2], "'recipe' must be an object"),
    ("metrics", "good", "'metrics' must be an object"),
    ("epoch", -1, "'epoch' must be a non-negative integer"),
    ("epoch", 2.5, "'epoch' must be a non-negative integer"),
    ("best_val_loss", "low", "'best_val_loss' must be a finite number or null"),
    ("target_std", [1, 1, 0, 1], "'target_std' must be a list of 4 positive"),
    ("target_mean", [1, 2], "'target_mean' must be a list of 4 finite numbers"),
    ("sha256", {"weights": "abc"}, "'sha256' must be an object of 64-digit"),
    ("sha256", "abc", "'sha256' must be an object"),
])
def test_model_json_fields_of_the_wrong_type_name_the_field(tmp_path, field, value, words):
    save_checkpoint(tmp_path, _model("LSTM-400"), CONFIG)
    record = json.loads((tmp_path / "model.json").read_text())
    record[field] = value
    (tmp_path / "model.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError) as err:
        load_model(tmp_path)
    assert words in str(err.value) and "model.json" in str(err.value)


@pytest.mark.parametrize("text", ["[1, 2]", '"LSTM-400"', "null", "[" * 100_000 + "]" * 100_000,
                                  '{"arch": ' + "[" * 50_000 + "]" * 50_000 + "}"])
def test_model_json_not_an_object_or_nested_too_deeply(tmp_path, text):
    save_checkpoint(tmp_path, _model("LSTM-400"), CONFIG)
    (tmp_path / "model.json").write_text(text)
    with pytest.raises(CheckpointError, match=r"model\.json"):
        load_model(tmp_path)


def test_negative_scale_is_refused_when_saving(tmp_path):
    with pytest.raises(CheckpointError, match="'scale' must be a positive finite number, got -6"):
        save_checkpoint(tmp_path, _model("LSTM-400"), {**CONFIG, "scale": -6})
    with pytest.raises(CheckpointError, match="'scale'"):
        save_checkpoint(tmp_path, _model("LSTM-400"), {**CONFIG, "scale": float("nan")})
    assert not list(tmp_path.iterdir())  # nothing written


def test_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    save_checkpoint(tmp_path / "gru", _model("ResNet-GRU-256"), CONFIG)
    with pytest.raises(CheckpointMismatchError, match="checkpoint is ResNet-GRU-256, expected LSTM-448"):
        load_model(tmp_path / "gru", arch="LSTM-448")
    # model.json names an architecture whose weights these are not
    record = json.loads((tmp_path / "gru" / "model.json").read_text())
    (tmp_path / "gru" / "model.json").write_text(json.dumps({**record, "arch": "CNN-LSTM-256"}))
    with pytest.raises(CheckpointMismatchError, match="does not match CNN-LSTM-256"):
        load_model(tmp_path / "gru")
    (tmp_path / "gru" / "model.json").write_text(json.dumps({**record, "arch": "NoSuchNet-7"}))
    with pytest.raises(CheckpointError, match="NoSuchNet-7"):
        load_model(tmp_path / "gru")


# --------------------------------------------------------------------------- training state files


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbled", "a list", "pickled object", "missing field",
                                    "wrong type"])
def test_read_training_state_damage_is_a_checkpoint_error(tmp_path, damage):
    from cicy4lib.models.checkpoint import read_training_state

    path = tmp_path / "state.pt"
    torch.save({"epoch": 3, "history": {"val_loss": [1.0, 0.5, 0.4]}, "model": _model("LSTM-400").state_dict()}, path)
    required = {"epoch": int, "history": dict}
    assert read_training_state(path, required)["epoch"] == 3
    data = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbled":
        path.write_bytes(data[:64] + b"\xff" * 512 + data[576:])
    elif damage == "a list":
        torch.save([1, 2, 3], path)
    elif damage == "pickled object":
        torch.save({"epoch": 3, "history": {}, "opt": SimpleNamespace(a=1)}, path)
    elif damage == "missing field":
        torch.save({"history": {}}, path)
    else:
        torch.save({"epoch": True, "history": {}}, path)
    with pytest.raises(CheckpointError, match=r"state\.pt") as err:
        read_training_state(path, required)
    assert "overwrite=True" in str(err.value)
    with pytest.raises(CheckpointNotFoundError, match="no training state"):
        read_training_state(tmp_path / "none.pt")


def test_flipped_bytes_without_a_recorded_hash_fail_the_crc_check(tmp_path):
    """state.pt (and checkpoints from before the SHA-256) are zip files: torch.load ignores their
    CRC-32s, the library checks them."""
    from cicy4lib.models.checkpoint import read_training_state

    path = tmp_path / "state.pt"
    torch.save({"epoch": 3, "model": _model("LSTM-400").state_dict()}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    assert torch.load(path, weights_only=True)["epoch"] == 3  # torch alone loads it
    with pytest.raises(CheckpointError, match=r"state\.pt is corrupt: its record .* fails its CRC-32 check"):
        read_training_state(path)
    save_checkpoint(tmp_path / "run", _model("LSTM-400"), CONFIG)
    (tmp_path / "run" / "model.pt").write_bytes(bytes(data))  # hand-replaced weights, no matching hash
    record = json.loads((tmp_path / "run" / "model.json").read_text())
    del record["sha256"]
    (tmp_path / "run" / "model.json").write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="CRC-32"):
        load_model(tmp_path / "run")


def test_checkpoints_without_a_recorded_hash_still_load(tmp_path):
    model = _model("LSTM-400")
    save_checkpoint(tmp_path, model, CONFIG)
    record = json.loads((tmp_path / "model.json").read_text())
    del record["sha256"], record["json_sha256"]  # written by an earlier version of the library
    (tmp_path / "model.json").write_text(json.dumps(record))
    loaded, config = load_model(tmp_path)
    assert torch.equal(_outputs(loaded), _outputs(model)) and "sha256" not in config
