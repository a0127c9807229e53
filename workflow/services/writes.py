"""What every write to a letter does first and last, in its own transaction.

First, ``locked_letter``: the letter's row locked and the person's standing on it.
Last, ``record_write``, the epilogue: the audit event when the write is a step of
the letter's history, and its outbox rows (the step's archive, one notification per
person told, the sealed PDF when the step brings the letter into force). Mail and PDFs
are not made here: the ``notifications`` app carries out the outbox rows after commit
(DESIGN §4, §6), woken once the transaction commits.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Collection
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import User
from workflow.audit.chain import record_event
from workflow.errors import LetterNotFound, NotPermitted
from workflow.models import AuditEvent, LetterState, MissionLetter, OutboxItem, OutboxKind
from workflow.selectors.actors import SYSTEM, Actor, actor_for

logger = logging.getLogger(__name__)

# Whom to tell, and of what: (person, topic).
Recipients = list[tuple[User, str]]


def nul_refusal() -> str:
    """Why a text holding the NUL character is refused: PostgreSQL cannot store it, and
    no one types it (it comes from a copy of binary data, or from a hostile client)."""
    return _("Le texte contient un caractère nul, qui ne peut pas être enregistré : retirez-le.")


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


# The largest primary key (BigAutoField): a larger integer is no identifier, and the
# database refuses to compare with it (OverflowError on SQLite, DataError on PostgreSQL).
MAX_ID = 2**63 - 1


def as_id(value: Any) -> int:
    """An identifier from client input; 0 (matching nothing) when it is not one: not an
    integer, infinite, or outside the range of primary keys."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return number if 0 < number <= MAX_ID else 0


def require_head(actor: Actor) -> None:
    if not actor.acts_for_principal:
        raise NotPermitted(
            _("Seul le chef d'établissement (ou son adjoint par délégation) rédige la lettre.")
        )


# No publish is tried before this moment (``time.monotonic()``): set after a failure,
# so that a broker that is down costs one request a short wait, not every request.
_kick_paused_until = 0.0
# Each thread's connection for the kick, with its short timeouts, kept between writes.
_kick_local = threading.local()


def _kick_connection() -> Any:
    """This thread's broker connection for the kick: made with ``OUTBOX_KICK_TIMEOUT``
    for connecting and for every socket operation, and no retry (kombu's retries sleep
    for seconds); made again in a new process or for another broker."""
    url = current_app.conf.broker_write_url
    cached = getattr(_kick_local, "connection", None)
    if cached is not None and _kick_local.key == (os.getpid(), url):
        return cached
    timeout = settings.OUTBOX_KICK_TIMEOUT
    connection = current_app.connection_for_write(
        url,
        connect_timeout=timeout,
        transport_options={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "max_retries": 0,
        },
    )
    _kick_local.connection, _kick_local.key = connection, (os.getpid(), url)
    return connection


def _drop_kick_connection() -> None:
    connection = getattr(_kick_local, "connection", None)
    _kick_local.connection = None
    if connection is not None:
        connection.collect()  # its sockets closed without talking to the broker


def _kick_outbox() -> None:
    """Ask a worker to carry out the outbox now. Called after commit; a speed-up only, so
    the broker never slows a write: the publish gives up after ``OUTBOX_KICK_TIMEOUT``
    seconds, and after a failure no publish is tried for ``OUTBOX_KICK_PAUSE`` seconds
    (a small circuit breaker): the periodic sweep does the work meanwhile. The task is
    named, not imported: ``notifications`` depends on ``workflow``, never the other way
    round."""
    global _kick_paused_until
    if not settings.OUTBOX_KICK_ENABLED or time.monotonic() < _kick_paused_until:
        return
    try:
        current_app.send_task(
            settings.OUTBOX_KICK_TASK,
            connection=_kick_connection(),
            retry=False,
            ignore_result=True,
        )
    except Exception as exc:  # whatever the broker does, the write has committed
        _kick_paused_until = time.monotonic() + settings.OUTBOX_KICK_PAUSE
        _drop_kick_connection()
        logger.warning(
            "broker unreachable (%s: %s): no outbox kick for %s s, the sweep does the work",
            type(exc).__name__,
            exc,
            settings.OUTBOX_KICK_PAUSE,
        )


def record_write(
    letter: MissionLetter,
    *,
    actor: Actor,
    told: Recipients,
    action: str = "",
    from_state: str = "",
    payload: dict[str, Any] | None = None,
    about: str = "",
    actor_told: Collection[str] = (),
) -> AuditEvent | None:
    """Close a write to ``letter``, whose row the caller has locked (or just created).

    A step of the history (``action``: a transition, a creation, an edit in
    concertation) gets its audit event and the request to archive it; a write that is
    not a step (a comment) names what it is ``about`` instead (``"comment:12"``). Each
    person ``told`` gets one notification per topic, never the person who acted but
    for the topics of ``actor_told`` (what they learn only then: the letter they just
    signed last is in force); the keys make each request unique, so a retried write
    cannot queue it twice.
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
        if letter.state == LetterState.IN_FORCE and from_state != LetterState.IN_FORCE:
            # The step that brings the letter into force asks for its sealed PDF: one
            # per letter and version, whichever signature (electronic or paper) was last.
            items.append(
                OutboxItem(
                    key=f"seal:{letter.pk}:v{letter.version}",
                    kind=OutboxKind.SEAL,
                    letter=letter,
                    event=event,
                )
            )
    assert about, "a write that is not a step says what it is about"
    seen: set[tuple[int, str]] = set()
    for user, topic in told:
        acted = actor.user is not None and user.pk == actor.user.pk
        if (user.pk, topic) in seen or (acted and topic not in actor_told):
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
    if items:  # a write that tells nobody (a correction) has nothing to carry out
        OutboxItem.objects.bulk_create(items)
        transaction.on_commit(_kick_outbox, robust=True)
    return event
