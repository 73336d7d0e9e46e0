# `make test` sets up a fresh machine (venv, extras, Graphviz and Chromium when root) and runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps test lint typecheck pytest bench demo docs clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Graphviz's `dot` renders the circuits; Chromium drives the stepper's browser test.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing system packages:$$missing (install them with: sudo apt-get install$$missing)" >&2; exit 1; \
		fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check gategrad tests benchmarks
	$(BIN)/ruff format --check gategrad tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy gategrad

pytest: setup
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

demo: setup
	$(BIN)/gategrad demo

# README's pictures are the demo's.
docs: setup
	$(BIN)/gategrad demo --quiet --out $(VENV)/demo >/dev/null
	mkdir -p docs && cp $(VENV)/demo/circuit.svg $(VENV)/demo/boundary.png docs/
	$(BIN)/python docs/screenshot.py $(VENV)/demo/run.html docs/run.png

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis gategrad-demo
