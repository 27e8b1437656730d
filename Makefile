# Two commands for a newcomer: `make demo` and `make test`. Both create .venv from nothing when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint dashboard bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

## Generate demo exports, load, build, print the summary, then serve the dashboard on :8501.
demo: $(STAMP)
	$(BIN)/finops demo
	$(BIN)/finops dashboard

## Lint and run the whole suite (loaders, CLI, dbt build with data and unit tests, reconciliation,
## focus-validator on the exported demo data, dashboard). The dashboard's end-to-end test drives Debian's
## chromium (not Playwright's own browser download), installed here when missing.
test: $(STAMP)
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && apt-get install -y -qq chromium; }
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	FINOPS_WAREHOUSE=$$(mktemp -d)/lint.duckdb $(BIN)/sqlfluff lint models tests/dbt analyses --disable-progress-bar
	$(BIN)/python -m pytest

dashboard: $(STAMP)
	$(BIN)/finops dashboard

## Benchmark (SCALE=small|medium|large); writes bench/results.json and bench/RESULTS.md.
SCALE ?= small
bench: $(STAMP)
	$(BIN)/finops bench --scale $(SCALE)

clean:
	rm -rf warehouse demo_data target logs .pytest_cache
