"""The production topology on one machine, without Docker (README, `make run-production`):
Procfile.production started by honcho, that is gunicorn with two workers, a Celery worker
and one beat, against the real PostgreSQL and Redis, in production settings. It serves
the health probe and a page, serves static files through whitenoise, and its worker
carries out the outbox."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from tests.factories import make_letter, make_school
from tests.servers import free_port, wait_until
from workflow.lifecycle.engine import fire_transition
from workflow.models import OutboxItem, OutboxStatus

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _answers(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except OSError:
        return False


def test_gunicorn_worker_and_beat_start_and_serve(tmp_path):
    database = connection.settings_dict
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "CI"}}
    env.update(
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="https://lettres.example.fr",
        BIND=f"127.0.0.1:{port}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_URL="consolemail://",
        OUTBOX_KICK_ENABLED="false",
        LOG_FORMAT="json",
        # check --deploy wants a seal: the session's development one (tests/conftest.py);
        # no letter comes into force here, so the authority is never asked.
        SEAL_PKCS12_PATH=str(Path(settings.SEAL_DIR) / "seal.p12"),
        SEAL_PKCS12_PASSPHRASE=(Path(settings.SEAL_DIR) / "seal.passphrase").read_text().strip(),
        SEAL_TSA_URL="https://horodatage.example.fr/tsa",
        SEAL_TSA_TRUST_ROOTS=str(Path(settings.SEAL_DIR) / "ca.pem"),
    )
    python = str(Path(sys.executable).parent / "python")
    for command in (  # as make run-production: check --deploy needs the manifest
        ["collectstatic", "--noinput", "--verbosity", "0"],
        ["check", "--deploy", "--fail-level", "WARNING"],
    ):
        done = subprocess.run(
            [python, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    school = make_school("Prod")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    app.control.purge()

    log = tmp_path / "honcho.log"
    with log.open("w") as output:
        honcho = subprocess.Popen(
            [str(Path(sys.executable).parent / "honcho"), "-f", "Procfile.production", "start"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz"), timeout=60, every=0.5)
        status, body = _get(f"{base}/healthz")
        assert status == 200
        assert '"database": "ok"' in body
        assert '"redis": "ok"' in body

        # Behind the TLS proxy: the page itself, and its hashed static files.
        status, page = _get(f"{base}/connexion/", **{"X-Forwarded-Proto": "https"})
        assert status == 200
        assert "Connexion" in page
        status, _css = _get(f"{base}/static/admin/css/base.css", **{"X-Forwarded-Proto": "https"})
        assert status == 200

        # The worker carries out the outbox (what beat asks every minute).
        app.send_task("notifications.sweep")
        wait_until(
            lambda: (
                not OutboxItem.objects.filter(letter=letter, status=OutboxStatus.PENDING).exists()
            ),
            timeout=60,
            every=0.5,
        )
        wait_until(lambda: "beat: Starting" in log.read_text(), timeout=30, every=0.5)
        text = log.read_text()
        assert "Booting worker" in text  # gunicorn's workers
        assert text.count("Booting worker") >= 2
        assert "celery@" in text
        assert "ready" in text
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=10)
