# Prospector: `make run` serves the app with a demo account on a bare machine,
# `make test` runs the whole suite (SQLite, or PostgreSQL when DATABASE_URL is set).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Re-install when a requirements file changes.
STAMP := $(VENV)/.requirements-installed
# Override the interpreter with `make PYTHON=/path/to/python3.12 ...` (3.12 or newer).
PYTHON ?=
# Extra pytest arguments: `make test ARGS="-k admin -x"`.
ARGS ?=
# pytest-xdist processes: one per core (on 2 cores with PostgreSQL the suite took 36 s instead
# of 48 s serially). PYTEST_WORKERS=0 runs serially, easier to debug.
PYTEST_WORKERS ?= auto

# `make run` is for a developer's laptop: debug mode and the embedded defaults.
RUN_ENV := DEBUG=$${DEBUG:-1}

.PHONY: help venv run test lint format migrate demo clean

help:
	@echo "make run      set up .venv and a SQLite database, load the demo, serve on http://127.0.0.1:8000 with a task worker"
	@echo "make test     run the whole test suite (SQLite, or PostgreSQL when DATABASE_URL is set)"
	@echo "make lint     ruff check and ruff format --check"
	@echo "make format   ruff format and ruff check --fix"
	@echo "make migrate  apply database migrations"
	@echo "make demo     create or update the demo organization and user (prints the credentials)"
	@echo "make clean    remove .venv, the SQLite database, collected static files and caches"

# Pick the newest interpreter >= 3.12 that really runs: pyenv shims exist for versions that
# are not selected and fail when called, so each candidate is asked for its version.
$(PY):
	@python="$(PYTHON)"; \
	if [ -z "$$python" ]; then \
	  pyenv_root="$$(pyenv root 2>/dev/null || echo "$${PYENV_ROOT:-$$HOME/.pyenv}")"; \
	  python="$$( for candidate in python3.14 python3.13 python3.12 python3 \
	                 $$pyenv_root/versions/3.1[2-9]*/bin/python3; do \
	      command -v "$$candidate" >/dev/null 2>&1 || continue; \
	      version="$$("$$candidate" -c 'import sys; assert sys.version_info >= (3, 12); print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)" || continue; \
	      echo "$$version $$(command -v "$$candidate")"; \
	    done | sort -V | tail -n 1 | cut -d' ' -f2 )"; \
	fi; \
	if [ -z "$$python" ]; then \
	  echo "No Python 3.12 or newer found (tried python3.14, python3.13, python3.12, python3 and pyenv versions)." >&2; \
	  echo "Install one (for example: apt-get install python3.12 python3.12-venv), or run: make PYTHON=/path/to/python3.12 run" >&2; \
	  exit 1; \
	fi; \
	"$$python" -c 'import sys; assert sys.version_info >= (3, 12), sys.version' \
	  || { echo "$$python is older than Python 3.12." >&2; exit 1; }; \
	echo "Creating $(VENV) with $$python ($$("$$python" --version 2>&1))"; \
	rm -rf $(VENV); \
	"$$python" -m venv $(VENV) \
	  || { echo "Could not create $(VENV): install the venv module for $$python (Debian: python3.X-venv)." >&2; rm -rf $(VENV); exit 1; }

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

migrate: $(STAMP)
	$(RUN_ENV) $(PY) manage.py migrate --no-input

demo: migrate
	$(RUN_ENV) $(PY) manage.py load_demo

# The web server and a django-q2 worker in one terminal; Ctrl-C stops both.
run: demo
	$(RUN_ENV) $(PY) manage.py setup_schedules
	$(RUN_ENV) exec $(PY) manage.py run --addr 127.0.0.1:8000

test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles test-results .pytest_cache .ruff_cache
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
