"""Shipped chunks are remade byte for byte: a chunk is a pure function of (settings, index).

Chunks 20 and 40 of release 3 (``_data/generated-r3/``, settings from its ``manifest.json``) and
chunk 500 of release 2 (``_data/generated/``) are generated again by
:func:`cicy4lib.geometry.walks.generate_chunk` and written by
:func:`cicy4lib.data.generated.write_npz_deterministic`; the files must equal the shipped ones.
The labeller version recorded in a chunk names the labelling code of its run (a digest of the
geometry modules): it is set to the shipped chunk's, so the test checks the generator, the
labels and the file format, not whether a docstring of the ``cohomology`` package changed since.
"""
import json

import numpy as np
import pytest

from cicy4lib.data.generated import DATA_DIR, chunk_path, write_npz_deterministic
from cicy4lib.geometry import labelling, walks

CASES = [("generated-r3", 3, 20), ("generated-r3", 3, 40), ("generated", 2, 500)]


@pytest.mark.slow
@pytest.mark.parametrize("folder,release,index", CASES)
def test_a_shipped_chunk_is_made_again_byte_for_byte(folder, release, index, tmp_path, monkeypatch):
    src = DATA_DIR / folder
    shipped = chunk_path(src, index)
    if not shipped.exists():
        pytest.skip(f"{shipped} not shipped in this checkout")
    settings = walks.default_chunk_settings(
        release=release, **json.loads((src / "manifest.json").read_text(encoding="utf-8"))["settings"])
    with np.load(shipped, allow_pickle=False) as z:
        version = json.loads(str(z["meta"]))["labeller_version"]
    monkeypatch.setattr(labelling, "_LABELLER_VERSION", [version])
    arrays, _ = walks.generate_chunk(settings, index)
    made = write_npz_deterministic(chunk_path(tmp_path, index), arrays)
    assert made.read_bytes() == shipped.read_bytes()
