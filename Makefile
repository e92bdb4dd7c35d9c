# The project's one entry point. `make run` and `make test` work as the first command
# on a fresh machine with Python 3.13: they build the virtual environment when needed.

# The Python of the Lambda functions: Chalice packages for the version it runs under, so
# the virtual environment, the pipeline's buildspec (tools/pipeline.py) and setup.cfg
# move together. When the next move is due: docs/deployment.md, "The runtime".
PYTHON_VERSION := 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
# python3.13 on the PATH if it runs (a pyenv shim is on the PATH but runs only the versions
# pyenv is told to), else one that pyenv installed; `make PYTHON=/path/to/python3.13` wins.
PYTHON ?= $(firstword $(foreach candidate,python$(PYTHON_VERSION) \
	$(wildcard $(PYENV_ROOT)/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION)), \
	$(shell $(candidate) -c 'import sys; print(sys.executable)' 2>/dev/null)))
VENV := .venv
BIN := $(VENV)/bin
# Named after the version, so that a .venv made by another Python is made again.
INSTALLED := $(VENV)/.installed-$(PYTHON_VERSION)
# The services' folders, from services.toml through its one reader, tools/registry.py: it needs only the
# standard library, so it runs before .venv exists (without a Python 3.13, the venv's step says so).
SERVICES := $(if $(PYTHON),$(shell $(PYTHON) -m tools.registry folders))
REQUIREMENTS := requirements-dev.txt $(SERVICES:%=%/requirements.txt)

# How `make test` runs the suite; the buildspec test puts a stand-in here (tests/deploy/test_buildspec.py).
PYTEST ?= $(BIN)/python -m pytest -n auto --dist loadgroup

.PHONY: run test lint unit venv links clean bench service

# A venv of another Python, or without pip (a `python -m venv` that failed half-way), is made again.
$(INSTALLED): $(REQUIREMENTS)
	@if ! $(BIN)/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PYTHON_VERSION)")' \
			2>/dev/null || ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
		if [ -z "$(PYTHON)" ]; then \
			echo "make: Python $(PYTHON_VERSION) is needed (the Lambda runtime); install it, or run make PYTHON=/path/to/python$(PYTHON_VERSION)" >&2; \
			exit 1; fi; \
		echo "$(PYTHON) -m venv --clear $(VENV)"; \
		$(PYTHON) -m venv --clear $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(REQUIREMENTS:%=-r %)
	@rm -f $(VENV)/.installed*
	@touch $@

venv: $(INSTALLED)

# Each service reaches the shared library through vendor/servicekit, a relative link to the
# repository's shared/servicekit. A source archive that lost its links (CodePipeline's zip can)
# leaves a small file holding the link's target, or nothing: make makes the link again and says
# so. Anything else there (a copy of the library, as the pipeline's build leaves before
# packaging) may hold edits: make stops and says how to put the link back, so that the tests
# always run on the tree as a developer has it.
# The link's target, from a service's vendor/ folder: two folders up, then shared/servicekit.
UP := ..
SHARED_LINK := $(UP)/$(UP)/shared/servicekit
links:
	@for service in $(SERVICES); do link=$$service/vendor/servicekit; target=$(SHARED_LINK); \
		if [ -L $$link ] && [ "$$(readlink $$link)" = "$$target" ]; then continue; fi; \
		if [ -L $$link ] || { [ -e $$link ] && ! { [ -f $$link ] && [ "$$(cat $$link)" = "$$target" ]; }; }; then \
			echo "make: $$link is not the link to $$target (a copy left by a build?): remove it (rm -rf $$link) and run make again" >&2; \
			exit 1; \
		fi; \
		echo "make: $$link: the source had lost the link to $$target: made it again"; \
		rm -f $$link && mkdir -p $$service/vendor && ln -s $$target $$link || exit 1; \
	done

run: $(INSTALLED) links
	$(BIN)/python -m tools.localstack

lint: $(INSTALLED) links
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/servicekit
	@for service in $(SERVICES); do MYPYPATH=shared $(BIN)/mypy $$service/chalicelib || exit 1; done

test: lint
	$(PYTEST)

# Cold starts as Lambda runs them, the memory each function gets, and their cost: measures
# for a few minutes (root can hold processes to Lambda's CPU share with a cgroup), then
# writes docs/performance.md and prints a summary.
bench: $(INSTALLED)
	$(BIN)/python -m tools.bench

# A new service in the same shape as the others: make service NAME=billing
service: $(INSTALLED)
	@if [ -z "$(NAME)" ]; then echo "make service NAME=<name>: the new service's name" >&2; exit 2; fi
	$(BIN)/python -m tools.new_service $(NAME)

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache test-artifacts
