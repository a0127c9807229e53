"""Test data builders shared by the suite. Plain functions, going through the services
wherever a service exists, so the tests see the data the product would make."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from governance.models import (
    Academy,
    CatalogItem,
    Council,
    CouncilKind,
    Establishment,
    EstablishmentKind,
    Meeting,
    Role,
    SchoolYear,
    User,
)
from governance.services import assign_role, grant_delegation, load_catalogue
from governance.uai import uai_check_letter
from workflow.audit.versions import current_version
from workflow.lifecycle.engine import fire_transition
from workflow.models import MissionLetter, YearEndReport
from workflow.services.content import update_letter
from workflow.services.letters import create_letter
from workflow.services.report import save_report

_uai_numbers = itertools.count(2100100)


def next_uai() -> str:
    digits = f"{next(_uai_numbers):07d}"
    return digits + uai_check_letter(digits)


@dataclass
class School:
    """An establishment with one person per role, ready for letters."""

    establishment: Establishment
    year: SchoolYear
    next_year: SchoolYear
    principal: User
    deputy: User
    referent1: User
    referent2: User
    teacher: User  # a teacher who is not a referent of the letters
    cp_secretary: User
    ca_secretary: User
    dan: User
    cp_meeting: Meeting
    ca_meeting: Meeting

    def people(self) -> dict[str, User]:
        return {
            "principal": self.principal,
            "deputy": self.deputy,
            "referent1": self.referent1,
            "referent2": self.referent2,
            "teacher": self.teacher,
            "cp_secretary": self.cp_secretary,
            "ca_secretary": self.ca_secretary,
            "dan": self.dan,
        }


def school_year(code: str = "2026-2027") -> SchoolYear:
    first = int(code[:4])
    year, _created = SchoolYear.objects.get_or_create(
        code=code,
        defaults={"starts_on": dt.date(first, 9, 1), "ends_on": dt.date(first + 1, 8, 31)},
    )
    return year


def make_school(
    prefix: str = "", *, academy: Academy | None = None, delegation: bool = True
) -> School:
    """A lycée with its people, its two councils and one past meeting of each."""
    load_catalogue()
    academy = (
        academy
        or Academy.objects.get_or_create(code="dijon", defaults={"name": "Académie de Dijon"})[0]
    )
    establishment = Establishment.objects.create(
        uai=next_uai(),
        name=f"Lycée {prefix or 'Test'}",
        kind=EstablishmentKind.LYCEE,
        local_authority="Région Bourgogne-Franche-Comté",
        academy=academy,
    )
    year = school_year("2026-2027")
    next_year = school_year("2027-2028")
    tag = prefix or establishment.uai

    def person(name: str, role: Role, first: str, last: str) -> User:
        user = User.objects.create_user(
            f"{name}-{tag}",
            first_name=first,
            last_name=last,
            email=f"{name}-{tag}@example.invalid",
            password="pw",
        )
        if role == Role.DAN:
            assign_role(user, role, academy_id=academy.pk)
        else:
            assign_role(user, role, establishment=establishment)
        return user

    principal = person("principal", Role.PRINCIPAL, "Claire", "Martin")
    deputy = person("deputy", Role.DEPUTY, "Julien", "Bernard")
    referent1 = person("referent1", Role.TEACHER, "Sophie", "Durand")
    referent2 = person("referent2", Role.TEACHER, "Karim", "Benali")
    teacher = person("teacher", Role.TEACHER, "Paul", "Lambert")
    cp_secretary = person("cp", Role.CP_SECRETARY, "Anne", "Petit")
    ca_secretary = person("ca", Role.CA_SECRETARY, "Luc", "Moreau")
    dan = person("dan", Role.DAN, "Nadia", "Lefèvre")
    if delegation:
        grant_delegation(
            establishment=establishment,
            delegator=principal,
            delegate=deputy,
            starts_on=dt.date(2020, 9, 1),
            ends_on=dt.date(2040, 8, 31),
        )
    cp = Council.objects.create(
        establishment=establishment, kind=CouncilKind.PEDAGOGICAL, members_in_office=15
    )
    ca = Council.objects.create(
        establishment=establishment, kind=CouncilKind.BOARD, members_in_office=30
    )
    yesterday = timezone.now() - dt.timedelta(days=1)
    cp_meeting = Meeting.objects.create(council=cp, starts_at=yesterday, members_in_office=15)
    ca_meeting = Meeting.objects.create(council=ca, starts_at=yesterday, members_in_office=30)
    return School(
        establishment,
        year,
        next_year,
        principal,
        deputy,
        referent1,
        referent2,
        teacher,
        cp_secretary,
        ca_secretary,
        dan,
        cp_meeting,
        ca_meeting,
    )


def letter_content(
    school: School, *, imp1: str = "1250.00", hours2: str | None = "1.00", imp2: str | None = None
) -> dict[str, Any]:
    """A complete letter's content: two référents (IMP, and décharge), three missions,
    two indicators."""
    items = list(CatalogItem.objects.filter(outside_scope=False).order_by("id")[:2])
    second: dict[str, Any] = {"user": school.referent2.username, "share": "ENT et PIX"}
    if imp2 is not None:
        second.update(mode="imp", imp_amount=imp2)
    else:
        second.update(mode="decharge", decharge_hours=hours2)
    return {
        "referents": [
            {
                "user": school.referent1.username,
                "mode": "imp",
                "imp_amount": imp1,
                "share": "Accompagnement des équipes",
            },
            second,
        ],
        "missions": [
            {
                "catalog_item": items[0].pk,
                "priority": "principal",
                "referents": [school.referent1.username],
            },
            {
                "catalog_item": items[1].pk,
                "priority": "secondary",
                "referents": [school.referent1.username, school.referent2.username],
            },
            {
                "text": "Animer le club robotique",
                "priority": "secondary",
                "referents": [school.referent2.username],
            },
        ],
        "indicators": [
            {"text": "Nombre de sessions de prise en main", "target": "6 par an"},
            {"text": "Part des classes utilisant l'ENT", "target": "80 %"},
        ],
        "means": ["office", "phone"],
        "follow_up": "annual_review",
        "qualification": "Certification PIX niveau expert",
        "dane_training": "Parcours référents numériques (3 ans)",
    }


def make_letter(
    school: School, *, year: SchoolYear | None = None, **content_options: Any
) -> MissionLetter:
    """A complete draft of ``school`` for ``year`` (its current one by default): an
    establishment has one letter a year, so a second needs another year."""
    letter = create_letter(
        user=school.principal,
        establishment=school.establishment,
        school_year=year or school.year,
    )
    return update_letter(
        letter_id=letter.pk,
        user=school.principal,
        changes=letter_content(school, **content_options),
    )


def opinion_payload(meeting: Meeting, opinion: str = "favorable", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"meeting": meeting.pk, "opinion": opinion}
    if meeting.council.kind == CouncilKind.BOARD:
        payload.update(
            votes_for=20, votes_against=2, abstentions=1, not_voting=0, members_present=23
        )
    payload.update(extra)
    return payload


# Every state a letter can be in, along the normal path, then withdrawn.
STATES = [
    "draft",
    "concertation",
    "pedagogical_council",
    "board",
    "signature",
    "in_force",
    "report_due",
    "report_submitted",
    "closed",
    "withdrawn",
]


def shown(letter: MissionLetter) -> dict[str, str]:
    """What a référent agreeing or a signer signing is shown of the letter as it stands
    now: its current version's hash, the payload of ``agree`` and ``sign``."""
    return {
        "snapshot_sha256": current_version(MissionLetter.objects.get(pk=letter.pk)).content_sha256
    }


