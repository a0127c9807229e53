"""Concertation: the principal shares the draft with the référents, who agree with
the version they were shown; the principal may take it back to draft."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.models import Role
from workflow.errors import Unmet
from workflow.lifecycle import guards
from workflow.lifecycle.payloads import ReasonPayload, ShownVersionPayload
from workflow.lifecycle.spec import (
    Data,
    Form,
    Presentation,
    TransitionSpec,
    Waiting,
    by_head,
    by_referent,
    require_shown_version,
    tell,
)
from workflow.models import MissionLetter
from workflow.selectors.actors import Actor
from workflow.selectors.visibility import people_with_role, referent_users


def _perform_open_concertation(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Draft → concertation: the référents are invited to comment and agree."""
    letter.open_concertation()
    return {"version": letter.version}


def _guard_agree(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    if actor.referent is not None and actor.referent.agreed_version == letter.version:
        return [
            Unmet(
                "already_agreed",
                _("Vous avez déjà donné votre accord sur la version %(version)s.")
                % {"version": letter.version},
                done=True,
            )
        ]
    return []


def _perform_agree(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """One référent agrees with the version they were shown, which must be the one
    standing now; a later change of content raises the version, so the agreement no
    longer counts."""
    assert actor.referent is not None
    shown = require_shown_version(
        letter,
        data,
        _(
            "La lettre a changé depuis qu'elle vous a été présentée : relisez la version "
            "%(version)s avant de donner votre accord."
        ),
    )
    letter.agree()
    actor.referent.agreed_version = letter.version
    actor.referent.agreed_at = timezone.now()
    actor.referent.save(update_fields=["agreed_version", "agreed_at"])
    return {"version": letter.version, "snapshot_sha256": shown}


def _perform_return_to_draft(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Back to draft for rework: the next concertation is on a new version, so earlier
    agreements do not carry over."""
    letter.return_to_draft()
    letter.version += 1
    return {"reason": data["reason"], "version": letter.version}


def _awaited_agreements(waiting: Waiting) -> list[int]:
    return [user for user, agreed in waiting.referents if agreed != waiting.letter.version]


SPECS = [
    TransitionSpec(
        "open_concertation",
        gettext_lazy("Ouvrir la concertation"),
        by_head,
        _perform_open_concertation,
        guard=lambda letter, actor: guards.open_concertation_unmet(letter),
        notify=lambda letter: tell(referent_users(letter), "concertation_opened"),
        done=gettext_lazy(
            "Concertation ouverte sur la version %(version)s : les référents sont invités "
            "à la relire et à donner leur accord."
        ),
    ),
    TransitionSpec(
        "agree",
        gettext_lazy("Donner mon accord"),
        by_referent,
        _perform_agree,
        payload=ShownVersionPayload,
        guard=_guard_agree,
        notify=lambda letter: tell(people_with_role(letter, Role.PRINCIPAL), "referent_agreed"),
        awaits=_awaited_agreements,
        form=Form.AGREE,
        done=gettext_lazy(
            "Accord enregistré sur la version %(version)s. Le chef d'établissement en est informé."
        ),
    ),
    TransitionSpec(
        "return_to_draft",
        gettext_lazy("Revenir au brouillon"),
        by_head,
        _perform_return_to_draft,
        payload=ReasonPayload,
        notify=lambda letter: tell(referent_users(letter), "returned_to_draft"),
        presentation=Presentation.SECONDARY,
        form=Form.REASON,
        done=gettext_lazy(
            "La lettre est revenue au brouillon. Les référents en sont informés, avec votre motif."
        ),
    ),
]
