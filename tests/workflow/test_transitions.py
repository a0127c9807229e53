"""Every transition of DESIGN §4 through ``fire_transition``, the one entry point: who
may fire it (and who may not even see the letter), from which states, what it takes
and what it checks. Also ``available_transitions``.

The letters in each state are built once per module (one establishment per state, so
that their envelopes do not add up) inside a transaction that is rolled back at the
end; every test runs in its own savepoint on top of it, so what a test fires is undone
before the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.models import Meeting, User
from governance.services import revoke_delegation
from tests.factories import (
    STATES,
    School,
    World,
    advance,
    complete_report,
    letter_content,
    make_letter,
    make_school,
    opinion_payload,
    shown,
)
from workflow.audit.snapshot import content_sha256
from workflow.errors import (
    AlreadyDone,
    ConditionsUnmet,
    InvalidInput,
    LetterNotFound,
    NotPermitted,
    SnapshotMismatch,
    TransitionNotAllowed,
    UnknownTransition,
)
from workflow.lifecycle.engine import available_transitions, fire_transition
from workflow.lifecycle.guards import agreements_unmet
from workflow.lifecycle.table import TRANSITIONS
from workflow.models import (
    AuditEvent,
    LetterReferent,
    MissionLetter,
    Opinion,
    Signature,
    SignatureQuality,
    YearEndReport,
)
from workflow.services.content import update_letter
from workflow.services.letters import create_letter
from workflow.services.report import save_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    """The scans of paper signatures are stored out of the way."""
    settings.MEDIA_ROOT = tmp_path


ROLES = [
    "principal",
    "deputy",
    "referent1",
    "referent2",
    "teacher",
    "cp_secretary",
    "ca_secretary",
    "dan",
]
HEAD = frozenset({"principal", "deputy"})  # the deputy holds an active delegation
REFERENTS = frozenset({"referent1", "referent2"})

# DESIGN §4, written out here rather than read from the code under test.
SOURCES: dict[str, list[str]] = {
    "open_concertation": ["draft"],
    "agree": ["concertation"],
    "return_to_draft": ["concertation"],
    "submit_to_pedagogical_council": ["concertation"],
    "record_pedagogical_opinion": ["pedagogical_council"],
    "record_board_opinion": ["board"],
    "reopen_concertation": ["pedagogical_council", "board", "signature"],
    "sign": ["signature"],
    "record_paper_signature": ["signature"],
    "open_report": ["in_force"],
    "submit_report": ["report_due"],
    "return_report": ["report_submitted"],
    "acknowledge_report": ["report_submitted"],
    "withdraw": ["draft", "concertation", "pedagogical_council", "board", "signature"],
}
ALLOWED: dict[str, frozenset[str]] = {
    "open_concertation": HEAD,
    "agree": REFERENTS,
    "return_to_draft": HEAD,
    "submit_to_pedagogical_council": HEAD,
    "record_pedagogical_opinion": HEAD | {"cp_secretary"},
    "record_board_opinion": HEAD | {"ca_secretary"},
    "reopen_concertation": HEAD,
    "sign": HEAD | REFERENTS,
    "record_paper_signature": HEAD,
    "open_report": HEAD,
    "submit_report": REFERENTS,
    "return_report": HEAD,
    "acknowledge_report": HEAD,
    "withdraw": HEAD,
}
# Where the letter goes (``sign``: the first of three signatures leaves it in signature).
TARGET = {
    "open_concertation": "concertation",
    "agree": "concertation",
    "return_to_draft": "draft",
    "submit_to_pedagogical_council": "pedagogical_council",
    "record_pedagogical_opinion": "board",
    "record_board_opinion": "signature",
    "reopen_concertation": "concertation",
    "sign": "signature",
    "record_paper_signature": "signature",
    "open_report": "report_due",
    "submit_report": "report_submitted",
    "return_report": "report_due",
    "acknowledge_report": "closed",
    "withdraw": "withdrawn",
}
# A person allowed to fire each transition (to show that only the state refuses it).
FIRER = {
    name: "principal" if "principal" in allowed else sorted(allowed)[0]
    for name, allowed in ALLOWED.items()
}
WITH_REASON = {"return_to_draft", "reopen_concertation", "withdraw", "return_report", "open_report"}


# Building letters ----------------------------------------------------------------------


def _fire(
    letter: MissionLetter, name: str, user: User | None, payload: dict[str, Any] | None = None
) -> MissionLetter:
    return fire_transition(letter_id=letter.pk, name=name, user=user, payload=payload)


def person(school: School, role: str) -> User:
    return school.people()[role]


def prepare(name: str, school: School, letter: MissionLetter) -> None:
    """Meet the transition's conditions, so that only what a test varies can refuse it."""
    if name == "submit_to_pedagogical_council":
        for referent in (school.referent1, school.referent2):
            _fire(letter, "agree", referent, shown(letter))
    elif name == "submit_report":
        complete_report(letter, school.referent1)


