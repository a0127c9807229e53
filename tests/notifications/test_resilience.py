"""Nothing lost, nothing crashes (DESIGN §6), on the embedded default (SQLite) with a
real SMTP server (aiosmtpd): a broker that is down or hangs never slows a write, and its
e-mails all go once at the sweep; a worker that dies mid-batch delays only its small
batch, to the next sweep; a message sent again is the same message (its Message-ID);
``/healthz`` says at once when the SMTP server fails."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery import app
from notifications import services
from notifications.models import Email, EmailStatus
from notifications.selectors import smtp_health
from notifications.services import (
    claim_emails,
    message_id,
    process_notifications,
    queue_email,
    send_pending_emails,
)
from tests.factories import School, make_letter, make_school, shown
from tests.servers import SmtpRecorder, SmtpServer, free_port
from workflow.models import MissionLetter, OutboxItem, OutboxKind, OutboxStatus
from workflow.services import writes


class IdRecorder(SmtpRecorder):
    """Also keeps each accepted message's Message-ID, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            message = message_from_bytes(envelope.content, policy=default_policy)
            with self.lock:
                self.message_ids.append(str(message["Message-ID"]))
        return answer


@pytest.fixture
def smtp_ids(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(IdRecorder(), free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def kick(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kick on (its breaker closed: conftest); the broker the test points it at is
    put back after it (``point_kick_at``)."""
    settings.OUTBOX_KICK_ENABLED = True
    monkeypatch.setitem(app.conf, "broker_write_url", app.conf.get("broker_write_url"))


def point_kick_at(url: str) -> None:
    """Where the kick publishes (the workers' broker is left alone)."""
    app.conf["broker_write_url"] = url


def _schools(count: int) -> list[tuple[School, MissionLetter]]:
    schools = [make_school(f"Panne{index}") for index in range(count)]
    return [(school, make_letter(school)) for school in schools]


def _thirty_transitions(pairs: list[tuple[School, MissionLetter]]) -> list[float]:
    """30 transitions through the API, as people fire them: for each of 10 letters, the
    concertation opened and both référents' agreement. How long each took to answer."""
    client = APIClient()
    client.force_authenticate(pairs[0][0].principal)
    assert client.get("/api/v1/letters/").status_code == 200  # the first request's imports
    durations = []
    for school, letter in pairs:
        steps = [
            (school.principal, "open_concertation", None),
            (school.referent1, "agree", "shown"),
            (school.referent2, "agree", "shown"),
        ]
        for user, name, payload in steps:
            client.force_authenticate(user)
            body = shown(letter) if payload else {}
            started = time.monotonic()
            response = client.post(
                f"/api/v1/letters/{letter.pk}/transitions/{name}/", body, format="json"
            )
            durations.append(time.monotonic() - started)
            assert response.status_code == 200, response.content
    return durations


def _hanging_broker() -> socket.socket:
    """A "Redis" that takes connections and never answers (a broker that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    return listener


def _connections_made(listener: socket.socket) -> int:
    made = 0
    while True:
        try:
            accepted, _address = listener.accept()
        except BlockingIOError:
            return made
        accepted.close()
        made += 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["down", "hangs"])
def test_a_broker_down_or_hanging_never_slows_a_write_and_every_email_goes_once(
    broker, kick, smtp_ids, settings
):
    pairs = _schools(10)
    listener = _hanging_broker() if broker == "hangs" else None
    port = listener.getsockname()[1] if listener else free_port()  # nothing listens there
    point_kick_at(f"redis://127.0.0.1:{port}/0")
    try:
        durations = _thirty_transitions(pairs)
        tries = _connections_made(listener) if listener else None
    finally:
        if listener:
            listener.close()

    assert len(durations) == 30
    assert max(durations) < 1.0, [round(d, 3) for d in durations]
    # One publish was tried and failed; the breaker then skipped the other 29.
    assert writes._kick_paused_until > time.monotonic()
    if tries is not None:
        assert tries == 1
    requests = OutboxItem.objects.filter(kind=OutboxKind.NOTIFICATION)
    assert requests.count() >= 30
    assert not requests.exclude(status=OutboxStatus.PENDING).exists()  # nothing was kicked

    # The broker is back; the sweep (the beat's, every minute) does the work.
    assert process_notifications() == requests.count()
    assert send_pending_emails(limit=500) == Email.objects.count() == requests.count()
    assert process_notifications() == 0
    assert send_pending_emails(limit=500) == 0
    received = smtp_ids.recorder.keys()
    assert sorted(received) == sorted(Email.objects.values_list("key", flat=True))  # once each
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db(transaction=True)
def test_the_kick_publishes_again_once_its_pause_is_over(kick, settings, monkeypatch):
    school, letter = _schools(1)[0]
    client = APIClient()
    client.force_authenticate(school.principal)
    point_kick_at(f"redis://127.0.0.1:{free_port()}/0")
    assert (
        client.post(f"/api/v1/letters/{letter.pk}/transitions/open_concertation/").status_code
        == 200
    )
    assert writes._kick_paused_until > time.monotonic()

    # The broker answers again (kombu's in-memory one, here) and the pause is over.
    point_kick_at("memory://")
    published: list[str] = []
    real_send_task = app.send_task

    def counting_send_task(name: str, *args: Any, **kwargs: Any) -> Any:
        published.append(name)
        return real_send_task(name, *args, **kwargs)

    monkeypatch.setattr(app, "send_task", counting_send_task)
    client.force_authenticate(school.referent1)
    url = f"/api/v1/letters/{letter.pk}/transitions/agree/"
    assert client.post(url, shown(letter), format="json").status_code == 200
    assert published == []  # still paused: not even tried
    writes._kick_paused_until = time.monotonic() - 1
    client.force_authenticate(school.referent2)
    assert client.post(url, shown(letter), format="json").status_code == 200
    assert published == [settings.OUTBOX_KICK_TASK]
    assert writes._kick_paused_until < time.monotonic()  # it worked: no new pause


def _queue(count: int) -> list[str]:
    school = make_school("Lot")
    people = list(school.people().values())
    keys = []
    for index in range(count):
        key = f"test:{index}"
        queue_email(key=key, recipient=people[index % len(people)], topic="reminder", letter=None)
        keys.append(key)
    return keys


@pytest.mark.django_db
def test_a_worker_dead_mid_batch_delays_only_its_small_batch_to_the_next_sweep(smtp_ids):
    keys = _queue(25)
    abandoned = claim_emails()  # a worker claims its batch, then is killed
    assert len(abandoned) == 10  # a small batch (EMAIL_CLAIM_BATCH)
    assert Email.objects.filter(status=EmailStatus.SENDING).count() == 10

    # Another worker at once: the rest goes, the dead worker's lease still holds.
    assert send_pending_emails() == 15
    assert send_pending_emails() == 0
    # The next sweep, a minute later (not ten): the lease has run out, they go.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1), tick=False):
        assert send_pending_emails() == 10
    received = smtp_ids.recorder.keys()
    assert sorted(received) == sorted(keys)  # every one, once
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db
def test_a_slow_batch_keeps_its_lease_so_no_other_worker_sends_it_too(
    smtp_ids, settings, monkeypatch
):
    settings.EMAIL_CLAIM_TIMEOUT = 1  # a short lease; the batch takes twice as long
    settings.EMAIL_CLAIM_BATCH = 5
    keys = _queue(5)
    smtp_ids.recorder.delay = 0.4
    others: list[list[Email]] = []
    real_message = services._message

    def message_while_another_worker_sweeps(email: Email, connection: object) -> Any:
        others.append(claim_emails())  # another worker, between two messages
        return real_message(email, connection)

    monkeypatch.setattr(services, "_message", message_while_another_worker_sweeps)
    started = time.monotonic()
    assert send_pending_emails() == 5
    assert time.monotonic() - started > 1.5  # longer than the lease
    assert others == [[]] * 5  # the lease was renewed as the batch went
    assert sorted(smtp_ids.recorder.keys()) == sorted(keys)


@pytest.mark.django_db
def test_a_message_sent_again_carries_the_same_message_id(smtp_ids, settings):
    settings.DEFAULT_FROM_EMAIL = "Lettres de mission <ne-pas-repondre@ac-exemple.fr>"
    _queue(2)
    assert send_pending_emails() == 2
    first = Email.objects.get(key="test:0")
    # The worker died after the server took it, before the commit: it goes again.
    Email.objects.filter(pk=first.pk).update(status=EmailStatus.PENDING, sent_at=None)
    assert send_pending_emails() == 1

    keys, ids = smtp_ids.recorder.keys(), smtp_ids.recorder.message_ids
    assert keys.count("test:0") == 2
    twice = [ids[i] for i, key in enumerate(keys) if key == "test:0"]
    assert twice[0] == twice[1] == message_id("test:0")
    assert re.fullmatch(r"<[0-9a-f]{40}@ac-exemple\.fr>", twice[0])
    other = ids[keys.index("test:1")]
    assert other != twice[0]  # one Message-ID per e-mail


@pytest.mark.django_db
def test_healthz_says_degraded_as_soon_as_the_smtp_server_fails(client, smtp_ids, settings):
    settings.REDIS_URL = ""  # Redis is not what is tested here
    _queue(3)
    assert send_pending_emails() == 3
    body = client.get("/healthz").json()
    assert (body["status"], body["smtp"]["status"]) == ("ok", "ok")
    assert body["smtp"]["last_sent_at"] is not None

    smtp_ids.stop()  # the SMTP server goes away
    school = make_school("Sante")
    email = queue_email(key="later", recipient=school.principal, topic="reminder", letter=None)
    before = timezone.now()
    assert send_pending_emails() == 0
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"  # at once, not 15 minutes later
    smtp = body["smtp"]
    assert smtp["status"] == "failing"
    assert "Connection refused" in smtp["last_error"] or "Errno" in smtp["last_error"]
    assert dt.datetime.fromisoformat(smtp["failing_since"]) <= before
    assert dt.datetime.fromisoformat(smtp["failing_since"]) >= email.created_at.replace(
        microsecond=0
    )
    assert body["outbox"]["oldest_pending_seconds"] < 60
    out = StringIO()
    call_command("outbox_status", stdout=out)  # the operator's command says it too
    assert "Serveur de courriel : en échec depuis le " in out.getvalue()

    # An error naming an address does not show it to whoever asks /healthz.
    Email.objects.filter(pk=email.pk).update(
        last_error="SMTPRecipientsRefused: {'principal@exemple.fr': (550, b'unknown')}"
    )
    assert "principal@exemple.fr" not in client.get("/healthz").content.decode()
    assert "SMTPRecipientsRefused" in smtp_health().last_error

    # The server is back; the retry goes through: healthy again.
    smtp_ids.start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=False):
        assert send_pending_emails() == 1
    body = client.get("/healthz").json()
    assert (body["status"], body["smtp"]["status"], body["smtp"]["last_error"]) == (
        "ok",
        "ok",
        None,
    )
    out = StringIO()
    call_command("outbox_status", stdout=out)
    assert "Serveur de courriel : aucun échec en cours" in out.getvalue()
