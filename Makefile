# Rapport: `make run` to try it, `make test` to check it. `make help` lists the rest.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PIP_QUIET := --quiet --disable-pip-version-check
export RAPPORT_MODE ?= demo
# Demo data lives apart from the production default (var/rapport.db), so a database
# made by make run is never the one a production start picks up by default.
export RAPPORT_DATABASE_URL ?= sqlite:///var/demo/rapport-demo.db

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install $(PIP_QUIET) -e . 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import backend, dashboard, scoring, streamlit, uvicorn"
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.run-installed
	$(BIN)/pip install $(PIP_QUIET) -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import pytest, hypothesis, playwright, schemathesis"
	touch $@

install: $(VENV)/.run-installed ## Create .venv and install the app

migrate: $(VENV)/.run-installed ## Bring the database to the latest schema
	$(BIN)/rapport migrate

demo: migrate ## Load demo data if the database is empty; print sign-ins and a rating link
	$(BIN)/rapport demo

run: demo ## Install, migrate, load demo data, start the API (:8000) and dashboard (:8501)
	@$(BIN)/uvicorn backend.main:app --host 127.0.0.1 --port 8000 --log-level warning \
	  --forwarded-allow-ips "$${RAPPORT_TRUST_FORWARDED_FOR:-}" & api=$$!; \
	RAPPORT_API_URL=http://127.0.0.1:8000 $(BIN)/streamlit run dashboard/asgi.py \
	  --server.port 8501 --server.address 127.0.0.1 --server.headless true & dash=$$!; \
	trap 'trap - INT TERM EXIT; kill $$api $$dash 2>/dev/null; wait' INT TERM EXIT; \
	sleep 4; \
	echo ""; \
	echo "  API        http://127.0.0.1:8000   (OpenAPI docs: http://127.0.0.1:8000/docs)"; \
	echo "  Dashboard  http://127.0.0.1:8501   (sign in with a demo account above)"; \
	echo "  Ctrl-C stops both."; \
	wait

lint: $(VENV)/.dev-installed ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.dev-installed lint ## Lint, then the whole test suite (SQLite and, if reachable, PostgreSQL)
	$(BIN)/python -m pytest

fuzz: $(VENV)/.dev-installed ## Only the schemathesis contract fuzzing, with more examples (RAPPORT_FUZZ_EXAMPLES=100)
	RAPPORT_FUZZ_EXAMPLES=$${RAPPORT_FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest -m contract_fuzz tests/backend/test_contract_fuzz.py

e2e-deps: ## Install Debian's Chromium for the browser tests if it is missing (needs root)
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

e2e: $(VENV)/.dev-installed ## Only the real-browser tests (tests/e2e, Chromium at /usr/bin/chromium)
	$(BIN)/python -m pytest -m e2e tests/e2e

bench: $(VENV)/.dev-installed ## Benchmarks against same-run baselines (first run builds var/bench, minutes)
	$(BIN)/python -m bench

clean: ## Remove the venv, caches and the local database
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis tests/e2e/artifacts

.PHONY: help install migrate demo run lint test fuzz e2e-deps e2e bench clean
