"""Compatibility alias: ``cicy4lib.ensemble`` is :mod:`cicy4lib.results.ensemble` (notebooks made before the
training/results/jobs layout import the old path)."""
import sys

from .results import ensemble as _module

sys.modules[__name__] = _module
