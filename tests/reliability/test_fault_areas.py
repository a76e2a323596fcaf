"""The fast part of benchmarks/bench_faults.py: every area in quick mode must give
0 raw exceptions, 0 silent acceptances and 0 lost files (issue 24). The full run (>= 1,000
cases and the kill/resume test) is in benchmarks/results/reliability.md with its command."""
import pytest

AREAS = ["matrix-text", "matrix-file", "npz", "folders", "labels", "chunks", "checkpoints", "links", "outputs",
         "disk-full", "search", "evaluate"]


@pytest.fixture
def bench(load_benchmark):
    return load_benchmark("bench_faults")


@pytest.mark.parametrize("area", AREAS)
def test_area_has_no_raw_silent_or_lost_case(bench, area, tmp_path):
    table, failures = bench.run_areas([area], quick=True, seed=1, tmp=tmp_path)
    assert sum(sum(c.values()) for c in table.values()) > 0
    assert not failures, "\n".join(f"{r}: {n}: {d}" for _, n, r, d in failures)
