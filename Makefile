# Lotse: two commands for a fresh machine.
#   make run   install, migrate, seed demo data, collect static files, serve
#              on 127.0.0.1:8000 as production does (DEBUG off; demo values
#              in scripts/demo_env.sh; two-factor sign-in off unless
#              LOTSE_REQUIRE_MFA=true) with a Celery worker and beat beside
#              it (Ctrl-C stops all)
#   make test  the whole suite (PostgreSQL when DATABASE_URL is set), with the
#              browser tests in Debian's Chromium (installed when missing)

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint fmt install browser messages clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Lotse needs $(PYTHON) on PATH (or set PYTHON=...)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	PY=$(PY) bash scripts/run.sh

# Debian's chromium and chromium-driver for the Playwright browser tests.
browser:
	bash scripts/ensure_chromium.sh

test: $(STAMP) browser
	$(PY) -m pytest -n auto

bench: $(STAMP)
	$(PY) -m bench $(PARTS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(STAMP)
	$(PY) manage.py makemessages -l de -l en --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/celery
