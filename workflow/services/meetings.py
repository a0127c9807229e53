"""Recording a council meeting's opinions on every letter of its agenda at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from governance.models import (
    Meeting,
    User,
)
from workflow.errors import (
    ConditionsUnmet,
    InvalidInput,
    NotPermitted,
    WorkflowError,
)
from workflow.lifecycle.engine import fire_transition
from workflow.models import (
    MissionLetter,
)
from workflow.selectors.visibility import opinion_recorders_meetings
from workflow.services.writes import as_id


def record_meeting_opinions(
    *, meeting_id: int, user: User, opinions: list[Mapping[str, Any]]
) -> list[MissionLetter]:
    """Record a meeting's opinion on every letter of its agenda in one go: all of them
    or none. ``opinions``: ``[{letter, opinion, votes_for, …, remarks}]``; errors come
    back per letter."""
    meeting = Meeting.objects.select_related("council__establishment").filter(pk=meeting_id).first()
    if meeting is None:
        raise InvalidInput({"meeting": [_("Séance inconnue.")]})
    if not opinion_recorders_meetings(user, [meeting]):
        raise NotPermitted(
            _(
                "Les avis d'une séance sont saisis par le secrétaire du conseil ou le chef "
                "d'établissement."
            )
        )
    name = (
        "record_pedagogical_opinion"
        if meeting.council.kind == "pedagogical"
        else "record_board_opinion"
    )
    if not opinions:
        raise InvalidInput({"opinions": [_("Aucun avis à enregistrer.")]})
    errors: dict[str, list[str]] = {}
    letters = []
    with transaction.atomic():
        for row in opinions:
            letter_id = row.get("letter")
            try:
                letters.append(
                    fire_transition(
                        letter_id=as_id(letter_id),
                        name=name,
                        user=user,
                        payload={**row, "meeting": meeting_id},
                    )
                )
            except InvalidInput as exc:
                errors[f"letter {letter_id}"] = [
                    f"{field} : {m}" for field, msgs in exc.errors.items() for m in msgs
                ]
            except ConditionsUnmet as exc:
                errors[f"letter {letter_id}"] = [u.message for u in exc.unmet]
            except WorkflowError as exc:
                errors[f"letter {letter_id}"] = [exc.detail]
        if errors:
            transaction.set_rollback(True)
            raise InvalidInput(errors, _("Aucun avis n'a été enregistré : corrigez d'abord."))
    return letters
