"""Whom one letter waits for, and who was sent « Relancer » today.

Who is awaited is the lifecycle table's ``awaited_people`` (the reminders' sweep asks
it for many letters at once); here it is asked for a single letter, as its page and the
« Relancer » service need it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from governance.models import Role, User
from workflow.lifecycle.spec import Waiting
from workflow.lifecycle.table import awaited_people as table_awaited_people
from workflow.models import AuditEvent, LetterState, MissionLetter, Signature
from workflow.selectors.visibility import role_holders

# The step of the history that « Relancer » writes (its French name is the table's).
REMIND_ACTION = "remind"


def awaited_people(letter: MissionLetter) -> list[int]:
    """The user ids ``letter`` waits for in its current state, in the table's order."""
    referents = list(
        letter.referents.order_by("order", "pk").values_list("user_id", "agreed_version")
    )
    signatures = (
        list(Signature.objects.filter(letter=letter, version=letter.version))
        if letter.state == LetterState.SIGNATURE
        else []
    )
    holders = role_holders(
        [letter.establishment_id], [Role.PRINCIPAL, Role.CP_SECRETARY, Role.CA_SECRETARY]
    )
    return table_awaited_people(
        Waiting(
            letter=letter,
            referents=referents,
            signatures=signatures,
            holders=lambda role: holders.get((letter.establishment_id, role), []),
        )
    )


@dataclass(frozen=True)
class Relance:
    """The first « Relancer » of the day sent to one person about one letter."""

    at: dt.datetime
    by: str


def reminded_today(letter: MissionLetter) -> dict[int, Relance]:
    """user id → the first « Relancer » sent to them today (Europe/Paris) about
    ``letter``. A day's relances are few: their events are read and sorted here."""
    today = timezone.localdate()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())
    found: dict[int, Relance] = {}
    for moment, by, payload in (
        AuditEvent.objects.filter(letter=letter, action=REMIND_ACTION, created_at__gte=start)
        .order_by("sequence")
        .values_list("created_at", "actor_label", "payload")
    ):
        for person in payload.get("people", []):
            found.setdefault(int(person), Relance(moment, by))
    return found


@dataclass(frozen=True)
class Awaited:
    """One person the letter waits for, as its page lists them."""

    user: User
    reminded: Relance | None


def awaited_with_relances(letter: MissionLetter, reader: User) -> list[Awaited]:
    """Whom ``letter`` waits for but ``reader`` (who may send « Relancer » to the others),
    each with today's « Relancer » if one was sent."""
    ids = [pk for pk in awaited_people(letter) if pk != reader.pk]
    users = User.objects.in_bulk(ids)
    today = reminded_today(letter)
    return [Awaited(users[pk], today.get(pk)) for pk in ids if pk in users]
