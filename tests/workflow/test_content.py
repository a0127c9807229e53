"""The content services (DESIGN §3, §4): editing a letter, its warnings, the
concertation thread, recording a whole meeting's opinions, renewing a letter, and
the establishment's envelope.

As in ``test_transitions``, the letters in each state are built once per module in a
transaction rolled back at the end; each test runs in a savepoint on top of it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from governance.imp import decharge_amount
from governance.models import CatalogItem, User
from governance.services import revoke_delegation
from tests.factories import (
    STATES,
    School,
    World,
    advance,
    letter_content,
    make_letter,
    make_school,
    shown,
)
from workflow.audit.snapshot import content_sha256, content_snapshot
from workflow.audit.versions import current_version
from workflow.errors import (
    ConditionsUnmet,
    InvalidInput,
    LetterNotFound,
    NotEditable,
    NotPermitted,
    StaleVersion,
    TransitionNotAllowed,
)
from workflow.lifecycle.engine import fire_transition
from workflow.lifecycle.guards import agreements_unmet
from workflow.models import (
    AgendaItem,
    AuditEvent,
    Comment,
    LetterIndicator,
    LetterMission,
    LetterReferent,
    MissionLetter,
    Opinion,
    OutboxItem,
)
from workflow.selectors.envelope import envelope_amounts, envelopes_for, letter_warnings
from workflow.services.comments import add_comment
from workflow.services.content import MAX_INDICATORS, MAX_MISSIONS, MAX_TEXT, update_letter
from workflow.services.letters import renew_letter
from workflow.services.meetings import record_meeting_opinions

pytestmark = pytest.mark.django_db


def _fire(
    letter: MissionLetter, name: str, user: User | None, payload: dict[str, Any] | None = None
) -> MissionLetter:
    return fire_transition(letter_id=letter.pk, name=name, user=user, payload=payload)


def _edit(letter: MissionLetter, user: User, **changes: Any) -> MissionLetter:
    return update_letter(letter_id=letter.pk, user=user, changes=changes)


def stored(letter: MissionLetter) -> dict[str, Any]:
    """Everything the database holds for the letter (row, sections with their ids,
    agreements) and the length of its history."""
    pk = letter.pk
    return {
        "letter": MissionLetter.objects.filter(pk=pk).values().get(),
        "referents": list(LetterReferent.objects.filter(letter_id=pk).order_by("id").values()),
        "missions": list(
            LetterMission.objects.filter(letter_id=pk)
            .order_by("id", "referents")
            .values("id", "catalog_item", "text", "priority", "order", "referents")
        ),
        "indicators": list(LetterIndicator.objects.filter(letter_id=pk).order_by("id").values()),
        "events": AuditEvent.objects.filter(letter_id=pk).count(),
    }


# update_letter: who -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["principal", "deputy"])
def test_the_head_edits_a_draft(world: World, role: str):
    school, letter = world.at("draft")
    events = AuditEvent.objects.filter(letter=letter).count()
    _edit(letter, school.people()[role], qualification="PIX niveau 5", means=["ticketing"])
    letter.refresh_from_db()
    assert (letter.qualification, letter.means, letter.version) == (
        "PIX niveau 5",
        ["ticketing"],
        1,
    )
    # Draft edits are not history.
    assert AuditEvent.objects.filter(letter=letter).count() == events


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("referent1", NotPermitted),
        ("referent2", NotPermitted),
        ("cp_secretary", NotPermitted),
        ("ca_secretary", NotPermitted),
        ("dan", NotPermitted),
        ("teacher", LetterNotFound),
    ],
)
@pytest.mark.parametrize("state", ["draft", "concertation"])
def test_nobody_else_edits(world: World, state: str, role: str, error: type[Exception]):
    school, letter = world.at(state)
    before = stored(letter)
    with pytest.raises(error):
        _edit(letter, school.people()[role], qualification="Autre")
    assert stored(letter) == before


@pytest.mark.parametrize("role", ["principal", "referent1", "teacher"])
def test_people_of_another_establishment_do_not_see_the_letter(world: World, role: str):
    _school, letter = world.at("draft")
    with pytest.raises(LetterNotFound):
        _edit(letter, world.other.people()[role], qualification="Autre")


def test_a_deputy_without_delegation_may_not_edit(world: World):
    school, letter = world.at("draft")
    revoke_delegation(school.deputy.delegations_received.get())
    before = stored(letter)
    with pytest.raises(NotPermitted):
        _edit(letter, school.deputy, qualification="Autre")
    assert stored(letter) == before


# update_letter: when ----------------------------------------------------------------------


@pytest.mark.parametrize("state", [s for s in STATES if s not in ("draft", "concertation")])
def test_not_editable_after_concertation(world: World, state: str):
    school, letter = world.at(state)
    before = stored(letter)
    with pytest.raises(NotEditable):
        _edit(letter, school.principal, qualification="Autre")
    assert stored(letter) == before


def test_an_edit_in_concertation_raises_the_version_and_voids_the_agreements(world: World):
    school, letter = world.at("concertation")
    for referent in (school.referent1, school.referent2):
        _fire(letter, "agree", referent, shown(letter))
    assert agreements_unmet(letter) == []

    letter = _edit(letter, school.principal, qualification="PIX niveau 5")

    assert letter.version == 2
    unmet = agreements_unmet(letter)
    assert [u.code for u in unmet] == ["agreement_missing"]
    assert "Sophie Durand" in unmet[0].message
    assert "Karim Benali" in unmet[0].message
    with pytest.raises(ConditionsUnmet):
        _fire(letter, "submit_to_pedagogical_council", school.principal)
    event = AuditEvent.objects.filter(letter=letter).latest("sequence")
    assert (event.action, event.from_state, event.to_state) == (
        "edit",
        "concertation",
        "concertation",
    )
    assert event.payload == {"changed": ["qualification"], "version": 2}
    told = set(
        OutboxItem.objects.filter(event=event, topic="content_changed").values_list(
            "recipient", flat=True
        )
    )
    assert told == {school.referent1.pk, school.referent2.pk}


def test_stale_base_version(world: World):
    school, letter = world.at("concertation")
    update_letter(
        letter_id=letter.pk, user=school.principal, changes={"dane_training": "A"}, base_version=1
    )
    before = stored(letter)
    with pytest.raises(StaleVersion):
        update_letter(
            letter_id=letter.pk,
            user=school.principal,
            changes={"dane_training": "B"},
            base_version=1,
        )
    assert stored(letter) == before
    letter = update_letter(
        letter_id=letter.pk, user=school.principal, changes={"dane_training": "B"}, base_version=2
    )
    assert (letter.dane_training, letter.version) == ("B", 3)


def test_stale_base_version_in_draft(world: World):
    school, letter = world.at("draft")
    with pytest.raises(StaleVersion):
        update_letter(
            letter_id=letter.pk, user=school.principal, changes={"means": []}, base_version=2
        )


# update_letter: bad input changes nothing --------------------------------------------------

Changes = Callable[[School, World], dict[str, Any]]


def _referents(*rows: dict[str, Any]) -> Changes:
    def make(school: School, world: World) -> dict[str, Any]:
        users = {"r1": school.referent1, "r2": school.referent2, "teacher": school.teacher}
        return {
            "referents": [
                {
                    **row,
                    "user": users[row["user"]].username if row["user"] in users else row["user"],
                }
                for row in rows
            ]
        }

    return make


def _missions(*rows: dict[str, Any]) -> Changes:
    def make(school: School, world: World) -> dict[str, Any]:
        users = {"r1": school.referent1, "r2": school.referent2, "teacher": school.teacher}
        return {
            "missions": [
                {**row, "referents": [users[u].username for u in row.get("referents", [])]}
                for row in rows
            ]
        }

    return make


IMP = {"mode": "imp", "imp_amount": "1250.00"}
INVALID_EDITS = [
    pytest.param(
        _referents({"user": "r1", "mode": "imp", "imp_amount": "1000.00"}),
        "referents[0].recognition",
        id="imp-not-a-quarter-multiple",
    ),
    pytest.param(
        _referents(
            {"user": "r1", **IMP},
            {"user": "r2", "mode": "imp", "imp_amount": "625.00", "decharge_hours": "1.00"},
        ),
        "referents[1].recognition",
        id="imp-and-decharge",
    ),
    pytest.param(
        _referents({"user": "r1", "mode": "decharge", "imp_amount": "625.00"}),
        "referents[0].mode",
        id="mode-does-not-match",
    ),
    pytest.param(
        _referents({"user": "r1", "mode": "prime", "imp_amount": "625.00"}),
        "referents[0].mode",
        id="unknown-mode",
    ),
    pytest.param(
        lambda s, w: {"referents": [{"user": s.principal.username, **IMP}]},
        "referents[0].user",
        id="referent-not-a-teacher",
    ),
    pytest.param(
        lambda s, w: {"referents": [{"user": w.other.teacher.username, **IMP}]},
        "referents[0].user",
        id="teacher-of-another-establishment",
    ),
    pytest.param(_referents({"user": "nobody", **IMP}), "referents[0].user", id="unknown-username"),
    pytest.param(
        _referents({"user": "r1", **IMP}, {"user": "r1", "mode": "imp", "imp_amount": "625.00"}),
        "referents[1].user",
        id="duplicate-referent",
    ),
    pytest.param(lambda s, w: {"referents": "r1"}, "referents", id="referents-not-a-list"),
    pytest.param(
        _missions({"catalog_item": 10**9, "priority": "principal", "referents": ["r1"]}),
        "missions[0].catalog_item",
        id="unknown-catalogue-item",
    ),
    pytest.param(
        _missions({"text": "Animer le club", "priority": "principal", "referents": ["teacher"]}),
        "missions[0].referents",
        id="mission-to-a-non-referent",
    ),
    pytest.param(
        _missions({"text": "   ", "priority": "principal", "referents": ["r1"]}),
        "missions[0].text",
        id="mission-without-text",
    ),
    pytest.param(
        _missions({"text": "Animer le club", "priority": "urgent", "referents": ["r1"]}),
        "missions[0].priority",
        id="unknown-priority",
    ),
    pytest.param(
        lambda s, w: {"indicators": [{"text": "", "target": "6"}]},
        "indicators[0].text",
        id="indicator-without-text",
    ),
    pytest.param(lambda s, w: {"means": ["phone", "car"]}, "means", id="unknown-means"),
    pytest.param(lambda s, w: {"means": "phone"}, "means", id="means-not-a-list"),
    pytest.param(lambda s, w: {"period_start": "01/09/2026"}, "period_start", id="bad-date"),
    pytest.param(lambda s, w: {"period_end": "2026-02-30"}, "period_end", id="impossible-date"),
    pytest.param(
        lambda s, w: {"period_kind": "dates", "period_start": "2026-06-01"},
        "period_start",
        id="period-outside-the-school-year",
    ),
    pytest.param(
        lambda s, w: {"period_start": "2027-01-01"},
        "period_start",
        id="own-dates-with-the-school-year",
    ),
    pytest.param(
        lambda s, w: {
            "period_kind": "dates",
            "period_start": "2027-03-01",
            "period_end": "2027-02-01",
        },
        "period_end",
        id="period-end-before-start",
    ),
    pytest.param(lambda s, w: {"follow_up": "weekly_call"}, "follow_up", id="unknown-follow-up"),
    pytest.param(lambda s, w: {"period_kind": "month"}, "period_kind", id="unknown-period-kind"),
    pytest.param(lambda s, w: {"qualification": 42}, "qualification", id="text-not-a-string"),
    pytest.param(lambda s, w: {"state": "in_force"}, "state", id="unknown-field-state"),
    pytest.param(lambda s, w: {"version": 7}, "version", id="unknown-field-version"),
]


@pytest.mark.parametrize(("make_changes", "field"), INVALID_EDITS)
@pytest.mark.parametrize("state", ["draft", "concertation"])
def test_bad_input_changes_nothing(world: World, state: str, make_changes: Changes, field: str):
    school, letter = world.at(state)
    before = stored(letter)
    with pytest.raises(InvalidInput) as excinfo:
        _edit(letter, school.principal, **make_changes(school, world))
    assert set(excinfo.value.errors) == {field}
    assert excinfo.value.errors[field]
    assert stored(letter) == before


def test_a_catalogue_item_that_is_not_a_number(world: World):
    school, letter = world.at("draft")
    before = stored(letter)
    with pytest.raises(InvalidInput) as excinfo:
        _edit(letter, school.principal, missions=[{"catalog_item": "abc", "priority": "principal"}])
    assert set(excinfo.value.errors) == {"missions[0].catalog_item"}
    assert stored(letter) == before


@pytest.mark.parametrize(
    ("make_changes", "field"),
    [
        pytest.param(
            _referents({"user": "r1", **IMP, "share": "x" * 301}),
            "referents[0].share",
            id="share",
        ),
        pytest.param(lambda s, w: {"means_other": "x" * 301}, "means_other", id="means_other"),
        pytest.param(
            lambda s, w: {"indicators": [{"text": "Sessions", "target": "x" * 301}]},
            "indicators[0].target",
            id="indicator-target",
        ),
    ],
)
def test_text_too_long_for_its_field(world: World, make_changes: Changes, field: str):
    school, letter = world.at("draft")
    before = stored(letter)
    with pytest.raises(InvalidInput) as excinfo:
        _edit(letter, school.principal, **make_changes(school, world))
    assert set(excinfo.value.errors) == {field}
    assert stored(letter) == before


@pytest.mark.parametrize(
    "row",
    [
        pytest.param({"mode": "imp", "imp_amount": "3125000.00"}, id="imp"),
        pytest.param({"mode": "decharge", "decharge_hours": "1000"}, id="decharge"),
    ],
)
def test_amount_too_large_for_its_field(world: World, row: dict[str, Any]):
    school, letter = world.at("draft")
    before = stored(letter)
    with pytest.raises(InvalidInput):
        _edit(letter, school.principal, referents=[{"user": school.referent1.username, **row}])
    assert stored(letter) == before


def test_a_catalogue_id_as_a_string(world: World):
    school, letter = world.at("draft")
    item = CatalogItem.objects.filter(outside_scope=False).order_by("id").first()
    assert item is not None
    letter = _edit(
        letter,
        school.principal,
        missions=[
            {
                "catalog_item": str(item.pk),
                "priority": "principal",
                "referents": [school.referent1.username],
            }
        ],
    )
    assert list(letter.missions.values_list("catalog_item", flat=True)) == [item.pk]


@pytest.mark.parametrize("same", ["nothing", "same-content"])
def test_an_edit_that_changes_nothing_keeps_the_version(world: World, same: str):
    school, letter = world.at("concertation")
    for referent in (school.referent1, school.referent2):
        _fire(letter, "agree", referent, shown(letter))
    changes = {} if same == "nothing" else letter_content(school)
    letter = _edit(letter, school.principal, **changes)
    assert letter.version == 1
    assert agreements_unmet(letter) == []


def test_valid_sections_are_not_kept_when_another_one_is_bad(world: World):
    school, letter = world.at("concertation")
    before = stored(letter)
    with pytest.raises(InvalidInput) as excinfo:
        _edit(
            letter,
            school.principal,
            qualification="Nouvelle qualification",
            referents=[{"user": school.referent1.username, **IMP}],  # valid: drops referent2
            missions=[
                {
                    "text": "Animer le club",
                    "priority": "principal",
                    "referents": [school.referent2.username],  # no longer a referent
                }
            ],
        )
    assert set(excinfo.value.errors) == {"missions[0].referents"}
    assert stored(letter) == before
    assert letter.referents.count() == 2


def test_sections_replace_the_current_ones(world: World):
    school, letter = world.at("draft")
    letter = _edit(
        letter,
        school.principal,
        referents=[{"user": school.referent2.username, "mode": "decharge", "decharge_hours": "2"}],
        missions=[
            {
                "text": "Animer le club",
                "priority": "principal",
                "referents": [school.referent2.username],
            }
        ],
        indicators=[],
    )
    snapshot = content_snapshot(letter)
    assert [(r["username"], r["decharge_hours"]) for r in snapshot["referents"]] == [
        (school.referent2.username, "2.00")
    ]
    assert [(m["text"], m["referents"]) for m in snapshot["missions"]] == [
        ("Animer le club", [school.referent2.username])
    ]
    assert snapshot["indicators"] == []


# The content hash -------------------------------------------------------------------------


def test_content_hash_follows_the_content_not_the_state(world: World):
    school, letter = world.at("draft")
    before = content_sha256(letter)
    _fire(letter, "open_concertation", school.principal)
    for referent in (school.referent1, school.referent2):
        _fire(letter, "agree", referent, shown(letter))
    _fire(letter, "submit_to_pedagogical_council", school.principal)
    letter.refresh_from_db()
    assert letter.state == "pedagogical_council"
    assert content_sha256(letter) == before == shown(letter)["snapshot_sha256"]


def test_content_hash_changes_with_the_content(world: World):
    school, letter = world.at("draft")
    shown = content_sha256(letter)
    letter = _edit(letter, school.principal, means=["phone"])
    assert content_sha256(letter) != shown
    letter = _edit(letter, school.principal, means=["office", "phone"])
    assert content_sha256(letter) == shown  # canonical: same content, same hash
    letter = _edit(letter, school.principal, **letter_content(school, imp1="937.50"))
    assert content_sha256(letter) != shown


# Warnings ---------------------------------------------------------------------------------


def test_warning_below_the_envelope_minimum(world: World):
    # 312,50 € + 312,50 € = 625 €, below the 1 250 € minimum: a warning, not a block.
    letter = make_letter(world.other, imp1="312.50", hours2=None, imp2="312.50")
    warnings = letter_warnings(letter, current_version(letter).content)
    assert [w.code for w in warnings] == ["below_envelope_minimum"]
    assert "625,00" in warnings[0].message
    opened = _fire(letter, "open_concertation", world.other.principal)
    assert opened.state == "concertation"


def test_no_warning_within_the_envelope(world: World):
    _school, letter = world.at("draft")
    assert letter_warnings(letter, current_version(letter).content) == []


def test_warning_for_a_mission_outside_the_referent_scope(world: World):
    school, letter = world.at("draft")
    item = CatalogItem.objects.filter(outside_scope=True).order_by("id").first()
    assert item is not None
    content = letter_content(school)
    content["missions"].append(
        {"catalog_item": item.pk, "priority": "secondary", "referents": [school.referent1.username]}
    )
    letter = _edit(letter, school.principal, missions=content["missions"])
    warnings = letter_warnings(letter, current_version(letter).content)
    assert [w.code for w in warnings] == ["mission_outside_scope"]
    assert item.text in warnings[0].message
    assert item.scope_note in warnings[0].message
    # Allowed all the same.
    assert _fire(letter, "open_concertation", school.principal).state == "concertation"


# add_comment --------------------------------------------------------------------------------


def _recipients(comment: Comment) -> set[int]:
    rows = OutboxItem.objects.filter(
        topic="comment_posted", key__startswith=f"notify:comment:{comment.pk}:"
    )
    return set(rows.values_list("recipient", flat=True))


def test_principal_comments_on_a_mission(world: World):
    school, letter = world.at("concertation")
    mission = letter.missions.order_by("order").first()
    assert mission is not None
    comment = add_comment(
        letter_id=letter.pk, user=school.principal, body="  À préciser  ", mission_id=mission.pk
    )
    assert (comment.body, comment.mission_id, comment.indicator_id) == (
        "À préciser",
        mission.pk,
        None,
    )
    assert (comment.anchor_text, comment.version) == (mission.text, letter.version)
    assert _recipients(comment) == {school.referent1.pk, school.referent2.pk}


def test_referent_comments_on_an_indicator(world: World):
    school, letter = world.at("concertation")
    indicator = letter.indicators.order_by("order").last()
    assert indicator is not None
    comment = add_comment(
        letter_id=letter.pk,
        user=school.referent1,
        body="Cible trop haute",
        indicator_id=indicator.pk,
    )
    assert (comment.indicator_id, comment.anchor_text) == (indicator.pk, indicator.text)
    # The other participants are told, not the author.
    assert _recipients(comment) == {school.referent2.pk, school.principal.pk}


def test_deputy_by_delegation_comments(world: World):
    school, letter = world.at("draft")
    comment = add_comment(letter_id=letter.pk, user=school.deputy, body="Vu")
    assert comment.author_id == school.deputy.pk
    assert _recipients(comment) == {school.referent1.pk, school.referent2.pk, school.principal.pk}


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("teacher", LetterNotFound),
        ("cp_secretary", NotPermitted),
        ("ca_secretary", NotPermitted),
        ("dan", NotPermitted),
    ],
)
def test_who_may_not_comment(world: World, role: str, error: type[Exception]):
    school, letter = world.at("concertation")
    with pytest.raises(error):
        add_comment(letter_id=letter.pk, user=school.people()[role], body="Bonjour")
    assert not Comment.objects.filter(letter=letter).exists()
    assert not OutboxItem.objects.filter(topic="comment_posted").exists()


def test_people_of_another_establishment_may_not_comment(world: World):
    _school, letter = world.at("concertation")
    with pytest.raises(LetterNotFound):
        add_comment(letter_id=letter.pk, user=world.other.principal, body="Bonjour")


@pytest.mark.parametrize("body", ["", "   \n "])
def test_an_empty_comment(world: World, body: str):
    school, letter = world.at("concertation")
    with pytest.raises(InvalidInput) as excinfo:
        add_comment(letter_id=letter.pk, user=school.referent1, body=body)
    assert set(excinfo.value.errors) == {"body"}
    assert not Comment.objects.filter(letter=letter).exists()


def test_anchors_must_belong_to_the_letter(world: World):
    school, letter = world.at("concertation")
    _other_school, other = world.at("draft")
    mission = other.missions.first()
    indicator = other.indicators.first()
    assert mission is not None
    assert indicator is not None
    with pytest.raises(InvalidInput) as excinfo:
        add_comment(letter_id=letter.pk, user=school.principal, body="?", mission_id=mission.pk)
    assert set(excinfo.value.errors) == {"mission"}
    with pytest.raises(InvalidInput) as excinfo:
        add_comment(letter_id=letter.pk, user=school.principal, body="?", indicator_id=indicator.pk)
    assert set(excinfo.value.errors) == {"indicator"}
    assert not Comment.objects.filter(letter=letter).exists()


@pytest.mark.parametrize("state", ["closed", "withdrawn"])
def test_no_comment_once_the_letter_is_over(world: World, state: str):
    school, letter = world.at(state)
    with pytest.raises(NotEditable):
        add_comment(letter_id=letter.pk, user=school.principal, body="Bonjour")
    assert not Comment.objects.filter(letter=letter).exists()


# record_meeting_opinions ------------------------------------------------------------------


def _two_letters_before_the_cp(world: World, second_state: str) -> tuple[School, list[int]]:
    """The pedagogical-council letter and a second one of the same establishment, for
    the next school year (one letter a year), carried to ``second_state``."""
    school, first = world.at("pedagogical_council")
    second = make_letter(school, year=school.next_year)
    advance(second, school, second_state)
    return school, [first.pk, second.pk]


def test_a_whole_agenda_in_one_call(world: World):
    school, ids = _two_letters_before_the_cp(world, "pedagogical_council")
    letters = record_meeting_opinions(
        meeting_id=school.cp_meeting.pk,
        user=school.cp_secretary,
        opinions=[
            {"letter": ids[0], "opinion": "favorable"},
            {"letter": ids[1], "opinion": "reserve", "remarks": "Préciser le club"},
        ],
    )
    assert [letter.pk for letter in letters] == ids
    assert list(
        MissionLetter.objects.filter(pk__in=ids).order_by("pk").values_list("state", flat=True)
    ) == ["board", "board"]
    recorded = dict(
        Opinion.objects.filter(meeting=school.cp_meeting).values_list("letter", "opinion")
    )
    assert recorded == {ids[0]: "favorable", ids[1]: "reserve"}
    assert set(
        AgendaItem.objects.filter(meeting=school.cp_meeting).values_list("letter", flat=True)
    ) == set(ids)


@pytest.mark.parametrize(
    ("second_state", "second_row"),
    [
        pytest.param("concertation", {"opinion": "favorable"}, id="wrong-state"),
        pytest.param("pedagogical_council", {"opinion": "reserve"}, id="reserve-without-remarks"),
    ],
)
def test_an_agenda_is_recorded_all_or_nothing(
    world: World, second_state: str, second_row: dict[str, Any]
):
    school, ids = _two_letters_before_the_cp(world, second_state)
    before = [stored(MissionLetter.objects.get(pk=pk)) for pk in ids]
    with pytest.raises(InvalidInput) as excinfo:
        record_meeting_opinions(
            meeting_id=school.cp_meeting.pk,
            user=school.cp_secretary,
            opinions=[{"letter": ids[0], "opinion": "favorable"}, {"letter": ids[1], **second_row}],
        )
    # The error names the letter at fault, and only it.
    assert list(excinfo.value.errors) == [f"letter {ids[1]}"]
    assert excinfo.value.errors[f"letter {ids[1]}"]
    assert [stored(MissionLetter.objects.get(pk=pk)) for pk in ids] == before
    assert not Opinion.objects.filter(meeting=school.cp_meeting).exists()


def test_a_board_meeting_records_votes_for_its_agenda(world: World):
    school, letter = world.at("board")
    record_meeting_opinions(
        meeting_id=school.ca_meeting.pk,
        user=school.ca_secretary,
        opinions=[
            {
                "letter": letter.pk,
                "opinion": "favorable",
                "votes_for": 18,
                "votes_against": 2,
                "abstentions": 1,
                "not_voting": 0,
                "members_present": 21,
            }
        ],
    )
    letter.refresh_from_db()
    assert letter.state == "signature"
    opinion = Opinion.objects.get(letter=letter, meeting=school.ca_meeting)
    assert (opinion.votes_for, opinion.members_present, opinion.quorum_met) == (18, 21, True)


def test_an_empty_agenda_or_unknown_meeting(world: World):
    school, _letter = world.at("pedagogical_council")
    with pytest.raises(InvalidInput) as excinfo:
        record_meeting_opinions(
            meeting_id=school.cp_meeting.pk, user=school.cp_secretary, opinions=[]
        )
    assert set(excinfo.value.errors) == {"opinions"}
    with pytest.raises(InvalidInput) as excinfo:
        record_meeting_opinions(
            meeting_id=10**9,
            user=school.cp_secretary,
            opinions=[{"letter": 1, "opinion": "favorable"}],
        )
    assert set(excinfo.value.errors) == {"meeting"}


# renew_letter -------------------------------------------------------------------------------


def _missions_of(letter: MissionLetter) -> list[tuple[Any, ...]]:
    return [
        (m.catalog_item_id, m.text, m.priority, sorted(r.user.username for r in m.referents.all()))
        for m in letter.missions.order_by("order").prefetch_related("referents__user")
    ]


@pytest.mark.parametrize("state", ["in_force", "report_due", "report_submitted", "closed"])
def test_renew_a_letter(world: World, state: str):
    school, source = world.at(state)
    assert set(source.referents.values_list("agreed_version", flat=True)) == {1}
    before = stored(source)

    letter = renew_letter(letter_id=source.pk, user=school.principal, school_year=school.next_year)

    assert (letter.state, letter.version, letter.school_year_id) == (
        "draft",
        1,
        school.next_year.pk,
    )
    assert (letter.period_start, letter.period_end) == (
        school.next_year.starts_on,
        school.next_year.ends_on,
    )
    assert letter.renewed_from_id == source.pk
    assert letter.pk != source.pk
    assert list(
        letter.referents.order_by("order").values_list(
            "user", "mode", "imp_amount", "decharge_hours", "share", "agreed_version"
        )
    ) == [
        (school.referent1.pk, "imp", Decimal("1250.00"), None, "Accompagnement des équipes", None),
        (school.referent2.pk, "decharge", None, Decimal("1.00"), "ENT et PIX", None),
    ]
    assert _missions_of(letter) == _missions_of(source)
    assert len(_missions_of(letter)) == 3
    assert list(letter.indicators.values_list("text", "target")) == list(
        source.indicators.values_list("text", "target")
    )
    assert (letter.means, letter.follow_up, letter.qualification, letter.dane_training) == (
        source.means,
        source.follow_up,
        source.qualification,
        source.dane_training,
    )
    # The source is untouched.
    assert stored(source) == before
    # The new letter's history starts with its creation, naming the source.
    events = list(AuditEvent.objects.filter(letter=letter).order_by("sequence"))
    assert [(e.action, e.to_state, e.payload) for e in events] == [
        ("create", "draft", {"renewed_from": source.pk})
    ]
    assert events[0].actor_id == school.principal.pk
    # The copy is complete enough to go straight to concertation.
    assert _fire(letter, "open_concertation", school.principal).state == "concertation"


@pytest.mark.parametrize(
    "state", ["draft", "concertation", "pedagogical_council", "board", "signature", "withdrawn"]
)
def test_renew_only_a_letter_that_came_into_force(world: World, state: str):
    school, source = world.at(state)
    with pytest.raises(TransitionNotAllowed):
        renew_letter(letter_id=source.pk, user=school.principal, school_year=school.next_year)
    assert not MissionLetter.objects.filter(renewed_from=source).exists()


def test_renew_into_a_later_year_only(world: World):
    school, source = world.at("in_force")
    with pytest.raises(InvalidInput) as excinfo:
        renew_letter(letter_id=source.pk, user=school.principal, school_year=school.year)
    assert set(excinfo.value.errors) == {"school_year"}
    assert not MissionLetter.objects.filter(renewed_from=source).exists()


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("referent1", NotPermitted),
        ("cp_secretary", NotPermitted),
        ("dan", NotPermitted),
        ("teacher", LetterNotFound),
    ],
)
def test_who_may_not_renew(world: World, role: str, error: type[Exception]):
    school, source = world.at("in_force")
    with pytest.raises(error):
        renew_letter(letter_id=source.pk, user=school.people()[role], school_year=school.next_year)
    assert not MissionLetter.objects.filter(renewed_from=source).exists()


def test_deputy_by_delegation_renews(world: World):
    school, source = world.at("closed")
    letter = renew_letter(letter_id=source.pk, user=school.deputy, school_year=school.next_year)
    assert letter.created_by_id == school.deputy.pk


# The envelope -------------------------------------------------------------------------------


def test_withdrawn_letters_leave_the_envelope(world: World):
    """A withdrawn letter's 2 500 € no longer count: the letter begun after it may take
    the whole 3 750 €."""
    school, first = world.at("draft")
    assert sum(envelope_amounts(school.establishment, school.year)) == Decimal("2500.00")
    _fire(first, "withdraw", school.principal, {"reason": "À reprendre"})
    assert envelope_amounts(school.establishment, school.year) == []

    second = make_letter(school, imp1="2500.00")
    assert sum(envelope_amounts(school.establishment, school.year)) == Decimal("3750.00")
    assert _fire(second, "open_concertation", school.principal).state == "concertation"


def test_envelope_counts_one_establishment_and_year(world: World):
    school, _letter = world.at("draft")
    assert sum(envelope_amounts(school.establishment, school.year)) == Decimal("2500.00")
    assert envelope_amounts(school.establishment, school.next_year) == []
    assert envelope_amounts(world.other.establishment, school.year) == []


def test_a_pages_envelopes_are_each_establishment_and_years_own(world: World):
    """``envelopes_for``, which a page of letters reads in one query, gives each
    (establishment, year) what ``envelope_amounts`` gives it alone: the withdrawn letter
    left out, the décharge converted, nothing for a pair without letters."""
    schools = [*world.schools.values(), world.other]
    pairs = {(s.establishment.pk, year.pk) for s in schools for year in (s.year, s.next_year)}
    found = envelopes_for(pairs)
    assert set(found) == pairs
    for school in schools:
        for year in (school.year, school.next_year):
            expected = envelope_amounts(school.establishment, year)
            assert sorted(found[(school.establishment.pk, year.pk)]) == sorted(expected)
    withdrawn = world.schools["withdrawn"]
    assert found[(withdrawn.establishment.pk, withdrawn.year.pk)] == []
    draft = world.schools["draft"]
    assert sorted(found[(draft.establishment.pk, draft.year.pk)]) == [
        decharge_amount(Decimal("1.00")),
        Decimal("1250.00"),
    ]
    assert envelopes_for(set()) == {}


def test_a_catalogue_mission_appears_once_in_a_letter():
    """Twice the same item would be one checkbox in the editor: refused, nothing saved."""
    school = make_school("TwiceItem")
    letter = make_letter(school)
    item = CatalogItem.objects.filter(outside_scope=False).order_by("id")[0]
    with pytest.raises(InvalidInput) as refused:
        update_letter(
            letter_id=letter.pk,
            user=school.principal,
            changes={
                "missions": [
                    {"catalog_item": item.pk, "priority": "principal"},
                    {"catalog_item": item.pk, "priority": "secondary", "text": "Autrement dit"},
                ]
            },
        )
    assert "missions[1].catalog_item" in refused.value.errors
    assert letter.missions.count() == 3


@pytest.mark.parametrize(
    ("section", "row", "bound"),
    [
        ("missions", {"text": "Une mission", "priority": "secondary"}, MAX_MISSIONS),
        ("indicators", {"text": "Un indicateur"}, MAX_INDICATORS),
    ],
)
def test_each_list_of_a_letter_has_a_bound_named_when_exceeded(world, section, row, bound):
    school, letter = world.at("draft")
    before = stored(letter)
    with pytest.raises(InvalidInput) as excinfo:
        update_letter(
            letter_id=letter.pk, user=school.principal, changes={section: [row] * (bound + 1)}
        )
    assert excinfo.value.errors[section] == [f"{bound} au plus (la lettre en compte {bound + 1})."]
    assert stored(letter) == before
    # At the bound, accepted; a wording over its length, refused.
    update_letter(letter_id=letter.pk, user=school.principal, changes={section: [row] * bound})
    long = {**row, "text": "x" * (MAX_TEXT + 1)}
    with pytest.raises(InvalidInput) as excinfo:
        update_letter(letter_id=letter.pk, user=school.principal, changes={section: [long]})
    assert excinfo.value.errors[f"{section}[0].text"] == [f"{MAX_TEXT} caractères au plus."]


def test_the_api_refuses_a_list_over_its_bound(world):
    school, letter = world.at("draft")
    api = APIClient()
    api.force_authenticate(school.principal)
    rows = [{"text": "Un indicateur"}] * (MAX_INDICATORS + 1)
    answer = api.patch(
        f"/api/v1/letters/{letter.pk}/",
        {"version": letter.version, "indicators": rows},
        format="json",
    )
    assert answer.status_code == 400
    assert f"{MAX_INDICATORS} au plus" in answer.json()["errors"]["indicators"][0]
