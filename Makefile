# The two commands a new user needs first: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= auto
# The moments `make test-calendar` moves the whole clock to, in Amsterdam time: just after
# midnight on a month's last day (still the day before in UTC), New Year's Eve, a leap day,
# and the nights the clocks go forward (02:00 -> 03:00) and back (03:00 -> 02:00, first pass).
CALENDAR_MOMENTS ?= 2027-04-30T00:30:00+02:00 2027-12-31T23:30:00+01:00 \
	2028-02-29T12:00:00+01:00 2027-03-28T01:30:00+01:00 2027-10-31T02:30:00+02:00

.DEFAULT_GOAL := help
.PHONY: help demo test test-sqlite test-postgres test-calendar bench profile audit lint format translations extract-messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[postgres,redis]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,postgres,redis]'
	touch $@ $(VENV)/.installed-app

translations: $(VENV)/.installed-app ## Compile the .po catalogues (Dutch, English)
	$(BIN)/pybabel -q compile -d portal/translations

extract-messages: $(VENV)/.installed-app ## Collect new UI strings into the catalogues
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -N -i portal/translations/messages.pot -d portal/translations

demo: $(VENV)/.installed-app translations ## Migrate a SQLite database, load demo data, serve http://demo.localhost:5000 with a mail worker
	PORTAL_DEBUG=1 $(BIN)/portal db upgrade
	PORTAL_DEBUG=1 $(BIN)/portal demo
	@echo "\nServing on http://demo.localhost:5000 and http://other.localhost:5000 (Ctrl-C stops)"
	@echo "Mail is kept on disk, not sent: see 'Mail sent (development)' at the bottom of each page\n"
	@PORTAL_DEBUG=1 $(BIN)/portal worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		PORTAL_DEBUG=1 $(BIN)/portal run --host 127.0.0.1 --port 5000 --reload

test: $(VENV)/.installed-dev translations ## The whole suite on SQLite, on PostgreSQL when one answers, then on other days
	$(BIN)/pytest -n $(PYTEST_WORKERS)
	@if $(BIN)/python -m tests.pg_available "$(PG_TEST_URL)"; then \
		echo "== the suite again on PostgreSQL ($(PG_TEST_URL))"; \
		PORTAL_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS); \
	else \
		echo "== no PostgreSQL answers at $(PG_TEST_URL): the PostgreSQL run is skipped"; \
	fi
	@$(MAKE) --no-print-directory test-calendar

test-calendar: $(VENV)/.installed-dev translations ## tests/unit and tests/web with the whole clock moved to each of CALENDAR_MOMENTS
	@failed=""; for moment in $(CALENDAR_MOMENTS); do \
		echo "== tests/unit and tests/web with the clock at $$moment"; \
		PYTHONPATH=tests/calendar PORTAL_TEST_NOW=$$moment $(BIN)/pytest -n $(PYTEST_WORKERS) \
			-q -p no:time_machine -W ignore::pytest.PytestAssertRewriteWarning tests/unit tests/web || failed="$$failed $$moment"; \
	done; \
	if [ -n "$$failed" ]; then echo "== the suite failed with the clock at:$$failed"; exit 1; fi

test-sqlite: $(VENV)/.installed-dev translations ## Run the suite on SQLite only
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test-postgres: $(VENV)/.installed-dev translations ## Run the suite on PostgreSQL only
	PORTAL_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS)

bench: $(VENV)/.installed-dev translations ## Load the reference data at 1x and 10x into fresh databases, print the figures (about 6 minutes)
	$(BIN)/python -m bench --pg-url "$(PG_TEST_URL)"

profile: $(VENV)/.installed-dev translations ## Profile one page in-process on SQLite 1x (PAGE=clients, or PAGE=all), into bench/results/profile-PAGE.html and .txt
	$(BIN)/python -m bench --profile "$(PAGE)"

# Lighthouse and the Nu HTML checker, from tools/audit/package-lock.json (--ignore-scripts:
# vnu-jar's install script would download a Java; the one on the PATH runs vnu.jar).
tools/audit/node_modules/.package-lock.json: tools/audit/package.json tools/audit/package-lock.json
	cd tools/audit && npm ci --ignore-scripts --no-audit --no-fund

audit: $(VENV)/.installed-app translations tools/audit/node_modules/.package-lock.json ## Lighthouse (mobile, desktop) and the Nu HTML checker over every page of the demo; needs Chromium, Node and Java
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python tools/audit/audit.py

lint: $(VENV)/.installed-dev ## Ruff
	$(BIN)/ruff check .

format: $(VENV)/.installed-dev ## Let ruff fix what it can
	$(BIN)/ruff check --fix .

clean: ## Remove caches and compiled catalogues (keeps .venv and instance/)
	find . -name __pycache__ -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache
	find portal/translations -name '*.mo' -delete
