# billing-bot: `make run` starts the bot, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint typecheck bench bench-quick bench-wrk clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,console]'
	touch $(STAMP)

## run: the bot (Slack when configured, else the local console on demo data)
run: $(STAMP)
	$(BIN)/python -m bot.launch

# One worker per core (pytest-xdist), a module's tests on one worker (its running bot is set up once);
# the 15 slowest tests and the wall time (pytest's last line) close the report.
PYTEST_FAST := -n auto --dist loadscope --durations=15

## test: the whole suite on SQLite, starting localstripe, SMTP and Slack stand-ins itself
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_FAST)

## test-postgres: the suite again on PostgreSQL (starts it; installs it when absent)
test-postgres: $(STAMP)
	TEST_DATABASE_URL="$$(bash .ci/postgres.sh)" $(BIN)/python -m pytest $(PYTEST_FAST)

## lint: ruff (rules and formatting), and the layers (bot -> handlers -> billing_core) with import-linter
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

## bench-wrk: only the wrk section on the full PostgreSQL set (installs wrk when absent)
bench-wrk: $(STAMP)
	$(BIN)/python -m bench --only wrk --output bench/results/wrk.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