def valid_payload(name: str, school: School, letter: MissionLetter) -> dict[str, Any] | None:
    if name in WITH_REASON:
        return {"reason": "Motif du test"}
    if name == "record_pedagogical_opinion":
        return opinion_payload(school.cp_meeting)
    if name == "record_board_opinion":
        return opinion_payload(school.ca_meeting)
    if name in ("agree", "sign"):
        return shown(letter)
    if name == "record_paper_signature":
        scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        return {"signer": school.referent1.pk, "scan": scan}
    return None


def events_of(letter: MissionLetter) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(letter_id=letter.pk).order_by("sequence"))


def assert_nothing_happened(letter: MissionLetter, state: str, event_count: int) -> None:
    letter.refresh_from_db()
    assert letter.state == state
    assert len(events_of(letter)) == event_count


def codes(
    excinfo: pytest.ExceptionInfo[ConditionsUnmet] | pytest.ExceptionInfo[AlreadyDone],
) -> set[str]:
    return {u.code for u in excinfo.value.unmet}


# The registry is what these tests cover --------------------------------------------------


def test_every_transition_of_the_registry_is_covered_here():
    assert set(TRANSITIONS) == set(SOURCES) == set(ALLOWED) == set(TARGET)


def test_unknown_transition(world: World):
    _school, letter = world.at("draft")
    for name in ("publish", "edit", "create", ""):
        with pytest.raises(UnknownTransition):
            _fire(letter, name, world.schools["draft"].principal)


def test_a_letter_that_does_not_exist_is_not_found(world: World):
    with pytest.raises(LetterNotFound):
        fire_transition(
            letter_id=10**9, name="withdraw", user=world.schools["draft"].principal, payload={}
        )


# Allowed for the right person in the right state ---------------------------------------

ALLOWED_CASES = [
    pytest.param(name, state, role, id=f"{name}-{state}-{role}")
    for name in SOURCES
    for state in SOURCES[name]
    for role in sorted(ALLOWED[name])
]


@pytest.mark.parametrize(("name", "state", "role"), ALLOWED_CASES)
def test_allowed(world: World, name: str, state: str, role: str):
    school, letter = world.at(state)
    prepare(name, school, letter)
    user = person(school, role)
    before = events_of(letter)

    result = _fire(letter, name, user, valid_payload(name, school, letter))

    assert result.state == TARGET[name]
    letter.refresh_from_db()
    assert letter.state == TARGET[name]
    after = events_of(letter)
    assert len(after) == len(before) + 1
    event = after[-1]
    assert (event.action, event.from_state, event.to_state) == (name, state, TARGET[name])
    assert event.actor_id == user.pk
    assert event.previous_hash == before[-1].hash


# Denied to everybody else ---------------------------------------------------------------

DENIED_CASES = [
    pytest.param(name, role, id=f"{name}-{role}")
    for name in SOURCES
    for role in ROLES
    if role not in ALLOWED[name]
]


@pytest.mark.parametrize(("name", "role"), DENIED_CASES)
def test_denied_to_other_roles(world: World, name: str, role: str):
    state = SOURCES[name][0]
    school, letter = world.at(state)
    prepare(name, school, letter)
    count = len(events_of(letter))
    # A teacher who is not a referent may not even see the letter (404, not 403).
    expected = LetterNotFound if role == "teacher" else NotPermitted

    with pytest.raises(expected):
        _fire(letter, name, person(school, role), valid_payload(name, school, letter))

    assert_nothing_happened(letter, state, count)


HEAD_NAMES = [name for name, allowed in ALLOWED.items() if "deputy" in allowed]


@pytest.mark.parametrize("name", HEAD_NAMES)
def test_deputy_without_an_active_delegation_may_not_act_for_the_principal(world: World, name: str):
    state = SOURCES[name][0]
    school, letter = world.at(state)
    revoke_delegation(school.deputy.delegations_received.get())
    prepare(name, school, letter)
    count = len(events_of(letter))

    with pytest.raises(NotPermitted):  # sees the letter (staff), may not fire
        _fire(letter, name, school.deputy, valid_payload(name, school, letter))

    assert_nothing_happened(letter, state, count)
    principal = _fire(letter, name, school.principal, valid_payload(name, school, letter))
    assert principal.state == TARGET[name]


def test_deputy_never_given_a_delegation(world: World):
    school = make_school("no-delegation", delegation=False)
    letter = make_letter(school)
    with pytest.raises(NotPermitted):
        _fire(letter, "open_concertation", school.deputy)
    assert available_transitions(letter, school.deputy) == []
    assert _fire(letter, "open_concertation", school.principal).state == "concertation"


