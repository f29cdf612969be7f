# The two contract commands: `make demo` and `make test`. Both create the venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean docker-env

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check graviton tests bench
	$(BIN)/ruff format --check graviton tests bench

typecheck: $(STAMP)
	$(BIN)/mypy graviton

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

bench: $(STAMP)
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/shift.py
	$(BIN)/python bench/build.py

docker-env:
	bash scripts/docker-test-env.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
