"""Compatibility alias: ``cicy4lib.evaluate`` is :mod:`cicy4lib.results.evaluate` (notebooks made before the
training/results/jobs layout import the old path)."""
import sys

from .results import evaluate as _module

sys.modules[__name__] = _module