def test_delegation_outside_its_dates_does_not_count(world: World):
    school, letter = world.at("draft")
    today = timezone.localdate()
    school.deputy.delegations_received.update(
        starts_on=today + dt.timedelta(days=1), ends_on=today + dt.timedelta(days=30)
    )
    with pytest.raises(NotPermitted):
        _fire(letter, "open_concertation", school.deputy)
    school.deputy.delegations_received.update(
        starts_on=today - dt.timedelta(days=30), ends_on=today - dt.timedelta(days=1)
    )
    with pytest.raises(NotPermitted):
        _fire(letter, "open_concertation", school.deputy)


@pytest.mark.parametrize("name", [name for name in SOURCES if name != "open_report"])
def test_the_scheduler_fires_nothing_but_open_report(world: World, name: str):
    state = SOURCES[name][0]
    school, letter = world.at(state)
    count = len(events_of(letter))
    with pytest.raises(NotPermitted):
        _fire(letter, name, None, valid_payload(name, school, letter))
    assert_nothing_happened(letter, state, count)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "state"), [("open_concertation", "draft"), ("sign", "signature")])
def test_people_of_another_establishment(world: World, name: str, state: str, role: str):
    school, letter = world.at(state)
    count = len(events_of(letter))
    # Same académie: its DAN sees the letter (and may not fire); nobody else sees it.
    expected = NotPermitted if role == "dan" else LetterNotFound
    with pytest.raises(expected):
        _fire(letter, name, person(world.other, role), valid_payload(name, school, letter))
    assert_nothing_happened(letter, state, count)


def test_a_referent_sees_only_the_letters_naming_them(world: World):
    school, _letter = world.at("concertation")
    other = make_letter(school, year=school.next_year)
    update_letter(
        letter_id=other.pk,
        user=school.principal,
        changes={
            "referents": [{"user": school.referent2.username, "mode": "imp", "imp_amount": "625"}],
            "missions": [
                {"text": "PIX", "priority": "principal", "referents": [school.referent2.username]}
            ],
        },
    )
    _fire(other, "open_concertation", school.principal)
    with pytest.raises(LetterNotFound):
        _fire(other, "agree", school.referent1, shown(other))
    assert available_transitions(other, school.referent1) == []
    assert _fire(other, "agree", school.referent2, shown(other)).state == "concertation"


def test_dan_of_another_academie_does_not_see_the_letter(world: World):
    _school, letter = world.at("draft")
    with pytest.raises(LetterNotFound):
        _fire(letter, "open_concertation", world.foreign.dan)


# Refused in every other state -----------------------------------------------------------

WRONG_STATE_CASES = [
    pytest.param(name, state, id=f"{name}-{state}")
    for name in SOURCES
    for state in STATES
    if state not in SOURCES[name]
]


@pytest.mark.parametrize(("name", "state"), WRONG_STATE_CASES)
def test_refused_in_other_states(world: World, name: str, state: str):
    school, letter = world.at(state)
    count = len(events_of(letter))
    with pytest.raises(TransitionNotAllowed):
        _fire(letter, name, person(school, FIRER[name]), valid_payload(name, school, letter))
    assert_nothing_happened(letter, state, count)


# open_concertation's conditions ---------------------------------------------------------


def _draft(world: World, **changes: Any) -> tuple[School, MissionLetter]:
    school, letter = world.at("draft")
    if changes:
        update_letter(letter_id=letter.pk, user=school.principal, changes=changes)
    return school, letter


def test_open_concertation_needs_referents_and_missions(world: World):
    school, letter = _draft(world, referents=[], missions=[])
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "open_concertation", school.principal)
    assert codes(excinfo) == {"no_referent", "no_mission"}
    assert_nothing_happened(letter, "draft", 1)


def test_open_concertation_needs_every_mission_assigned(world: World):
    school = world.schools["draft"]
    _school, letter = _draft(
        world,
        missions=[
            {"text": "Animer le club robotique", "priority": "principal", "referents": []},
            {
                "text": "Former les collègues",
                "priority": "secondary",
                "referents": [school.referent1.username],
            },
        ],
    )
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "open_concertation", school.principal)
    assert codes(excinfo) == {"mission_unassigned"}
    assert "Animer le club robotique" in excinfo.value.unmet[0].message
    assert "Former les collègues" not in excinfo.value.unmet[0].message


