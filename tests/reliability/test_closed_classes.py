"""Issue 24, second half: each class closed at its root, with a case of its own.

Run names and study names stay inside their output folder; two searches never share a folder;
a damaged study database and a killed study's stale trials; model.json's own hash, text as
model.pt; split files written atomically into a checked folder with their fingerprint; verify's
report never written through a link; a run evaluated on other data says so, and the constrained
scores use an exact chi."""
import json
import os
import warnings
from collections import Counter

import numpy as np
import pytest

import cicy4lib
from cicy4lib.errors import (CheckpointError, DataError, DataMismatchWarning, OutputError, OutputRefusedError)


@pytest.fixture(scope="module")
def small():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cicy4lib.load_dataset("sample").subset(np.arange(60))


def _quiet(*_a):
    pass


# --------------------------------------------------------------------------- 1. run names

@pytest.mark.parametrize("name", ["../escape", "..", "/tmp/abs", "a/b", ".hidden", ""])
def test_user_given_run_name_cannot_leave_the_output_folder(small, tmp_path, name):
    from cicy4lib.training.loop import TrainConfig, train
    from cicy4lib.training.runs import run_directory

    out = tmp_path / "out"
    with pytest.raises(OutputRefusedError):
        run_directory("HeLukas-FC", small, "72", out, name)
    with pytest.raises(OutputRefusedError):
        train("HeLukas-FC", small, config=TrainConfig(max_epochs=1), output_dir=out, run_name=name, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] or not (tmp_path / "out").exists()
    assert not (tmp_path / "escape").exists()


def test_tree_run_name_is_checked_too(small, tmp_path):
    from cicy4lib.training.estimators import train_tree

    with pytest.raises(OutputRefusedError):
        train_tree("Trees-RF", small, "72", None, output_dir=tmp_path / "out", run_name="../x")
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- 2. search

def _search(data, tmp_path, db, **kw):
    from cicy4lib.jobs.search import run_search

    kw.setdefault("output_dir", tmp_path / "studies")
    return run_search("HeLukas-FC", data, trials=kw.pop("trials", 1), epochs=1, storage=f"sqlite:///{db}",
                      progress=False, log=_quiet, **kw)


def test_two_default_named_searches_never_share_a_folder(small, tmp_path):
    _search(small, tmp_path, tmp_path / "first.db")
    best = sorted((tmp_path / "studies").rglob("best_trial.json"))
    assert len(best) == 1
    kept = best[0].read_bytes()
    with pytest.raises(OutputRefusedError, match="another search"):
        _search(small, tmp_path, tmp_path / "second.db")
    assert best[0].read_bytes() == kept
    # the same search again (same storage, same name) resumes into its folder
    _search(small, tmp_path, tmp_path / "first.db")
    # and --force hands the folder over on purpose
    _search(small, tmp_path, tmp_path / "second.db", force=True)


@pytest.mark.parametrize("name", ["..", "../x", "/tmp/x", "a/b", ""])
def test_study_names_stay_inside_the_output_folder(small, tmp_path, name):
    with pytest.raises(OutputRefusedError):
        _search(small, tmp_path, tmp_path / "s.db", study_name=name)
    assert not (tmp_path / "x").exists() and not (tmp_path / "s.db").exists()


@pytest.fixture(scope="module")
def study_db(small, tmp_path_factory):
    """The bytes of a study database with one finished trial."""
    tmp = tmp_path_factory.mktemp("study")
    _search(small, tmp, tmp / "good.db")
    return (tmp / "good.db").read_bytes()


