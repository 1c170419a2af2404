# Quick start: `make run` (serve on http://127.0.0.1:8000, or PORT=8001) and `make test` (every suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
MUTATION_STAMP := $(VENV)/.mutation-installed
WEB_STAMP := web/node_modules/.installed
WEB_DIST := web/dist/index.html
HOOK_PACKAGE := web/packages/workshop-data-react
# The app is built on the hook's package (an npm workspace), so its sources count too.
WEB_SOURCES := $(shell find web/src web/public $(HOOK_PACKAGE)/src -type f 2>/dev/null) \
	$(wildcard web/index.html web/vite.config.ts web/tsconfig*.json $(HOOK_PACKAGE)/tsconfig*.json)

.PHONY: run test lint test-python test-web bench mutants clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

$(MUTATION_STAMP): pyproject.toml | $(DEV_STAMP)
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	touch $@

$(WEB_STAMP): web/package.json web/package-lock.json $(HOOK_PACKAGE)/package.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_DIST): $(WEB_STAMP) $(WEB_SOURCES) web/package.json $(HOOK_PACKAGE)/package.json
	cd web && npm run build
	touch $@

# `make run PORT=8001` serves on another port (WORKSHOP_DATA_PORT works too).
run: $(RUN_STAMP) $(WEB_DIST)
	$(BIN)/workshop-data demo
	$(BIN)/workshop-data serve $(if $(PORT),--port $(PORT))

lint: $(DEV_STAMP) $(WEB_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	cd web && npm run typecheck

test-web: $(WEB_STAMP)
	cd web && npm test

test-python: $(DEV_STAMP) $(WEB_DIST)
	$(BIN)/pytest

test: lint test-web test-python

bench: $(DEV_STAMP) $(WEB_DIST)
	bench/install-tools
	$(BIN)/python -m bench

# Mutation testing (not part of `make test`; scope and last score in docs/benchmarks.md):
# mutmut over the request guard, sign-in, the input policy and the save path, Stryker over the
# hook's controller. MUTANTS_PYTHON=0 or MUTANTS_WEB=0 skips one.
MUTANTS_PYTHON ?= 1
MUTANTS_WEB ?= 1
mutants: $(MUTATION_STAMP) $(WEB_STAMP)
	if [ "$(MUTANTS_PYTHON)" = 1 ]; then \
		rm -rf mutants && $(BIN)/mutmut run --max-children 2; \
		$(BIN)/mutmut export-cicd-stats && cat mutants/mutmut-cicd-stats.json; fi
	if [ "$(MUTANTS_WEB)" = 1 ]; then cd web && npx stryker run; fi

clean:
	rm -rf $(VENV) web/node_modules web/dist $(HOOK_PACKAGE)/dist .pytest_cache .mypy_cache .ruff_cache
