# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CCUSAGE_VERSION := 20.0.24
CCUSAGE := .cache/ccusage/node_modules/.bin/ccusage

.PHONY: run demo test lint typecheck bench clean ccusage

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/spendlane

demo: $(STAMP)
	$(BIN)/spendlane demo

# ccusage (its native binary) for the parity tests and the benchmark; optional: without npm
# those tests say they were skipped.
ccusage:
	@if [ ! -x $(CCUSAGE) ] && command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --prefix .cache/ccusage \
			ccusage@$(CCUSAGE_VERSION) >/dev/null 2>&1 \
			|| echo "ccusage could not be installed; its parity tests will be skipped"; \
	fi

test: $(STAMP) ccusage
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/

bench: $(STAMP) ccusage
	$(BIN)/python bench/compare.py

clean:
	rm -rf $(VENV) .cache build dist .pytest_cache .mypy_cache .ruff_cache
