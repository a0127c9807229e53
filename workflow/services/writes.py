"""What every write to a letter does first and last, in its own transaction.

First, ``locked_letter``: the letter's row locked and the person's standing on it.
Last, ``record_write``, the epilogue: the audit event when the write is a step of
the letter's history, and its outbox rows (the step's archive, one notification per
person told). Mail and PDFs are not made here: the ``notifications`` app carries out
the outbox rows after commit (DESIGN §4, §6), woken once the transaction commits.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import User
from workflow.audit.chain import record_event
from workflow.errors import LetterNotFound, NotPermitted
from workflow.models import AuditEvent, MissionLetter, OutboxItem, OutboxKind
from workflow.selectors.actors import SYSTEM, Actor, actor_for

# Whom to tell, and of what: (person, topic).
Recipients = list[tuple[User, str]]


def locked_letter(letter_id: int, user: User | None) -> tuple[MissionLetter, Actor]:
    """The letter, its row locked until the transaction ends, and ``user`` as an actor on
    it (``None``: the scheduler). ``LetterNotFound`` if it does not exist or the person
    may not see it: the same answer, so that its existence does not leak."""
    letter = (
        MissionLetter.objects.select_for_update(of=("self",))
        .select_related("establishment__academy", "school_year")
        .filter(pk=letter_id)
        .first()
    )
    if letter is None:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    actor = SYSTEM if user is None else actor_for(user, letter)
    if not actor.can_see:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    return letter, actor


def as_id(value: Any) -> int:
    """An identifier from client input; 0 (matching nothing) when it is not one."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def require_head(actor: Actor) -> None:
    if not actor.acts_for_principal:
        raise NotPermitted(
            _("Seul le chef d'établissement (ou son adjoint par délégation) rédige la lettre.")
        )


def _kick_outbox() -> None:
    """Ask a worker to carry out the outbox now. Called after commit, robustly: if the
    broker is down this logs and returns, and the periodic sweep does the work later.
    The task is named, not imported: ``notifications`` depends on ``workflow``, never
    the other way round."""
    if settings.OUTBOX_KICK_ENABLED:
        current_app.send_task(settings.OUTBOX_KICK_TASK, retry=False, ignore_result=True)


def record_write(
    letter: MissionLetter,
    *,
    actor: Actor,
    told: Recipients,
    action: str = "",
    from_state: str = "",
    payload: dict[str, Any] | None = None,
    about: str = "",
) -> AuditEvent | None:
    """Close a write to ``letter``, whose row the caller has locked (or just created).

    A step of the history (``action``: a transition, a creation, an edit in
    concertation) gets its audit event and the request to archive it; a write that is
    not a step (a comment) names what it is ``about`` instead (``"comment:12"``). Each
    person ``told`` gets one notification per topic, never the person who acted; the
    keys make each request unique, so a retried write cannot queue it twice.
    """
    event = None
    items = []
    if action:
        event = record_event(
            letter, action=action, from_state=from_state, actor=actor, payload=payload
        )
        about = f"event:{event.pk}"
        items.append(
            OutboxItem(key=f"archive:{about}", kind=OutboxKind.ARCHIVE, letter=letter, event=event)
        )
    assert about, "a write that is not a step says what it is about"
    seen: set[tuple[int, str]] = set()
    for user, topic in told:
        if (user.pk, topic) in seen or (actor.user is not None and user.pk == actor.user.pk):
            continue
        seen.add((user.pk, topic))
        items.append(
            OutboxItem(
                key=f"notify:{about}:{topic}:{user.pk}",
                kind=OutboxKind.NOTIFICATION,
                letter=letter,
                event=event,
                recipient=user,
                topic=topic,
            )
        )
    OutboxItem.objects.bulk_create(items)
    transaction.on_commit(_kick_outbox, robust=True)
    return event
