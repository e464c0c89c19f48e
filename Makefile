# Overcast: `make up` starts it, `make test` runs every check. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install up test lint typecheck layers unit bench fmt clean sam-cli

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Overcast needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: install
	$(BIN)/overcast up

lint: install
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -n 2

test: lint typecheck layers sam-cli unit

# aws-sam-cli cannot share the main venv (its pins conflict with ours): it gets its own, for the
# `sam deploy` proof in tests/cloudformation. If it cannot be installed, that one test is skipped.
SAM_VENV := .venv-sam
sam-cli: $(SAM_VENV)/bin/sam

$(SAM_VENV)/bin/sam:
	@( test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV) ) && \
		$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==1.170.0 || \
		echo "aws-sam-cli could not be installed: the sam deploy test will be skipped"

bench: install
	$(BIN)/python -m bench

fmt: install
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

clean:
	rm -rf $(VENV) .venv-sam .overcast .pytest_cache .mypy_cache .ruff_cache