@pytest.mark.parametrize(
    ("period", "code"),
    [
        ({"period_start": None}, "period_missing"),
        ({"period_end": ""}, "period_missing"),
        ({"period_end": "2027-09-30"}, "period_outside_school_year"),
        ({"period_start": "2026-08-25"}, "period_outside_school_year"),
    ],
)
def test_open_concertation_needs_a_period_within_the_school_year(
    world: World, period: dict[str, Any], code: str
):
    """The guard holds for a letter saved before its period was checked at save (the
    editor and the API now refuse such dates: test_content)."""
    school, letter = world.at("draft")
    dates = {name: value or None for name, value in period.items()}
    MissionLetter.objects.filter(pk=letter.pk).update(period_kind="dates", **dates)
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "open_concertation", school.principal)
    assert codes(excinfo) == {code}


def test_open_concertation_with_a_shorter_period_inside_the_year(world: World):
    school, letter = _draft(
        world, period_kind="semester", period_start="2026-09-01", period_end="2027-01-31"
    )
    assert _fire(letter, "open_concertation", school.principal).state == "concertation"


def test_open_concertation_refused_above_the_envelope_of_the_establishment(world: World):
    # An IMP of 2 500 € and 1,5 h of décharge (1 875 €): 4 375 € > 3 750 €.
    school, letter = world.at("draft")
    changes = letter_content(school, imp1="2500.00", hours2="1.50")
    update_letter(letter_id=letter.pk, user=school.principal, changes=changes)
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "open_concertation", school.principal)
    assert codes(excinfo) == {"above_envelope_maximum"}


def test_open_concertation_accepts_exactly_the_envelope_maximum(world: World):
    # An IMP of 2 500 € and 1 h of décharge (1 250 €) = 3 750 €: at the maximum.
    school, letter = world.at("draft")
    changes = letter_content(school, imp1="2500.00", hours2="1.00")
    update_letter(letter_id=letter.pk, user=school.principal, changes=changes)
    assert _fire(letter, "open_concertation", school.principal).state == "concertation"


def test_a_letter_of_another_year_or_establishment_does_not_count(world: World):
    school, letter = world.at("draft")
    make_letter(world.other)  # another establishment, same year
    next_year = create_letter(
        user=school.principal, establishment=school.establishment, school_year=school.next_year
    )
    update_letter(letter_id=next_year.pk, user=school.principal, changes=letter_content(school))
    assert _fire(letter, "open_concertation", school.principal).state == "concertation"


def test_open_concertation_reports_an_invalid_recognition(world: World):
    school, letter = world.at("draft")
    LetterReferent.objects.filter(letter=letter, user=school.referent1).update(imp_amount="1000.00")
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "open_concertation", school.principal)
    assert "recognition_invalid" in codes(excinfo)
    (invalid,) = [u for u in excinfo.value.unmet if u.code == "recognition_invalid"]
    assert invalid.message.startswith(f"{school.referent1.get_full_name()} : ")


# Concertation ----------------------------------------------------------------------------


def test_agree_twice(world: World):
    school, letter = world.at("concertation")
    _fire(letter, "agree", school.referent1, shown(letter))
    count = len(events_of(letter))
    with pytest.raises(AlreadyDone) as excinfo:  # 409, as a lost race
        _fire(letter, "agree", school.referent1, shown(letter))
    assert codes(excinfo) == {"already_agreed"}
    assert_nothing_happened(letter, "concertation", count)


def test_agree_records_the_current_version(world: World):
    school, letter = world.at("concertation")
    _fire(letter, "agree", school.referent2, shown(letter))
    agreed = LetterReferent.objects.get(letter=letter, user=school.referent2)
    assert agreed.agreed_version == letter.version
    assert agreed.agreed_at is not None
    other = LetterReferent.objects.get(letter=letter, user=school.referent1)
    assert other.agreed_version is None


def test_submit_without_every_agreement(world: World):
    school, letter = world.at("concertation")
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "submit_to_pedagogical_council", school.principal)
    assert codes(excinfo) == {"agreement_missing"}
    _fire(letter, "agree", school.referent1, shown(letter))
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "submit_to_pedagogical_council", school.principal)
    assert codes(excinfo) == {"agreement_missing"}
    message = excinfo.value.unmet[0].message
    assert "Karim Benali" in message  # referent2, who has not agreed
    assert "Sophie Durand" not in message  # referent1 has


def test_submit_puts_the_letter_on_the_meeting_agenda(world: World):
    school, letter = world.at("concertation")
    prepare("submit_to_pedagogical_council", school, letter)
    _fire(
        letter,
        "submit_to_pedagogical_council",
        school.principal,
        {"meeting": school.cp_meeting.pk},
    )
    assert list(letter.agenda_items.values_list("meeting_id", flat=True)) == [school.cp_meeting.pk]


def test_return_to_draft_asks_for_new_agreements(world: World):
    school, letter = world.at("concertation")
    for referent in (school.referent1, school.referent2):
        _fire(letter, "agree", referent, shown(letter))
    assert agreements_unmet(letter) == []
    _fire(letter, "return_to_draft", school.principal, {"reason": "À retravailler"})
    letter = _fire(letter, "open_concertation", school.principal)
    assert [u.code for u in agreements_unmet(letter)] == ["agreement_missing"]


