"""Every transition of DESIGN §4: who may fire it, what it takes, what it checks, what
it writes besides the state, and whom it tells.

Each ``_perform_*`` function is the one place a transition's own rules live. None of
them locks, saves the letter, writes the audit event or the outbox: the single entry
point ``workflow.services.fire_transition`` does that around them, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.councils import VoteCount, quorum_met, vote_errors
from governance.models import CouncilKind, Meeting, Role, User
from workflow import guards
from workflow.actors import Actor
from workflow.errors import ConditionsUnmet, InvalidInput, SnapshotMismatch, Unmet
from workflow.models import (
    AgendaItem,
    IndicatorResult,
    LetterState,
    MissionLetter,
    MissionOutcome,
    Opinion,
    Signature,
    SignatureQuality,
    YearEndReport,
)
from workflow.payloads import (
    NoPayload,
    OpinionPayload,
    OptionalReasonPayload,
    ReasonPayload,
    ShownVersionPayload,
    SubmitPayload,
)
from workflow.selectors import people_with_role, referent_users
from workflow.versions import current_version

Data = dict[str, Any]
S = LetterState


# Who may fire -------------------------------------------------------------------------


def _head(actor: Actor, letter: MissionLetter) -> bool:
    return actor.acts_for_principal


def _referent(actor: Actor, letter: MissionLetter) -> bool:
    return actor.is_referent


def _head_or_referent(actor: Actor, letter: MissionLetter) -> bool:
    return actor.acts_for_principal or actor.is_referent


def _cp_secretary_or_head(actor: Actor, letter: MissionLetter) -> bool:
    return Role.CP_SECRETARY in actor.roles or actor.acts_for_principal


def _ca_secretary_or_head(actor: Actor, letter: MissionLetter) -> bool:
    return Role.CA_SECRETARY in actor.roles or actor.acts_for_principal


def _system_or_head(actor: Actor, letter: MissionLetter) -> bool:
    return actor.is_system or actor.acts_for_principal


def _no_guard(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    return []


# Whom to tell ----------------------------------------------------------------------------


Recipients = list[tuple[User, str]]


def _tell(users: list[User], topic: str) -> Recipients:
    return [(user, topic) for user in users]


# The transitions -------------------------------------------------------------------------


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
            )
        ]
    return []


def _shown_version(letter: MissionLetter, data: Data, refusal: str) -> str:
    """The sha256 of the version standing now, which must be the one the person was
    shown (``data["snapshot_sha256"]``); else ``SnapshotMismatch`` with ``refusal``."""
    current = current_version(letter).content_sha256
    if data["snapshot_sha256"] != current:
        raise SnapshotMismatch(refusal % {"version": letter.version})
    return current


def _perform_agree(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """One référent agrees with the version they were shown, which must be the one
    standing now; a later change of content raises the version, so the agreement no
    longer counts."""
    assert actor.referent is not None
    shown = _shown_version(
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


def _meeting_for(letter: MissionLetter, meeting_id: int, council: str) -> Meeting:
    meeting = (
        Meeting.objects.select_related("council")
        .filter(pk=meeting_id, council__establishment=letter.establishment, council__kind=council)
        .first()
    )
    if meeting is None:
        raise InvalidInput(
            {
                "meeting": [
                    _("Aucune séance de ce conseil n'existe sous ce numéro dans l'établissement.")
                ]
            }
        )
    return meeting


def _perform_submit_to_pedagogical_council(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Concertation → conseil pédagogique, on a meeting's agenda when one is named."""
    letter.submit_to_pedagogical_council()
    if data.get("meeting"):
        meeting = _meeting_for(letter, data["meeting"], CouncilKind.PEDAGOGICAL)
        AgendaItem.objects.get_or_create(meeting=meeting, letter=letter)
        return {"meeting": meeting.pk}
    return {}


def _record_opinion(letter: MissionLetter, actor: Actor, data: Data, council: str) -> Data:
    assert actor.user is not None  # only people record opinions, never the scheduler
    meeting = _meeting_for(letter, data["meeting"], council)
    if meeting.starts_at > timezone.now():
        raise ConditionsUnmet(
            [
                Unmet(
                    "meeting_not_held",
                    _("La séance n'a pas encore eu lieu : son avis ne peut pas être saisi avant."),
                )
            ]
        )
    count = VoteCount(
        members_in_office=meeting.members_in_office,
        members_present=data.get("members_present"),
        votes_for=data.get("votes_for"),
        votes_against=data.get("votes_against"),
        abstentions=data.get("abstentions"),
        not_voting=data.get("not_voting"),
    )
    errors = vote_errors(council, count)
    if errors:
        raise InvalidInput({name: [message] for name, message in errors.items()})
    quorum = None
    if council == CouncilKind.BOARD:
        assert count.members_present is not None
        quorum = quorum_met(
            council, meeting.members_in_office, count.members_present, meeting.convocation
        )
        if not quorum:
            raise ConditionsUnmet(
                [
                    Unmet(
                        "quorum_not_met",
                        _(
                            "Le quorum n'est pas atteint (%(present)s présents sur %(office)s "
                            "membres en exercice) : le conseil doit être convoqué à nouveau."
                        )
                        % {"present": count.members_present, "office": meeting.members_in_office},
                    )
                ]
            )
    if Opinion.objects.filter(letter=letter, meeting=meeting, version=letter.version).exists():
        raise ConditionsUnmet(
            [Unmet("opinion_already_recorded", _("L'avis de cette séance est déjà saisi."))]
        )
    AgendaItem.objects.get_or_create(meeting=meeting, letter=letter)
    opinion = Opinion.objects.create(
        letter=letter,
        meeting=meeting,
        council=council,
        version=letter.version,
        opinion=data["opinion"],
        votes_for=count.votes_for,
        votes_against=count.votes_against,
        abstentions=count.abstentions,
        not_voting=count.not_voting,
        members_present=count.members_present,
        quorum_met=quorum,
        remarks=data.get("remarks", ""),
        recorded_by=actor.user,
    )
    return {
        "meeting": meeting.pk,
        "opinion": opinion.opinion,
        "votes_for": opinion.votes_for,
        "votes_against": opinion.votes_against,
        "abstentions": opinion.abstentions,
        "not_voting": opinion.not_voting,
        "members_present": opinion.members_present,
        "quorum_met": opinion.quorum_met,
        "remarks": opinion.remarks,
    }


