"""The concertation's thread: a message from the principal's side or a référent,
optionally about one mission or indicator.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import (
    Role,
    User,
)
from workflow.errors import (
    InvalidInput,
    NotEditable,
    NotPermitted,
)
from workflow.models import (
    Comment,
    LetterState,
)
from workflow.selectors.visibility import people_with_role, referent_users
from workflow.services.writes import as_id, locked_letter, record_write

# The longest message the thread takes.
MAX_LENGTH = 8000


def add_comment(
    *,
    letter_id: int,
    user: User,
    body: object,
    mission_id: object = None,
    indicator_id: object = None,
) -> Comment:
    """A message in the concertation thread, by the principal's side or a référent,
    optionally about one mission or indicator (their ids, as the client sent them).
    The other participants are told."""
    body = body.strip() if isinstance(body, str) else ""
    if not body:
        raise InvalidInput({"body": [_("Le message est vide.")]})
    if len(body) > MAX_LENGTH:
        raise InvalidInput({"body": [_("%(count)s caractères au plus.") % {"count": MAX_LENGTH}]})
    with transaction.atomic():
        letter, actor = locked_letter(letter_id, user)
        if not (actor.acts_for_principal or actor.is_referent):
            raise NotPermitted(
                _("La concertation réunit le chef d'établissement et les référents.")
            )
        if letter.state in (LetterState.CLOSED, LetterState.WITHDRAWN):
            raise NotEditable(_("La lettre est close : on ne peut plus la commenter."))
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
        )
        participants = referent_users(letter) + people_with_role(letter, Role.PRINCIPAL)
        record_write(
            letter,
            actor=actor,
            told=[(person, "comment_posted") for person in participants],
            about=f"comment:{comment.pk}",
        )
    return comment
