# make demo: set up and run the example study on the built-in simulator.
# make test: set up, install the programs the tests run (Dovecot, Chromium: scripts/system-deps),
#            then run the checks CI runs (ruff, lint-imports, mypy, pytest).
# The set-up installs exactly the versions uv.lock pins, with uv; `make lock` updates uv.lock
# after a change to pyproject.toml's dependencies.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# uv from PATH, or else the copy bootstrapped into the venv with pip (uv is a PyPI wheel).
UV := $(or $(shell command -v uv 2>/dev/null),$(BIN)/uv)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint typecheck pytest bench lock system-deps clean

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

# --locked: a uv.lock that no longer matches pyproject.toml stops here (run `make lock`).
# The project itself is installed editable, as `pip install -e '.[dev]'` would.
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON) --quiet || { \
	  echo "make: if uv.lock is out of date with pyproject.toml, run: make lock" >&2; exit 1; }
	touch $(STAMP)

lock: | $(UV)
	$(UV) lock --python $(PYTHON)

demo: $(STAMP)
	$(BIN)/replybench demo

test: system-deps lint typecheck pytest

system-deps:
	scripts/system-deps

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) replybench-demo .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
