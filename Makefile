# Vitrina developer commands. Everything installs into .venv from pyproject.toml; nothing else is assumed
# but Python 3.11. System packages that some suites need (chromium for browser tests, wrk for benchmarks)
# are installed by `make system-deps` (root + apt), which `make test` runs when they are missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST := $(BIN)/python -m pytest

.PHONY: install run test test-sqlite test-postgresql test-slow lint bench system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vitrina dev

test: $(STAMP) system-deps test-sqlite test-postgresql

# Two xdist workers: the machine's two cores; each worker gets its own database and key prefix.
test-sqlite: $(STAMP)
	$(PYTEST) -m "not slow" --db sqlite -n 2

test-postgresql: $(STAMP)
	$(PYTEST) -m "not slow" --db postgresql -n 2

test-slow: $(STAMP) system-deps
	$(PYTEST) -m slow --db postgresql

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP) system-deps
	$(BIN)/vitrina bench $(BENCH_ARGS)

system-deps:
	@bash scripts/system-deps.sh

clean:
	rm -rf $(VENV) .vitrina vitrina.db vitrina.db-wal vitrina.db-shm
