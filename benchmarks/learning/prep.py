"""Cache a dataset + its 72 % split as one npz for the research scripts (no library internals at train time).

    .venv/bin/python benchmarks/learning/prep.py r2nr   # release 2, non-redundant entries (mask cached)
    .venv/bin/python benchmarks/learning/prep.py r2     # release 2, all entries
    .venv/bin/python benchmarks/learning/prep.py r3     # release 3 as served now (load_dataset("generated"))
    .venv/bin/python benchmarks/learning/prep.py r3.0   # release 3 as first released (chunks 0-209, 55,645)
    .venv/bin/python benchmarks/learning/prep.py r2h    # release 2 under the Hodge rule (generated-hodge-rule)

Split: cicy4lib's split_72 (seed 42) over the entries kept, i.e. indices into the kept subset.
"""
import sys
from pathlib import Path

import numpy as np

import cicy4lib
from cicy4lib.data.splits import split_72

HERE = Path(__file__).parent
CACHE = HERE / "_cache"


def load(which):
    r2 = str(Path(cicy4lib.__file__).parent / "_data" / "generated")
    if which in ("r2", "r2nr"):
        data = cicy4lib.load_dataset(r2)
        if which == "r2nr":
            mask = np.load(HERE / "r2_redundant_mask.npy")
            assert len(mask) == len(data)
            data = data.subset(~mask)
    elif which == "r3":
        data = cicy4lib.load_dataset("generated")
    elif which == "r3.0":  # release 3 as first released (chunks 0-209, 55,645): the shipped model's data
        from cicy4lib.data.generated import GENERATED_DIR, load_generated
        from cicy4lib.data.readers import LoadOptions, dataset_from_arrays
        arrays = load_generated(GENERATED_DIR, chunks=210, allow_partial=True)
        meta = arrays.pop("meta")
        arrays.pop("chunk")
        data = dataset_from_arrays(arrays, GENERATED_DIR, LoadOptions(None, True, True, True), meta=meta,
                                   provenance={"kind": "generated", "source": "generated", "folder": str(GENERATED_DIR),
                                               "release": 3, "edition": "3.0", "n_chunks": 210,
                                               "settings": meta.get("settings")},
                                   source="generated")  # folder + n_chunks: the demo finds a checkpoint's rows
    elif which == "r2h":
        data = cicy4lib.load_dataset("generated-hodge-rule")
    elif which == "sample":
        data = cicy4lib.load_dataset("sample")
    else:
        raise SystemExit(f"unknown {which}")
    return data


def main(which):
    data = load(which)
    s = split_72(len(data))
    CACHE.mkdir(exist_ok=True)
    out = CACHE / f"{which}.npz"
    np.savez(out, conf=data.conf.astype(np.int8), hodge=data.hodge, euler=data.euler,
             train=s.train, valid=s.valid, test=s.test, provenance=str(data.provenance))
    rows = (data.conf != 0).any(2).sum(1)
    print(which, len(data), s.sizes, "max rows", rows.max(), "max cols", (data.conf != 0).any(1).sum(1).max(),
          "favourable", np.mean(data.hodge[:, 0] == rows).round(4), "->", out)


if __name__ == "__main__":
    main(sys.argv[1])
