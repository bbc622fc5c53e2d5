# The two commands of the README: `make serve` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test test-sqlite test-postgres lint fmt install messages makemessages lock clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

install: $(STAMP)

# Compiled translations (.mo) are built, never committed.
messages: install
	@bin/ensure-system-packages gettext
	$(BIN)/python manage.py compilemessages --ignore=$(VENV) --verbosity=0

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

test: lint messages
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity=0
	@echo "=== Test suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest
	@echo "=== Test suite on PostgreSQL"
	bin/with-postgres $(BIN)/pytest

test-sqlite: messages
	env -u DATABASE_URL $(BIN)/pytest $(ARGS)

test-postgres: messages
	bin/with-postgres $(BIN)/pytest $(ARGS)

# Regenerate requirements.lock from the ranges in pyproject.toml.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check ".[dev]"
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^azukeru-console' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
