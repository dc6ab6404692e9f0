# Two entry points for a fresh machine and a clean clone (see README.md):
#   make run    set up, then test and evaluate the example policies
#   make test   set up, then run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/policylang test policies/ --coverage
	$(BIN)/policylang check policies/
	$(BIN)/policylang eval policies/shaoxing-2024.pol --claims examples/shaoxing-claims.jsonl

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_shaoxing.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
