# The project's one entry point. `make run` and `make test` work as the first command
# on a fresh machine with Python 3.11: they build the virtual environment when needed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SERVICES := auth-service location-service profile-service
REQUIREMENTS := requirements-dev.txt auth-service/requirements.txt location-service/requirements.txt profile-service/requirements.txt

.PHONY: run test lint unit venv clean bench

# A venv without pip (a `python -m venv` that failed half-way) is made again.
$(INSTALLED): $(REQUIREMENTS)
	@if ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
			echo "make: Python 3.11 or newer is needed (PYTHON=$(PYTHON)); run e.g. make PYTHON=/usr/bin/python3.11" >&2; \
			exit 1; }; \
		echo "$(PYTHON) -m venv --clear $(VENV)"; \
		$(PYTHON) -m venv --clear $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/python -m tools.localstack

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/servicekit
	@for service in $(SERVICES); do MYPYPATH=shared $(BIN)/mypy $$service/chalicelib || exit 1; done

test: lint
	$(BIN)/python -m pytest -n auto --dist loadgroup

# Cold starts as Lambda runs them, the memory each function gets, and their cost: measures
# for a few minutes (root can hold processes to Lambda's CPU share with a cgroup), then
# writes docs/performance.md and prints a summary.
bench: $(INSTALLED)
	$(BIN)/python -m tools.bench

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache test-artifacts
