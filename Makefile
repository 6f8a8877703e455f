# Two commands set PolicyHub up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench bench-sync bench-scale bench-api bench-load serve worker migrate demo clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "PolicyHub needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.installed-run

migrate: $(VENV)/.installed-run
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py load_demo
	$(PY) manage.py ensure_admin

run: demo
	@echo "PolicyHub on http://$(HOST):$(PORT)/ (admin at /admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# gunicorn with the checked-in gunicorn.conf.py against DATABASE_URL (default: the SQLite file).
# DJANGO_ENV=production needs SECRET_KEY and ALLOWED_HOSTS, and `manage.py collectstatic` first.
serve: migrate
	@echo "PolicyHub (gunicorn) on http://$(HOST):$(PORT)/"
	DEBUG=$${DEBUG:-false} GUNICORN_BIND=$(HOST):$(PORT) $(PY) -m gunicorn -c gunicorn.conf.py

# A background worker that delivers webhooks (django-tasks, database queue); run one or more per host.
worker: migrate
	$(PY) manage.py db_worker --queue-name webhooks

# Test files are shared out to TEST_WORKERS processes (pytest-xdist; a file's tests stay together).
# 0 runs them in this one process (.ci/run does, as it runs the SQLite and PostgreSQL suites side by side).
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed-test
	$(PY) -m bench $(BENCH_ARGS)

bench-sync: $(VENV)/.installed-test
	$(PY) -m bench.sync $(BENCH_ARGS)

# The read benchmark's two PostgreSQL data sets (1M and 1k coverage criteria); see docs/bench.md.
SCALE_DB ?= postgres://postgres@127.0.0.1:5432/ph_scale
bench-scale: $(VENV)/.installed-test
	$(PY) -m bench.scale --criteria 1000000 --database-url $(SCALE_DB)_1m
	$(PY) -m bench.scale --criteria 1000 --database-url $(SCALE_DB)_1k

# After the read benchmark, the coverage check's order-sign bench runs on the 1M and the 1k data
# sets (issue 17: within 3x of its SQL floor, and no growth from 1k to 1M).
# The sync bench (issue 11) builds its own database: `make bench-sync`.
bench-api: $(VENV)/.installed-test
	$(PY) -m bench.reads --large $(SCALE_DB)_1m --small $(SCALE_DB)_1k $(BENCH_ARGS)
	$(PY) -m bench.coverage_check --database-url $(SCALE_DB)_1m
	$(PY) -m bench.coverage_check --database-url $(SCALE_DB)_1k
# 32 connections for 30 s against gunicorn on 127.0.0.1 with the demo data (docs/bench.md).
bench-load: $(VENV)/.installed-run
	$(PY) -m bench.load $(BENCH_LOAD_ARGS)

clean:
	rm -rf $(VENV) policyhub.sqlite3 staticfiles test-artifacts .pytest_cache
