# Daily commands. Each bootstraps .venv itself, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run serve worker test test-fast lint format typecheck bench bench-liuyang messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

## run: install, migrate, load the small demo if the database is empty, start the worker and the server
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --scale small --if-empty
	$(BIN)/python manage.py demo_logins
	@trap 'kill 0' EXIT; \
	$(BIN)/python manage.py run_worker & \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

## serve: production-style server (gunicorn + whitenoise); set SECRET_KEY and DEBUG=0
serve: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 3 --access-logfile -

## worker: every pass of WANGGE_WORKER_HOOKS: time limits, outbox, rollups, exports, sweeps (loop; --once for cron)
worker: $(VENV)/.installed
	$(BIN)/python manage.py run_worker

## test: the whole suite (browser tests included where /usr/bin/chromium exists)
test: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy wangge config

## bench: benchmarks with calibration against the raw database, results in bench/results/
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore '.venv/*' --ignore 'static/vendor/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var/*.sqlite3*
