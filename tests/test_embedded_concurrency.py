"""The embedded default under load (README, "Run it"): the three processes of the
``Procfile`` that ``make run`` starts (Django's runserver, a Celery worker and beat), on
one SQLite file, with the filesystem broker. Twenty people post a comment at the same
moment while the sweep renders archives and sends e-mails: every post is stored and
answered 201, nobody gets a 500 ``database is locked``, beat starts without touching the
database, and the worker carries out every notification afterwards.

The test owns its SQLite file under a temporary ``VAR_DIR`` (``DATABASE_URL`` and
``REDIS_URL`` unset), whatever database the rest of the suite runs against."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
POSTS = 20

# Once migrated and loaded, the demo's pending work stays for the sweep (nothing is
# published), and the sweep is made due at once and then every second, rather than every
# minute, so that it runs throughout the posts.
SETUP = """
import django
django.setup()
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask
call_command("migrate", interactive=False, verbosity=0)
call_command("load_demo", verbosity=0)
call_command("make_dev_seal", verbosity=0)
every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
assert PeriodicTask.objects.filter(task="notifications.sweep").update(
    interval=every_second, last_run_at=None
) == 1
"""


def _procfile() -> dict[str, str]:
    """The Procfile's processes, as ``make run`` starts them (its ``.venv/bin`` being the
    interpreter's running this test)."""
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip().replace(".venv/bin/", f"{BIN}/")
    return processes


def _call(
    url: str, *, data: dict[str, Any] | None = None, token: str = ""
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(
        url, data=None if data is None else json.dumps(data).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"body": body[:300].decode(errors="replace")}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _query(database: Path, sql: str, *params: object) -> Any:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as reader:
        return reader.execute(sql, params).fetchone()[0]


def _comments(database: Path, letter: int) -> int:
    return int(
        _query(database, "SELECT count(*) FROM workflow_comment WHERE letter_id = ?", letter)
    )


def _pending(database: Path) -> int:
    return int(
        _query(database, "SELECT count(*) FROM workflow_outboxitem WHERE status = 'pending'")
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one process we started, and its children (runserver, Celery), by its group."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_twenty_comments_at_once_while_the_sweep_runs_on_sqlite(tmp_path):
    var = tmp_path / "var"
    database = var / "db.sqlite3"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "MEDIA_ROOT", "STATIC_ROOT", "CI"}
    }
    env.update(
        DEBUG="true",
        ALLOW_DEMO_DATA="true",
        SECRET_KEY=secrets.token_urlsafe(50),
        VAR_DIR=str(var),
        PORT=str(port),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    setup = subprocess.run(
        [str(BIN / "python"), "-c", SETUP],
        cwd=ROOT,
        env={**env, "OUTBOX_KICK_ENABLED": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert database.is_file(), "not the embedded default: is DATABASE_URL set in .env?"
    assert _query(database, "PRAGMA journal_mode") == "wal"
    assert _pending(database)

    processes = _procfile()
    assert set(processes) == {"web", "worker", "beat"}
    # A file saved in the working tree while the test runs must not restart the server.
    processes["web"] += " --noreload"
    logs = {name: tmp_path / f"{name}.log" for name in processes}
    started: list[subprocess.Popen[bytes]] = []
    base = f"http://127.0.0.1:{port}"
    try:
        for name, command in processes.items():
            with logs[name].open("w") as output:
                started.append(
                    subprocess.Popen(
                        command,
                        shell=True,
                        cwd=ROOT,
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

        def log(name: str) -> str:
            return logs[name].read_text(errors="replace")

        wait_until(lambda: _answers(f"{base}/healthz"), timeout=60, every=0.3)
        tokens = []
        for username in ("principal", "referent1", "referent2"):
            status, body = _call(
                f"{base}/api/v1/auth/token/", data={"username": username, "password": "demo"}
            )
            assert status == 200, body
            tokens.append(body["token"])
        status, body = _call(f"{base}/api/v1/letters/?state=concertation", token=tokens[0])
        assert status == 200, body
        letter = body["results"][0]["id"]
        before = _comments(database, letter)

        # The sweep is at work: beat has sent it and the worker is rendering the archives.
        wait_until(lambda: "notifications.sweep" in log("beat"), timeout=60, every=0.2)
        wait_until(lambda: "Task notifications.sweep[" in log("worker"), timeout=60, every=0.2)

        def post(number: int) -> tuple[int, dict[str, Any]]:
            return _call(
                f"{base}/api/v1/letters/{letter}/comments/",
                data={"body": f"Message {number} envoyé en même temps que les autres."},
                token=tokens[number % len(tokens)],
            )

        with ThreadPoolExecutor(max_workers=POSTS) as pool:
            answers = list(pool.map(post, range(POSTS)))

        failures = [answer for answer in answers if answer[0] != 201]
        assert failures == [], failures
        assert _comments(database, letter) - before == POSTS

        # Nothing lost afterwards: the worker turns every request into e-mails.
        wait_until(lambda: _pending(database) == 0, timeout=60, every=0.5)
        assert "succeeded" in log("worker")
        # Beat only read the schedule at start: it added no entry of its own.
        assert not _query(
            database,
            "SELECT count(*) FROM django_celery_beat_periodictask WHERE task LIKE 'celery.%'",
        )
        for name in processes:
            assert "database is locked" not in log(name), log(name)
            assert "Traceback" not in log(name), log(name)
        assert '" 500 ' not in log("web")
    finally:
        for process in started:
            _stop(process)
