# `make test` sets up a fresh machine (venv, extras, Graphviz and Chromium when root) and runs every check;
# `make pytest` only runs the tests, and never calls apt-get.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo`'s own: the package and [plot] alone, so a newcomer gets no torch, apt or npm.
DEMO_STAMP := $(VENV)/.installed-demo
ESLINT := node_modules/.bin/eslint
VENDOR := gategrad/playground/vendor
PYODIDE_FILES := pyodide.mjs pyodide.asm.mjs pyodide.asm.wasm python_stdlib.zip pyodide-lock.json
# The last hypothesis released as pure Python: later ones carry a compiled part, which Pyodide cannot load.
PURE_HYPOTHESIS := hypothesis==6.155.7

.PHONY: setup system-deps test test-fast lint typecheck pytest bench demo docs messages clean

setup: $(STAMP) system-deps $(VENDOR)/.copied

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# npm brings ESLint for the pages' JavaScript, and Pyodide and viz-js for the playground (package-lock.json pins them).
$(ESLINT): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(ESLINT)

# The playground's assets, where the wheel picks them up (gitignored): Pyodide's core and viz-js's ES module
# from npm, and a pure-Python hypothesis wheel for the engine referee in the browser.
$(VENDOR)/.copied: $(ESLINT) $(STAMP)
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/pyodide $(VENDOR)/viz $(VENDOR)/wheels
	cp $(addprefix node_modules/pyodide/,$(PYODIDE_FILES)) $(VENDOR)/pyodide/
	cp node_modules/@viz-js/viz/dist/viz.js $(VENDOR)/viz/
	$(BIN)/pip download -q --no-deps --only-binary=:all: --platform any --implementation py --abi none \
		-d $(VENDOR)/wheels '$(PURE_HYPOTHESIS)'
	touch $@

# Graphviz's `dot` renders the circuits; Chromium drives the browser tests; npm installs ESLint.
system-deps:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing system packages:$$missing (install them with: sudo apt-get install$$missing)" >&2; exit 1; \
		fi; \
	fi

lint: $(STAMP) $(ESLINT)
	$(BIN)/ruff check gategrad tests benchmarks tools
	$(BIN)/ruff format --check gategrad tests benchmarks tools
	$(ESLINT) gategrad/viz/web gategrad/playground/web

# Strict: pyproject.toml's [tool.mypy] says so, for this target and the pre-commit hook alike.
typecheck: $(STAMP)
	$(BIN)/mypy gategrad tools

# Runs the tests with what is installed; a test whose tool is missing skips, or fails under CI=true.
pytest: $(STAMP)
	$(BIN)/python -m pytest

test: setup lint typecheck pytest

# The inner loop: every test not marked slow (under 2 minutes on 2 cores), stopping at the first failure.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/replay_grid.py
	$(BIN)/python benchmarks/check_speed.py

# A developer's full venv (made by `make setup`, newer than pyproject.toml) already has all the demo needs.
$(DEMO_STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	[ $(STAMP) -nt pyproject.toml ] || $(BIN)/pip install -q -e '.[plot]'
	touch $@

demo: $(DEMO_STAMP)
	$(BIN)/gategrad demo
	@echo
	@echo "gategrad is installed in $(VENV). Run it next as"
	@echo "  $(BIN)/gategrad explain '(x+y)*z' x=-2 y=5 z=-4"
	@echo "or activate the venv once per terminal, then call gategrad by name:"
	@echo "  . $(BIN)/activate"
	@echo "  gategrad --help"

# The site's pictures are the demo's; then the site itself, into build/docs/ (open build/docs/index.html).
# NO_MKDOCS_2_WARNING silences mkdocs-material's notice about its successor.
docs: setup
	$(BIN)/gategrad demo --quiet --out $(VENV)/demo >/dev/null
	mkdir -p docs/images && cp $(VENV)/demo/circuit.svg $(VENV)/demo/boundary.png docs/images/
	$(BIN)/python tools/screenshot.py $(VENV)/demo/run.html docs/images/run.png
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The translation template from the code, merged into each language's .po file (then translate what is new).
messages: $(STAMP)
	$(BIN)/python tools/catalogues.py

clean:
	rm -rf $(VENV) build node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis gategrad-demo
