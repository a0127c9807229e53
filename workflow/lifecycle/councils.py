"""The councils' steps: the letter goes to the conseil pédagogique, then to the
conseil d'administration, each giving its opinion at a meeting; the principal may take
it back to concertation from either, or from signature."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.councils import VoteCount, quorum_met, vote_errors
from governance.models import CouncilKind, Meeting, Role
from workflow.audit.snapshot import opinion_entry
from workflow.errors import ConditionsUnmet, InvalidInput, Unmet
from workflow.lifecycle import guards
from workflow.lifecycle.payloads import OpinionPayload, ReasonPayload, SubmitPayload
from workflow.lifecycle.spec import (
    Data,
    Form,
    Presentation,
    TransitionSpec,
    by_head,
    by_holder_or_head,
    tell,
)
from workflow.models import AgendaItem, MissionLetter, Opinion
from workflow.selectors.actors import Actor
from workflow.selectors.visibility import people_with_role, referent_users


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
    # The audit payload: the opinion as the snapshot records it, less what the event
    # says already (the council, by its action; the version).
    recorded = opinion_entry(opinion)
    del recorded["council"], recorded["version"]
    return recorded


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


SPECS = [
    TransitionSpec(
        "submit_to_pedagogical_council",
        gettext_lazy("Soumettre au conseil pédagogique"),
        by_head,
        _perform_submit_to_pedagogical_council,
        payload=SubmitPayload,
        guard=lambda letter, actor: guards.agreements_unmet(letter),
        notify=lambda letter: (
            tell(people_with_role(letter, Role.CP_SECRETARY), "opinion_requested")
            + tell(referent_users(letter), "submitted_to_councils")
        ),
        form=Form.SUBMIT,
        council=CouncilKind.PEDAGOGICAL,
    ),
    TransitionSpec(
        "record_pedagogical_opinion",
        gettext_lazy("Saisir l'avis du conseil pédagogique"),
        by_holder_or_head(Role.CP_SECRETARY),
        _perform_record_pedagogical_opinion,
        payload=OpinionPayload,
        notify=lambda letter: (
            tell(
                people_with_role(letter, Role.PRINCIPAL) + referent_users(letter),
                "opinion_recorded",
            )
            + tell(people_with_role(letter, Role.CA_SECRETARY), "opinion_requested")
        ),
        awaits=lambda waiting: waiting.holders(Role.CP_SECRETARY),
        form=Form.OPINION,
        council=CouncilKind.PEDAGOGICAL,
    ),
    TransitionSpec(
        "record_board_opinion",
        gettext_lazy("Saisir l'avis du conseil d'administration"),
        by_holder_or_head(Role.CA_SECRETARY),
        _perform_record_board_opinion,
        payload=OpinionPayload,
        notify=lambda letter: tell(
            people_with_role(letter, Role.PRINCIPAL) + referent_users(letter),
            "signature_requested",
        ),
        awaits=lambda waiting: waiting.holders(Role.CA_SECRETARY),
        form=Form.OPINION,
        council=CouncilKind.BOARD,
    ),
    TransitionSpec(
        "reopen_concertation",
        gettext_lazy("Rouvrir la concertation"),
        by_head,
        _perform_reopen_concertation,
        payload=ReasonPayload,
        notify=lambda letter: tell(referent_users(letter), "concertation_reopened"),
        presentation=Presentation.SECONDARY,
        form=Form.REASON,
    ),
]
