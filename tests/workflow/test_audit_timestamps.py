"""The audit chains timestamped once a day (RFC 3161, the session's development
authority): ``verify_audit`` checks the tokens, so that rewriting a day's history, even
with every hash recomputed as someone holding the database would, is found and the day
named."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from asn1crypto import keys, pem  # type: ignore[import-untyped]
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from notifications.tasks import timestamp_audit
from tests.factories import advance, make_letter, make_school
from workflow.audit.chain import event_hash, verify_chains
from workflow.audit.seal import (
    DEV_CA_CERT,
    DEV_TSA_CERT,
    DEV_TSA_KEY,
    load_pem_certificate,
    seal_dir,
)
from workflow.audit.timestamps import (
    check_token,
    day_heads,
    heads_by_day,
    heads_message,
    timestamp_day,
    timestamp_past_days,
    verify_day,
)
from workflow.management.commands.make_dev_seal import make_dev_seal
from workflow.models import AuditEvent, AuditTimestamp, MissionLetter

pytestmark = pytest.mark.django_db


@pytest.fixture
def day() -> dt.date:
    """Two days ago, so that the development authority's certificates, made when the
    session started, are valid when the stamps are made (now)."""
    return timezone.localdate() - dt.timedelta(days=2)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def letters(day: dt.date) -> tuple[MissionLetter, MissionLetter, MissionLetter]:
    """Two letters whose chains moved on ``day``, and one that moved the day before."""
    with time_machine.travel(_at(day - dt.timedelta(days=1), 11), tick=True):
        earlier = make_letter(make_school("Veille"))
    with time_machine.travel(_at(day, 10), tick=True):
        school = make_school("Horodatée")
        moved = advance(make_letter(school), school, "board")
        quiet = make_letter(make_school("Calme"))
    return moved, quiet, earlier


def _verify_audit_fails() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", stdout=StringIO(), stderr=StringIO())
    return str(failure.value)


def _rewrite_history(letter: MissionLetter, sequence: int, **changes: Any) -> None:
    """What someone holding the database would do: change an event, then recompute
    every hash of the chain after it, and the letter's head, so the chain verifies."""
    previous = ""
    for event in AuditEvent.objects.filter(letter=letter).order_by("sequence"):
        if event.sequence == sequence:
            for field, value in changes.items():
                setattr(event, field, value)
        event.previous_hash = previous
        event.hash = event_hash(event)
        event.save(update_fields=["previous_hash", "hash", *changes])
        previous = event.hash
    MissionLetter.objects.filter(pk=letter.pk).update(audit_head=previous)


def test_a_day_is_stamped_once_and_verifies(day: dt.date, letters: Any) -> None:
    moved, quiet, earlier = letters
    stamp = timestamp_day(day)
    assert stamp is not None
    last = AuditEvent.objects.filter(letter=moved).order_by("-sequence").first()
    assert last is not None
    only = AuditEvent.objects.get(letter=quiet)
    # The head of each chain that moved that day, by letter; not the day before's.
    assert stamp.heads == [[moved.pk, last.sequence, last.hash], [quiet.pk, 1, only.hash]]
    assert stamp.digest == hashlib.sha256(heads_message(day, stamp.heads)).hexdigest()
    token = check_token(bytes(stamp.token), heads_message(day, stamp.heads))
    assert token.sound, token.problem
    assert token.imprint.hex() == stamp.digest
    assert stamp.authority
    assert verify_day(stamp) == []
    stdout = StringIO()
    call_command("verify_audit", stdout=stdout, stderr=StringIO())
    assert "1 horodatage(s) quotidien(s) vérifiés" in stdout.getvalue()

    # Once per day: asked again, the same token, nothing asked of the authority.
    assert timestamp_day(day) == stamp
    assert AuditTimestamp.objects.get(day=day).token == stamp.token
    # A day when nothing moved has nothing to stamp.
    assert timestamp_day(day + dt.timedelta(days=1)) is None
    # The daily task stamps what is missing up to yesterday: the day before ``day``.
    with time_machine.travel(_at(day + dt.timedelta(days=2), 1), tick=True):
        assert timestamp_audit() == 2
    assert list(AuditTimestamp.objects.order_by("day").values_list("day", flat=True)) == [
        day - dt.timedelta(days=1),
        day,
    ]
    assert AuditTimestamp.objects.get(day=day).token == stamp.token
    assert AuditTimestamp.objects.get(day=day - dt.timedelta(days=1)).heads == [
        [earlier.pk, 1, AuditEvent.objects.get(letter=earlier).hash]
    ]
    # verify_audit reads every stamped day's heads in one pass: the same heads.
    before = day - dt.timedelta(days=1)
    assert heads_by_day([before, day]) == {before: day_heads(before), day: stamp.heads}
    # Today is left for tomorrow.
    assert all(s.day < timezone.localdate() for s in timestamp_past_days())


