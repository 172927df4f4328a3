# The README's two commands are `make demo` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench bench-hostile

setup: $(VENV)/.installed

# torch==2.13.0 is pinned in pyproject.toml, so pip takes the CPU build in the same install.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: setup
	$(BIN)/paperbot demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/run_all.py

# Time and peak memory of the hostile cases of issue 12 (about 4 minutes on 2 cores).
bench-hostile: setup
	$(BIN)/python bench/hostile.py
