"""The fast part of benchmarks/bench_faults.py: every area in quick mode must give
0 raw exceptions, 0 silent acceptances and 0 lost files (issue 24). Areas whose fixes are not
in yet are marked xfail (listed in benchmarks/results/reliability.md); remove the mark with the fix."""
import pytest

CLOSED = ["matrix-text", "matrix-file", "npz", "folders", "labels", "chunks"]
OPEN = {  # area: what is still missing (see reliability.md)
    "checkpoints": "model.json hash does not cover model.json; inference KeyError on text model.pt",
    "links": "verify's fixed temp name and split files written with np.save follow links",
    "outputs": "train/search names, data --out and search study folders not yet routed through cicy4lib.outputs",
    "disk-full": "one training write path not yet through fileio",
    "search": "damaged SQLite file and stale RUNNING trials",
    "evaluate": "evaluating a run on other data gives no word",
}


@pytest.fixture
def bench(load_benchmark):
    return load_benchmark("bench_faults")


@pytest.mark.parametrize("area", CLOSED + [pytest.param(a, marks=pytest.mark.xfail(reason=r, strict=False))
                                           for a, r in OPEN.items()])
def test_area_has_no_raw_silent_or_lost_case(bench, area, tmp_path):
    table, failures = bench.run_areas([area], quick=True, seed=1, tmp=tmp_path)
    assert sum(sum(c.values()) for c in table.values()) > 0
    assert not failures, "\n".join(f"{r}: {n}: {d}" for _, n, r, d in failures)
