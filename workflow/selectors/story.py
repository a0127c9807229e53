"""What a letter's page tells beside its content: the councils' opinions, and why the
letter stands where it is (the reason given by whoever last sent it back, ended or
withdrew it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models.fields.json import KT

from workflow.models import AuditEvent, MissionLetter, Opinion, OpinionValue

# Opinions that the principal should weigh before signing: the councils are
# consultative, so they block nothing.
DOUBTFUL = frozenset({OpinionValue.DEFAVORABLE, OpinionValue.RESERVE})


def council_opinions(letter: MissionLetter) -> list[Opinion]:
    """Every opinion given on the letter, oldest first, with its meeting."""
    return list(
        Opinion.objects.filter(letter=letter)
        .select_related("meeting")
        .order_by("recorded_at", "pk")
    )


def doubtful_opinions(letter: MissionLetter, opinions: list[Opinion]) -> list[Opinion]:
    """The unfavourable or reserved opinions on the version standing now."""
    return [o for o in opinions if o.version == letter.version and o.opinion in DOUBTFUL]


@dataclass(frozen=True)
class Reason:
    """The reason given with a step of the history."""

    action: str
    reason: str
    by: str
    at: dt.datetime


def standing_reason(letter: MissionLetter) -> Reason | None:
    """The reason the letter stands in its state, when the step that brought it there
    gave one (back to draft, concertation reopened, report returned, mission ended
    early, withdrawal); ``None`` otherwise."""
    last = (
        AuditEvent.objects.filter(letter=letter, to_state=letter.state)
        .exclude(from_state=letter.state)
        .order_by("-sequence")
        .annotate(reason=KT("payload__reason"))
        .values_list("action", "reason", "actor_label", "created_at")
        .first()
    )
    if last is None or not last[1]:
        return None
    return Reason(*last)
