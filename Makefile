# Two commands for people: `make run` and `make test`. Both start with `make setup`,
# which only does what is missing and is safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PO_FILES := $(wildcard translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
HTMX := helpdesk/static/vendor/htmx.min.js
SWAGGER_UI := helpdesk/static/vendor/swagger-ui/swagger-ui-bundle.js
# Fonts (woff2, only the weights and scripts the stylesheet uses) and icons (only those the
# templates use) from npm, copied like htmx; helpdesk.css and the `icon()` template helper read them.
FONT_WEIGHTS := 400 600 700
FONTS := $(foreach w,$(FONT_WEIGHTS),helpdesk/static/vendor/fonts/plex-arabic-$(w).woff2 helpdesk/static/vendor/fonts/plex-latin-$(w).woff2)
ICON_NAMES := inbox chart-column book-open settings braces log-out log-in languages user send search refresh-cw plus list-filter ticket message-square user-plus circle-check keyboard life-buoy package shuffle headset sliders-horizontal workflow lock key-round
ICONS := $(foreach i,$(ICON_NAMES),helpdesk/static/vendor/icons/$(i).svg)

.PHONY: setup run test lint format i18n-extract clean-instance help screenshots bench bench-ingest lighthouse bench-shops bench-live

help:
	@echo "make run     set everything up and serve on http://127.0.0.1:5000 with demo data"
	@echo "make test    set everything up and run the whole test suite"
	@echo "make setup   create .venv, install packages, htmx and translations (idempotent)"
	@echo "make lint    ruff check and format check"
	@echo "make bench   benchmarks at 100k tickets, side by side with django-helpdesk, search by meaning, and how cost grows 10k → 1M on PostgreSQL (BENCH_ARGS=..., BENCH_SCALE_ARGS=...)"

setup: $(BIN)/.installed $(HTMX) $(SWAGGER_UI) $(FONTS) $(ICONS) $(MO_FILES)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --no-package-lock --loglevel=error
	touch $@

$(HTMX): node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

# The interactive API docs (Swagger UI), served from our own origin: the CSP allows no CDN.
$(SWAGGER_UI): node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(dir $@)

helpdesk/static/vendor/fonts/plex-arabic-%.woff2: node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/@fontsource/ibm-plex-sans-arabic/files/ibm-plex-sans-arabic-arabic-$*-normal.woff2 $@

helpdesk/static/vendor/fonts/plex-latin-%.woff2: node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/@fontsource/ibm-plex-sans/files/ibm-plex-sans-latin-$*-normal.woff2 $@

helpdesk/static/vendor/icons/%.svg: node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/lucide-static/icons/$*.svg $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(BIN)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@ -l $*

run: setup
	$(BIN)/helpdesk init
	$(BIN)/helpdesk demo --if-empty
	$(BIN)/helpdesk serve

# The suite runs on every core (pytest-xdist; a file's tests stay together on one worker).
PYTEST_ARGS ?= -q
test: setup
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

# The main pages in both languages and themes, desktop and phone, from the real server in Chromium
# with the demo's full data.
screenshots: setup
	HELPDESK_SCREENSHOTS=docs/screenshots HELPDESK_E2E_DEMO_TICKETS=2000 $(BIN)/pytest -q -p no:cacheprovider tests/e2e/test_screenshots.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the catalogs from the code and templates; then translate the new Arabic entries.
i18n-extract: setup
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs=".* __pycache__ node_modules .venv" -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output --omit-header --no-wrap .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --no-wrap

# Benchmarks (README "Benchmarks"): generate the dataset once, time ours and django-helpdesk.
$(BIN)/.bench-installed: pyproject.toml | $(BIN)/.installed
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

bench: setup $(BIN)/.bench-installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.search_backends
	$(BIN)/python -m bench.shops
	$(BIN)/python -m bench.whatsapp --save bench/results/whatsapp.jsonl
	$(BIN)/python -m bench.live $(BENCH_LIVE_ARGS)
	$(BIN)/python -m bench.scale $(BENCH_SCALE_ARGS)

# Salla and Zid: 50,000 orders synced from the local peer, signed webhooks accepted over HTTP.
bench-shops: setup
	$(BIN)/python -m bench.shops

# Lighthouse accessibility and best practices (>= 95) on the portal home, case form, agent queue and
# ticket page, both languages, from our real server in Debian's Chromium (CHROME_PATH to choose another).
lighthouse: setup
	$(BIN)/python bench/lighthouse.py $(LIGHTHOUSE_ARGS)

# Live updates: 500 open streams on loopback, 100 ticket changes per second for 10 s: delivery
# latency, memory per idle stream, queue page latency without and with the streams (bench/live.py).
bench-live: setup $(BIN)/.bench-installed
	$(BIN)/python -m bench.live $(BENCH_LIVE_ARGS)

# Inbound mail throughput: 5,000 generated messages into a fresh SQLite database.
bench-ingest: setup
	$(BIN)/python bench/ingest.py --messages 5000
