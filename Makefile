# The two commands of the README: `make run` (the whole application on the embedded
# default) and `make test` (the test suite). Both set everything up on a fresh machine
# with nothing but Python 3.11.

PYTHON_BOOTSTRAP ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PORT ?= 8000
# Only for the test run: never a production secret.
TEST_SECRET_KEY := insecure-secret-key-for-the-test-suite-only

.PHONY: install run run-production test lint typecheck check-migrations ci-checks

$(BIN)/uv:
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --frozen: install exactly what uv.lock says; --inexact: keep uv itself in the venv.
install: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --quiet

# A development .env for the embedded default, written once with a random secret.
.env:
	@printf 'DEBUG=true\nALLOW_DEMO_DATA=true\nSECRET_KEY=%s\n' \
		"$$($(PYTHON_BOOTSTRAP) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env (embedded default: DEBUG, demo data, a random SECRET_KEY)."

run: install .env
	@$(BIN)/python manage.py check --fail-level ERROR
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Lettres de mission: http://127.0.0.1:$(PORT)/ (principal / demo). Ctrl-C stops everything."
	PORT=$(PORT) $(BIN)/honcho -f Procfile start

# Production on one machine, without Docker: gunicorn, a Celery worker and exactly one
# beat against PostgreSQL and Redis, all configured from the environment (or .env):
# DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL, SITE_URL ...
run-production: install
	$(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_catalogue
	$(BIN)/honcho -f Procfile.production start

test: install
	SECRET_KEY=$${SECRET_KEY:-$(TEST_SECRET_KEY)} $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/mypy .

check-migrations: install
	SECRET_KEY=$(TEST_SECRET_KEY) $(BIN)/python manage.py makemigrations --check --dry-run

ci-checks: lint typecheck check-migrations
