"""Settings come from the environment: each case runs a fresh interpreter with its own
environment, as a deployment would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "email_backend": settings.EMAIL_BACKEND,
    "email_host": settings.EMAIL_HOST,
    "email_port": settings.EMAIL_PORT,
    "debug": settings.DEBUG,
    "language": settings.LANGUAGE_CODE,
    "languages": [code for code, _ in settings.LANGUAGES],
    "time_zone": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ,
    "decharge_rate": str(settings.DECHARGE_HOUR_RATE),
}))
"""


def _settings_with(tmp_path: Path, **overrides: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEBUG", "SECRET_KEY"}
    }
    env.update({"VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(overrides)
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_default_needs_no_server(tmp_path):
    found = _settings_with(tmp_path, DEBUG="true")
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path / "var" / "db.sqlite3")
    assert found["broker"] == "filesystem://"
    assert found["transport"]["data_folder_in"] == str(tmp_path / "var" / "broker")
    assert (tmp_path / "var" / "broker").is_dir()
    assert found["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert (tmp_path / "var" / "mail").is_dir()


def test_production_services_come_from_the_environment(tmp_path):
    found = _settings_with(
        tmp_path,
        SECRET_KEY="s" * 50,
        DATABASE_URL="postgres://lettres:pw@db.example:5432/lettres",
        REDIS_URL="redis://cache.example:6379/0",
        EMAIL_URL="smtp://mail.example:2525",
        DECHARGE_HOUR_RATE="1080.00",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "lettres"
    assert found["broker"] == "redis://cache.example:6379/0"
    assert found["transport"]["socket_timeout"] == 3
    assert found["email_backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["email_host"], found["email_port"]) == ("mail.example", 2525)
    assert found["debug"] is False
    assert found["decharge_rate"] == "1080.00"
    assert found["db_options"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert not (tmp_path / "var").exists()


def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler(tmp_path):
    found = _settings_with(
        tmp_path,
        SECRET_KEY="s" * 50,
        DATABASE_URL="postgres://lettres:pw@pgbouncer.example:6432/lettres",
        DATABASE_PREPARED_STATEMENTS="false",
    )
    assert found["db_options"] == {}


def test_sqlite_gets_its_own_options_and_no_postgresql_ones(tmp_path):
    """WAL, immediate transactions and a busy timeout: the web server, the worker and
    beat share the file (tests/test_embedded_concurrency.py shows them under load)."""
    assert _settings_with(tmp_path, DEBUG="true")["db_options"] == {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    assert _settings_with(tmp_path, DEBUG="true", SQLITE_TIMEOUT="5")["db_options"]["timeout"] == 5


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_run_again_is_prepared_once_on_postgresql():
    """What the settings promise, seen from the server: after five runs the ORM's
    statement is one of the connection's prepared statements, and its answers do not
    change once it is."""
    from django.db import connection

    from governance.models import Academy

    Academy.objects.create(code="prep", name="Académie de test")
    answers = [
        list(Academy.objects.filter(code="prep").values_list("name", flat=True)) for _ in range(7)
    ]
    assert answers == [["Académie de test"]] * 7
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "governance_academy" WHERE "governance_academy"."code" = $1%'],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1


def test_french_first_english_available_stored_in_utc_shown_in_paris(tmp_path):
    found = _settings_with(tmp_path, DEBUG="true")
    assert found["language"] == "fr"
    assert found["languages"] == ["fr", "en"]
    assert found["use_tz"] is True
    assert found["time_zone"] == "Europe/Paris"


def test_without_debug_a_secret_key_is_required(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT), "VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY est obligatoire" in result.stderr


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_sign_in_page_speaks_the_chosen_language(client, language):
    response = client.get("/connexion/", headers={"accept-language": language})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == language
