# The two commands of README.md. Both install what they need first, so each works on a fresh machine.
PYTHON ?= python3
MATHJAX_VERSION = 3.2.2
JOBS ?= 2

.PHONY: book test install-book install-test mathjax clean

install-book:
	$(PYTHON) -m pip install -q -e ".[book]"

install-test:
	$(PYTHON) -m pip install -q -e ".[test]"

# MathJax 3 from the npm registry, copied where Sphinx's html_static_path picks it up (no CDN at read time).
mathjax:
	@test -f build-deps/static/mathjax/tex-chtml.js || ( \
	  npm install --silent --no-save --no-audit --no-fund --prefix build-deps mathjax@$(MATHJAX_VERSION) && \
	  mkdir -p build-deps/static/mathjax && \
	  cp -r build-deps/node_modules/mathjax/es5/. build-deps/static/mathjax/ )

# Sets up and builds the whole book into _build/html: executes every chapter, fails on any cell error,
# treats warnings as errors and checks every reference.
book: install-book mathjax
	$(PYTHON) -c "from jupyter_book.cli.main import main; main()" build . -W -n --keep-going

# Sets up and runs the whole test suite: unit tests of dln and every chapter under nbval, at DLN_SCALE=ci.
test: install-test
	DLN_SCALE=ci $(PYTHON) -m pytest -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env tests book

clean:
	rm -rf _build build-deps
