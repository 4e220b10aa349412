# storefront-sdk — the two commands: `make demo` and `make test`.

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 5000
INSTANCE ?= $(or $(EXAMPLE_SHOP_INSTANCE_PATH),instance)
export EXAMPLE_SHOP_INSTANCE_PATH := $(abspath $(INSTANCE))
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
FLASK   = $(BIN)/flask --app example_shop.wsgi:app
SUDO    = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-fast lint typecheck pytest pytest-fast system-deps bench bench-shop bench-checkout bench-settle clean

$(BIN)/python:
	@# Debian's python3 needs python3-venv for `-m venv` (ensurepip).
	@if ! $(PYTHON) -c "import ensurepip" 2>/dev/null; then \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q python3-venv; \
	fi
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

## demo: create .venv, install, create and seed a SQLite database, serve the example shop
## (in demo mode: the demo's logins are published on its front page, test payments work)
demo: export STOREFRONT_DEMO_MODE := 1
demo: $(STAMP)
	@mkdir -p $(INSTANCE)
	@# Seed when there is no demo summary, or when the default SQLite database is gone.
	@if [ -z "$$STOREFRONT_DATABASE_URL" ] && [ ! -f $(INSTANCE)/storefront.sqlite3 ]; then \
		rm -f $(INSTANCE)/demo.json; \
	fi
	@$(FLASK) storefront init-db >/dev/null
	@# ... and when the summary predates the demo admin (seed-demo is idempotent).
	@if [ ! -f $(INSTANCE)/demo.json ] || ! grep -q '"admin"' $(INSTANCE)/demo.json; then \
		$(FLASK) storefront seed-demo > $(INSTANCE)/demo.json.tmp && \
		mv $(INSTANCE)/demo.json.tmp $(INSTANCE)/demo.json; \
	fi
	@echo "example shop on http://127.0.0.1:$(PORT)/"
	@# The demo settles commissions as soon as a part is delivered, and pays out from ¥1.
	EXAMPLE_SHOP_DEMO_WORKERS=1 PORT=$(PORT) \
	STOREFRONT_RETURN_WINDOW_DAYS=$${STOREFRONT_RETURN_WINDOW_DAYS:-0} \
	STOREFRONT_PAYOUT_MINIMUM_MINOR=$${STOREFRONT_PAYOUT_MINIMUM_MINOR:-100} \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

## system-deps: PostgreSQL, Chromium (+ a CJK font for screenshots) for the test suite, and
## wrk for the benchmarks; apt-get only what is missing
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing (apt-get)"; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy storefront_sdk

## pytest: the whole suite, in two workers (each starts its own PostgreSQL cluster and
## Chromium); PYTEST_WORKERS=1 runs it in one process
PYTEST_WORKERS ?= 2
pytest: $(STAMP) system-deps
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

## pytest-fast: the SQLite half of the suite: no PostgreSQL, no browser, no slow checks
pytest-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not postgresql and not browser and not slow"

## test: lint, types and the whole suite on SQLite and PostgreSQL, browsers included
test: lint typecheck pytest

## test-fast: lint, types and the SQLite half of the suite, for the edit-test loop
test-fast: lint typecheck pytest-fast

## bench: every benchmark (PostgreSQL + gunicorn + wrk); each prints its figures
bench: $(STAMP) system-deps
	$(BIN)/python bench/catalog_sync.py
	$(BIN)/python bench/shop_pages.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/settle.py

## bench-settle: `settle` over 1,000,000 ledger entries on PostgreSQL, against one raw SQL
## statement doing the same writes
bench-settle: $(STAMP) system-deps
	$(BIN)/python bench/settle.py

## bench-checkout: paid orders/s through the services against raw SQL, the HTTP flow, and
## paid-to-webhook latency with 2 dispatchers
bench-checkout: $(STAMP) system-deps
	$(BIN)/python bench/checkout.py

## bench-shop: the shop pages' req/s and latency against a Flask hello-world (wrk)
bench-shop: $(STAMP) system-deps
	$(BIN)/python bench/shop_pages.py

## translations: re-extract the library's strings, merge them into each catalogue, compile
TRANSLATIONS = storefront_sdk/translations
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location \
		--omit-header -o $(TRANSLATIONS)/storefront.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/storefront.pot -d $(TRANSLATIONS) \
		-D storefront --no-fuzzy-matching --omit-header
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS) -D storefront --statistics --use-fuzzy

clean:
	rm -rf instance build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
