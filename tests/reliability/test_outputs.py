"""cicy4lib.outputs: the one place output locations are resolved and refused."""
import json
import os

import pytest

from cicy4lib import outputs
from cicy4lib.errors import Cicy4Error, OutputRefusedError


@pytest.mark.parametrize("name", ["..", ".", "../x", "/abs", "a/b", "a\\b", "", " ", "~", ".hidden", "x\x00y",
                                  "x\ny", "x" * 300])
def test_child_name_refuses_names_that_leave_the_folder(name):
    with pytest.raises(OutputRefusedError):
        outputs.child_name(name)


@pytest.mark.parametrize("name", ["LSTM-448_72", "run.1", "trial_0001", "a b"])
def test_child_name_accepts_plain_names(name):
    assert outputs.child_name(name) == name


def test_child_path_refuses_a_link_out_of_the_folder(tmp_path):
    (tmp_path / "base").mkdir()
    os.symlink(tmp_path, tmp_path / "base" / "run")
    with pytest.raises(OutputRefusedError, match="link"):
        outputs.child_path(tmp_path / "base", "run")


def test_package_outputs_refused_unless_forced():
    shipped = outputs.PACKAGE_DIR / "_data" / "sample.npz"
    before = shipped.read_bytes()
    with pytest.raises(OutputRefusedError, match="installed package"):
        outputs.sample_output(shipped)
    assert outputs.sample_output(shipped, force=True) == shipped  # resolved only: nothing written
    assert shipped.read_bytes() == before


def test_sample_default_is_the_current_folder_and_never_replaces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert outputs.sample_output(None).resolve() == (tmp_path / "sample.npz").resolve()
    (tmp_path / "sample.npz").write_bytes(b"earlier")
    with pytest.raises(OutputRefusedError, match="default location"):
        outputs.sample_output(None)
    assert outputs.sample_output(tmp_path / "sample.npz").name == "sample.npz"  # given explicitly: fine


def test_output_that_is_or_holds_the_input_is_refused(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "conf.npy").write_bytes(b"x")
    with pytest.raises(OutputRefusedError, match="input itself"):
        outputs.check_output(src, inputs=[src])
    with pytest.raises(OutputRefusedError, match="holds the input"):
        outputs.check_output(tmp_path, inputs=[src / "conf.npy"])
    assert outputs.check_output(tmp_path / "out", inputs=[src]) == tmp_path / "out"


def test_dataset_folder_with_other_data_refused(tmp_path):
    (tmp_path / "conf.npy").write_bytes(b"precious")
    with pytest.raises(OutputRefusedError, match="another dataset"):
        outputs.check_dataset_folder(tmp_path, {"a": 1}, own_files=["conf_Xtrain.npy"])
    assert (tmp_path / "conf.npy").read_bytes() == b"precious"
    assert outputs.check_dataset_folder(tmp_path, {"a": 1}, own_files=["conf_Xtrain.npy"], force=True)


def test_dataset_folder_with_same_kind_but_other_fingerprint_refused(tmp_path):
    (tmp_path / "conf_Xtrain.npy").write_bytes(b"x")
    (tmp_path / "provenance.json").write_text(json.dumps({"fingerprint": {"a": 1}}))
    outputs.check_dataset_folder(tmp_path, {"a": 1}, own_files=["conf_Xtrain.npy"])  # the same data: fine
    with pytest.raises(OutputRefusedError, match="other data"):
        outputs.check_dataset_folder(tmp_path, {"a": 2}, own_files=["conf_Xtrain.npy"])


def test_claim_folder_refuses_another_job(tmp_path):
    folder = tmp_path / "study"
    outputs.claim_folder(folder, {"study": "s", "storage": "sqlite:///a.db"}, what="search")
    outputs.claim_folder(folder, {"study": "s", "storage": "sqlite:///a.db"}, what="search")  # the same job
    (folder / "best_trial.json").write_text("{}")
    with pytest.raises(OutputRefusedError, match="another search.*storage"):
        outputs.claim_folder(folder, {"study": "s", "storage": "sqlite:///b.db"}, what="search")
    assert (folder / "best_trial.json").read_text() == "{}"
    outputs.claim_folder(folder, {"study": "s", "storage": "sqlite:///b.db"}, what="search", force=True)


def test_claim_folder_refuses_unclaimed_files(tmp_path):
    (tmp_path / "x.txt").write_text("mine")
    with pytest.raises(OutputRefusedError, match="no search claims"):
        outputs.claim_folder(tmp_path, {"study": "s"}, what="search")


def test_verified_chunks_moves_damaged_ones_aside(tmp_path):
    import numpy as np

    np.savez_compressed(tmp_path / "chunk_00000.npz", conf=np.zeros((2, 16, 20), np.int8), hodge=np.zeros((2, 4)))
    good = (tmp_path / "chunk_00000.npz").read_bytes()
    (tmp_path / "chunk_00001.npz").write_bytes(good[: len(good) // 2])
    with pytest.warns(UserWarning, match="damaged"):
        assert outputs.verified_chunks(tmp_path, [0, 1]) == [0]
    assert (tmp_path / "chunk_00001.npz.damaged").read_bytes() == good[: len(good) // 2]
    assert not (tmp_path / "chunk_00001.npz").exists()


def test_refusals_are_library_errors():
    assert issubclass(OutputRefusedError, Cicy4Error) and issubclass(OutputRefusedError, OSError)
