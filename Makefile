# Rapport: `make run` to try it, `make test` to check it. `make help` lists the rest.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PIP_QUIET := --quiet --disable-pip-version-check
LOCALES := backend/locales
CATALOGS := --domain messages -d $(LOCALES)
# Drop pip's warning about this machine's absent extra index, but keep pip's own exit status.
PIP_NOISE := 2>&1 | { grep -v "^WARNING: Location" || true; }; test $${PIPESTATUS[0]} -eq 0
export RAPPORT_MODE ?= demo
API_PORT ?= 8000
DASHBOARD_PORT ?= 8501
MAIL_PORT ?= 8025
# Demo data lives apart from the production default (var/rapport.db), so a database
# made by make run is never the one a production start picks up by default.
export RAPPORT_DATABASE_URL ?= sqlite:///var/demo/rapport-demo.db
# Rating links, QR codes and print cards must reach the API that make run starts,
# so they follow API_PORT unless the variable is set already.
export RAPPORT_PUBLIC_BASE_URL ?= http://127.0.0.1:$(API_PORT)

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Installs are the locked versions, checked against their hashes (`make lock` refreshes
# requirements/); Rapport itself goes in editable, with no dependencies of its own choosing.
$(VENV)/.run-installed: requirements/run.txt pyproject.toml | $(BIN)/activate pdf-deps
	$(BIN)/pip install $(PIP_QUIET) --require-hashes -r requirements/run.txt $(PIP_NOISE)
	$(BIN)/pip install $(PIP_QUIET) --no-deps -e . $(PIP_NOISE)
	$(BIN)/python -c "import backend, dashboard, scoring, streamlit, uvicorn"
	$(BIN)/pybabel compile $(CATALOGS) --statistics
	touch $@

$(VENV)/.dev-installed: requirements/dev.txt pyproject.toml $(VENV)/.run-installed
	$(BIN)/pip install $(PIP_QUIET) --require-hashes -r requirements/dev.txt $(PIP_NOISE)
	$(BIN)/python -c "import pytest, hypothesis, playwright, schemathesis"
	touch $@

install: $(VENV)/.run-installed ## Create .venv and install the app

UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet

lock: $(VENV)/.dev-installed ## Re-resolve requirements/*.txt (pinned, hashed) from pyproject.toml
	$(UV_COMPILE) --upgrade -o requirements/run.txt
	$(UV_COMPILE) --upgrade --extra dev -c requirements/run.txt -o requirements/dev.txt

migrate: $(VENV)/.run-installed ## Bring the database to the latest schema
	$(BIN)/rapport migrate

demo: migrate ## Load demo data if the database is empty; print sign-ins and a rating link
	$(BIN)/rapport demo

run: demo ## Install, migrate, load demo data, start the API (:8000), dashboard (:8501) and a local mail server (:8025)
	@$(BIN)/python -m backend.devmail --port $(MAIL_PORT) & mail=$$!; \
	sleep 1; \
	RAPPORT_SMTP_HOST=127.0.0.1 RAPPORT_SMTP_PORT=$(MAIL_PORT) RAPPORT_SMTP_SECURITY=none \
	  RAPPORT_SMTP_SENDER=rapport@localhost RAPPORT_DASHBOARD_URL=http://127.0.0.1:$(DASHBOARD_PORT) \
	  $(BIN)/uvicorn backend.main:app --host 127.0.0.1 --port $(API_PORT) --log-level warning \
	  --forwarded-allow-ips "$${RAPPORT_TRUST_FORWARDED_FOR:-}" & api=$$!; \
	RAPPORT_API_URL=http://127.0.0.1:$(API_PORT) $(BIN)/streamlit run dashboard/asgi.py \
	  --server.port $(DASHBOARD_PORT) --server.address 127.0.0.1 --server.headless true & dash=$$!; \
	trap 'trap - INT TERM EXIT; kill $$api $$dash $$mail 2>/dev/null; wait' INT TERM EXIT; \
	sleep 4; \
	echo ""; \
	echo "  API        http://127.0.0.1:$(API_PORT)   (OpenAPI docs: http://127.0.0.1:$(API_PORT)/docs)"; \
	echo "  Dashboard  http://127.0.0.1:$(DASHBOARD_PORT)   (sign in with a demo account above)"; \
	echo "  Mail       a local SMTP server on 127.0.0.1:$(MAIL_PORT) prints every mail Rapport sends here"; \
	echo "             (a rating with \"I'd like to talk\" mails its therapist within a minute)"; \
	echo "  Ctrl-C stops all three."; \
	wait

lint: $(VENV)/.dev-installed ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.dev-installed lint ## Lint, then the whole test suite (SQLite and, if reachable, PostgreSQL)
	$(BIN)/python -m pytest

fuzz: $(VENV)/.dev-installed ## Only the schemathesis contract fuzzing, with more examples (RAPPORT_FUZZ_EXAMPLES=100)
	RAPPORT_FUZZ_EXAMPLES=$${RAPPORT_FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest -m contract_fuzz tests/backend/test_contract_fuzz.py

# WeasyPrint (the PDF report) typesets with Debian's pango; harfbuzz-subset embeds only the
# glyphs used. Checked on every install; installed with apt-get when missing (needs root).
PDF_LIBS := libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-deps: ## Install the Debian libraries the PDF report needs if any is missing (needs root)
	@missing=$$(for lib in $(PDF_LIBS); do /sbin/ldconfig -p | grep -q "$$lib" || echo "$$lib"; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing the PDF report's libraries (missing: $$missing)"; \
	  apt-get install -y --no-install-recommends $(PDF_PACKAGES) >/dev/null \
	    || (apt-get update >/dev/null && apt-get install -y --no-install-recommends $(PDF_PACKAGES) >/dev/null) \
	    || { echo "Cannot install $(PDF_PACKAGES); as root: apt-get install $(PDF_PACKAGES)"; exit 1; }; \
	fi

i18n-extract: $(VENV)/.run-installed ## Collect the client's English words into backend/locales/messages.pot
	$(BIN)/pybabel extract --mapping-file babel.cfg --output-file $(LOCALES)/messages.pot \
	  --sort-by-file --no-wrap \
	  --add-comments TRANSLATORS: --omit-header .

i18n-update: i18n-extract ## Merge new and changed words into every .po (changed ones come back fuzzy)
	$(BIN)/pybabel update $(CATALOGS) --input-file $(LOCALES)/messages.pot --no-wrap --ignore-obsolete

i18n-compile: $(VENV)/.run-installed ## Build the .mo files from the .po files (also done at install and first use)
	$(BIN)/pybabel compile $(CATALOGS) --statistics

prod-smoke: $(VENV)/.dev-installed ## nginx (TLS) + 2 API instances on PostgreSQL + dashboard, checked from outside
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get update && \
	  apt-get install -y --no-install-recommends nginx-light openssl gettext-base)
	$(BIN)/python -m pytest -p no:cacheprovider deploy/smoke

e2e-deps: ## Install Debian's Chromium for the browser tests if it is missing (needs root)
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

e2e: $(VENV)/.dev-installed ## Only the real-browser tests (tests/e2e, Chromium at /usr/bin/chromium)
	$(BIN)/python -m pytest -m e2e tests/e2e

# The load benchmark's capacity run drives the server with Debian's wrk (C, one thread).
bench: $(VENV)/.dev-installed ## Benchmarks against same-run baselines (first run builds var/bench, minutes)
	@command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk >/dev/null \
	  || (apt-get update >/dev/null && apt-get install -y --no-install-recommends wrk >/dev/null) \
	  || { echo "Cannot install wrk; as root: apt-get install wrk"; exit 1; }
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg)"
	@$(BIN)/python -m bench; status=$$?; \
	  echo "load average after: $$(cut -d' ' -f1-3 /proc/loadavg)"; exit $$status

clean: ## Remove the venv, caches and the local database
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis tests/e2e/artifacts

.PHONY: help install lock migrate demo run lint test prod-smoke fuzz pdf-deps i18n-extract i18n-update i18n-compile e2e-deps e2e bench clean
