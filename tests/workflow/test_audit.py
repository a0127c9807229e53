"""The audit trail's hash chain (DESIGN §6, ``workflow.models.AuditEvent``): changing any
stored field of any event, or removing an event, is found by ``verify_chains`` and by
the ``verify_audit`` command, which names the first broken event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import School, advance, make_letter, make_school
from workflow.audit.chain import ChainBreak, verify_archives, verify_chains
from workflow.lifecycle.engine import fire_transition
from workflow.models import Archive, AuditEvent, MissionLetter, OutboxItem

pytestmark = pytest.mark.django_db

# A letter carried to in_force: create, open_concertation, agree x2, submit, two
# opinions, three signatures.
EVENTS_IN_FORCE = 10
MIDDLE = 4  # the second referent's agreement


@dataclass
class Trail:
    school: School
    letter: MissionLetter  # carried to in_force: EVENTS_IN_FORCE events
    other: MissionLetter  # a draft of another school, created first: one event

    def event(self, sequence: int) -> AuditEvent:
        return AuditEvent.objects.get(letter=self.letter, sequence=sequence)


@pytest.fixture
def trail() -> Trail:
    other = make_letter(make_school("AuditAutre"))
    school = make_school("AuditCarnot")
    letter = advance(make_letter(school), school, "in_force")
    assert other.pk < letter.pk  # so that the other letter's break is reported first
    assert AuditEvent.objects.filter(letter=letter).count() == EVENTS_IN_FORCE
    assert AuditEvent.objects.filter(letter=other).count() == 1
    return Trail(school, letter, other)


def _as_tuples(breaks: list[ChainBreak]) -> list[tuple[int, int, int]]:
    return [(b.letter_id, b.sequence, b.event_id) for b in breaks]


def _command_error() -> tuple[str, str]:
    """Run ``verify_audit``; it must fail. Its error message and its stderr."""
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit", stdout=stdout, stderr=stderr)
    assert "Historique intègre" not in stdout.getvalue()
    return str(excinfo.value), stderr.getvalue()


def _names(message: str, letter_id: int, sequence: int, event_id: int) -> bool:
    return f"lettre {letter_id}, événement n° {sequence} (id {event_id})" in message


def test_untouched_history_verifies(trail: Trail) -> None:
    assert verify_chains() == []
    stdout = StringIO()
    call_command("verify_audit", stdout=stdout, stderr=StringIO())
    assert "Historique intègre" in stdout.getvalue()
    assert f"{EVENTS_IN_FORCE + 1} événement(s)" in stdout.getvalue()


# Field → how to tamper with it, given the trail and the event's current row.
Tamper = Callable[[Trail, AuditEvent], Any]
TAMPERS: dict[str, Tamper] = {
    "letter": lambda t, e: t.other,  # applied to event 2: the other letter has only one
    "sequence": lambda t, e: e.sequence + 1,  # applied to the last event
    "action": lambda t, e: "withdraw",
    "from_state": lambda t, e: "draft",
    "to_state": lambda t, e: "withdrawn",
    "actor": lambda t, e: t.school.dan,
    "actor_label": lambda t, e: "Quelqu'un d'autre",
    "quality": lambda t, e: "principal",
    "created_at": lambda t, e: e.created_at + dt.timedelta(seconds=1),
    "payload": lambda t, e: {**e.payload, "version": 99},
    "snapshot": lambda t, e: {**e.snapshot, "state": "withdrawn"},
    "snapshot_sha256": lambda t, e: "0" * 64,
    "previous_hash": lambda t, e: "0" * 64,
    "hash": lambda t, e: "f" * 64,
}
# Which event is changed: one in the middle, unless the field needs another (above).
TARGET = {"letter": 2, "sequence": EVENTS_IN_FORCE}


def test_every_stored_field_is_covered() -> None:
    """The parametrisation below covers every concrete field but the id: a field added
    to the model without a tampering case here fails this test."""
    fields = {f.name for f in AuditEvent._meta.concrete_fields} - {"id"}
    assert fields == set(TAMPERS)


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_changing_a_field_breaks_the_chain(trail: Trail, field: str) -> None:
    target = trail.event(TARGET.get(field, MIDDLE))
    following = trail.event(target.sequence + 1) if field == "letter" else None
    value = TAMPERS[field](trail, target)
    assert value != getattr(target, field)
    assert AuditEvent.objects.filter(pk=target.pk).update(**{field: value}) == 1
    target = AuditEvent.objects.get(pk=target.pk)

    if following is None:
        expected = [(trail.letter.pk, target.sequence, target.pk)]
    else:
        # The other letter now holds an event that does not follow its own, and the
        # letter lost one. The other letter comes first (lower id).
        expected = [
            (trail.other.pk, target.sequence, target.pk),
            (trail.letter.pk, following.sequence, following.pk),
        ]
    breaks = verify_chains()
    assert _as_tuples(breaks) == expected
    assert all(b.reason for b in breaks)

    message, stderr = _command_error()
    assert _names(message, *expected[0])  # the first broken event
    for found in expected:
        assert _names(stderr, *found)


def _delete(events: list[AuditEvent]) -> None:
    # The outbox rows point at their event (PROTECT): a forger removes them too.
    OutboxItem.objects.filter(event__in=events).delete()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in events]).delete()[0] == len(events)


@pytest.mark.parametrize(("removed", "first_broken"), [(1, 2), (MIDDLE, MIDDLE + 1)])
def test_removing_an_event_breaks_the_chain(trail: Trail, removed: int, first_broken: int) -> None:
    broken = trail.event(first_broken)
    _delete([trail.event(removed)])

    assert _as_tuples(verify_chains()) == [(trail.letter.pk, first_broken, broken.pk)]
    message, _stderr = _command_error()
    assert _names(message, trail.letter.pk, first_broken, broken.pk)


def test_removing_the_latest_event_breaks_the_chain(trail: Trail) -> None:
    # The three signatures' events removed: the history now ends at "signature" while
    # the letter is in force.
    _delete([trail.event(s) for s in range(EVENTS_IN_FORCE - 2, EVENTS_IN_FORCE + 1)])

    assert [b.letter_id for b in verify_chains()] == [trail.letter.pk]
    message, _stderr = _command_error()
    assert f"lettre {trail.letter.pk}," in message


def test_removing_every_event_of_a_letter_is_found(trail: Trail) -> None:
    _delete(list(AuditEvent.objects.filter(letter=trail.letter)))

    assert _as_tuples(verify_chains()) == [(trail.letter.pk, 1, 0)]
    message, _stderr = _command_error()
    assert _names(message, trail.letter.pk, 1, 0)


def test_a_state_changed_outside_the_transitions_is_found(trail: Trail) -> None:
    # The state column written directly: no event brought the letter there.
    MissionLetter.objects.filter(pk=trail.letter.pk).update(state="closed")

    assert [b.letter_id for b in verify_chains()] == [trail.letter.pk]
    message, _stderr = _command_error()
    assert "état de la lettre" in message


def test_an_archive_deleted_with_its_row_is_found(settings: Any, tmp_path: Any) -> None:
    """Deleting the file and the row leaves nothing for the files' check to find: the
    archive request, done, says that an archive was made."""
    from notifications.services import render_pending_archives

    settings.MEDIA_ROOT = tmp_path
    school = make_school("AuditArchive")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    assert render_pending_archives() == 2
    assert verify_archives() == []
    call_command("verify_audit", stdout=StringIO(), stderr=StringIO())

    archive = Archive.objects.get(event__letter=letter, event__sequence=2)
    archive.file.delete(save=False)
    archive.delete()

    problems = verify_archives()
    assert [(p.letter_id, p.sequence) for p in problems] == [(letter.pk, 2)]
    assert "disparu" in problems[0].reason
    message, stderr = _command_error()
    assert f"lettre {letter.pk}, archive de l'événement n° 2" in message
    assert f"lettre {letter.pk}, archive de l'événement n° 2" in stderr