def advance(letter: MissionLetter, school: School, to_state: str) -> MissionLetter:
    """Carry a letter forward along the normal path until it reaches ``to_state``."""
    order = STATES[: STATES.index("report_due") + 1]
    letter.refresh_from_db()
    while letter.state != to_state:
        state = letter.state
        if state not in order or order.index(state) >= order.index(to_state):
            raise AssertionError(f"cannot advance from {state} to {to_state}")
        if state == "draft":
            fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
        elif state == "concertation":
            for referent in (school.referent1, school.referent2):
                fire_transition(
                    letter_id=letter.pk, name="agree", user=referent, payload=shown(letter)
                )
            fire_transition(
                letter_id=letter.pk, name="submit_to_pedagogical_council", user=school.principal
            )
        elif state == "pedagogical_council":
            fire_transition(
                letter_id=letter.pk,
                name="record_pedagogical_opinion",
                user=school.cp_secretary,
                payload=opinion_payload(school.cp_meeting),
            )
        elif state == "board":
            fire_transition(
                letter_id=letter.pk,
                name="record_board_opinion",
                user=school.ca_secretary,
                payload=opinion_payload(school.ca_meeting),
            )
        elif state == "signature":
            for signer in (school.principal, school.referent1, school.referent2):
                fire_transition(
                    letter_id=letter.pk,
                    name="sign",
                    user=signer,
                    payload=shown(letter),
                )
        elif state == "in_force":
            fire_transition(
                letter_id=letter.pk,
                name="open_report",
                user=school.principal,
                payload={"reason": "Fin anticipée pour le test"},
            )
        letter.refresh_from_db()
    return letter


