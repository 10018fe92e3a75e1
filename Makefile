# Two commands: `make run` (demo on http://127.0.0.1:8000) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The address links in emails (unsubscribe, surveys) point at: the one `make run` serves on,
# unless set in the environment (README, "Email links").
CRM_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
# Translations: *.mo files are built here, with Babel (no GNU gettext), never committed.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install assets migrate demo check-deploy bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

locale/%.mo: locale/%.po | $(VENV)/.installed
	$(BIN)/python manage.py compile_translations

install: $(VENV)/.installed node_modules/.installed $(MO_FILES)

assets: node_modules/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py score_contacts

run: demo
	@PORT=$(PORT) CRM_PUBLIC_URL='$(CRM_PUBLIC_URL)' $(BIN)/python manage.py print_welcome
	PORT=$(PORT) CRM_PUBLIC_URL='$(CRM_PUBLIC_URL)' $(BIN)/honcho -f Procfile start

# Test processes (pytest-xdist): each gets its own test database and Redis database.
# `--dist load` hands tests out in pytest-django's order (database tests before the
# transactional ones that empty the tables), so that order holds in every process.
TEST_PROCESSES ?= 2

test: install
	DJANGO_SETTINGS_MODULE=crm.settings.test $(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist load $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

# Needs the production environment (DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, REDIS_URL).
check-deploy: install
	DJANGO_SETTINGS_MODULE=crm.settings.production $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf var node_modules $(VENV) $(MO_FILES)
