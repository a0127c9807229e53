"""Production hardening (issue: production): check --deploy, the security headers, the
HTTPS redirect, sign-in lockout, /healthz and structured logs."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from notifications.models import Email, EmailStatus
from tests.factories import make_school

ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="lettres.example.fr",
        SITE_URL="https://lettres.example.fr",
        VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="config.settings",
        # A configured seal (check --deploy wants one): the session's development seal.
        SEAL_PKCS12_PATH=str(Path(settings.SEAL_DIR) / "seal.p12"),
        SEAL_PKCS12_PASSPHRASE=(Path(settings.SEAL_DIR) / "seal.passphrase").read_text().strip(),
        SEAL_TSA_URL="https://horodatage.example.fr/tsa",
        SEAL_TSA_TRUST_ROOTS=str(Path(settings.SEAL_DIR) / "ca.pem"),
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_in_production(tmp_path, collected_static):
    """Once collectstatic has run, as it has before any deployment starts (the check
    says so otherwise: tests/config/test_static_manifest.py)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path, STATIC_ROOT=str(collected_static)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/connexion/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.cookies["csrftoken"]["secure"]


@pytest.mark.django_db
def test_plain_http_is_redirected_except_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/connexion/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_repeated_wrong_passwords_lock_the_account_out(client, settings):
    settings.AXES_ENABLED = True
    cache.clear()
    school = make_school("Axes")
    username = school.principal.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/connexion/", {"username": username, "password": "faux"})
        assert response.status_code == 200  # the form again, with its error
    last = client.post("/connexion/", {"username": username, "password": "faux"})
    assert last.status_code == 429  # the limit is reached: locked out from now on
    locked = client.post("/connexion/", {"username": username, "password": "pw"})
    assert locked.status_code == 429
    assert not locked.wsgi_request.user.is_authenticated
    token = client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": "pw"},
        content_type="application/json",
    )
    # The API's sign-in is locked too: the right password gets no token.
    assert token.status_code in (400, 403, 429)
    assert "token" not in token.json()
    # Another account from the same address is not.
    other = client.post("/connexion/", {"username": school.referent1.username, "password": "pw"})
    assert other.status_code == 302


@pytest.mark.django_db
def test_healthz_reports_the_database_redis_and_the_outbox(client, settings, monkeypatch):
    body = client.get("/healthz").json()
    assert body["status"] in ("ok", "degraded")
    assert body["database"] == "ok"
    assert set(body["outbox"]) == {"pending", "failed", "oldest_pending_seconds"}

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    body = client.get("/healthz").json()
    assert (body["status"], body["redis"]) == ("degraded", "down")

    settings.REDIS_URL = ""
    school = make_school("Health")
    from notifications.services import queue_email

    email = queue_email(key="old", recipient=school.teacher, topic="reminder", letter=None)
    Email.objects.filter(pk=email.pk).update(status=EmailStatus.PENDING)
    Email.objects.filter(pk=email.pk).update(
        created_at=email.created_at.replace(year=email.created_at.year - 1)
    )
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["outbox"]["oldest_pending_seconds"] > 3600

    monkeypatch.setattr("config.health._database", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "down"}


def test_logs_are_json_lines_when_asked(tmp_path):
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('lettres.test').warning('relance envoyée', extra={'letter': 12})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=_production_env(tmp_path, LOG_FORMAT="json", PYTHONPATH=str(ROOT)),
    )
    record: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["level"] == "WARNING"
    assert record["logger"] == "lettres.test"
    assert record["message"] == "relance envoyée"
    assert record["letter"] == 12
    assert "time" in record
