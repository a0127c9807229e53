# The two commands of the README: `make run` (the whole application on the embedded
# default) and `make test` (the test suite). Both set everything up on a fresh machine
# with nothing but Python 3.11.

PYTHON_BOOTSTRAP ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PORT ?= 8000
# The official school calendar (data.education.gouv.fr, fr-en-calendrier-scolaire, CSV);
# empty: the bundled sample (notifications/data/).
SCHOOL_CALENDAR ?=
# Only for the test run: never a production secret.
TEST_SECRET_KEY := insecure-secret-key-for-the-test-suite-only
# Only to load the settings for a build step (compiling the catalogues): never used to sign.
BUILD_SECRET_KEY := build-only-not-a-secret

.PHONY: install messages makemessages run run-production test lint typecheck check-migrations lint-imports ci-checks

$(BIN)/uv:
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --frozen: install exactly what uv.lock says; --inexact: keep uv itself in the venv.
install: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --quiet

# The translation catalogues: locale/<lang>/LC_MESSAGES/django.po is committed, the .mo
# Django reads is compiled here (never committed). GNU gettext's msgfmt does it; without
# it the pages stay in French, and this says so.
MESSAGES_IGNORE := --ignore .venv --ignore var --ignore node_modules --ignore test-artifacts \
	--ignore bench --ignore tests
messages: install
	@if command -v msgfmt >/dev/null 2>&1; then \
		SECRET_KEY=$(BUILD_SECRET_KEY) $(BIN)/python manage.py compilemessages --verbosity 0 \
			$(MESSAGES_IGNORE); \
	else \
		echo "msgfmt (GNU gettext) is missing: the English catalogue is not compiled and" \
			"the pages stay in French. Install it, e.g. apt-get install gettext." >&2; \
	fi

# After adding or changing a string in the code: `make makemessages`, translate the new
# entries of locale/en/LC_MESSAGES/django.po (no fuzzy, no empty msgstr), and any target
# above compiles it. tests/config/test_i18n.py fails while a string is not in the .po.
makemessages: install
	SECRET_KEY=$(BUILD_SECRET_KEY) $(BIN)/python manage.py makemessages -l en --no-obsolete \
		$(MESSAGES_IGNORE)

# A development .env for the embedded default, written once with a random secret.
.env:
	@printf 'DEBUG=true\nALLOW_DEMO_DATA=true\nSECRET_KEY=%s\n' \
		"$$($(PYTHON_BOOTSTRAP) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env (embedded default: DEBUG, demo data, a random SECRET_KEY)."

run: messages .env
	@$(BIN)/python manage.py check --fail-level ERROR
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py import_school_calendar
	$(BIN)/python manage.py make_dev_seal
	@echo "Lettres de mission: http://127.0.0.1:$(PORT)/ (principal / demo). Ctrl-C stops everything."
	PORT=$(PORT) WEB_PORT=$(PORT) $(BIN)/honcho -f Procfile start

# Production on one machine, without Docker: gunicorn, a Celery worker and exactly one
# beat against PostgreSQL and Redis, all configured from the environment (or .env):
# DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL, SITE_URL ...
# collectstatic first: check --deploy fails while its manifest is missing (config/checks.py).
run-production: messages
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_catalogue
	$(BIN)/python manage.py import_school_calendar $(SCHOOL_CALENDAR)
	$(BIN)/honcho -f Procfile.production start

test: messages
	SECRET_KEY=$${SECRET_KEY:-$(TEST_SECRET_KEY)} $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/mypy .

check-migrations: install
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/python manage.py makemigrations --check --dry-run

# The import contract of pyproject.toml: governance <- workflow <- notifications.
lint-imports: install
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/lint-imports

ci-checks: lint typecheck check-migrations lint-imports
