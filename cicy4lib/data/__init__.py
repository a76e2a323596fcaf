"""Datasets: one :class:`CICYData` for every source, read by registered readers; splits."""
from ..errors import DataError
from .dataset import CICYData, subsample
from .rawlist import parse_cicy4_list, read_cicy4_list
from .readers import dataset_from_arrays, list_readers, load_dataset, register_reader
from .splits import Split, cv_folds, get_split, split_72, split_80, write_split_files

__all__ = ["CICYData", "DataError", "Split", "cv_folds", "dataset_from_arrays", "get_split", "list_readers",
           "load_dataset", "register_reader", "parse_cicy4_list", "read_cicy4_list", "split_72", "split_80",
           "subsample", "write_split_files"]
