"""Datasets: one :class:`CICYData` for every source, read by registered readers; splits."""
from ..errors import DataError
from .dataset import CICYData, subsample
from .rawlist import parse_cicy4_list, read_cicy4_list
from .readers import load_dataset
from .splits import Split, cv_folds, get_split, split_72, split_80, write_split_files

__all__ = ["CICYData", "DataError", "Split", "cv_folds", "get_split", "load_dataset", "parse_cicy4_list", "read_cicy4_list", "split_72", "split_80",
           "subsample", "write_split_files"]
