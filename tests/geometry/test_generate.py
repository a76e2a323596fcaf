"""Chunked generation (cicy4lib.geometry.walks, cicy4lib.data.generated, cicy4lib.data.cards) and the generated dataset."""
import json
import os
import time

import numpy as np
import pytest

from cicy4lib import geometry
from cicy4lib.chunked import TaskTimeout, run_chunks, time_limit
from cicy4lib.errors import ConfigurationError
from cicy4lib.data import cards, generated
from cicy4lib.geometry import canonical, enumeration, sample_generator, walks

TINY = dict(chunk_size=10, seed_rows=2, max_rows=6, row_weights={3: 1, 4: 2, 5: 2, 6: 1}, timeout=20.0)


def _settings(**kw):
    return walks.default_chunk_settings(**{**TINY, **kw})


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("chunk_*.npz"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Chunks 0..N-1 made in one go, serially, in this process."""
    s = _settings()
    n = walks.n_seed_chunks(s) + 2  # every seed chunk and two random ones
    out = tmp_path_factory.mktemp("gen_ref")
    written = generated.run_generation(out, n, s, workers=1, progress=False)
    assert written == list(range(n))
    return out, s, n


def test_chunks_identical_after_kill_and_resume_with_workers(reference, tmp_path):
    ref, s, n = reference
    generated.run_generation(tmp_path, n, s, workers=2, progress=False)
    assert _files(tmp_path) == _files(ref)  # byte for byte, in parallel
    # a kill: two chunks never written, one temp file left half-written
    os.remove(generated.chunk_path(tmp_path, 1))
    os.remove(generated.chunk_path(tmp_path, n - 1))
    (tmp_path / ".chunk_00002.npz.abc.tmp").write_bytes(b"partial")
    again = generated.run_generation(tmp_path, n, s, workers=2, progress=False)
    assert again == [1, n - 1]  # only the gaps are made again
    assert _files(tmp_path) == _files(ref)
    assert not list(tmp_path.glob(".*.tmp"))
    assert generated.run_generation(tmp_path, n, s, workers=1, progress=False) == []  # nothing left to do


def test_chunk_contents(reference):
    ref, s, n = reference
    arrays = generated.load_generated(ref, labelled_only=False, allow_partial=True)
    conf, hodge, euler = arrays["conf"], arrays["hodge"], arrays["euler"]
    rows = (conf != 0).any(2).sum(1)
    assert rows.min() == 1 and rows.max() <= s["max_rows"]
    assert np.array_equal(euler, geometry.euler_numbers(conf))  # exact, recomputed
    ok = (hodge >= 0).all(1)
    h11, h21, h31, h22 = hodge[ok].T
    assert np.array_equal(euler[ok], 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22)
    assert (-4 * h11 + 2 * h21 - 4 * h31 + h22 == 44).all()
    for P in conf[:40]:
        P = P[:(P != 0).any(1).sum(), :(P != 0).any(0).sum()].astype(np.int64)
        assert enumeration.is_valid_cy4(P) and not geometry.is_product(P)
        assert np.array_equal(canonical.canonical_form(P), P)  # stored canonical: the dedup key
    meta = json.loads(str(np.load(generated.chunk_path(ref, n - 1))["meta"]))
    assert meta["kind"] == "walks" and meta["chunk"] == n - 1
    assert meta["generator_version"] == walks.CHUNKED_GENERATOR_VERSION and meta["labeller_version"]


def test_duplicates_across_chunks_dropped_deterministically(reference, tmp_path):
    ref, s, n = reference
    base = generated.load_generated(ref, labelled_only=False, allow_partial=True)
    for name, data in _files(ref).items():
        (tmp_path / name).write_bytes(data)
    # a later chunk repeating chunk 0: all of its entries are dropped, chunk 0 keeps them
    (tmp_path / "chunk_00099.npz").write_bytes(generated.chunk_path(ref, 0).read_bytes())
    both = generated.load_generated(tmp_path, labelled_only=False, allow_partial=True)
    assert len(both["conf"]) == len(base["conf"])
    assert both["meta"]["n_duplicates_across_chunks"] == len(np.load(generated.chunk_path(ref, 0))["conf"])
    assert np.array_equal(both["chunk"], base["chunk"])
    flat = both["conf"].reshape(len(both["conf"]), -1)
    assert len(np.unique(flat, axis=0)) == len(flat)


def test_other_settings_refused_in_same_folder(reference, tmp_path):
    ref, s, n = reference
    generated.run_generation(tmp_path, 1, s, workers=1, progress=False)
    with pytest.raises(ConfigurationError):
        generated.run_generation(tmp_path, 1, _settings(seed=1), workers=1, progress=False)


def test_lumpy_splittings_valid_and_prefilter_sound():
    rng = np.random.default_rng(0)
    P = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [2, 0, 1, 1], [0, 1, 1, 1]])
    chi = geometry.euler_number(P)
    seen = 0
    for _ in range(60):
        Q = walks.random_splitting_lumpy(P, rng, walks.CHUNK_SPLIT_DIMS, 0.5, 20)
        if Q is None:
            continue
        seen += 1
        assert enumeration.is_valid_cy4(Q) and Q.shape[0] == P.shape[0] + 1
    assert seen > 10
    # every P^1 splitting the prefilter rejects (a part on factors of dimension < 2) is ineffective
    dims = P.sum(1) - 1
    rejected = 0
    for _ in range(200):
        Q = sample_generator.random_splitting(P, rng, dims={1: 1.0})
        if Q is None:
            continue
        parts = Q[1:, :2].T
        if any(dims[p > 0].sum() < 2 for p in parts):
            rejected += 1
            assert geometry.euler_number(Q) == chi
    assert rejected > 0


def _sleepy(x):
    time.sleep(0.01)
    return x * x


def test_time_limit_in_main_thread_and_in_worker_thread():
    import threading

    with pytest.raises(TaskTimeout):
        with time_limit(0.05):
            while True:
                pass
    caught = []

    def body():
        try:
            with time_limit(0.05):
                while True:
                    pass
        except TaskTimeout:
            caught.append(True)

    t = threading.Thread(target=body)
    t.start()
    t.join(5)
    assert caught == [True]
    with time_limit(1.0):  # a finished block leaves nothing pending
        pass
    time.sleep(0.01)


def test_run_chunks_local_pool_and_serial_agree():
    got = {}
    run_chunks(_sleepy, ((i, (i,)) for i in range(7)), got.__setitem__, workers=2, progress=False)
    assert got == {i: i * i for i in range(7)}


def test_dask_local_cluster_same_chunks(reference, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    ref, s, n = reference
    for name, data in list(_files(ref).items())[:-2]:  # a resumed run: the cluster makes the last two
        (tmp_path / name).write_bytes(data)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=40) as cluster:
        generated.run_generation(tmp_path, n, s, scheduler=cluster.scheduler_address, progress=False)
        # the verifier's chunks on the same cluster (one cluster start for both)
        from cicy4lib.data import load_dataset
        from cicy4lib.jobs.verify import verify

        monkeypatch.setenv(generated.PARTIAL_ENV, "1")  # a tiny set: served only when asked
        data = load_dataset(str(ref))
        summary = verify(data, sample=20, out=tmp_path / "verify", scheduler=cluster.scheduler_address,
                         chunk_size=50, progress=False)
    assert _files(tmp_path) == _files(ref)
    assert summary["all_agree"] and summary["hodge"]["agree"] == 20 and summary["euler"]["recomputed"] == len(data)


def test_partial_generated_set_refused_unless_asked(reference, monkeypatch):
    from cicy4lib.data import load_dataset
    from cicy4lib.errors import DataError

    ref, s, n = reference
    monkeypatch.delenv(generated.PARTIAL_ENV, raising=False)
    with pytest.raises(DataError, match="served from"):
        load_dataset(str(ref))
    monkeypatch.setenv(generated.PARTIAL_ENV, "1")
    assert len(load_dataset(str(ref))) == len(generated.load_generated(ref)["conf"])


def _shipped_checks(conf, hodge, euler):
    h11, h21, h31, h22 = hodge.T
    assert (-4 * h11 + 2 * h21 - 4 * h31 + h22 == 44).all()
    assert np.array_equal(euler, 4 + 2 * h11 - 4 * h21 + 2 * h31 + h22)
    flat = conf.reshape(len(conf), -1)
    assert len(np.unique(flat, axis=0)) == len(flat)
    rows = (conf != 0).any(2).sum(1)
    assert rows.max() <= 16
    sample = np.random.default_rng(0).choice(len(conf), min(300, len(conf)), replace=False)
    assert np.array_equal(geometry.euler_numbers(conf[sample]), euler[sample])


def test_shipped_generated_chunks():
    """The first shipped chunks (fast); the whole set by name is the slow test below."""
    present = generated.completed_chunks(generated.GENERATED_DIR)
    if not present:
        pytest.skip("no generated chunks shipped yet")
    k = 0
    while k in present and k < 40:
        k += 1
    arrays = generated.load_generated(generated.GENERATED_DIR, chunks=k, allow_partial=True)
    _shipped_checks(arrays["conf"], arrays["hodge"], arrays["euler"])
    assert set(arrays["method"].tolist()) <= {"exact", "generic-rank"}


@pytest.mark.slow
def test_shipped_generated_dataset_by_name(monkeypatch):
    if not generated.completed_chunks(generated.GENERATED_DIR):
        pytest.skip("no generated chunks shipped yet")
    from cicy4lib.data import load_dataset

    monkeypatch.setenv(generated.PARTIAL_ENV, "1")  # also while the set is still growing
    data = load_dataset("generated")
    assert len(data) > 0 and data.provenance["kind"] == "generated"
    _shipped_checks(data.conf, data.hodge, data.euler)


def test_split_plan_draws_what_random_splitting_lumpy_draws():
    seeds = enumeration.enumerate_configurations(3)
    mats = [P for m in (2, 3) for P in seeds[m][:40]]
    for k, P in enumerate(mats):
        for block in (0.0, 0.9):
            r1, r2 = np.random.default_rng([k, 7]), np.random.default_rng([k, 7])
            plan = walks._SplitPlan(P)
            for room in (1, 3, 20, 20, 2):
                a = walks.random_splitting_lumpy(P, r1, walks.CHUNK_SPLIT_DIMS, block, room)
                b = plan.draw(r2, walks.CHUNK_SPLIT_DIMS, block, room)
                assert (a is None and b is None) or np.array_equal(a, b)
            assert r1.random() == r2.random()  # the same random numbers used


def test_release_fixes_the_served_set(reference, tmp_path, monkeypatch):
    from cicy4lib.data import load_dataset

    ref, s, n = reference
    monkeypatch.delenv(generated.PARTIAL_ENV, raising=False)
    for name, data in list(_files(ref).items())[:5]:
        (tmp_path / name).write_bytes(data)
    record = generated.release_chunks(tmp_path)  # chunks 0..4
    assert record["chunks"] == 5
    served = load_dataset(str(tmp_path))  # served although small: a release is deliberate
    assert len(served) == record["n"]
    for name, data in list(_files(ref).items())[5:]:  # generation goes on in the folder
        (tmp_path / name).write_bytes(data)
    assert len(load_dataset(str(tmp_path))) == record["n"]
    assert generated.release_chunks(tmp_path)["chunks"] == n
    assert len(load_dataset(str(tmp_path))) > record["n"]
    card = cards.write_generated_card(tmp_path)
    assert f"Release: chunks 0–{n - 1}" in card.read_text()
