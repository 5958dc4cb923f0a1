# The two commands of the README: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
DEMO_DB ?= sqlite:///./clientbook.db
DEMO_DATA ?= demo-data
# e.g. DEMO_ARGS="--people 2000" for a smaller demo
DEMO_ARGS ?=

.PHONY: demo test lint lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv
	$(VENV)/bin/uv pip install -q -p $(PY) -r requirements.lock
	$(VENV)/bin/uv pip install -q -p $(PY) --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Build the demo (`clientbook demo setup`: SQLite + DuckDB, steps already done are skipped)
## and serve it on http://127.0.0.1:8000
demo: $(STAMP)
	$(VENV)/bin/clientbook demo setup --out $(DEMO_DATA) --db $(DEMO_DB) $(DEMO_ARGS)
	@echo "Open http://127.0.0.1:8000/ and sign in with one of the accounts above."
	$(VENV)/bin/clientbook serve --db $(DEMO_DB)

## Lint, type-check and run the whole test suite (SQLite and PostgreSQL)
test: $(STAMP) lint
	CLIENTBOOK_TEST_POSTGRES_URL=$$(scripts/postgres-for-tests) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

## Re-resolve the pinned dependencies after editing pyproject.toml
lock: $(STAMP)
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra dev --extra spark -p 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) clientbook.db clientbook.db-* $(DEMO_DATA)