# Councils ---------------------------------------------------------------------------------


def _board_votes(present: int) -> dict[str, Any]:
    return {
        "members_present": present,
        "votes_for": present - 3,
        "votes_against": 1,
        "abstentions": 1,
        "not_voting": 1,
    }


@pytest.mark.parametrize(
    ("present", "convocation", "quorum"),
    [(10, 1, False), (15, 1, False), (16, 1, True), (10, 2, True)],
)
def test_board_quorum(world: World, present: int, convocation: int, quorum: bool):
    school, letter = world.at("board")
    meeting = school.ca_meeting
    if convocation == 2:
        meeting = Meeting.objects.create(
            council=meeting.council,
            starts_at=timezone.now() - dt.timedelta(hours=2),
            convocation=2,
            members_in_office=30,
        )
    payload = opinion_payload(meeting, **_board_votes(present))
    count = len(events_of(letter))
    if not quorum:
        with pytest.raises(ConditionsUnmet) as excinfo:
            _fire(letter, "record_board_opinion", school.ca_secretary, payload)
        assert codes(excinfo) == {"quorum_not_met"}
        assert_nothing_happened(letter, "board", count)
        assert not Opinion.objects.filter(letter=letter, council="board").exists()
        return
    assert _fire(letter, "record_board_opinion", school.ca_secretary, payload).state == "signature"
    opinion = Opinion.objects.get(letter=letter, council="board")
    assert (opinion.meeting_id, opinion.members_present) == (meeting.pk, present)
    assert opinion.votes_for == present - 3


def test_opinion_of_a_meeting_not_yet_held(world: World):
    school, letter = world.at("pedagogical_council")
    future = Meeting.objects.create(
        council=school.cp_meeting.council,
        starts_at=timezone.now() + dt.timedelta(days=7),
        members_in_office=15,
    )
    count = len(events_of(letter))
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "record_pedagogical_opinion", school.cp_secretary, opinion_payload(future))
    assert codes(excinfo) == {"meeting_not_held"}
    assert_nothing_happened(letter, "pedagogical_council", count)
    assert not Opinion.objects.filter(letter=letter).exists()


def test_pedagogical_opinion_is_recorded_with_its_meeting_and_version(world: World):
    school, letter = world.at("pedagogical_council")
    _fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        opinion_payload(school.cp_meeting, "reserve", remarks="Préciser les indicateurs"),
    )
    opinion = Opinion.objects.get(letter=letter)
    assert (opinion.council, opinion.opinion, opinion.version) == (
        "pedagogical",
        "reserve",
        letter.version,
    )
    assert opinion.remarks == "Préciser les indicateurs"
    assert opinion.recorded_by_id == school.cp_secretary.pk


def test_an_unfavourable_opinion_blocks_nothing(world: World):
    school, letter = world.at("board")
    payload = opinion_payload(
        school.ca_meeting, "defavorable", votes_for=3, votes_against=18, abstentions=2
    )
    assert _fire(letter, "record_board_opinion", school.ca_secretary, payload).state == "signature"


def test_reopen_concertation_raises_the_version_and_keeps_the_opinions(world: World):
    school, letter = world.at("signature")
    version = letter.version
    opinions = Opinion.objects.filter(letter=letter).count()
    letter = _fire(letter, "reopen_concertation", school.principal, {"reason": "Avis du CA"})
    assert letter.version == version + 1
    assert Opinion.objects.filter(letter=letter).count() == opinions == 2
    assert [u.code for u in agreements_unmet(letter)] == ["agreement_missing"]


# Invalid payloads --------------------------------------------------------------------------

PayloadMaker = Callable[[School, World], dict[str, Any]]


def _opinion(council: str, **extra: Any) -> PayloadMaker:
    def make(school: School, world: World) -> dict[str, Any]:
        meeting = school.cp_meeting if council == "pedagogical" else school.ca_meeting
        return opinion_payload(meeting, **extra)

    return make


