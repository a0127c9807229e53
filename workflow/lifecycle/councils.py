"""The councils' steps: the letter goes to the conseil pédagogique, then to the
conseil d'administration, each giving its opinion at a meeting; the principal may take
it back to concertation from either, or from signature.

Meetings are real: a letter sent to a council is put on the agenda of the meeting
chosen then (``submit_to_pedagogical_council`` for the CP; the CP's opinion may name
the CA's meeting, ``board_meeting``), and its opinion is the opinion of that meeting
(``agenda_unmet``). Read here too, for the pages: the agendas a letter waits on
(``open_agenda``), where each letter is expected (``agenda_places``) and the meetings
whose opinion may be recorded for it now (``opinion_meetings``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.councils import VoteCount, quorum_met, vote_contradiction, vote_errors
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
from workflow.models import AgendaItem, LetterState, MissionLetter, Opinion
from workflow.selectors.actors import Actor
from workflow.selectors.visibility import people_with_role, referent_users

# The council each state waits for.
WAITING_FOR = {
    LetterState.PEDAGOGICAL_COUNCIL: CouncilKind.PEDAGOGICAL,
    LetterState.BOARD: CouncilKind.BOARD,
}


class PedagogicalOpinionPayload(OpinionPayload):
    """The CP's opinion, and the CA meeting on whose agenda the letter then goes
    (optional: it may be chosen later, when the CA's opinion is recorded)."""

    board_meeting = forms.IntegerField(
        label=gettext_lazy("Séance du conseil d'administration"), required=False, min_value=1
    )


def _meeting_for(
    letter: MissionLetter, meeting_id: int, council: str, field: str = "meeting"
) -> Meeting:
    meeting = (
        Meeting.objects.select_related("council")
        .filter(pk=meeting_id, council__establishment=letter.establishment, council__kind=council)
        .first()
    )
    if meeting is None:
        raise InvalidInput(
            {
                field: [
                    _("Aucune séance de ce conseil n'existe sous ce numéro dans l'établissement.")
                ]
            }
        )
    return meeting


def _when(meeting: Meeting) -> str:
    return timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y %H:%M")


# Agendas ------------------------------------------------------------------------------


def open_agenda(letter_ids: Iterable[int], council: str) -> dict[int, list[Meeting]]:
    """For each letter, the meetings of ``council`` whose agenda it is on and which have
    not given their opinion on it, earliest first (a letter is on one at a time: it
    leaves them when taken back to concertation)."""
    given = Opinion.objects.filter(letter=OuterRef("letter"), meeting=OuterRef("meeting"))
    placed: dict[int, list[Meeting]] = {}
    for item in (
        AgendaItem.objects.filter(letter_id__in=list(letter_ids), meeting__council__kind=council)
        .exclude(Exists(given))
        .select_related("meeting__council__establishment")
        .order_by("meeting__starts_at", "meeting_id")
    ):
        placed.setdefault(item.letter_id, []).append(item.meeting)
    return placed


def agenda_unmet(placed: list[Meeting], meeting: Meeting) -> Unmet | None:
    """Whether the opinion of ``meeting`` may be recorded for a letter whose open
    agendas are ``placed`` (``open_agenda``); the refusal if not.

    - The letter is on ``meeting``'s agenda: yes.
    - It is on no agenda of that council at all (sent without a meeting, or the CP's
      opinion named no CA meeting): any meeting held is accepted, and the letter goes on
      its agenda. DESIGN §4 names the meeting in the opinion's payload and says nothing
      of agendas: the council examined it there, the application had not been told.
    - It is on the agenda of a meeting that has been held without giving its opinion:
      a later meeting of the council takes it up (a second convocation after a missed
      quorum, R421-25, or a meeting it was postponed to).
    - Otherwise (a meeting before the one whose agenda it is on): refused. A letter's
      opinion is never recorded for a past meeting it was never on.
    """
    if not placed or any(m.pk == meeting.pk for m in placed):
        return None
    first = placed[0]
    if first.starts_at <= timezone.now() and meeting.starts_at > first.starts_at:
        return None
    return Unmet(
        "not_on_agenda",
        _(
            "La lettre est inscrite à l'ordre du jour de la séance du %(agenda)s, pas de "
            "celle du %(meeting)s : son avis est celui de la séance du %(agenda)s."
        )
        % {"agenda": _when(first), "meeting": _when(meeting)},
    )


def _agenda_to_come(council: str) -> Callable[[MissionLetter, Actor], list[Unmet]]:
    """The guard of an opinion: none can be recorded while the meeting whose agenda the
    letter is on has not been held (no meeting before it may give it)."""

    def guard(letter: MissionLetter, actor: Actor) -> list[Unmet]:
        placed = open_agenda([letter.pk], council).get(letter.pk, [])
        if placed and placed[0].starts_at > timezone.now():
            return [
                Unmet(
                    "agenda_meeting_to_come",
                    _(
                        "La lettre est inscrite à l'ordre du jour de la séance du %(date)s, "
                        "qui n'a pas encore eu lieu : son avis se saisit une fois la séance "
                        "tenue."
                    )
                    % {"date": _when(placed[0])},
                )
            ]
        return []

    return guard


def agenda_places(letters: Iterable[MissionLetter]) -> dict[int, Meeting]:
    """Where each letter waiting for a council is expected: the meeting of that council
    whose agenda it is on and which has not given its opinion; once that one has been
    held, the council's next meeting instead when it is a second convocation, which
    takes up the first's agenda. A letter on no agenda, or waiting for no council, is
    left out: each letter is in one place, never two."""
    by_council: dict[str, list[int]] = {}
    for letter in letters:
        waits_for = WAITING_FOR.get(LetterState(letter.state))
        if waits_for is not None:
            by_council.setdefault(waits_for, []).append(letter.pk)
    places: dict[int, Meeting] = {}
    for kind, ids in by_council.items():
        for letter_id, placed in open_agenda(ids, kind).items():
            places[letter_id] = placed[0]
    now = timezone.now()
    held = [m for m in places.values() if m.starts_at <= now]
    if held:
        later: dict[int, list[Meeting]] = {}
        for meeting in (
            Meeting.objects.filter(
                council_id__in={m.council_id for m in held},
                starts_at__gt=min(m.starts_at for m in held),
            )
            .select_related("council__establishment")
            .order_by("starts_at", "pk")
        ):
            later.setdefault(meeting.council_id, []).append(meeting)
        for letter_id, place in list(places.items()):
            if place.starts_at > now:
                continue
            following = next(
                (m for m in later.get(place.council_id, []) if m.starts_at > place.starts_at),
                None,
            )
            if following is not None and following.convocation == 2:
                places[letter_id] = following
    return places


def opinion_meetings(
    letter: MissionLetter, council: str, limit: int = 10
) -> tuple[list[Meeting], Meeting | None]:
    """The meetings held whose opinion may be recorded for ``letter`` now
    (``agenda_unmet``), the newest first but the one where it is expected first of all
    (``agenda_places``: the meeting whose agenda it is on, or the second convocation
    taking it up); and that meeting, held or to come (``None``: on no agenda)."""
    placed = open_agenda([letter.pk], council).get(letter.pk, [])
    place = agenda_places([letter]).get(letter.pk) if placed else None
    held = Meeting.objects.filter(
        council__establishment=letter.establishment,
        council__kind=council,
        starts_at__lte=timezone.now(),
    ).order_by("-starts_at", "-pk")
    if placed:
        held = held.filter(starts_at__gte=placed[0].starts_at)
    offered = [m for m in held[: limit * 5] if agenda_unmet(placed, m) is None]
    if place is not None:
        offered.sort(key=lambda m: m.pk != place.pk)
    return offered[:limit], place


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
    off_agenda = agenda_unmet(open_agenda([letter.pk], council).get(letter.pk, []), meeting)
    if off_agenda is not None:
        raise ConditionsUnmet([off_agenda])
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
    contradiction = vote_contradiction(data["opinion"], count)
    if contradiction and not data.get("votes_confirmed"):
        raise InvalidInput({"votes_confirmed": [contradiction]})
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
    (the council is consultative; the principal may still reopen the concertation),
    on the agenda of the CA meeting named (``board_meeting``), if one is."""
    board = None
    if data.get("board_meeting"):
        board = _meeting_for(letter, data["board_meeting"], CouncilKind.BOARD, "board_meeting")
    payload = _record_opinion(letter, actor, data, CouncilKind.PEDAGOGICAL)
    letter.record_pedagogical_opinion()
    if board is not None:
        AgendaItem.objects.get_or_create(meeting=board, letter=letter)
        payload["board_meeting"] = board.pk
    return payload


def _perform_record_board_opinion(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """The CA's opinion with its votes and quorum; the letter goes to signature."""
    payload = _record_opinion(letter, actor, data, CouncilKind.BOARD)
    letter.record_board_opinion()
    return payload


def _perform_reopen_concertation(letter: MissionLetter, actor: Actor, data: Data) -> Data:
    """Back to concertation on a new version: earlier opinions and signatures stay in
    the history but no longer count. The letter leaves the agendas of the meetings that
    have not given their opinion on it: sent again, it goes on the agenda chosen then."""
    given = Opinion.objects.filter(letter=OuterRef("letter"), meeting=OuterRef("meeting"))
    AgendaItem.objects.filter(letter=letter).exclude(Exists(given)).delete()
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
        done=gettext_lazy(
            "Lettre soumise au conseil pédagogique : son secrétaire saisira l'avis après la séance."
        ),
    ),
    TransitionSpec(
        "record_pedagogical_opinion",
        gettext_lazy("Saisir l'avis du conseil pédagogique"),
        by_holder_or_head(Role.CP_SECRETARY),
        _perform_record_pedagogical_opinion,
        payload=PedagogicalOpinionPayload,
        guard=_agenda_to_come(CouncilKind.PEDAGOGICAL),
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
        done=gettext_lazy(
            "Avis du conseil pédagogique enregistré : la lettre passe au conseil d'administration."
        ),
    ),
    TransitionSpec(
        "record_board_opinion",
        gettext_lazy("Saisir l'avis du conseil d'administration"),
        by_holder_or_head(Role.CA_SECRETARY),
        _perform_record_board_opinion,
        payload=OpinionPayload,
        guard=_agenda_to_come(CouncilKind.BOARD),
        notify=lambda letter: tell(
            people_with_role(letter, Role.PRINCIPAL) + referent_users(letter),
            "signature_requested",
        ),
        awaits=lambda waiting: waiting.holders(Role.CA_SECRETARY),
        form=Form.OPINION,
        council=CouncilKind.BOARD,
        done=gettext_lazy(
            "Avis du conseil d'administration enregistré : la lettre attend les signatures."
        ),
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
        done=gettext_lazy(
            "Concertation rouverte sur la version %(version)s : les référents "
            "donneront leur accord à nouveau."
        ),
    ),
]
