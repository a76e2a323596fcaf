"""Old module path of the generators, kept for notebooks and scripts made before the split.

The code lives by idea now: :mod:`.canonical` (canonical forms), :mod:`.enumeration` (the
complete enumeration of small configurations), :mod:`.labelling` (Hodge numbers under a time
limit), :mod:`.sample_generator` (the embedded sample) and :mod:`.walks` (the chunked random
walks of the generated set). Only these geometry names are re-exported here; the chunk files,
the sample file and the dataset cards are :mod:`cicy4lib.data.generated` and
:mod:`cicy4lib.data.cards`, the command is ``python -m cicy4lib.jobs.generate``.
"""
from __future__ import annotations

import sys

from .canonical import canonical_form, canonical_key, equivalent
from .enumeration import SEED_ROWS, enumerate_configurations, ineffective_mask, is_valid_cy4
from .labelling import (LABEL_TIMEOUT_S, index_relations_hold, label_all, label_one, label_with_limit,
                        labeller_version)
from .sample_generator import (DEFAULT_N, DEFAULT_SEED, GENERATOR_VERSION, H21_SHARE, META_KEYS, OVERSHOOT,
                               ROW_WEIGHTS, SPLIT_DIMS, build_sample, generate_candidates, pad, random_splitting)
from .splitting import contractions, redundant_mask, split
from .walks import (CHUNK_FORMAT, CHUNK_ROW_WEIGHTS, CHUNK_SPLIT_DIMS, CHUNKED_GENERATOR_VERSION,
                    DEFAULT_CHUNK_SEED, RELEASE3_CHUNK_SEED, chunk_candidates, chunk_seeds, default_chunk_settings,
                    generate_chunk, n_seed_chunks, random_splitting_lumpy, seed_layers, settings_key)

__all__ = ["CHUNK_FORMAT", "CHUNK_ROW_WEIGHTS", "CHUNK_SPLIT_DIMS", "CHUNKED_GENERATOR_VERSION", "DEFAULT_CHUNK_SEED",
           "DEFAULT_N", "DEFAULT_SEED", "GENERATOR_VERSION", "H21_SHARE", "LABEL_TIMEOUT_S", "META_KEYS", "OVERSHOOT",
           "RELEASE3_CHUNK_SEED", "ROW_WEIGHTS", "SEED_ROWS", "SPLIT_DIMS", "build_sample", "canonical_form",
           "canonical_key", "chunk_candidates", "chunk_seeds", "contractions", "default_chunk_settings",
           "enumerate_configurations", "equivalent", "generate_candidates", "generate_chunk",
           "index_relations_hold", "ineffective_mask", "is_valid_cy4", "label_all", "label_one", "label_with_limit",
           "labeller_version", "n_seed_chunks", "pad", "random_splitting", "random_splitting_lumpy",
           "redundant_mask", "seed_layers", "settings_key", "split"]

if __name__ == "__main__":
    # geometry does not import the command (jobs): say where it went
    print("the generator's command moved: python -m cicy4lib.jobs.generate (or python -m cicy4lib generate), "
          "same options", file=sys.stderr)
    sys.exit(2)
