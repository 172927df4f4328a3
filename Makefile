# The README's two commands are `make demo` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench bench-hostile lock

setup: $(VENV)/.installed

# Every package at the version and hash in requirements.lock (the test tools included), then
# paperbot itself with nothing more; torch there is the CPU build.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# After a change to the pins in pyproject.toml: resolve the whole set again, with hashes.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet pip-tools==7.6.2
	.venv-lock/bin/pip-compile --quiet --allow-unsafe --generate-hashes --extra test \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml

demo: setup
	$(BIN)/paperbot demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/eval_matching.py

# Time and peak memory of the hostile cases of issue 12 (about 4 minutes on 2 cores).
bench-hostile: setup
	$(BIN)/python bench/hostile.py
