# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench install install-test lint format sim

run: install
	$(BIN)/sor-daemon run

test: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: install-test
	$(BIN)/python -m bench

sim: install
	$(BIN)/sor-daemon ems-sim

install:
	scripts/bootstrap

install-test:
	scripts/bootstrap --test

lint: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
