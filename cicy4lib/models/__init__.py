"""Networks built by name from one registry (:mod:`.registry`).

Importing this package registers the built-in architectures: the paper's 14 networks
(:mod:`.paper`) and the models beyond the paper. Add a model by registering it in its own
module and importing that module here.

>>> from cicy4lib.models import build_model, count_parameters
>>> count_parameters(build_model("lstm-448"))
2915332
"""
from ..errors import StateDictMismatchError, UnknownModelError
from .registry import (GROUP_DIRS, ModelEntry, build_model, canonical_name, count_parameters,
                       format_model_table, get_entry, list_models, register_model)
from .paper import HodgeNet, ModelSpec, get_spec  # registers the paper's 14 networks
from . import cicyminer, graph, helukas  # noqa: F401  (register CICYMiner, BipartiteGNN-64, HeLukas-FC)
from . import hodgenet  # noqa: F401  (registers HodgeGNN-64 with its default recipe)
from . import trees  # noqa: F401  (registers the scikit-learn models: Trees-RF, Trees-ET, Trees-HGB)
from .published_layout import (check_state_dict, convert_published_state_dict, infer_spec,
                               load_published_state_dict)

__all__ = [
    "GROUP_DIRS", "HodgeNet", "ModelEntry", "ModelSpec", "StateDictMismatchError", "UnknownModelError",
    "build_model", "canonical_name", "check_state_dict", "convert_published_state_dict", "count_parameters",
    "format_model_table", "get_entry", "get_spec", "infer_spec", "list_models", "load_published_state_dict",
    "register_model",
]
