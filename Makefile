# Two commands set up a fresh machine:
#   make demo   - create .venv if missing, then run the main job on the embedded sample
#   make test   - create .venv if missing, then run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU build by default; override e.g. `make setup TORCH_SPEC="torch==2.14.1"` for a CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup demo test test-fast notebooks bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -r requirements.txt
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --no-deps --no-build-isolation -e .  # quiet: no setuptools notices
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(PY) -m cicy4lib demo

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

notebooks: setup
	$(PY) -m cicy4lib.notebooks generate

bench: setup
	$(PY) benchmarks/bench_euler.py
	$(PY) benchmarks/bench_hodge.py
	$(PY) benchmarks/bench_parser.py
	$(PY) benchmarks/bench_train.py

clean:
	rm -rf $(VENV) .pytest_cache demo_output
