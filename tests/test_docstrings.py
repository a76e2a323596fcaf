"""The public API that README shows has numpy-style docstrings, and every docstring example in the
library runs (``doctest``): an example that no longer holds fails here."""
import doctest
import importlib
import inspect
import pkgutil

import pytest

import cicy4lib

README_API = ("load_dataset", "get_split", "build_model", "list_models", "register_model", "train_model",
              "load_model", "predict_hodge", "evaluate_model", "hodge_numbers", "euler_number", "TrainConfig",
              "finetune_config")
# old module paths (aliases of the new ones: their examples run there) and modules other
# packages test themselves
NOT_HERE = ("cicy4lib.train", "cicy4lib.evaluate", "cicy4lib.figures", "cicy4lib.ensemble", "cicy4lib.zoo",
            "cicy4lib.search", "cicy4lib.__main__", "cicy4lib.notebooks.__main__", "cicy4lib.metricflow")


@pytest.mark.parametrize("name", README_API)
def test_the_readme_api_has_numpy_docstrings(name):
    obj = getattr(cicy4lib, name)
    doc = inspect.getdoc(obj) or ""
    assert "Parameters\n----------" in doc, f"{name}: no Parameters section"
    if not inspect.isclass(obj):
        assert "Returns\n-------" in doc, f"{name}: no Returns section"


def _modules():
    names = ["cicy4lib"] + [m.name for m in pkgutil.walk_packages(cicy4lib.__path__, "cicy4lib.")]
    return [n for n in names if not n.startswith(NOT_HERE)]


@pytest.mark.parametrize("module", _modules())
def test_docstring_examples_run(module, monkeypatch):
    monkeypatch.setenv("CICY4_QUIET", "1")
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, f"{module}: {result.failed} of {result.attempted} examples fail (python -m doctest -v)"


def test_examples_are_found():
    """The finder sees the examples (a docstring format it cannot read would make the runs above vacuous)."""
    tests = doctest.DocTestFinder().find(importlib.import_module("cicy4lib.data.splits"))
    assert sum(len(t.examples) for t in tests) >= 2
