# The two commands a newcomer needs: `make run` and `make test`.
# Everything else they depend on is set up here, from the package registries only.

PYTHON ?= python3.11
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export ALLOT_DATABASE_URL ?= sqlite:///var/allot.db
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint types unit bench env dev-env system test-system clean client translations messages

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

# Two stamps: `make run` installs the runtime only (no test, lint or type-checking package);
# `make test` adds the dev group. `--inexact` keeps what the other one installed.
# Both write the bytecode of the installed packages and of allot's own modules, once, here:
# where PYTHONDONTWRITEBYTECODE is set (as in many containers) Python never caches it itself,
# and every `allot` command would compile each module it imports from source, two to three
# times the CPU of its start (bench/cli_startup.py). A module edited later is compiled at each
# start until this runs again, which is only slower.
.venv/.synced-run: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --no-dev --compile-bytecode --python $(PYTHON)
	$(UV) run --no-sync python -m compileall -q src
	touch $@

.venv/.synced-dev: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --compile-bytecode --python $(PYTHON)
	$(UV) run --no-sync python -m compileall -q src
	touch $@ .venv/.synced-run

# Debian packages behind the PDF documents: WeasyPrint's Pango and HarfBuzz-Subset (without it
# WeasyPrint warns at import, an error under pytest), the Noto fonts that shape Thai, Devanagari
# and CJK, and poppler (pdftoppm, pdftotext) for the tests that read the PDFs.
# Installs only what is missing, so it stays silent on a machine that has everything.
SYSTEM_PACKAGES := fontconfig libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
	fonts-noto-core fonts-noto-cjk poppler-utils
# The browser the page tests drive (Playwright, without its own browser download): Debian's.
TEST_SYSTEM_PACKAGES := chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

define install_missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

system:
	$(call install_missing,$(SYSTEM_PACKAGES))

test-system:
	$(call install_missing,$(TEST_SYSTEM_PACKAGES))

# The pages' gettext catalogs (W2), compiled from the .po files kept in the repo: the .mo
# files are build output (git ignores them), rebuilt whenever a .po file changes.
PO_FILES := $(wildcard src/allot/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po .venv/.synced-run
	$(UV) run --no-sync pybabel compile --statistics -i $< -o $@ 2>/dev/null

translations: $(MO_FILES)

# After changing a page's strings: the template (messages.pot) and each language's .po file
# again; then translate what `tests/web/test_translations.py` says is missing.
messages: .venv/.synced-dev
	$(UV) run --no-sync pybabel extract -F babel.cfg -o src/allot/translations/messages.pot \
	  --no-location --omit-header --sort-output -k _ -k N_ .
	$(UV) run --no-sync pybabel update -i src/allot/translations/messages.pot \
	  -d src/allot/translations -D messages --no-fuzzy-matching --width 100

env: system .venv/.synced-run translations

dev-env: system test-system .venv/.synced-dev translations

run: env
	mkdir -p var
	$(UV) run --no-sync allot init
	$(UV) run --no-sync allot catalog load presets/stamp-card.yaml
	$(UV) run --no-sync allot catalog load presets/reviews-loyalty.yaml
	$(UV) run --no-sync allot demo
	@echo "Demo API keys (shown once):"
	@$(UV) run --no-sync allot keys create --role operator --label "make run demo"
	@$(UV) run --no-sync allot keys create --role account --for demo-coffee --label "make run demo"
	@echo "API on http://127.0.0.1:8000 (docs: /docs) — Ctrl-C to stop"
	$(UV) run --no-sync allot serve --host 127.0.0.1 --port 8000

lint: dev-env
	$(UV) run --no-sync ruff check src tests bench clients/python
	$(UV) run --no-sync ruff format --check src tests bench clients/python
	$(UV) run --no-sync lint-imports

types: dev-env
	$(UV) run --no-sync mypy
	$(UV) run --no-sync mypy clients/python/generate.py

unit: dev-env
	$(UV) run --no-sync pytest $(PYTEST_ARGS)

test: lint types unit

# The Python client's models, from the server's OpenAPI document (after a change to the API).
client: dev-env
	$(UV) run --no-sync python clients/python/generate.py

bench: env
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(UV) run --no-sync python bench/consume.py
	$(UV) run --no-sync python bench/usage_read.py
	$(UV) run --no-sync python bench/page.py
	$(UV) run --no-sync python bench/http_consume.py
	$(UV) run --no-sync python bench/billing_run.py
	$(UV) run --no-sync python bench/payments.py
	$(UV) run --no-sync python bench/ingest.py
	$(UV) run --no-sync python bench/cli_startup.py

clean:
	rm -rf .venv .tools var .mypy_cache .ruff_cache .pytest_cache
