# The two commands: `make run` (back office + worker with demo data) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=
# Tests run in parallel processes (pytest-xdist); each has its own test database and servers.
TEST_WORKERS ?= 2
# Compiled modules, and pytest's rewritten test modules, are written once and read by every later process:
# where the environment sets PYTHONDONTWRITEBYTECODE, each test worker and each worker or web server a test
# starts compiled them again (bench/NOTES.md, "The suite's duration").
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-pgbouncer install system-deps lint bench migrate clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	touch $(STAMP)

# Front-end libraries from the npm registry, served by the project itself (never a CDN).
VENDOR := static/vendor/chart.umd.min.js static/vendor/htmx.min.js static/vendor/axe.min.js
$(VENDOR): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && mkdir -p static/vendor && \
		cp node_modules/chart.js/dist/chart.umd.min.js node_modules/htmx.org/dist/htmx.min.js \
			node_modules/axe-core/axe.min.js static/vendor/; \
	else echo "npm is not installed: charts fall back to their tables (apt-get install npm to get them)."; fi

install: $(STAMP) $(VENDOR)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py setup_schedules
	@echo "Log in at http://$(ADDR)/accounts/login/ (admin/admin, or demo users marketer, approver, analyst with password demo-password)"
	$(BIN)/python manage.py run_all --addr $(ADDR)

system-deps:
	bash scripts/system-deps.sh

test: install system-deps
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The suite on PostgreSQL through PgBouncer in transaction pooling mode (README: scaling out).
PGBOUNCER_PORT ?= 6432
test-pgbouncer: install system-deps
	bash scripts/pgbouncer.sh start $(PGBOUNCER_PORT)
	DATABASE_URL=postgres://postgres@127.0.0.1:$(PGBOUNCER_PORT)/aicmo_pooled DATABASE_TRANSACTION_POOLING=1 \
		$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench $(NAME)

clean:
	rm -rf $(VENV) var/*.sqlite3* node_modules static/vendor