INVALID_CASES = [
    pytest.param("withdraw", "draft", lambda s, w: {}, {"reason"}, id="withdraw-no-reason"),
    pytest.param(
        "withdraw", "signature", lambda s, w: {"reason": "   "}, {"reason"}, id="withdraw-blank"
    ),
    pytest.param(
        "return_to_draft", "concertation", lambda s, w: {}, {"reason"}, id="return_to_draft"
    ),
    pytest.param(
        "reopen_concertation",
        "pedagogical_council",
        lambda s, w: {},
        {"reason"},
        id="reopen_concertation",
    ),
    pytest.param(
        "return_report", "report_submitted", lambda s, w: {}, {"reason"}, id="return_report"
    ),
    pytest.param(
        "open_report", "in_force", lambda s, w: {}, {"reason"}, id="open_report-early-no-reason"
    ),
    pytest.param(
        "record_pedagogical_opinion",
        "pedagogical_council",
        _opinion("pedagogical", opinion="reserve"),
        {"remarks"},
        id="reserve-without-remarks",
    ),
    pytest.param(
        "record_pedagogical_opinion",
        "pedagogical_council",
        _opinion("pedagogical", opinion="enthousiaste"),
        {"opinion"},
        id="unknown-opinion",
    ),
    pytest.param(
        "record_board_opinion",
        "board",
        _opinion("board", votes_for=30, members_present=23),
        {"votes_for"},
        id="votes-exceed-members-present",
    ),
    pytest.param(
        "record_board_opinion",
        "board",
        _opinion("board", members_present=31),
        {"members_present"},
        id="more-present-than-in-office",
    ),
    pytest.param(
        "record_board_opinion",
        "board",
        lambda s, w: {"meeting": s.ca_meeting.pk, "opinion": "favorable"},
        {"members_present", "votes_for", "votes_against", "abstentions", "not_voting"},
        id="board-without-votes",
    ),
    pytest.param(
        "record_board_opinion",
        "board",
        _opinion("board", votes_against=-1),
        {"votes_against"},
        id="negative-votes",
    ),
    pytest.param(
        "record_pedagogical_opinion",
        "pedagogical_council",
        lambda s, w: {"meeting": s.ca_meeting.pk, "opinion": "favorable"},
        {"meeting"},
        id="meeting-of-the-other-council",
    ),
    pytest.param(
        "record_board_opinion",
        "board",
        lambda s, w: opinion_payload(s.cp_meeting) | _board_votes(12),
        {"meeting"},
        id="board-opinion-on-a-cp-meeting",
    ),
    pytest.param(
        "record_pedagogical_opinion",
        "pedagogical_council",
        lambda s, w: opinion_payload(w.other.cp_meeting),
        {"meeting"},
        id="meeting-of-another-establishment",
    ),
    pytest.param(
        "record_pedagogical_opinion",
        "pedagogical_council",
        lambda s, w: {"meeting": "la dernière", "opinion": "favorable"},
        {"meeting"},
        id="meeting-not-a-number",
    ),
    pytest.param(
        "submit_to_pedagogical_council",
        "concertation",
        lambda s, w: {"meeting": s.ca_meeting.pk},
        {"meeting"},
        id="submit-to-a-ca-meeting",
    ),
    pytest.param(
        "sign",
        "signature",
        lambda s, w: {"snapshot_sha256": "pas une empreinte"},
        {"snapshot_sha256"},
        id="sign-malformed-hash",
    ),
    pytest.param("sign", "signature", lambda s, w: {}, {"snapshot_sha256"}, id="sign-no-hash"),
]


@pytest.mark.parametrize(("name", "state", "make_payload", "fields"), INVALID_CASES)
def test_invalid_payload(
    world: World, name: str, state: str, make_payload: PayloadMaker, fields: set[str]
):
    school, letter = world.at(state)
    prepare(name, school, letter)
    count = len(events_of(letter))
    opinions = Opinion.objects.filter(letter=letter).count()
    with pytest.raises(InvalidInput) as excinfo:
        _fire(letter, name, school.principal, make_payload(school, world))
    assert set(excinfo.value.errors) == fields
    assert all(excinfo.value.errors[f] for f in fields)
    assert_nothing_happened(letter, state, count)
    assert Opinion.objects.filter(letter=letter).count() == opinions


# Signatures -------------------------------------------------------------------------------


def test_sign_with_the_hash_of_another_version(world: World):
    school, letter = world.at("signature")
    count = len(events_of(letter))
    with pytest.raises(SnapshotMismatch):
        _fire(letter, "sign", school.referent1, {"snapshot_sha256": "0" * 64})
    assert_nothing_happened(letter, "signature", count)
    assert not Signature.objects.filter(letter=letter).exists()


@pytest.mark.parametrize("role", ["principal", "deputy", "referent1"])
def test_sign_twice(world: World, role: str):
    school, letter = world.at("signature")
    shown = {"snapshot_sha256": content_sha256(letter)}
    _fire(letter, "sign", person(school, role), shown)
    with pytest.raises(AlreadyDone) as excinfo:
        _fire(letter, "sign", person(school, role), shown)
    assert codes(excinfo) == {"already_signed"}
    assert Signature.objects.filter(letter=letter).count() == 1


