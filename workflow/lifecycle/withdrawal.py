"""Withdrawal: the principal's side abandons a letter before it comes into force."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from workflow.lifecycle.payloads import ReasonPayload
from workflow.lifecycle.spec import Data, Form, Presentation, TransitionSpec, by_head, tell
from workflow.models import MissionLetter
from workflow.selectors.actors import Actor
from workflow.selectors.visibility import referent_users


def _perform_withdraw(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    letter.withdraw()
    return {"reason": data["reason"]}


SPECS = [
    TransitionSpec(
        "withdraw",
        gettext_lazy("Abandonner la lettre"),
        by_head,
        _perform_withdraw,
        payload=ReasonPayload,
        notify=lambda letter: tell(referent_users(letter), "letter_withdrawn"),
        presentation=Presentation.DESTRUCTIVE,
        form=Form.REASON,
        done=gettext_lazy(
            "La lettre est abandonnée. Les référents en sont informés, avec votre motif."
        ),
    ),
]
