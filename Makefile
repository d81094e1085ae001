# Everything a fresh clone needs: `make bib` and `make test` set up their own tools.
# uv comes from PyPI into .tools/ and never downloads a Python: it uses python3 from PATH.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-$(UV_VERSION)
BIB := $(VENV)/bin/bib

export UV_PYTHON_DOWNLOADS := never
# Installed packages get their bytecode at install time: start-up is most of a small
# build, and a shell with PYTHONDONTWRITEBYTECODE would otherwise compile them every run.
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: bib test lint install-check bench bench-resolve bench-tidy lock zotero clean

bib: $(STAMP)
	$(BIB) build

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n 6 --durations=8

# The README's install command, proved in an empty folder (a fresh tool environment).
install-check: $(STAMP)
	PYTHON=$(PYTHON) bash .ci/install-check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(VENV)/bin/python bench/bench_build.py
	$(VENV)/bin/python bench/bench_startup.py
	$(VENV)/bin/python bench/bench_import.py
	$(VENV)/bin/python bench/bench_offline.py

# bibtex-tidy (npm) beside our BibTeX build, on the same file in the same run.
bench-tidy: $(STAMP)
	[ -x $(TOOLS)/node/node_modules/.bin/bibtex-tidy ] || \
	  npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node bibtex-tidy@1.14.0
	$(VENV)/bin/python bench/bench_tidy.py

bench-resolve: $(STAMP)
	$(VENV)/bin/python bench/bench_resolve.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# uv.lock pins every package; --frozen fails rather than silently re-resolving.
$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache

# Rebuild the committed lock from tests/fixtures through the loopback upstreams (see README).
lock: $(STAMP)
	$(VENV)/bin/python -m tests.lockgen $(DATE)
	$(BIB) build

# Mirror the catalog into the Zotero library named by ZOTERO_API_KEY / ZOTERO_LIBRARY_ID.
zotero: $(STAMP)
	$(BIB) zotero sync