@pytest.mark.parametrize(("first", "second"), [("principal", "deputy"), ("deputy", "principal")])
def test_only_one_signature_for_the_head(world: World, first: str, second: str):
    school, letter = world.at("signature")
    shown = {"snapshot_sha256": content_sha256(letter)}
    _fire(letter, "sign", person(school, first), shown)
    with pytest.raises(AlreadyDone) as excinfo:
        _fire(letter, "sign", person(school, second), shown)
    assert codes(excinfo) == {"already_signed"}
    assert list(Signature.objects.filter(letter=letter).values_list("signer", flat=True)) == [
        person(school, first).pk
    ]


@pytest.mark.parametrize(
    ("role", "quality"),
    [
        ("principal", SignatureQuality.PRINCIPAL),
        ("deputy", SignatureQuality.DEPUTY_BY_DELEGATION),
        ("referent2", SignatureQuality.REFERENT),
    ],
)
def test_signature_records_its_quality_and_hash(world: World, role: str, quality: str):
    school, letter = world.at("signature")
    shown = content_sha256(letter)
    _fire(letter, "sign", person(school, role), {"snapshot_sha256": shown})
    signature = Signature.objects.get(letter=letter)
    assert (signature.signer_id, signature.quality) == (person(school, role).pk, quality)
    assert (signature.snapshot_sha256, signature.version) == (shown, letter.version)


@pytest.mark.parametrize("head", ["principal", "deputy"])
def test_the_last_required_signature_brings_the_letter_into_force(world: World, head: str):
    school, letter = world.at("signature")
    shown = {"snapshot_sha256": content_sha256(letter)}
    _fire(letter, "sign", school.referent1, shown)
    _fire(letter, "sign", person(school, head), shown)
    letter.refresh_from_db()
    assert letter.state == "signature"  # referent2 has not signed yet
    assert _fire(letter, "sign", school.referent2, shown).state == "in_force"
    assert events_of(letter)[-1].to_state == "in_force"


def test_referents_alone_do_not_bring_the_letter_into_force(world: World):
    school, letter = world.at("signature")
    shown = {"snapshot_sha256": content_sha256(letter)}
    _fire(letter, "sign", school.referent1, shown)
    assert _fire(letter, "sign", school.referent2, shown).state == "signature"


def test_signatures_of_an_earlier_version_no_longer_count(world: World):
    school, letter = world.at("signature")
    old = {"snapshot_sha256": content_sha256(letter)}
    _fire(letter, "sign", school.principal, old)
    _fire(letter, "sign", school.referent1, old)
    _fire(letter, "reopen_concertation", school.principal, {"reason": "Correction"})
    advance(letter, school, "signature")
    new = {"snapshot_sha256": content_sha256(letter)}
    assert new != old
    with pytest.raises(SnapshotMismatch):
        _fire(letter, "sign", school.referent2, old)
    assert _fire(letter, "sign", school.referent2, new).state == "signature"
    assert Signature.objects.filter(letter=letter).count() == 3


# The year-end report ----------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def test_scheduler_cannot_open_the_report_before_the_window(world: World):
    _school, letter = world.at("in_force")
    count = len(events_of(letter))
    with (
        time_machine.travel(dt.datetime(2027, 5, 31, 12, tzinfo=PARIS), tick=False),
        pytest.raises(ConditionsUnmet) as excinfo,
    ):
        _fire(letter, "open_report", None)
    assert codes(excinfo) == {"report_window_not_open"}
    assert "01/06/2027" in excinfo.value.unmet[0].message
    assert_nothing_happened(letter, "in_force", count)


@pytest.mark.parametrize(
    ("moment", "opens"),
    [
        pytest.param(dt.datetime(2027, 5, 31, 21, 59, tzinfo=dt.UTC), False, id="23h59-in-Paris"),
        pytest.param(dt.datetime(2027, 5, 31, 22, 0, tzinfo=dt.UTC), True, id="midnight-in-Paris"),
    ],
)
def test_report_window_follows_the_day_in_paris(world: World, moment: dt.datetime, opens: bool):
    _school, letter = world.at("in_force")
    with time_machine.travel(moment, tick=False):
        if opens:
            assert _fire(letter, "open_report", None).state == "report_due"
        else:
            with pytest.raises(ConditionsUnmet):
                _fire(letter, "open_report", None)


def test_scheduler_opens_the_report_once_the_window_opens(world: World):
    _school, letter = world.at("in_force")
    count = len(events_of(letter))
    with time_machine.travel(dt.datetime(2027, 6, 2, 6, tzinfo=PARIS), tick=False):
        letter = _fire(letter, "open_report", None)
    assert letter.state == "report_due"
    events = events_of(letter)
    assert len(events) == count + 1
    assert (events[-1].action, events[-1].actor_id, events[-1].quality) == (
        "open_report",
        None,
        "system",
    )
    report = YearEndReport.objects.get(letter=letter)
    assert report.outcomes.count() == 3
    assert report.results.count() == 2


