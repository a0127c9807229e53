"""The concertation thread as it reads: each message with the state of a change request,
and what its author may still do with it.

The rules the services apply before a correction or a deletion are here, so that the
pages offer exactly what the services will accept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from governance.models import User
from workflow.errors import InvalidInput, NotEditable, NotPermitted, WorkflowError
from workflow.models import Comment, LetterState, MissionLetter
from workflow.selectors.actors import Actor

# How long after posting its author may correct or delete a message.
WINDOW_MINUTES = 15
EDIT_WINDOW = dt.timedelta(minutes=WINDOW_MINUTES)

# The states of a change request (``None`` for a plain message).
OPEN, ANSWERED, RESOLVED = "open", "answered", "resolved"


def live_replies(comment_ref: Any) -> QuerySet[Comment]:
    """The messages, not deleted, that answer the message ``comment_ref`` names."""
    return Comment.objects.filter(answers=comment_ref, deleted_at__isnull=True)


def thread(letter: MissionLetter) -> QuerySet[Comment]:
    """The letter's messages, oldest first, each knowing whether it was ``answered``
    (a reply not deleted names it), with what the pages and the API show of them."""
    return (
        Comment.objects.filter(letter=letter)
        .select_related("author", "resolved_by", "answers__author")
        .annotate(answered=Exists(live_replies(OuterRef("pk"))))
        .order_by("created_at", "id")
    )


def _answered(comment: Comment) -> bool:
    answered = getattr(comment, "answered", None)
    if answered is None:
        answered = live_replies(comment.pk).exists()
    return bool(answered)


def request_state(comment: Comment) -> str | None:
    """``open``, ``answered`` or ``resolved`` for a change request not deleted; ``None``
    otherwise. Marked resolved wins over answered: both close it."""
    if not comment.is_change_request or comment.deleted_at is not None:
        return None
    if comment.resolved_at is not None:
        return RESOLVED
    return ANSWERED if _answered(comment) else OPEN


def open_requests(letter: MissionLetter) -> QuerySet[Comment]:
    """The change requests still waiting for the principal's side."""
    return thread(letter).filter(
        ~Exists(live_replies(OuterRef("pk"))),
        is_change_request=True,
        deleted_at__isnull=True,
        resolved_at__isnull=True,
    )


def letters_with_open_requests(establishments: list[int]) -> list[tuple[MissionLetter, int]]:
    """For the principal's side (À faire): the letters still open of ``establishments``
    (those the person heads) that have change requests waiting, each with how many."""
    if not establishments:
        return []
    counts = dict(
        Comment.objects.filter(
            ~Exists(live_replies(OuterRef("pk"))),
            letter__establishment_id__in=establishments,
            is_change_request=True,
            deleted_at__isnull=True,
            resolved_at__isnull=True,
        )
        .exclude(letter__state__in=[LetterState.CLOSED, LetterState.WITHDRAWN])
        .values_list("letter")
        .annotate(count=Count("pk"))
        .values_list("letter", "count")
    )
    letters = MissionLetter.objects.filter(pk__in=counts).select_related(
        "establishment", "school_year"
    )
    return [(letter, counts[letter.pk]) for letter in letters.order_by("establishment__name")]


def post_refusal(letter: MissionLetter, actor: Actor) -> WorkflowError | None:
    """Why this person may not write in the letter's thread (``None``: they may): it
    brings the principal's side and the référents together, until the letter is over."""
    if not (actor.acts_for_principal or actor.is_referent):
        return NotPermitted(_("La concertation réunit le chef d'établissement et les référents."))
    if letter.state in (LetterState.CLOSED, LetterState.WITHDRAWN):
        return NotEditable(_("La lettre est close : on ne peut plus la commenter."))
    return None


def answer_refusal(
    letter: MissionLetter, actor: Actor, comment: Comment, field: str = "answers"
) -> WorkflowError | None:
    """Why this person may not answer ``comment`` or mark it resolved (``None``: they
    may): the principal's side does, for a change request not deleted (else an error
    on ``field``)."""
    refusal = post_refusal(letter, actor)
    if refusal is not None:
        return refusal
    if not actor.acts_for_principal:
        return NotPermitted(
            _(
                "Seul le chef d'établissement (ou son adjoint par délégation) répond aux "
                "demandes de modification."
            )
        )
    if comment.is_change_request and comment.deleted_at is not None:
        return InvalidInput(
            {field: [_("Cette demande a été supprimée par son auteur : rien n'y est à faire.")]}
        )
    if request_state(comment) is None:
        return InvalidInput({field: [_("Ce message n'est pas une demande de modification.")]})
    return None


def editable_until(comment: Comment) -> dt.datetime:
    return comment.created_at + EDIT_WINDOW


def change_refusal(comment: Comment, user: User, now: dt.datetime) -> WorkflowError | None:
    """Why ``user`` may not correct or delete ``comment`` now (``None``: they may). Only
    its author, within ``EDIT_WINDOW`` of posting, while nobody has answered it."""
    if comment.author_id != user.pk:
        return NotPermitted(_("Seul son auteur peut corriger ou supprimer un message."))
    if comment.deleted_at is not None:
        return NotEditable(_("Ce message a été supprimé."))
    if comment.resolved_at is not None or _answered(comment):
        return NotEditable(
            _("Ce message a reçu une réponse : il ne peut plus être corrigé ni supprimé.")
        )
    if now > editable_until(comment):
        return NotEditable(
            _(
                "Un message ne peut être corrigé ou supprimé que dans les %(minutes)s minutes "
                "qui suivent sa publication."
            )
            % {"minutes": WINDOW_MINUTES}
        )
    return None
