"""The demo finds a shipped checkpoint's training matrices as its data was served then."""
import shutil

import numpy as np

from cicy4lib.data.generated import GENERATED_R2_DIR, load_generated
from cicy4lib.jobs.demo import _data_matrices


def test_a_generated_folder_is_read_to_the_checkpoints_chunk_count(tmp_path):
    for p in sorted(GENERATED_R2_DIR.glob("chunk_*.npz"))[:3]:
        shutil.copy(p, tmp_path / p.name)
    two = load_generated(tmp_path, chunks=2, allow_partial=True)["conf"]
    three = load_generated(tmp_path, chunks=3, allow_partial=True)["conf"]
    assert len(three) > len(two)  # the folder grew after the checkpoint was trained
    got = _data_matrices(tmp_path, {"kind": "generated", "n_chunks": 2})
    assert np.array_equal(got, two)


def test_every_shipped_checkpoint_names_training_data_the_demo_can_find():
    import json

    import pytest

    from cicy4lib.jobs.demo import _training_matrices
    from cicy4lib.results.ensemble import default_runs_dir

    runs = sorted(p.parent for p in default_runs_dir().glob("*/model.json") if p.parent.name != "metricflow")
    if not runs:
        pytest.skip("no checkpoint shipped in this checkout")
    for run in runs:
        config = json.loads((run / "model.json").read_text(encoding="utf-8"))
        seen = _training_matrices(config)
        # a checkpoint the demo cannot place would be skipped there: its rows could not be left out
        assert isinstance(seen, set), f"{run.name}: {seen}"
        assert len(seen) >= config["n_train"], run.name
