"""The concertation's thread: a message from the principal's side or a référent,
optionally about one mission or indicator.

A référent may mark their message as a request to change the letter; it stays open
until the principal's side answers it (a message that ``answers`` it) or marks it
resolved. Its author may correct or delete a message for a short while
(``selectors.comments.EDIT_WINDOW``) as long as nobody has answered it. Corrections and
deletions tell nobody: the e-mail announcing a message links to the thread, which shows
the message as it now stands, marked corrected, or « supprimé par son auteur ».

Every change of a message moves its ``revision``. A change based on an older revision
(``base_revision``, which the pages and the API's ``If-Match`` send) is refused with
``StaleRevision``, naming what happened meanwhile, rather than made on a message its
person has not read as it stands. A change that would change nothing is not refused.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.imp import NARROW_NBSP
from governance.models import (
    Role,
    User,
)
from workflow.errors import (
    InvalidInput,
    LetterNotFound,
    NotPermitted,
    StaleRevision,
)
from workflow.models import (
    Comment,
    MissionLetter,
)
from workflow.selectors.actors import Actor
from workflow.selectors.comments import (
    OPEN,
    answer_refusal,
    change_refusal,
    post_refusal,
    request_state,
)
from workflow.selectors.visibility import people_with_role, referent_users
from workflow.services.writes import as_id, locked_letter, nul_refusal, record_write

# The longest message the thread takes, in characters (the pages count them as typed).
MAX_LENGTH = 5000


def grouped(number: int) -> str:
    """``5000`` → ``"5 000"``, thousands apart the French way."""
    return f"{number:,}".replace(",", NARROW_NBSP)


def clean_body(body: object) -> str:
    """The message as kept: line ends as ``\\n`` (a browser sends ``\\r\\n``, which would
    count twice), no surrounding blanks; refused when empty or too long."""
    text = body if isinstance(body, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidInput({"body": [_("Le message est vide.")]})
    if "\x00" in text:
        raise InvalidInput({"body": [nul_refusal()]})
    if len(text) > MAX_LENGTH:
        raise InvalidInput(
            {
                "body": [
                    _(
                        "Le message compte %(count)s caractères, pour %(max)s au plus : "
                        "raccourcissez-le de %(over)s caractères."
                    )
                    % {
                        "count": grouped(len(text)),
                        "max": grouped(MAX_LENGTH),
                        "over": grouped(len(text) - MAX_LENGTH),
                    }
                ]
            }
        )
    return text


def _require_participant(letter: MissionLetter, actor: Actor) -> None:
    refusal = post_refusal(letter, actor)
    if refusal is not None:
        raise refusal


def _comment_of(letter: MissionLetter, comment_id: object) -> Comment:
    comment = letter.comments.filter(pk=as_id(comment_id)).first()
    if comment is None:
        # The same answer as for a letter one may not see: 404 ``not_found``.
        raise LetterNotFound(_("Message introuvable."))
    return comment


def add_comment(
    *,
    letter_id: int,
    user: User,
    body: object,
    mission_id: object = None,
    indicator_id: object = None,
    is_change_request: object = False,
    answers_id: object = None,
    answers_revision: object = None,
) -> Comment:
    """A message in the concertation thread, by the principal's side or a référent,
    optionally about one mission or indicator (their ids, as the client sent them).
    A référent's may be a change request (``is_change_request``); the principal's side
    may answer one (``answers_id``), as read at its revision ``answers_revision`` when
    given: a request corrected or deleted since is not answered unseen. The other
    participants are told."""
    body = clean_body(body)
    if not isinstance(is_change_request, bool):
        raise InvalidInput({"is_change_request": [_("Vrai ou faux est attendu.")]})
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        _require_participant(letter, actor)
        if is_change_request and not actor.is_referent:
            raise NotPermitted(_("Seul un référent demande une modification de la lettre."))
        answered = None
        if answers_id is not None:
            answered = letter.comments.filter(pk=as_id(answers_id)).first()
            if answered is None:
                raise InvalidInput(
                    {"answers": [_("Ce message n'est pas dans la concertation de cette lettre.")]}
                )
            refusal = answer_refusal(letter, actor, answered)
            if refusal is not None:
                raise refusal
            if answers_revision is not None:
                if isinstance(answers_revision, bool) or not isinstance(answers_revision, int):
                    raise InvalidInput({"answers_revision": [_("Un entier est attendu.")]})
                if answers_revision != answered.revision:
                    raise _stale_comment(answered, user, answering=True)
        mission = indicator = None
        anchor = ""
        if mission_id is not None:
            mission = letter.missions.filter(pk=as_id(mission_id)).first()
            if mission is None:
                raise InvalidInput({"mission": [_("Cette mission n'est pas dans la lettre.")]})
            anchor = mission.text
        if indicator_id is not None:
            indicator = letter.indicators.filter(pk=as_id(indicator_id)).first()
            if indicator is None:
                raise InvalidInput({"indicator": [_("Cet indicateur n'est pas dans la lettre.")]})
            anchor = indicator.text
        comment = Comment.objects.create(
            letter=letter,
            author=user,
            body=body,
            mission=mission,
            indicator=indicator,
            anchor_text=anchor,
            version=letter.version,
            is_change_request=is_change_request,
            answers=answered,
        )
        participants = referent_users(letter) + people_with_role(letter, Role.PRINCIPAL)
        record_write(
            letter,
            actor=actor,
            told=[(person, "comment_posted") for person in participants],
            about=f"comment:{comment.pk}",
        )
    return comment


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y à %H:%M")


def _stale_comment(comment: Comment, user: User, *, answering: bool = False) -> StaleRevision:
    """The refusal of a change (``answering``: of an answer) based on an older revision
    of ``comment``, saying what was done to it since (the latest of a correction, a
    deletion, a resolution), by whom and when."""
    done: list[tuple[dt.datetime, str]] = []

    def by(person: User | None) -> str:
        if person is None:
            return _("quelqu'un")
        if person.pk == user.pk:
            return _("vous-même")
        return person.get_full_name() or person.username

    if comment.edited_at is not None:
        done.append(
            (
                comment.edited_at,
                _("corrigé par %(name)s le %(when)s")
                % {"name": by(comment.author), "when": _when(comment.edited_at)},
            )
        )
    if comment.deleted_at is not None:
        done.append(
            (
                comment.deleted_at,
                _("supprimé par %(name)s le %(when)s")
                % {"name": by(comment.author), "when": _when(comment.deleted_at)},
            )
        )
    if comment.resolved_at is not None:
        done.append(
            (
                comment.resolved_at,
                _("marqué comme traité par %(name)s le %(when)s")
                % {"name": by(comment.resolved_by), "when": _when(comment.resolved_at)},
            )
        )
    if answering:
        return StaleRevision(
            _(
                "La demande a été modifiée entre-temps (%(what)s) : votre réponse n'est pas "
                "publiée. Relisez la demande telle qu'elle est maintenant, puis répondez."
            )
            % {"what": max(done)[1] if done else _("modifiée")}
        )
    if not done:
        return StaleRevision(
            _(
                "Ce message a été modifié entre-temps : votre changement n'est pas "
                "enregistré. Repartez du message tel qu'il est maintenant."
            )
        )
    return StaleRevision(
        _(
            "Ce message a été modifié entre-temps (%(what)s) : votre changement n'est pas "
            "enregistré. Repartez du message tel qu'il est maintenant."
        )
        % {"what": max(done)[1]}
    )


def _require_revision(comment: Comment, user: User, base_revision: int | None) -> None:
    """Refuse a change based on another revision of the message than the stored one."""
    if base_revision is not None and base_revision != comment.revision:
        raise _stale_comment(comment, user)


def _own_comment(
    letter_id: int, comment_id: object, user: User
) -> tuple[MissionLetter, Actor, Comment]:
    """The letter (locked), the actor and their message, if they may still change it:
    the refusal otherwise (another's message, the window closed, an answer given)."""
    letter, actor = locked_letter(letter_id, user)
    _require_participant(letter, actor)
    comment = _comment_of(letter, comment_id)
    refusal = change_refusal(comment, user, timezone.now())
    if refusal is not None:
        raise refusal
    return letter, actor, comment


def edit_comment(
    *,
    letter_id: int,
    comment_id: object,
    user: User,
    body: object,
    base_revision: int | None = None,
) -> Comment:
    """Its author corrects a message, within the window and while nobody has answered
    it, based on its revision ``base_revision`` when given. Nobody is told (see the
    module's note); the thread shows it corrected."""
    body = clean_body(body)
    with transaction.atomic():
        letter, actor, comment = _own_comment(letter_id, comment_id, user)
        if body == comment.body:
            return comment
        _require_revision(comment, user, base_revision)
        comment.body, comment.edited_at = body, timezone.now()
        comment.revision += 1
        comment.save(update_fields=["body", "edited_at", "revision"])
        record_write(letter, actor=actor, told=[], about=f"comment:{comment.pk}")
    return comment


def delete_comment(
    *, letter_id: int, comment_id: object, user: User, base_revision: int | None = None
) -> Comment:
    """Its author deletes a message, within the window and while nobody has answered
    it, based on its revision ``base_revision`` when given. The row stays, emptied and
    marked deleted: the thread shows that a message was there and was withdrawn by its
    author. Nobody is told."""
    with transaction.atomic():
        letter, actor, comment = _own_comment(letter_id, comment_id, user)
        _require_revision(comment, user, base_revision)
        comment.body, comment.deleted_at = "", timezone.now()
        comment.revision += 1
        comment.save(update_fields=["body", "deleted_at", "revision"])
        record_write(letter, actor=actor, told=[], about=f"comment:{comment.pk}")
    return comment


def resolve_change_request(
    *, letter_id: int, comment_id: object, user: User, base_revision: int | None = None
) -> Comment:
    """The principal's side marks a change request resolved without answering it in
    the thread (a change made in the letter, a word in person), based on its revision
    ``base_revision`` when given: a request corrected since it was read is not marked
    resolved unread. Doing it twice, or on a request already answered, changes
    nothing."""
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        comment = _comment_of(letter, comment_id)
        refusal = answer_refusal(letter, actor, comment, field="comment")
        if refusal is not None:
            raise refusal
        state = request_state(comment)
        if state != OPEN:
            return comment
        _require_revision(comment, user, base_revision)
        comment.resolved_at, comment.resolved_by = timezone.now(), user
        comment.revision += 1
        comment.save(update_fields=["resolved_at", "resolved_by", "revision"])
        record_write(letter, actor=actor, told=[], about=f"comment:{comment.pk}")
    return comment
