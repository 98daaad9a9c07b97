# The two commands of README.md. Both install what they need first, so each works on a
# fresh machine (inside an activated virtual environment; see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
MATHJAX_VERSION = 3.2.2
JOBS ?= 2
# Where pip finds torch==2.13.0. Empty: the default index (PyPI; on Linux its wheel
# pulls several GB of CUDA libraries). For the CPU-only wheel (~200 MB):
#   make book TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
PIP = $(PYTHON) -m pip install -q --disable-pip-version-check
# The kernel's notice about TCP transport is addressed to servers, not to readers.
QUIET_KERNEL = { grep --line-buffered -v "running over TCP without encryption" || true; }

.PHONY: book test lint install-book install-test install-jupyter torch mathjax clean

torch:
ifneq ($(strip $(TORCH_INDEX)),)
	$(PIP) "torch==2.13.0" --index-url $(TORCH_INDEX)
endif

install-book: torch
	$(PIP) -e ".[book]"

install-test: torch
	$(PIP) -e ".[test]"

# JupyterLab with jupytext (chapters open as notebooks) and jupyterlab-myst (MyST roles
# and directives render in Jupyter); see README.md, "Open a chapter in Jupyter".
install-jupyter: torch
	$(PIP) -e ".[jupyter]"

# MathJax 3 from the npm registry, copied where Sphinx's html_static_path picks it up
# (no CDN at read time).
mathjax:
	@test -f build-deps/static/mathjax/tex-chtml.js || ( \
	  npm install --silent --no-save --no-audit --no-fund --prefix build-deps mathjax@$(MATHJAX_VERSION) && \
	  mkdir -p build-deps/static/mathjax && \
	  cp -r build-deps/node_modules/mathjax/es5/. build-deps/static/mathjax/ )

# Sets up and builds the whole book into _build/html: executes every chapter (each one
# is announced as it starts, with its time when done), fails on any cell error, treats
# warnings as errors and checks every reference; then lists the execution times.
book: install-book mathjax
	@echo "Building the book at DLN_SCALE=$${DLN_SCALE:-default}; each chapter is executed in turn."
	PYTHONUNBUFFERED=1 $(PYTHON) -c "from jupyter_book.cli.main import main; main()" \
	  build . -W -n --keep-going 2>&1 | $(QUIET_KERNEL)
	@$(PYTHON) scripts/execution_times.py _build

# Sets up and runs the whole test suite: the package's docstring examples, its unit
# tests and every chapter under nbval, at DLN_SCALE=ci; then the linter.
test: install-test
	DLN_SCALE=ci $(PYTHON) -m pytest -n $(JOBS) --dist loadfile --nbval-lax \
	  --nbval-current-env src/dln tests book 2>&1 | $(QUIET_KERNEL)
	$(MAKE) lint

lint:
	$(PYTHON) -m ruff check src tests benchmarks conftest.py
	$(PYTHON) -m ruff format --check src tests benchmarks conftest.py

clean:
	rm -rf _build build-deps