@pytest.mark.parametrize("damage", ["text", "random", "truncated", "header-only"])
def test_damaged_sqlite_study_file_is_a_clear_error_and_is_kept(study_db, tmp_path, damage):
    from cicy4lib.jobs.search import make_storage

    blob = study_db
    raw = {"text": b"not a database\n" * 20, "random": bytes(np.random.default_rng(1).integers(0, 256, 4096,
                                                                                               dtype=np.uint8)),
           "truncated": blob[:len(blob) // 2], "header-only": blob[:16] + bytes(4000)}[damage]
    db = tmp_path / "bad.db"
    db.write_bytes(raw)
    with pytest.raises(DataError) as err:
        make_storage(f"sqlite:///{db}")
    assert str(db) in str(err.value) and "\n" not in str(err.value)
    assert db.read_bytes() == raw


def test_killed_study_with_stale_running_trials_resumes(small, study_db, tmp_path):
    import optuna

    from cicy4lib.jobs.search import make_storage

    db = tmp_path / "stale.db"
    db.write_bytes(study_db)
    storage = make_storage(f"sqlite:///{db}")
    name = optuna.get_all_study_names(storage)[0]
    study = optuna.load_study(study_name=name, storage=storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            study.ask()  # RUNNING forever, no heartbeat: a killed worker's trials
    study = _search(small, tmp_path, db, study_name=name, trials=2)
    states = Counter(t.state.name for t in study.trials)
    assert states["COMPLETE"] == 2 and not states.get("RUNNING")
    assert states["FAIL"] == 3
    assert all(t.user_attrs.get("stale") for t in study.trials if t.state.name == "FAIL")


def test_running_trial_with_a_fresh_heartbeat_is_left_alone(study_db, tmp_path):
    import optuna

    from cicy4lib.jobs.search import fail_stale_trials, make_storage

    db = tmp_path / "live.db"
    db.write_bytes(study_db)
    storage = make_storage(f"sqlite:///{db}")
    study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trial = study.ask()
    storage.record_heartbeat(trial._trial_id)  # a live worker beats
    assert fail_stale_trials(study) == []
    assert study.trials[-1].state.name == "RUNNING"


# --------------------------------------------------------------------------- 3. checkpoints

@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    cicy4lib.save_checkpoint(run, cicy4lib.build_model("HeLukas-FC"), {"scale": 6.0, "split": "72"})
    return run


@pytest.mark.parametrize("field,value", [("scale", 5.0), ("split", "80"), ("arch", "HeLukas-FC "),
                                         ("note", "added")])
def test_model_json_edited_after_saving_is_refused(run_dir, field, value):
    config = json.loads((run_dir / "model.json").read_text())
    config[field] = value
    (run_dir / "model.json").write_text(json.dumps(config, indent=2))
    with pytest.raises(CheckpointError, match="changed after it was saved"):
        cicy4lib.load_model(run_dir)


def test_model_json_reindented_still_loads(run_dir):
    config = json.loads((run_dir / "model.json").read_text())
    (run_dir / "model.json").write_text(json.dumps(config, indent=4, sort_keys=True))
    _, loaded = cicy4lib.load_model(run_dir)
    assert loaded["scale"] == 6.0 and len(loaded["json_sha256"]) == 64


def test_resaving_a_loaded_config_records_a_fresh_hash(run_dir, tmp_path):
    model, config = cicy4lib.load_model(run_dir)
    config["note"] = "kept on purpose"
    cicy4lib.save_checkpoint(tmp_path / "again", model, config)
    assert cicy4lib.load_model(tmp_path / "again")[1]["note"] == "kept on purpose"


@pytest.mark.parametrize("text", ["hello", "", "{\"a\": 1}", "\x80\x02pickle"])
@pytest.mark.parametrize("with_json", [True, False])
def test_text_as_model_pt_is_a_clear_error(run_dir, text, with_json):
    if not with_json:
        (run_dir / "model.json").unlink()
    (run_dir / "model.pt").write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CheckpointError) as err:
            cicy4lib.load_model(run_dir)
    assert "model.pt" in str(err.value) and "\n" not in str(err.value)


def test_run_without_model_json_infers_the_architecture(run_dir):
    (run_dir / "model.json").unlink()
    with pytest.warns(UserWarning, match="inferred"):
        _, config = cicy4lib.load_model(run_dir)
    assert config["arch"] == "HeLukas-FC" and config["arch_inferred"] is True


# --------------------------------------------------------------------------- 4. split files

def test_split_file_links_are_replaced_not_written_through(small, tmp_path):
    from cicy4lib.data import write_split_files

    victim = tmp_path / "victim.npy"
    victim.write_bytes(b"precious")
    out = tmp_path / "splits"
    write_split_files(small, "72", out)
    os.unlink(out / "conf_Xtest.npy")
    os.symlink(victim, out / "conf_Xtest.npy")
    write_split_files(small, "72", out)  # the same data and split: allowed, files replaced
    assert victim.read_bytes() == b"precious"
    assert not (out / "conf_Xtest.npy").is_symlink()


def test_split_files_refuse_folders_of_other_data_or_the_input(small, tmp_path):
    from cicy4lib.data import write_split_files
    from cicy4lib.data.splits import split_72

    out = tmp_path / "splits"
    write_split_files(small, "72", out)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["fingerprint"]["n"] == 60 and len(prov["fingerprint"]["content_sha256"]) == 64
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    other = small.subset(np.arange(50))
    with pytest.raises(OutputRefusedError, match="another split"):
        write_split_files(other, "72", out)
    with pytest.raises(OutputRefusedError):
        write_split_files(small, split_72(60, seed=1), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    loaded = cicy4lib.load_dataset(out)
    with pytest.raises(OutputRefusedError, match="input"):
        write_split_files(loaded, "72", out, derived=False, inputs=[out])
    trio = tmp_path / "trio"
    trio.mkdir()
    np.save(trio / "conf.npy", small.conf)
    with pytest.raises(OutputRefusedError, match="another dataset"):
        write_split_files(small, "72", trio)
    write_split_files(other, "72", out, force=True)  # on purpose
    assert json.loads((out / "provenance.json").read_text())["fingerprint"]["n"] == 50


def test_data_command_refuses_its_own_source(small, tmp_path):
    from cicy4lib.data import write_split_files
    from cicy4lib.jobs.cli import main

    src = tmp_path / "src"
    write_split_files(small, "72", src)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["data", "--source", str(src), "--out", str(src)]) == 2
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


# --------------------------------------------------------------------------- 5. verify

def test_verify_report_never_writes_through_a_planted_link(small, tmp_path):
    from cicy4lib.jobs.verify import verify

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "report"
    out.mkdir()
    os.symlink(victim, out / ".mismatches.csv.tmp")
    src = tmp_path / "three.npz"
    np.savez(src, conf=small.conf[:3], hodge=small.hodge[:3], euler=small.euler[:3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verify(str(src), out=out, workers=1, progress=False)
    assert victim.read_text() == "precious\n"
    assert (out / "mismatches.csv").read_text().startswith("index,")


# --------------------------------------------------------------------------- 6. evaluation

@pytest.fixture(scope="module")
def trained(tmp_path_factory, small):
    from cicy4lib.training.loop import TrainConfig, train

    out = tmp_path_factory.mktemp("runs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train("HeLukas-FC", small, config=TrainConfig(max_epochs=1, batch_size=32), output_dir=out, run_name="own",
              progress=False)
    return out / "own"


def test_evaluating_a_run_on_other_data_warns_with_both_fingerprints(trained, small):
    from cicy4lib.results.evaluate import evaluate_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluate_report(trained, small, write=False)
    assert not [w for w in caught if issubclass(w.category, DataMismatchWarning)]
    relabelled = small.subset(np.arange(60))
    relabelled.hodge = relabelled.hodge.copy()
    test_row = int(cicy4lib.data.splits.get_split(relabelled, "72").test[0])
    relabelled.hodge[test_row] += np.array([1, 1, 0, 2])  # the test rows only: the training rows agree
    for other in (relabelled, small.subset(np.arange(50))):
        with pytest.warns(DataMismatchWarning) as caught:
            evaluate_report(trained, other, write=False)
        message = str(caught[0].message)
        assert "trained on [" in message and "evaluated on [" in message and "\n" not in message


def test_ensembles_of_runs_on_other_data_warn_too(trained, small):
    from cicy4lib.data.splits import get_split
    from cicy4lib.results.ensemble import predict_runs

    own = get_split(small, "72")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predict_runs([trained], small, own.test, split=own)
    assert not [w for w in caught if issubclass(w.category, DataMismatchWarning)]
    other = small.subset(np.arange(50))
    with pytest.warns(DataMismatchWarning, match="evaluated on data other than its own"):
        predict_runs([trained], other, get_split(other, "72").test, split=get_split(other, "72"))


def test_constrained_scores_use_the_exact_chi_not_a_stored_one(small):
    from cicy4lib.data.splits import get_split
    from cicy4lib.results.baselines import favourable_guess
    from cicy4lib.results.evaluate import evaluate

    data = small.subset(np.arange(60))
    data.euler = data.euler.copy()
    data.meta.pop("euler_verified", None)
    split = get_split(data, "72")
    row = int(split.test[0])
    data.euler[row] += 6  # wrong, but loading did not recompute it
    preds = {"test": data.hodge[split.test].astype(float)}
    with pytest.raises(DataError, match="Euler"):
        evaluate(preds, data, split, subsets=("test",))
    with pytest.raises(DataError, match="Euler"):
        favourable_guess(data, split.test)
    data.euler[row] = -1  # unknown: filled in exactly
    table = evaluate(preds, data, split, subsets=("test",))
    assert table.attrs["fallbacks"]["test"] == 0
    assert data.euler[row] == cicy4lib.euler_numbers(small.conf[row:row + 1])[0]


# --------------------------------------------------------------------------- fileio message

def test_a_failed_first_write_says_nothing_was_written(tmp_path, monkeypatch):
    from cicy4lib.fileio import atomic_write_many

    def full(_fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="nothing was written"):
        atomic_write_many([(tmp_path / "a", lambda f: f.write(b"a")), (tmp_path / "b", lambda f: f.write(b"b"))])
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------- 7. the generator

def test_sample_command_never_writes_into_the_package_without_force(tmp_path, capsys):
    from cicy4lib import outputs
    from cicy4lib.jobs import generate

    shipped = outputs.PACKAGE_DIR / "_data" / "sample.npz"
    before = shipped.read_bytes()
    for target in (shipped, outputs.PACKAGE_DIR / "_data" / "new_sample.npz"):
        assert generate.run_main(["--n", "1", "--out", str(target)]) == 2
        assert "inside the installed package" in capsys.readouterr().err
    assert shipped.read_bytes() == before and not (outputs.PACKAGE_DIR / "_data" / "new_sample.npz").exists()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        (tmp_path / "sample.npz").write_bytes(b"an earlier sample")
        assert generate.run_main(["--n", "1"]) == 2  # the default ./sample.npz exists: refused
    finally:
        os.chdir(cwd)
    assert (tmp_path / "sample.npz").read_bytes() == b"an earlier sample"


def _fake_generation(monkeypatch, made):
    """run_generation with the chunk work replaced: records which chunks it was asked for."""
    from cicy4lib.data import generated

    def fake_run_chunks(fn, jobs, on_result, **_kw):
        for index, _args in jobs:
            made.append(index)
            arrays = {"conf": np.zeros((1, 16, 20), np.int8), "hodge": np.zeros((1, 4), np.int64),
                      "meta": np.array(json.dumps({"labeller_version": "test"}))}
            on_result(index, (arrays, {"total": 0.0}))
    monkeypatch.setattr(generated, "run_chunks", fake_run_chunks)
    monkeypatch.setattr(generated, "chunk_seeds", lambda settings: {})  # the seed walk takes ~1 min
    return generated


def test_generation_counts_only_verified_chunks(tmp_path, monkeypatch):
    made = []
    generated = _fake_generation(monkeypatch, made)
    out = tmp_path / "chunks"
    generated.run_generation(out, 2, progress=False)
    assert made == [0, 1]
    good = (out / "chunk_00001.npz").read_bytes()
    (out / "chunk_00001.npz").write_bytes(good[: len(good) // 2])  # cut by a crash
    made.clear()
    with pytest.warns(UserWarning, match="damaged"):
        generated.run_generation(out, 2, progress=False)
    assert made == [1]  # made again, not counted done
    assert (out / "chunk_00001.npz.damaged").read_bytes() == good[: len(good) // 2]  # kept aside
    assert len((out / "timings.jsonl").read_text().splitlines()) == 3


def test_generation_timings_never_written_through_a_link(tmp_path, monkeypatch):
    made = []
    generated = _fake_generation(monkeypatch, made)
    out = tmp_path / "chunks"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, out / "timings.jsonl")
    with pytest.raises(OutputError, match="symbolic link"):
        generated.run_generation(out, 1, progress=False)
    assert victim.read_text() == "precious\n"
