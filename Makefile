# The two commands of the README: `make serve` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test test-sqlite test-postgres lint fmt install messages makemessages lock clean browser

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(STAMP)

# Compiled translations (.mo) are built, never committed.
messages: install
	@bin/ensure-system-packages gettext
	$(BIN)/python manage.py compilemessages --ignore=$(VENV) --verbosity=0

# The end-to-end tests (tests/e2e) drive Debian's Chromium; the CJK fonts draw the
# Japanese pages. Installed when missing and we are root (as in CI); otherwise those
# tests are skipped with the reason, except under CI=true, where they fail.
browser:
	@bin/ensure-system-packages chromium fonts-noto-cjk \
	  || echo "!!! No Chromium: the end-to-end tests will be skipped (they fail under CI=true)." >&2

makemessages: install
	$(BIN)/python manage.py makemessages --locale=en --ignore=$(VENV) --ignore=var --no-obsolete

serve: messages
	$(BIN)/python manage.py migrate --noinput --verbosity=0
	$(BIN)/python manage.py seed_demo
	bin/serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint messages browser
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity=0
	@echo "=== Test suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest
	@echo "=== Test suite on PostgreSQL"
	bin/with-postgres $(BIN)/pytest

test-sqlite: messages browser
	env -u DATABASE_URL $(BIN)/pytest $(ARGS)

test-postgres: messages browser
	bin/with-postgres $(BIN)/pytest $(ARGS)

# The screenshots of docs/screenshots/: every flow's (README) and, from the walk of
# tests/e2e/test_fit.py, the lists, the key issue page at 999 user IDs, every
# confirmation and every error page, in Japanese and English at 1280 and 375 px.
.PHONY: screenshots
screenshots: messages browser
	SCREENSHOTS=1 env -u DATABASE_URL $(BIN)/pytest -m e2e -p no:cacheprovider $(ARGS)

# Regenerate requirements.lock from the ranges in pyproject.toml.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check ".[dev]"
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^azukeru-console' > requirements.lock
	rm -rf .venv-lock

# Benchmarks (bench/): a pass on SQLite and one on a throw-away PostgreSQL, gunicorn
# under wrk on 127.0.0.1; the table goes to docs/PERFORMANCE.md. The bench extra of
# pyproject.toml is installed here only: requirements.lock and `make test` never see it.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"], sep="\n")' > $(VENV)/bench-requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -r $(VENV)/bench-requirements.txt
	@touch $@

.PHONY: bench
bench: $(BENCH_STAMP)
	@bin/ensure-system-packages wrk
	$(BIN)/python -m bench

# The scale-out run (bench/scale, docs/OPERATIONS.md): PostgreSQL, PgBouncer, two gunicorn
# instances, two task workers and the sweep under a load of many contracts, one instance
# and one worker killed halfway; then the checks that nothing was lost. Not part of
# `make test`; its figures go to docs/PERFORMANCE.md beside a single-instance run.
.PHONY: scale
scale: messages
	@bin/ensure-system-packages postgresql-15 pgbouncer
	$(BIN)/python -m bench.scale $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
