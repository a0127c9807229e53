"""The year-end report's steps: opened when the window comes (or the mission ends
early), handed in by a référent, returned for completion or acknowledged."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.models import Role
from workflow.errors import InvalidInput, Unmet
from workflow.lifecycle import guards
from workflow.lifecycle.payloads import OptionalReasonPayload, ReasonPayload
from workflow.lifecycle.spec import (
    Data,
    Form,
    Presentation,
    TransitionSpec,
    by_head,
    by_referent,
    by_system_or_head,
    tell,
)
from workflow.models import IndicatorResult, MissionLetter, MissionOutcome, YearEndReport
from workflow.selectors.actors import Actor
from workflow.selectors.visibility import people_with_role, referent_users


def _guard_open_report(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    if actor.is_system:
        return guards.report_window_unmet(letter, timezone.localdate())
    return []


def _perform_open_report(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """In force → report due, pre-filling the report from the letter's missions and
    indicators. The scheduler does it when the window opens; the principal may end
    the mission early, with a reason."""
    if not actor.is_system and not data.get("reason"):
        raise InvalidInput({"reason": [_("Indiquez pourquoi la mission se termine plus tôt.")]})
    letter.open_report()
    report, _created = YearEndReport.objects.get_or_create(letter=letter)
    for mission in letter.missions.all():
        MissionOutcome.objects.get_or_create(report=report, mission=mission)
    for indicator in letter.indicators.all():
        IndicatorResult.objects.get_or_create(report=report, indicator=indicator)
    return {"reason": data.get("reason", "")}


def _guard_submit_report(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    return guards.report_complete_unmet(letter)


def _perform_submit_report(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    letter.submit_report()
    YearEndReport.objects.filter(letter=letter).update(
        submitted_at=timezone.now(), submitted_by=actor.user
    )
    return {}


def _perform_return_report(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    letter.return_report()
    YearEndReport.objects.filter(letter=letter).update(submitted_at=None, submitted_by=None)
    return {"reason": data["reason"]}


def _perform_acknowledge_report(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    letter.acknowledge_report()
    return {}


SPECS = [
    TransitionSpec(
        "open_report",
        gettext_lazy("Ouvrir le compte rendu"),
        by_system_or_head,
        _perform_open_report,
        payload=OptionalReasonPayload,
        guard=_guard_open_report,
        notify=lambda letter: tell(referent_users(letter), "report_due"),
        presentation=Presentation.SECONDARY,
        form=Form.REASON,
        done=gettext_lazy(
            "Le compte rendu de fin d'année est ouvert : les référents sont invités à le remplir."
        ),
    ),
    TransitionSpec(
        "submit_report",
        gettext_lazy("Remettre le compte rendu"),
        by_referent,
        _perform_submit_report,
        guard=_guard_submit_report,
        notify=lambda letter: tell(
            people_with_role(letter, Role.PRINCIPAL) + people_with_role(letter, Role.DAN),
            "report_submitted",
        ),
        awaits=lambda waiting: [user for user, _agreed in waiting.referents],
        done=gettext_lazy(
            "Compte rendu remis. Le chef d'établissement et la délégation académique "
            "en sont informés."
        ),
    ),
    TransitionSpec(
        "return_report",
        gettext_lazy("Renvoyer le compte rendu"),
        by_head,
        _perform_return_report,
        payload=ReasonPayload,
        notify=lambda letter: tell(referent_users(letter), "report_returned"),
        presentation=Presentation.SECONDARY,
        form=Form.REASON,
        done=gettext_lazy(
            "Compte rendu renvoyé aux référents, avec votre motif : ils le complètent "
            "puis le remettent à nouveau."
        ),
    ),
    TransitionSpec(
        "acknowledge_report",
        gettext_lazy("Accuser réception du compte rendu"),
        by_head,
        _perform_acknowledge_report,
        notify=lambda letter: tell(referent_users(letter), "report_acknowledged"),
        awaits=lambda waiting: waiting.holders(Role.PRINCIPAL),
        done=gettext_lazy("Réception du compte rendu accusée : la lettre est close."),
    ),
]
