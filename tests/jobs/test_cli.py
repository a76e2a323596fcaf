"""The command line on the embedded sample: train a small run, evaluate, ensemble, predict."""
import json

import numpy as np
import pytest

from cicy4lib.jobs import cli
from cicy4lib import geometry

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def run(capsys, *argv):
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """Two one-epoch runs on 400 sample configurations (shared by the tests below)."""
    out = tmp_path_factory.mktemp("runs")
    for model in ("LSTM-400", "ResNet-GRU-256"):
        assert cli.main(["train", model, "--max-samples", "400", "--epochs", "1",
                         "--output-dir", str(out), "--quiet"]) == 0
    return out


def test_models_lists_all_fourteen_with_counts(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "LSTM-448" in out and "2,915,332" in out and "ResNet-LSTM-400" in out
    assert len([line for line in out.splitlines() if line.startswith(("CNN", "LSTM", "ResNet"))]) == 14


def test_train_writes_a_loadable_run(runs_dir):
    run_dir = runs_dir / "LSTM-400_72"
    meta = json.loads((run_dir / "model.json").read_text())
    assert meta["arch"] == "LSTM-400" and meta["split"] == "72"
    assert (run_dir / "log.csv").read_text().startswith("train_loss,val_loss")


def test_evaluate_prints_raw_and_constrained(capsys, runs_dir):
    code, out, _ = run(capsys, "evaluate", str(runs_dir / "LSTM-400_72"), "--max-samples", "400")
    assert code == 0
    assert "raw" in out and "constrained" in out and "h22" in out


def test_ensemble_reports_mean_and_hill_climb(capsys, runs_dir):
    code, out, _ = run(capsys, "ensemble", "--runs-dir", str(runs_dir), "--max-samples", "400",
                       "--hill-climb")
    assert code == 0
    assert "LSTM-400_72" in out and "ResNet-GRU-256_72" in out
    assert "hill-climb" in out and "mean (all)" in out


def test_predict_with_checkpoint_gives_constrained_answer(capsys, runs_dir):
    code, out, _ = run(capsys, "predict", "[[2,2,4]]", "--checkpoint", str(runs_dir / "LSTM-400_72"),
                       "--json")
    assert code == 0
    report = json.loads(out)
    assert report["euler"] == 1632 and report["hodge_exact"] == [1, 0, 263, 1100]
    h11, h21, h31, h22 = report["prediction_constrained"]
    if not report["constraint_fallback"]:
        # the constrained answer always satisfies both linear relations with the exact χ
        assert 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22 == 1632
        assert -4 * h11 + 2 * h21 - 4 * h31 + h22 == 44


def test_predict_without_checkpoint_reports_geometry(capsys):
    code, out, _ = run(capsys, "predict", "{{4,0},{0,4}}", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["is_product"] is True and report["euler"] == 576


@pytest.mark.parametrize("matrix, words", [
    ("[[2,a]]", "cannot read"),
    ("[[1,2]]", "dimension"),
    ("[[2,-1,5]]", "negative"),
])
def test_predict_invalid_matrix_is_one_line_error(capsys, matrix, words):
    code, out, err = run(capsys, "predict", matrix)
    assert code == 2 and out == ""
    assert err.startswith("error:") and words in err and len(err.strip().splitlines()) == 1


def test_missing_checkpoint_is_one_line_error(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", str(tmp_path / "nothing"))
    assert code == 2 and err.startswith("error:") and "nothing" in err


def test_data_writes_kaggle_files(capsys, tmp_path):
    code, out, _ = run(capsys, "data", "--out", str(tmp_path))
    assert code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"conf_Xtrain.npy", "hodge_ytest.npy", "conf_Xtrain_80.npy", "foldx_4_yval.npy"} <= names
    x_train, x_valid, x_test = (np.load(tmp_path / f"conf_X{s}.npy") for s in ("train", "valid", "test"))
    assert len(x_train) + len(x_valid) + len(x_test) > 1000
    assert geometry.euler_number(x_test[0]) % 6 == 0  # the written matrices are valid (scaled) configurations


# --------------------------------------------------------------------------- user errors vs bugs

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from cicy4lib.training.runs import RunLock  # noqa: E402


def assert_one_line_error(code, out, err, *words):
    assert code == 2, (code, err)
    assert "Traceback" not in err and err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize("argv, words", [
    (["train", "LSTM-400", "--epochs", "0"], ["--epochs", "positive"]),
    (["train", "LSTM-400", "--batch-size", "x"], ["--batch-size"]),
    (["train", "LSTM-400", "--lr", "nan"], ["--lr"]),
    (["train", "LSTM-400", "--split", "99"], ["unknown split '99'"]),
    (["train", "LSTM-400", "--max-samples", "-5"], ["--max-samples"]),
    (["train", "LSTM-999", "--max-samples", "50"], ["unknown model 'LSTM-999'"]),
    (["train", "LSTM-400", "--data", "/no/such/file.npz"], ["/no/such/file.npz"]),
    (["train", "LSTM-400", "--device", "warp-drive", "--max-samples", "50"], ["--device warp-drive"]),
    (["train"], ["required: model"]),
    (["train", "LSTM-400", "--bogus-flag"], ["--bogus-flag"]),
    (["frobnicate"], ["frobnicate"]),
    (["notebooks", "run", "--bogus-flag"], ["--bogus-flag"]),  # sub-programs with their own parsers
    (["sample", "--n", "many"], ["--n"]),
    (["evaluate", "/no/such/run"], ["/no/such/run"]),
    (["evaluate", "/no/such/run", "--split", "cv9"], ["cv9"]),
    (["ensemble", "--max-samples", "0"], ["--max-samples"]),
    (["predict", "[[2,2,4]]", "--checkpoint", "/no/such/run"], ["/no/such/run"]),
])
def test_user_errors_are_one_line_and_exit_2(capsys, argv, words):
    assert_one_line_error(*run(capsys, *argv), *words)


def test_damaged_files_are_one_line_errors(capsys, tmp_path):
    bad_run = tmp_path / "bad_run"
    bad_run.mkdir()
    (bad_run / "model.pt").write_bytes(b"PK\x03\x04 not really")
    assert_one_line_error(*run(capsys, "evaluate", str(bad_run)), "model.pt")
    (bad_run / "model.json").write_text('{"arch": "LSTM-400", "scale": -6}')
    assert_one_line_error(*run(capsys, "predict", "[[2,2,4]]", "--checkpoint", str(bad_run)), "'scale'")
    # a folder where a matrix file was expected: an OS error on a user's path, not a bug
    assert_one_line_error(*run(capsys, "predict", str(tmp_path)), str(tmp_path))


def test_run_directory_refusals_and_overwrite(capsys, tmp_path):
    args = ["train", "ResNet-GRU-256", "--max-samples", "120", "--epochs", "1", "--output-dir", str(tmp_path),
            "--quiet"]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    run_dir = tmp_path / "ResNet-GRU-256_72"
    before = (run_dir / "model.pt").read_bytes()
    assert_one_line_error(*run(capsys, *args, "--no-resume"), "holds a run", "--overwrite")
    assert_one_line_error(*run(capsys, *args, "--max-samples", "150"), "other data", "n 120 -> 150")
    with RunLock(run_dir):
        assert_one_line_error(*run(capsys, *args, "--overwrite"), "train.lock", "delete")
    assert (run_dir / "model.pt").read_bytes() == before  # nothing above touched the run
    code, out, err = run(capsys, *args, "--no-resume", "--overwrite", "--lr", "0.02")
    assert code == 0, err
    assert json.loads((run_dir / "model.json").read_text())["recipe"]["lr"] == 0.02


def test_a_bug_keeps_its_traceback(capsys, monkeypatch):
    # errors that are not the library's are bugs: KeyError, ValueError, OSError without a user path
    for exc in (KeyError("internal"), ValueError("internal"), TypeError("internal"), OSError("internal")):
        def broken(args, exc=exc):
            raise exc

        monkeypatch.setattr(cli, "_cmd_models", broken)
        with pytest.raises(type(exc), match="internal"):
            cli.main(["models"])


def _python(code, *args):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def test_processes_user_error_vs_bug():
    """The real entry point: a user error is one line and exit 2, a bug a traceback and exit 1."""
    user = _python("import sys; from cicy4lib.jobs.cli import main; sys.exit(main())", "predict", "[[[2,2,4]]]")
    assert user.returncode == 2 and user.stderr.startswith("error:") and len(user.stderr.strip().splitlines()) == 1
    assert "Traceback" not in user.stderr
    bug = _python("import sys; from cicy4lib.jobs import cli\n"
                  "def broken(args):\n    return {}['no such key']\n"
                  "cli._cmd_models = broken\nsys.exit(cli.main(['models']))")
    assert bug.returncode == 1 and "Traceback" in bug.stderr and "KeyError: 'no such key'" in bug.stderr