def fire(letter: MissionLetter, name: str, user: User, **payload: Any) -> MissionLetter:
    return fire_transition(letter_id=letter.pk, name=name, user=user, payload=payload)


def complete_report(letter: MissionLetter, referent: User) -> None:
    report = YearEndReport.objects.get(letter=letter)
    save_report(
        letter_id=letter.pk,
        user=referent,
        data={
            "outcomes": [
                {"mission": o.mission_id, "status": "done", "comment": "Fait"}
                for o in report.outcomes.all()
            ],
            "results": [
                {"indicator": r.indicator_id, "result": "Atteint"} for r in report.results.all()
            ],
        },
    )


def letter_in_state(school: School, state: str) -> MissionLetter:
    """A complete letter of ``school`` carried to ``state`` along the normal path."""
    letter = make_letter(school)
    if state == "withdrawn":
        fire(letter, "withdraw", school.principal, reason="Projet abandonné")
    elif state in ("report_submitted", "closed"):
        advance(letter, school, "report_due")
        complete_report(letter, school.referent1)
        fire(letter, "submit_report", school.referent1)
        if state == "closed":
            fire(letter, "acknowledge_report", school.principal)
    else:
        advance(letter, school, state)
    letter.refresh_from_db()
    assert letter.state == state
    return letter


def settle_constraints() -> None:
    """Check the deferred constraints of what was just built, once, in the outer
    transaction: otherwise PostgreSQL checks them all again at the end of every test
    (each test's savepoint rollback puts them back in the queue)."""
    connection.check_constraints()


@dataclass
class World:
    """A letter in every state, each in its own establishment (``world`` fixture)."""

    schools: dict[str, School]  # one establishment per state, with a delegation
    letters: dict[str, int]
    other: School  # another establishment of the same académie, without letters
    foreign: School  # an establishment of another académie

    def at(self, state: str) -> tuple[School, MissionLetter]:
        return self.schools[state], MissionLetter.objects.get(pk=self.letters[state])


def letter_with_doubts(school: School) -> MissionLetter:
    """A letter of ``school`` awaiting signatures after a reserved opinion of the
    conseil pédagogique (with remarks) and an unfavourable one of the CA (with votes)."""
    letter = make_letter(school)
    advance(letter, school, "pedagogical_council")
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, "reserve", remarks="Préciser le rôle au CDI."),
    )
    fire(
        letter,
        "record_board_opinion",
        school.ca_secretary,
        **opinion_payload(
            school.ca_meeting,
            "defavorable",
            votes_for=5,
            votes_against=15,
            abstentions=2,
            members_present=22,
        ),
    )
    return letter
