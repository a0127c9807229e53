"""Nothing lost, nothing sent twice (DESIGN §6), with the real parts: PostgreSQL, Redis,
a Celery worker (celery.contrib.testing, and a worker process killed with SIGKILL) and an
SMTP server (aiosmtpd)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import redis
import time_machine
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import close_old_connections, connection
from django.utils import timezone

from config.celery import app
from notifications.models import Email, EmailStatus
from notifications.services import process_notifications, queue_email, send_pending_emails
from tests.factories import make_letter, make_school, shown
from tests.servers import SmtpServer, wait_until
from workflow.lifecycle.engine import fire_transition
from workflow.models import Archive, AuditEvent, OutboxItem, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def worker(media: Path) -> Any:
    """A real worker, in a thread, consuming from the Redis of REDIS_URL."""
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as w:
        yield w


def _all_delivered(smtp: SmtpServer, count: int) -> bool:
    close_old_connections()
    return len(smtp.recorder.messages) >= count


def test_a_transition_sends_the_right_emails_to_the_right_people_once(smtp, worker, settings):
    settings.OUTBOX_KICK_ENABLED = True  # the worker is told at once, after commit
    school = make_school("Mail")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)

    wait_until(lambda: _all_delivered(smtp, 2))
    assert sorted(r for m in smtp.recorder.messages for r in m.recipients) == sorted(
        [school.referent1.email, school.referent2.email]
    )
    assert all("Concertation ouverte" in m.subject for m in smtp.recorder.messages)
    # Every later sweep finds nothing more to send: once, and only once.
    for _ in range(2):
        app.send_task("notifications.sweep")
    event = AuditEvent.objects.get(letter=letter, action="open_concertation")
    wait_until(lambda: Archive.objects.filter(event=event).exists())
    assert process_notifications() == 0
    assert send_pending_emails() == 0
    assert len(smtp.recorder.messages) == 2
    assert set(Email.objects.values_list("status", "attempts")) == {(EmailStatus.SENT, 1)}


def _queue(count: int) -> list[str]:
    school = make_school("Batch")
    people = list(school.people().values())
    keys = []
    for index in range(count):
        key = f"test:{index}"
        queue_email(key=key, recipient=people[index % len(people)], topic="reminder", letter=None)
        keys.append(key)
    return keys


def test_two_workers_sweeping_at_once_send_nothing_twice(smtp):
    keys = _queue(40)
    smtp.recorder.delay = 0.01
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            sent.append(send_pending_emails(limit=25))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.append(send_pending_emails(limit=100))  # what the two left, then nothing
    sent.append(send_pending_emails(limit=100))
    assert sum(sent) == 40
    assert sent[-1] == 0
    assert sorted(smtp.recorder.keys()) == sorted(keys)  # each exactly once
    assert Email.objects.filter(status=EmailStatus.SENT).count() == 40


def test_smtp_refusing_for_a_while_is_retried_then_delivered(smtp):
    keys = _queue(3)
    smtp.recorder.refuse = 2
    assert send_pending_emails() == 1
    postponed = Email.objects.filter(status=EmailStatus.PENDING)
    assert postponed.count() == 2
    for email in postponed:
        assert email.attempts == 1
        assert "451" in email.last_error
        assert email.next_attempt_at is not None
        assert email.next_attempt_at > timezone.now()
    assert send_pending_emails() == 0  # not yet due: the backoff is respected

    smtp.stop()  # the server goes away altogether
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=False):
        assert send_pending_emails() == 0
    assert all(
        "Connection refused" in e.last_error or "Errno" in e.last_error
        for e in Email.objects.filter(status=EmailStatus.PENDING)
    )

    smtp.start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10), tick=False):
        assert send_pending_emails() == 2
    assert sorted(smtp.recorder.keys()) == sorted(keys)
    attempts = dict(Email.objects.values_list("key", "attempts"))
    assert sorted(attempts.values()) == [1, 3, 3]
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


def _restart_redis(url: str) -> None:
    port = urlparse(url).port or 6379
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
        capture_output=True,
    )
    wait_until(lambda: _answers(url), timeout=20)


def _answers(url: str) -> bool:
    try:
        return bool(_redis(url).ping())
    except redis.RedisError:
        return False


def test_redis_stopped_during_transitions_then_everything_is_delivered_and_archived(
    smtp, media, settings
):
    url = django_settings.REDIS_URL
    assert urlparse(url).hostname in ("127.0.0.1", "localhost"), "only a local Redis is stopped"
    settings.OUTBOX_KICK_ENABLED = True
    school = make_school("Panne")
    letter = make_letter(school)
    with contextlib.suppress(redis.ConnectionError):  # shutting down drops the asker too
        _redis(url).shutdown(nosave=True)
    assert not _answers(url)
    durations = []
    try:
        for user, name, payload in [
            (school.principal, "open_concertation", None),
            (school.referent1, "agree", shown(letter)),
            (school.referent2, "agree", shown(letter)),
        ]:
            started = time.monotonic()
            fire_transition(letter_id=letter.pk, name=name, user=user, payload=payload)
            durations.append(time.monotonic() - started)
    finally:
        _restart_redis(url)
    letter.refresh_from_db()
    assert letter.state == "concertation"  # the transitions succeeded without Redis
    # The publish gave up within OUTBOX_KICK_TIMEOUT, then was not tried again for a while.
    assert max(durations) < 1.0, durations
    assert OutboxItem.objects.filter(status=OutboxStatus.PENDING).count() >= 6

    # Redis is back: the next sweep (the beat's, every minute) catches up on everything.
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        app.send_task("notifications.sweep")
        wait_until(
            lambda: (
                not OutboxItem.objects.filter(status=OutboxStatus.PENDING).exists()
                and not Email.objects.exclude(status=EmailStatus.SENT).exists()
            ),
            timeout=60,
        )
    events = AuditEvent.objects.filter(letter=letter).count()
    assert Archive.objects.filter(event__letter=letter).count() == events
    # open_concertation tells both referents; each agreement tells the principal.
    assert sorted(smtp.recorder.keys()) == sorted(Email.objects.values_list("key", flat=True))
    assert len(smtp.recorder.messages) == 4


def test_a_worker_killed_mid_batch_loses_nothing(smtp, media):
    """A worker process is killed with SIGKILL while it sends a batch over a slow SMTP
    server; a new worker sends what is left. Every message arrives; at most the one in
    flight at the kill arrives twice (SMTP gives at-least-once, not better)."""
    keys = _queue(20)
    smtp.recorder.delay = 0.15
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "EMAIL_CLAIM_TIMEOUT": "1",
        "OUTBOX_KICK_ENABLED": "false",
        "MEDIA_ROOT": str(media),
        "SECRET_KEY": "worker-of-the-kill-test",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--loglevel=WARNING",
        "--without-mingle",
        "--without-gossip",
    ]
    app.control.purge()

    first = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        app.send_task("notifications.sweep")
        wait_until(lambda: len(smtp.recorder.messages) >= 5, timeout=60)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    delivered_before_restart = len(smtp.recorder.messages)
    assert delivered_before_restart < 20, "the kill came too late to prove anything"
    assert Email.objects.filter(status=EmailStatus.SENDING).exists()  # claimed, not done

    second = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def done() -> bool:
            if Email.objects.filter(status=EmailStatus.SENT).count() == 20:
                return True
            app.send_task("notifications.sweep")  # as the beat does every minute
            return False

        wait_until(done, timeout=90, every=2.0)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=20)
    received = smtp.recorder.keys()
    assert set(received) == set(keys)  # nothing lost
    duplicates = len(received) - len(set(received))
    assert duplicates <= 1, duplicates  # at most the message in flight at the kill
    print(
        f"\nSIGKILL test: {delivered_before_restart} delivered before the kill, "
        f"{len(received)} deliveries in all for 20 e-mails, {duplicates} duplicate(s)"
    )