def test_an_event_rewritten_with_every_hash_recomputed_no_longer_matches_its_day(
    day: dt.date, letters: Any
) -> None:
    moved, _quiet, _earlier = letters
    assert timestamp_day(day) is not None
    assert timestamp_day(day - dt.timedelta(days=1)) is not None
    call_command("verify_audit", stdout=StringIO(), stderr=StringIO())

    # An opinion's remark rewritten, every hash after it recomputed: the chain verifies…
    event = AuditEvent.objects.get(letter=moved, action="record_pedagogical_opinion")
    _rewrite_history(moved, event.sequence, payload={**event.payload, "remarks": "Réécrit"})
    assert verify_chains() == []
    # … but the day's token no longer matches, and verify_audit names that day only.
    message = _verify_audit_fails()
    assert f"horodatage du {day.strftime('%d/%m/%Y')}" in message
    assert "têtes des chaînes" in message
    stamp = AuditTimestamp.objects.get(day=day)
    problems = verify_day(stamp)
    assert any(
        f"lettre {moved.pk}, événement n° {stamp.heads[0][1]}" in problem for problem in problems
    )
    assert verify_day(AuditTimestamp.objects.get(day=day - dt.timedelta(days=1))) == []

    # Rewriting the stamp's heads and digest too: the authority's token does not stamp
    # them.
    heads = day_heads(day)
    digest = hashlib.sha256(heads_message(day, heads)).hexdigest()
    AuditTimestamp.objects.filter(pk=stamp.pk).update(heads=heads, digest=digest)
    problems = verify_day(AuditTimestamp.objects.get(pk=stamp.pk))
    assert "le jeton de l'autorité n'horodate pas cette empreinte" in problems
    assert f"horodatage du {day.strftime('%d/%m/%Y')}" in _verify_audit_fails()


def test_a_token_from_another_authority_is_refused(
    day: dt.date, letters: Any, tmp_path: Path
) -> None:
    """Whoever holds the database could stamp a rewritten history with an authority of
    their own: its token does not chain to the configured authority's roots."""
    stamp = timestamp_day(day)
    assert stamp is not None
    forger = tmp_path / "forger"
    make_dev_seal(forger)
    assert (forger / DEV_CA_CERT).read_bytes() != (seal_dir() / DEV_CA_CERT).read_bytes()
    _kind, _headers, key = pem.unarmor((forger / DEV_TSA_KEY).read_bytes())
    other = DummyTimeStamper(
        tsa_cert=load_pem_certificate(forger / DEV_TSA_CERT),
        tsa_key=keys.PrivateKeyInfo.load(key),
    )
    message = heads_message(day, stamp.heads)
    forged = asyncio.run(other.async_timestamp(hashlib.sha256(message).digest(), "sha256"))
    AuditTimestamp.objects.filter(pk=stamp.pk).update(token=forged.dump())
    problems = verify_day(AuditTimestamp.objects.get(pk=stamp.pk))
    assert problems == ["le jeton n'est pas signé par l'autorité de confiance"]
    assert "autorité de confiance" in _verify_audit_fails()
