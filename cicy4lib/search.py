"""Compatibility alias: ``cicy4lib.search`` is :mod:`cicy4lib.jobs.search` (notebooks made before the
training/results/jobs layout import the old path)."""
import sys

from .jobs import search as _module

sys.modules[__name__] = _module
