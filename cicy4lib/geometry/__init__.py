"""Exact geometry of CICY four-folds, in layers that import one way:

``validate`` (the one validation edge) -> ``products`` -> ``euler`` -> ``cohomology``
(line-bundle cohomology) -> ``hodge`` (validated Hodge numbers); the generators build on them:
``canonical`` (canonical forms) -> ``enumeration`` (small configurations) -> ``labelling``
(Hodge numbers under a time limit) -> ``sample_generator`` (the embedded sample) -> ``walks``
(the chunked random walks of the generated set); ``generate`` re-exports them under the old
path. ``random`` makes random configurations for tests.
"""
from ..errors import ConfigurationError
from .validate import as_degree_matrix, dims, pad_configuration
from .products import is_product, product_blocks
from .euler import euler_number, euler_numbers
from .hodge import hodge_numbers
from .random import random_configuration
from ..constants import DEFAULT_SCALE, DIMENSION, MAX_COLS, MAX_ROWS

__all__ = ["ConfigurationError", "DEFAULT_SCALE", "DIMENSION", "MAX_COLS", "MAX_ROWS", "as_degree_matrix",
           "dims", "euler_number", "euler_numbers", "hodge_numbers", "is_product", "pad_configuration",
           "product_blocks", "random_configuration"]