def _perform_record_pedagogical_opinion(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """The conseil pédagogique's opinion; the letter goes on to the CA whatever it is
    (the council is consultative; the principal may still reopen the concertation)."""
    payload = _record_opinion(letter, actor, data, CouncilKind.PEDAGOGICAL)
    letter.record_pedagogical_opinion()
    return payload


def _perform_record_board_opinion(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """The CA's opinion with its votes and quorum; the letter goes to signature."""
    payload = _record_opinion(letter, actor, data, CouncilKind.BOARD)
    letter.record_board_opinion()
    return payload


def _perform_reopen_concertation(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Back to concertation on a new version: earlier opinions and signatures stay in
    the history but no longer count."""
    letter.reopen_concertation()
    return {"reason": data["reason"], "version": letter.version}


def _required_signers_missing(letter: MissionLetter) -> list[str]:
    signatures = list(Signature.objects.filter(letter=letter, version=letter.version))
    signed = {s.signer_id for s in signatures}
    missing = [
        r.user.get_full_name() or r.user.username
        for r in letter.referents.select_related("user")
        if r.user_id not in signed
    ]
    if not any(s.quality != SignatureQuality.REFERENT for s in signatures):
        missing.insert(0, _("le chef d'établissement"))
    return missing


def _guard_sign(letter: MissionLetter, actor: Actor) -> list[Unmet]:
    """A person signs a version once, and the principal's side signs it once: without
    this the page kept offering « Signer » (and « À faire » listing it) to whoever had
    signed already, only to refuse it when clicked."""
    if actor.user is None:
        return []
    signatures = Signature.objects.filter(letter=letter, version=letter.version)
    if signatures.filter(signer=actor.user).exists():
        return [Unmet("already_signed", _("Vous avez déjà signé cette version."))]
    if (
        actor.acts_for_principal
        and not actor.is_referent
        and signatures.exclude(quality=SignatureQuality.REFERENT).exists()
    ):
        return [Unmet("already_signed", _("La signature du chef d'établissement est déjà donnée."))]
    return []


def _perform_sign(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Sign the exact version shown (its sha256). The letter comes into force with the
    last required signature: the principal's (or the deputy's by delegation) and every
    référent's, all on the same version."""
    assert actor.user is not None
    current = _shown_version(
        letter,
        data,
        _(
            "La lettre a changé depuis qu'elle vous a été présentée : relisez la version "
            "%(version)s avant de signer."
        ),
    )
    # Signing twice is refused by _guard_sign, under the same lock.
    signs_as_head = actor.acts_for_principal and not actor.is_referent
    quality = actor.head_quality if signs_as_head else SignatureQuality.REFERENT
    signature = Signature.objects.create(
        letter=letter,
        signer=actor.user,
        signer_name=actor.user.get_full_name() or actor.user.username,
        quality=quality,
        version=letter.version,
        snapshot_sha256=current,
        signed_at=timezone.now(),
    )
    letter.sign(last_signature=not _required_signers_missing(letter))
    return {
        "quality": quality,
        "version": letter.version,
        "snapshot_sha256": current,
        "signed_at": signature.signed_at.isoformat(),
    }


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


def _perform_withdraw(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    letter.withdraw()
    return {"reason": data["reason"]}


# Notifications ---------------------------------------------------------------------------


def _notify_sign(letter: MissionLetter) -> Recipients:
    if letter.state != S.IN_FORCE:
        return []
    return _tell(
        people_with_role(letter, Role.PRINCIPAL) + referent_users(letter), "letter_in_force"
    )


# The registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    label: Promise
    target: str
    who: Callable[[Actor, MissionLetter], bool]
    perform: Callable[[MissionLetter, Actor, Data], Data]
    payload: type[forms.Form] = NoPayload
    guard: Callable[[MissionLetter, Actor], list[Unmet]] = _no_guard
    notify: Callable[[MissionLetter], Recipients] = field(default=lambda letter: [])


TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in [
        TransitionSpec(
            "open_concertation",
            gettext_lazy("Ouvrir la concertation"),
            S.CONCERTATION,
            _head,
            _perform_open_concertation,
            guard=lambda letter, actor: guards.open_concertation_unmet(letter),
            notify=lambda letter: _tell(referent_users(letter), "concertation_opened"),
        ),
        TransitionSpec(
            "agree",
            gettext_lazy("Donner mon accord"),
            S.CONCERTATION,
            _referent,
            _perform_agree,
            payload=ShownVersionPayload,
            guard=_guard_agree,
            notify=lambda letter: _tell(
                people_with_role(letter, Role.PRINCIPAL), "referent_agreed"
            ),
        ),
        TransitionSpec(
            "return_to_draft",
            gettext_lazy("Revenir au brouillon"),
            S.DRAFT,
            _head,
            _perform_return_to_draft,
            payload=ReasonPayload,
            notify=lambda letter: _tell(referent_users(letter), "returned_to_draft"),
        ),
        TransitionSpec(
            "submit_to_pedagogical_council",
            gettext_lazy("Soumettre au conseil pédagogique"),
            S.PEDAGOGICAL_COUNCIL,
            _head,
            _perform_submit_to_pedagogical_council,
            payload=SubmitPayload,
            guard=lambda letter, actor: guards.agreements_unmet(letter),
            notify=lambda letter: (
                _tell(people_with_role(letter, Role.CP_SECRETARY), "opinion_requested")
                + _tell(referent_users(letter), "submitted_to_councils")
            ),
        ),
        TransitionSpec(
            "record_pedagogical_opinion",
            gettext_lazy("Saisir l'avis du conseil pédagogique"),
            S.BOARD,
            _cp_secretary_or_head,
            _perform_record_pedagogical_opinion,
            payload=OpinionPayload,
            notify=lambda letter: (
                _tell(
                    people_with_role(letter, Role.PRINCIPAL) + referent_users(letter),
                    "opinion_recorded",
                )
                + _tell(people_with_role(letter, Role.CA_SECRETARY), "opinion_requested")
            ),
        ),
        TransitionSpec(
            "record_board_opinion",
            gettext_lazy("Saisir l'avis du conseil d'administration"),
            S.SIGNATURE,
            _ca_secretary_or_head,
            _perform_record_board_opinion,
            payload=OpinionPayload,
            notify=lambda letter: _tell(
                people_with_role(letter, Role.PRINCIPAL) + referent_users(letter),
                "signature_requested",
            ),
        ),
        TransitionSpec(
            "reopen_concertation",
            gettext_lazy("Rouvrir la concertation"),
            S.CONCERTATION,
            _head,
            _perform_reopen_concertation,
            payload=ReasonPayload,
            notify=lambda letter: _tell(referent_users(letter), "concertation_reopened"),
        ),
        TransitionSpec(
            "sign",
            gettext_lazy("Signer"),
            S.SIGNATURE,
            _head_or_referent,
            _perform_sign,
            payload=ShownVersionPayload,
            guard=_guard_sign,
            notify=_notify_sign,
        ),
        TransitionSpec(
            "open_report",
            gettext_lazy("Ouvrir le compte rendu"),
            S.REPORT_DUE,
            _system_or_head,
            _perform_open_report,
            payload=OptionalReasonPayload,
            guard=_guard_open_report,
            notify=lambda letter: _tell(referent_users(letter), "report_due"),
        ),
        TransitionSpec(
            "submit_report",
            gettext_lazy("Remettre le compte rendu"),
            S.REPORT_SUBMITTED,
            _referent,
            _perform_submit_report,
            guard=_guard_submit_report,
            notify=lambda letter: _tell(
                people_with_role(letter, Role.PRINCIPAL) + people_with_role(letter, Role.DAN),
                "report_submitted",
            ),
        ),
        TransitionSpec(
            "return_report",
            gettext_lazy("Renvoyer le compte rendu"),
            S.REPORT_DUE,
            _head,
            _perform_return_report,
            payload=ReasonPayload,
            notify=lambda letter: _tell(referent_users(letter), "report_returned"),
        ),
        TransitionSpec(
            "acknowledge_report",
            gettext_lazy("Accuser réception du compte rendu"),
            S.CLOSED,
            _head,
            _perform_acknowledge_report,
            notify=lambda letter: _tell(referent_users(letter), "report_acknowledged"),
        ),
        TransitionSpec(
            "withdraw",
            gettext_lazy("Abandonner la lettre"),
            S.WITHDRAWN,
            _head,
            _perform_withdraw,
            payload=ReasonPayload,
            notify=lambda letter: _tell(referent_users(letter), "letter_withdrawn"),
        ),
    ]
}


# Steps of the history that are not transitions.
OTHER_ACTIONS = {
    "create": gettext_lazy("Création de la lettre"),
    "edit": gettext_lazy("Modification du contenu en concertation"),
}


def action_label(action: str) -> str:
    """The French name of a step of the history (its audit ``action``)."""
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(OTHER_ACTIONS.get(action, action))
