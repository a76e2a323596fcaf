"""Compatibility alias: ``cicy4lib.figures`` is :mod:`cicy4lib.results.figures` (notebooks made before the
training/results/jobs layout import the old path)."""
import sys

from .results import figures as _module

sys.modules[__name__] = _module