def test_report_window_opens_at_the_end_of_a_shorter_period(world: World):
    school = make_school("Semestre")
    letter = make_letter(school)
    update_letter(
        letter_id=letter.pk,
        user=school.principal,
        changes={"period_kind": "semester", "period_end": "2027-01-31"},
    )
    advance(letter, school, "in_force")
    with (
        time_machine.travel(dt.datetime(2027, 1, 30, 12, tzinfo=PARIS), tick=False),
        pytest.raises(ConditionsUnmet),
    ):
        _fire(letter, "open_report", None)
    with time_machine.travel(dt.datetime(2027, 1, 31, 12, tzinfo=PARIS), tick=False):
        assert _fire(letter, "open_report", None).state == "report_due"


def test_submit_an_incomplete_report(world: World):
    school, letter = world.at("report_due")
    report = YearEndReport.objects.get(letter=letter)
    count = len(events_of(letter))
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "submit_report", school.referent2)
    assert codes(excinfo) == {"report_incomplete"}
    # Every mission done, but the indicators still without results.
    save_report(
        letter_id=letter.pk,
        user=school.referent2,
        data={
            "outcomes": [{"mission": o.mission_id, "status": "done"} for o in report.outcomes.all()]
        },
    )
    with pytest.raises(ConditionsUnmet) as excinfo:
        _fire(letter, "submit_report", school.referent2)
    assert codes(excinfo) == {"report_incomplete"}
    assert len(excinfo.value.unmet) == 1
    assert "Nombre de sessions" in excinfo.value.unmet[0].message
    assert_nothing_happened(letter, "report_due", count)


def test_submit_and_return_the_report(world: World):
    school, letter = world.at("report_due")
    complete_report(letter, school.referent2)
    _fire(letter, "submit_report", school.referent2)
    report = YearEndReport.objects.get(letter=letter)
    assert (report.submitted_by_id, report.submitted_at is not None) == (school.referent2.pk, True)
    _fire(letter, "return_report", school.principal, {"reason": "Précisez"})
    report.refresh_from_db()
    assert (report.submitted_by_id, report.submitted_at) == (None, None)


# available_transitions ------------------------------------------------------------------


def _available(letter: MissionLetter, user: User) -> dict[str, list[str]]:
    return {t.name: [u.code for u in t.unmet] for t in available_transitions(letter, user)}


def test_available_to_the_principal_in_draft(world: World):
    school, letter = world.at("draft")
    assert _available(letter, school.principal) == {"open_concertation": [], "withdraw": []}
    update_letter(letter_id=letter.pk, user=school.principal, changes={"missions": []})
    assert _available(letter, school.principal) == {
        "open_concertation": ["no_mission"],
        "withdraw": [],
    }


def test_available_to_the_principal_in_concertation(world: World):
    school, letter = world.at("concertation")
    assert _available(letter, school.principal) == {
        "return_to_draft": [],
        "submit_to_pedagogical_council": ["agreement_missing"],
        "withdraw": [],
    }


def test_available_to_a_referent_in_concertation(world: World):
    school, letter = world.at("concertation")
    assert _available(letter, school.referent1) == {"agree": []}
    _fire(letter, "agree", school.referent1, shown(letter))
    letter.refresh_from_db()
    assert _available(letter, school.referent1) == {"agree": ["already_agreed"]}
    assert _available(letter, school.referent2) == {"agree": []}


def test_available_to_the_secretaries(world: World):
    school, letter = world.at("pedagogical_council")
    assert _available(letter, school.cp_secretary) == {"record_pedagogical_opinion": []}
    assert _available(letter, school.ca_secretary) == {}
    school, letter = world.at("board")
    assert _available(letter, school.ca_secretary) == {"record_board_opinion": []}


def test_available_in_signature(world: World):
    school, letter = world.at("signature")
    assert set(_available(letter, school.deputy)) == {
        "reopen_concertation",
        "sign",
        "record_paper_signature",
        "withdraw",
    }
    assert set(_available(letter, school.referent2)) == {"sign"}


def test_available_labels_and_targets(world: World):
    school, letter = world.at("draft")
    found = {t.name: t for t in available_transitions(letter, school.principal)}
    assert (found["open_concertation"].label, found["open_concertation"].target) == (
        "Ouvrir la concertation",
        "concertation",
    )
    assert found["withdraw"].ready


@pytest.mark.parametrize("role", ["teacher", "dan"])
def test_nothing_available_to_who_may_fire_nothing(world: World, role: str):
    for state in ("draft", "concertation", "signature", "report_submitted"):
        school, letter = world.at(state)
        assert available_transitions(letter, person(school, role)) == []
    school, letter = world.at("draft")
    assert available_transitions(letter, person(world.other, "principal")) == []
