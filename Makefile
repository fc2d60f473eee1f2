# Lotse: two commands for a fresh machine.
#   make run   install, migrate, seed demo data, collect static files, serve
#              on 127.0.0.1:8000 as production does (DEBUG off; demo values
#              in scripts/demo_env.sh; two-factor sign-in off unless
#              LOTSE_REQUIRE_MFA=true) with a Celery worker and beat beside
#              it (Ctrl-C stops all)
#   make test  the whole suite (PostgreSQL when DATABASE_URL is set), with the
#              browser tests in Debian's Chromium and the directory, Redis and
#              backup tests' Debian packages (installed when missing); the
#              property tests run bounded and seeded (tests/hypothesis_profiles.py)
#   make test-deep  the property tests (W5 state machine, API fuzz) with the
#              long "deep" Hypothesis profile

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-deep bench lint fmt install browser services fonts prod-check messages clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Lotse needs $(PYTHON) on PATH (or set PYTHON=...)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	bash scripts/ensure_debian_packages.sh build
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) fonts

run: $(STAMP) fonts
	PY=$(PY) bash scripts/run.sh

# Debian's chromium and chromium-driver for the Playwright browser tests.
browser:
	bash scripts/ensure_chromium.sh

# Debian's slapd, redis-server and the PostgreSQL client for the directory,
# production-profile and backup tests (installed when missing).
services:
	bash scripts/ensure_debian_packages.sh test


# Debian's fonts-noto-core (the client documents' scripts) and poppler-utils.
fonts:
	bash scripts/ensure_fonts.sh

# Long files first, each on one worker (tests/conftest.py LONG_FIRST), the
# rest spread test by test: both workers finish together.
test: $(STAMP) browser services fonts
	$(PY) -m pytest -n auto --dist loadgroup --no-loadscope-reorder

test-deep: $(STAMP)
	LOTSE_HYPOTHESIS_PROFILE=$${LOTSE_HYPOTHESIS_PROFILE:-deep} $(PY) -m pytest -n auto -m property

# The production profile without containers: two gunicorn nodes, a Celery
# worker and beat, its own Redis, DEBUG off, against the local PostgreSQL
# (database lotse_prodcheck, dropped afterwards); a smoke journey across both.
prod-check: $(STAMP) services
	$(PY) -m operations.prodcheck $(if $(PORTS),--ports $(PORTS),)

bench: $(STAMP)
	$(PY) -m bench $(PARTS)

# ruff, the layers (import-linter contracts in pyproject.toml) and mypy with
# the Django and DRF plugins; CI runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(STAMP)
	$(PY) manage.py makemessages -l de -l en --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/celery
