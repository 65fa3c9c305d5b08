# Every target bootstraps its own virtualenv in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SRC    := drift tests dags migrations bench

.PHONY: venv lint format test test-fast demo dashboard bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

test: lint
	$(BIN)/pytest

test-fast: venv
	$(BIN)/pytest -m "not slow" -x

demo: venv
	$(BIN)/python -m drift.airflow.demo

# The dashboard over the demo's results (run `make demo` first): http://127.0.0.1:8050/
dashboard: venv
	$(BIN)/drift dashboard --results-url sqlite:///.demo/drift.db --host 127.0.0.1 --port 8050

bench: venv
	$(BIN)/python bench/bench_compare.py
	$(BIN)/python bench/bench_store.py
	$(BIN)/python bench/bench_dashboard.py
	$(BIN)/python bench/bench_pushdown.py
	$(BIN)/python bench/bench_fleet_store.py
	$(BIN)/python bench/bench_fleet_dags.py
	$(BIN)/python bench/bench_run_overhead.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
