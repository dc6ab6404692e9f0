# Two entry points for a fresh machine and a clean clone (see README.md):
#   make run    set up, then test, check and evaluate the example policies (and a synthetic year of 绍兴 claims,
#               streamed, in build/batch/) and build their docs in site/
#   make test   set up (and, as root, the Debian packages below), then run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Debian packages the docs tests need: headless Chromium and its driver (tests/test_docs_browser.py) and the
# CJK font the payment chart draws its Chinese with (policylang/publish/chart.py). Installed with apt-get
# when missing and run as root; otherwise a note, and those tests skip (they fail instead when
# POLICYLANG_REQUIRE_SYSTEM_DEPS is set, as .ci/run does).
SYSTEM_PACKAGES := chromium chromium-driver fonts-wqy-microhei

.PHONY: setup run test bench bench-serve clean system-deps editor-deps fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP) system-deps
	$(BIN)/policylang test policies/ --coverage
	$(BIN)/policylang check policies/
	$(BIN)/policylang eval policies/shaoxing-2024.pol --claims examples/shaoxing-claims.jsonl
	mkdir -p build/batch
	$(BIN)/policylang synth policies/shaoxing-2024.pol -n 20000 --seed 1 --out build/batch/claims.parquet
	$(BIN)/policylang eval policies/shaoxing-2024.pol --claims build/batch/claims.parquet --out build/batch/results.parquet
	$(BIN)/policylang synth policies/zhoushan-2023.pol -n 20000 --seed 1 --out build/batch/zhoushan-year.parquet
	$(BIN)/policylang simulate policies/zhoushan-2023-baseline.pol policies/zhoushan-2023.pol --claims build/batch/zhoushan-year.parquet --out build/simulate
	$(BIN)/policylang docs policies/ -o site

test: $(STAMP) system-deps editor-deps
	$(BIN)/pytest -n auto --dist loadfile  # one worker per core; a module (and its Dask cluster) stays on one worker

# The VS Code grammar tests (tests/test_vscode_grammar.py) run vscode-tmgrammar-test from npm, installed
# from editors/vscode/package-lock.json (npm ci: the locked versions, from npm's cache when it has them).
# Without npm: a note, and those tests skip (they fail instead when POLICYLANG_REQUIRE_SYSTEM_DEPS is set).
VSCODE := editors/vscode
editor-deps: $(VSCODE)/node_modules/.installed

$(VSCODE)/node_modules/.installed: $(VSCODE)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(VSCODE) && npm ci --no-audit --no-fund --prefer-offline --loglevel=error && touch node_modules/.installed; \
	else \
	  echo "editor-deps: npm not found (install Node.js and npm; the VS Code grammar tests skip)" >&2; \
	fi

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "system-deps: not installed:$$missing (apt-get install them as root; the docs browser and chart tests skip)" >&2; \
	  exit 0; \
	fi; \
	start=$$(date +%s); log=$$(mktemp); \
	if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$$log" 2>&1 && \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >>"$$log" 2>&1; then \
	  echo "system-deps: installed$$missing in $$(( $$(date +%s) - start )) s"; rm -f "$$log"; \
	else \
	  cat "$$log" >&2; rm -f "$$log"; echo "system-deps: apt-get failed" >&2; exit 1; \
	fi

# A long fuzz run (tests/fuzz/run.py): N inputs through every command; new reproducers go to tests/fuzz/corpus/.
N ?= 100000
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run -n $(N) --jobs $(JOBS) $(if $(SEED),--seed $(SEED))

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_shaoxing.py
	$(BIN)/python benchmarks/bench_batch.py $(BENCH_ARGS)

# The HTTP service under load on loopback (benchmarks/bench_serve.py): 20,000 requests, 16 clients, zero errors.
bench-serve: $(STAMP)
	$(BIN)/python benchmarks/bench_serve.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
