# The README's two commands: `make studio` and `make test`. Each installs what it needs: Python
# packages from pyproject.toml into .venv, npm packages from frontend/package-lock.json, and
# (for the tests, as root) Debian's mosquitto and chromium when they are missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed
DIST := frontend/dist/index.html
FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json -type f 2>/dev/null)

.PHONY: studio test test-python test-frontend test-postgres lint install frontend system-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

$(NPM_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

$(DIST): $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build

install: $(STAMP) $(NPM_STAMP)
frontend: $(DIST)

# Debian packages the tests talk to (a real broker, a real browser); installed when missing.
system-deps:
	@missing=""; \
	command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || missing="$$missing mosquitto"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "missing Debian packages:$$missing (sudo apt-get install$$missing); the tests that need them will fail"; fi; \
	fi

studio: $(STAMP) $(DIST)
	$(BIN)/aiot studio

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-frontend: $(NPM_STAMP)
	cd frontend && npm test

test-python: $(STAMP) $(DIST) system-deps
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n 2

test: test-frontend test-python

# The production leg: every test that uses the database, again on PostgreSQL (AIOT_TEST_DATABASE_URL,
# default the local server). `--database-tests` (tests/conftest.py) keeps the tests that reach the
# database: those with pytest-django's `django_db` mark or database fixtures (all of tests/studio/)
# and the end-to-end tests (tests/e2e/: their live studio gets a PostgreSQL database of its own).
# It deselects the rest (rules engine, compiler, edge agent, command line), which touch no database,
# and tests/test_embedded_studio.py, whose embedded default is SQLite by definition (SPEC §10).
test-postgres: $(STAMP) $(DIST) system-deps
	AIOT_TEST_DATABASE_URL=$${AIOT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	  $(BIN)/python -m pytest -n 2 --database-tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis frontend/node_modules frontend/dist
