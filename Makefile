# Daily commands. Each bootstraps .venv itself, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=
# Coverage slows pure-Python tests by up to ~50% (Python 3.11 has no cheap tracing): on by default,
# COVERAGE=0 turns it off (CI measures it on the SQLite pass only).
COVERAGE ?= 1
COV_ARGS := $(if $(filter 1,$(COVERAGE)),--cov --cov-report=term:skip-covered,)
# The exact dependency set, with hashes: prod.lock for `make run`/`make serve`, dev.lock (a superset)
# for tests and checks. `make lock` refreshes both from pyproject.toml.
LOCK := requirements/prod.lock
DEV_LOCK := requirements/dev.lock
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes -q

.PHONY: run serve worker test test-replica check lint format typecheck imports bench bench-scale screenshots lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Installing the lock first and the project with --no-deps keeps pip from choosing versions itself.
$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install -q --no-deps -e .
	@touch $@ $(VENV)/.installed

## lock: re-resolve pyproject.toml into requirements/*.lock (commit the result)
lock: $(VENV)/.installed-dev
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev -o $(DEV_LOCK)

## run: install, migrate, load the small demo if the database is empty, start the worker and the server
# The links the demo prints and puts in QR codes and messages point at the address it serves on.
run: export WANGGE_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo --scale small --if-empty
	$(BIN)/python manage.py demo_logins
	@trap 'kill 0' EXIT; \
	$(BIN)/python manage.py run_worker & \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

## serve: production-style server (gunicorn + whitenoise); set SECRET_KEY, WANGGE_PUBLIC_BASE_URL and DEBUG=0
serve: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 3 --access-logfile -

## worker: every pass of WANGGE_WORKER_HOOKS: time limits, outbox, rollups, exports, sweeps (loop; --once for cron)
worker: $(VENV)/.installed
	$(BIN)/python manage.py run_worker

## test: the whole suite with coverage (browser tests included where /usr/bin/chromium exists)
test: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0
	$(BIN)/python -m pytest -n 2 --dist loadfile $(COV_ARGS) $(PYTEST_ARGS)

## test-replica: dashboards, exports and the replica tests with DATABASE_URL and DATABASE_REPLICA_URL set
## (a streaming replica of the local PostgreSQL: .ci/replica start; docs/scaling.md)
REPLICA_TESTS ?= wangge/dashboards wangge/core/tests/test_replica.py tests/test_replica.py
test-replica: $(VENV)/.installed-dev
	@test -n "$$DATABASE_REPLICA_URL" || { echo "set DATABASE_URL and DATABASE_REPLICA_URL (.ci/replica start serves one on 127.0.0.1:5433)"; exit 2; }
	$(BIN)/python -m pytest -n 2 --dist loadfile $(REPLICA_TESTS) $(PYTEST_ARGS)

## screenshots: the browser tests, saving their pictures into docs/screenshots/ (commit the ones that changed)
screenshots: $(VENV)/.installed-dev
	WANGGE_DOC_SCREENSHOTS=1 $(BIN)/python -m pytest -n 2 --dist loadfile tests/browser $(PYTEST_ARGS)

## check: what CI and the pre-commit hook run before the tests: lint, format, types, import layers
check: lint typecheck imports

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# Branches union-merge the catalogue (.gitattributes): a message defined twice must fail here.
	msgfmt --check -o /dev/null locale/zh_Hans/LC_MESSAGES/django.po

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy wangge config

## imports: the layer order of docs/architecture.md (import-linter contracts in pyproject.toml)
imports: $(VENV)/.installed-dev
	$(BIN)/lint-imports

## bench: every bench/bench_*.py at small scale, results in bench/results/ (BENCH_ARGS="--scale medium")
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

## bench-scale: PostgreSQL at scale (docs/scaling.md): SCALE_N demands into SCALE_DB (dropped and rebuilt), then the report
SCALE_DB ?= postgres://postgres@127.0.0.1:5432/wangge_scale
SCALE_N ?= 1000000
bench-scale: $(VENV)/.installed-dev
	DATABASE_URL=$(SCALE_DB) $(BIN)/python bench/scale_generate.py --demands $(SCALE_N)
	DATABASE_URL=$(SCALE_DB) $(BIN)/python bench/scale_report.py

messages: $(VENV)/.installed-dev
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore '.venv/*' --ignore 'static/vendor/*'
	$(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var/*.sqlite3*
