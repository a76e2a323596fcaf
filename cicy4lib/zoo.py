"""Compatibility alias: ``cicy4lib.zoo`` is :mod:`cicy4lib.jobs.zoo` (notebooks made before the
training/results/jobs layout import the old path)."""
import sys

from .jobs import zoo as _module

sys.modules[__name__] = _module
