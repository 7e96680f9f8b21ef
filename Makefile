# The two commands a newcomer needs:  make run   and   make test
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
POETRY := $(TOOLS)/bin/poetry
VENV := .venv
MANAGE := $(VENV)/bin/python manage.py

# Poetry's own PyPI client needs the JSON API; the mirror plugin lets it use the
# simple index pip uses. The address is read from pip at run time, never stored.
export POETRY_VIRTUALENVS_IN_PROJECT := true
POETRY_PYPI_MIRROR_URL ?= $(shell $(PYTHON) -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
export POETRY_PYPI_MIRROR_URL
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help install run test lint format services test-tools bench bench-smoke bench-tools chaos

help:
	@echo "make run    install, migrate, load demo data, then run the API, a worker per queue and beat"
	@echo "make test   install, then run the whole test suite against real PostgreSQL and RabbitMQ"
	@echo "make lint   ruff and mypy"
	@echo "make bench  measure the platform against references (bench/REPORT.md); make bench-smoke: seconds"
	@echo "make chaos  the whole stack under load and random faults, then an audit (chaos/REPORT.md);"
	@echo "            CHAOS_SECONDS (180) long, CHAOS_SEED to repeat a run"

$(POETRY):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "poetry>=2.2,<3" "poetry-plugin-pypi-mirror>=0.6"

install: $(POETRY)
	$(POETRY) sync --no-root --quiet

run: install
	$(MANAGE) check_services --create-database
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@rm -rf .run/metrics  # Prometheus' counters start again with the processes
	@echo "API docs  http://127.0.0.1:8000/api/docs/       admin   http://127.0.0.1:8000/admin/"
	@echo "metrics   http://127.0.0.1:8000/metrics  (signed in to the admin as staff)"
	@echo "health    http://127.0.0.1:8000/health/live  http://127.0.0.1:8000/health/ready"
	@echo "Ctrl-C stops everything"
	$(VENV)/bin/honcho -f Procfile start

# Debian's tools the tests use: docker-compose validates the compose files (no Docker engine
# needed), chromium opens the staff dashboard, systemd-analyze verifies the systemd units.
TEST_TOOLS := docker-compose:docker-compose chromium:chromium systemd-analyze:systemd
test-tools:
	@missing=""; for tool in $(TEST_TOOLS); do \
	  command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install:$$missing (e.g. sudo apt-get install$$missing)"; exit 1; fi; fi
	@command -v rabbitmqctl >/dev/null || { echo "rabbitmqctl is needed to create the test vhost"; exit 1; }

test: install test-tools
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Debian's wrk drives the HTTP load; pgbench comes with PostgreSQL.
bench-tools:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "please install wrk (e.g. sudo apt-get install wrk)"; exit 1; fi; }
	@command -v pgbench >/dev/null || { echo "pgbench is needed (it comes with PostgreSQL)"; exit 1; }
	@command -v taskset >/dev/null || { echo "taskset is needed (util-linux)"; exit 1; }

bench: install bench-tools
	$(VENV)/bin/python -m bench.run

# A few seconds of each measurement, into bench/out/: proves the harness works, measures nothing.
bench-smoke: install bench-tools
	$(VENV)/bin/python -m bench.run --smoke --out bench/out

# The whole stack under a workload and random combined faults for CHAOS_SECONDS (180), then an
# audit of every acknowledged operation: chaos/REPORT.md. CHAOS_SEED repeats a run's faults.
chaos: install
	$(VENV)/bin/python -m chaos.run
