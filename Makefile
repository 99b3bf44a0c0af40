# Two commands set everything up on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/debate

# uv must never fetch its own Python: the machine's python3.11 is the interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_LINK_MODE := copy

.PHONY: help install install-dev run serve worker bench test check lint typecheck check-postgres browser clean

help:
	@echo "make run    install, migrate, import the seed documents, serve on http://$(HOST):$(PORT)"
	@echo "make test   install, then lint, type-check and run the whole suite on PostgreSQL"
	@echo "make check  the inner loop: lint, import contracts, types, and the unit and action tiers (no slow tests)"
	@echo "make serve  production server: gunicorn + whitenoise on PostgreSQL (needs DATABASE_URL, DJANGO_SECRET_KEY)"
	@echo "make worker background job workers for make serve (JOB_WORKERS, default 2)"
	@echo "make bench  the benchmark suite on PostgreSQL; writes bench/results/ and bench/RESULTS.md"

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Runtime dependencies only; --inexact keeps uv itself and any dev tools already installed.
install: $(UV)
	$(UV) sync --frozen --no-dev --inexact --quiet

install-dev: $(UV)
	$(UV) sync --frozen --inexact --quiet

run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py import_debate fixtures/seeds
	$(PY) manage.py add_user admin --role admin --exists-ok
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} $(PY) scripts/workers.py --workers 1 -- $(PY) manage.py runserver $(HOST):$(PORT)

# Production: refuses to start without PostgreSQL and a real secret key, checks the deployment settings,
# migrates, creates the cache table and collects static files, then hands the process over to gunicorn.
serve: export DJANGO_PRODUCTION := true
serve: export HOST := $(HOST)
serve: export PORT := $(PORT)
serve: install
	@case "$${DATABASE_URL:-}" in \
	  postgres://*|postgresql://*|pgsql://*) ;; \
	  "") echo "make serve needs DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/debate" >&2; exit 2 ;; \
	  *) echo "make serve runs on PostgreSQL only; DATABASE_URL=$${DATABASE_URL%%://*}://... is not" >&2; exit 2 ;; \
	esac
	@test -n "$${DJANGO_SECRET_KEY:-}" || { echo "make serve needs DJANGO_SECRET_KEY (e.g. $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" >&2; exit 2; }
	$(PY) scripts/prepare_serve.py
	exec $(VENV)/bin/gunicorn config.wsgi:application --config python:config.gunicorn

# Background job workers for `make serve` (same DATABASE_URL and DJANGO_SECRET_KEY), JOB_WORKERS of them
# (default 2), restarted if one dies; run them on any machine that reaches the database.
worker: export DJANGO_PRODUCTION := true
worker: install
	@case "$${DATABASE_URL:-}" in postgres://*|postgresql://*|pgsql://*) ;; \
	  *) echo "make worker needs DATABASE_URL pointing at PostgreSQL, as make serve does" >&2; exit 2 ;; esac
	@test -n "$${DJANGO_SECRET_KEY:-}" || { echo "make worker needs DJANGO_SECRET_KEY, as make serve does" >&2; exit 2; }
	exec $(PY) scripts/workers.py --workers $${JOB_WORKERS:-2}

# Benchmarks on a database of their own (BENCH_DATABASE_URL), against `make serve`; about ten minutes.
bench: install-dev
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) scripts/check_postgres.py
	$(PY) -m bench.run $(BENCH_ARGS)

# Headless Chromium for the browser tests: Debian's package, installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-color-emoji >/dev/null 2>&1 || \
	  { DEBIAN_FRONTEND=noninteractive $$SUDO apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-color-emoji >/dev/null; }; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed" >&2; exit 1; }

check-postgres: install-dev
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) scripts/check_postgres.py

# ruff, then the architecture's import contracts ([tool.importlinter] in pyproject.toml, docs/architecture.md).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install-dev
	$(VENV)/bin/mypy .

test: install-dev browser check-postgres lint typecheck
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m pytest $(PYTEST_ARGS)

# The fast tiers: tests/unit (no database at all) and tests/actions (the use cases' rules on PostgreSQL, keeping
# the test database between runs). `make test` remains the one command that runs everything.
check: lint typecheck check-postgres
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m pytest tests/unit tests/actions -m "not slow" -q --reuse-db $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
