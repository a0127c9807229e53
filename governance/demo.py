"""Demo data for governance (DESIGN §9): the académie de Dijon, two schools, the
current and next school years, the catalogue and the demo accounts (password ``demo``).

Every row is matched on a natural key, so loading twice gives the same data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from governance.models import (
    Academy,
    Delegation,
    Establishment,
    EstablishmentKind,
    HolidayZone,
    Role,
    SchoolYear,
    User,
)
from governance.selectors import school_year_code_for
from governance.services import assign_role, load_catalogue, update_person

DEMO_PASSWORD = "demo"
CARNOT_UAI = "0210015C"
COLLEGE_UAI = "0211234C"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    discipline: str
    role: Role
    uai: str | None  # None: an académie role (the national role: none at all)


DEMO_PEOPLE = (
    DemoPerson("principal", "Claire", "Martin", "", Role.PRINCIPAL, CARNOT_UAI),
    DemoPerson("deputy", "Julien", "Bernard", "", Role.DEPUTY, CARNOT_UAI),
    DemoPerson("referent1", "Sophie", "Durand", "Technologie", Role.TEACHER, CARNOT_UAI),
    DemoPerson("referent2", "Karim", "Benali", "Mathématiques", Role.TEACHER, CARNOT_UAI),
    DemoPerson("secretaire-cp", "Anne", "Petit", "Lettres modernes", Role.CP_SECRETARY, CARNOT_UAI),
    DemoPerson("secretaire-ca", "Luc", "Moreau", "", Role.CA_SECRETARY, CARNOT_UAI),
    DemoPerson("principal2", "Isabelle", "Roux", "", Role.PRINCIPAL, COLLEGE_UAI),
    DemoPerson("referent3", "Thomas", "Garnier", "Documentation", Role.TEACHER, COLLEGE_UAI),
    DemoPerson("dan", "Nadia", "Lefèvre", "", Role.DAN, None),
    DemoPerson("national", "Hélène", "Girard", "", Role.NATIONAL, None),
)


@dataclass(frozen=True)
class DemoGovernance:
    academy: Academy
    carnot: Establishment
    college: Establishment
    current_year: SchoolYear
    next_year: SchoolYear
    users: dict[str, User]


def _school_year(code: str) -> SchoolYear:
    first = int(code[:4])
    year, _created = SchoolYear.objects.update_or_create(
        code=code,
        defaults={"starts_on": dt.date(first, 9, 1), "ends_on": dt.date(first + 1, 8, 31)},
    )
    return year


def _mail_domain(spec: DemoPerson) -> str:
    """The académie's mail for its people; the ministry's for the national role."""
    return "education.invalid" if spec.role == Role.NATIONAL else "ac-dijon.invalid"


def _person(spec: DemoPerson) -> User:
    values = {
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": f"{spec.first_name}.{spec.last_name}@{_mail_domain(spec)}".lower()
        .replace("è", "e")
        .replace("é", "e"),
        "discipline": spec.discipline,
        "is_active": True,
    }
    user, created = User.objects.get_or_create(username=spec.username, defaults=values)
    if not created:  # loaded again: the same person is not written again
        update_person(user, values)
    # A new salt each time would change the row: set the password only when needed.
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def load() -> DemoGovernance:
    load_catalogue()
    academy, _created = Academy.objects.update_or_create(
        code="dijon", defaults={"name": "Académie de Dijon", "holiday_zone": HolidayZone.A}
    )
    carnot, _created = Establishment.objects.update_or_create(
        uai=CARNOT_UAI,
        defaults={
            "name": "Lycée Carnot",
            "kind": EstablishmentKind.LYCEE,
            "city": "Dijon",
            "local_authority": "Région Bourgogne-Franche-Comté",
            "academy": academy,
        },
    )
    college, _created = Establishment.objects.update_or_create(
        uai=COLLEGE_UAI,
        defaults={
            "name": "Collège Gustave-Eiffel",
            "kind": EstablishmentKind.COLLEGE,
            "city": "Dijon",
            "local_authority": "Département de la Côte-d'Or",
            "academy": academy,
        },
    )
    today = timezone.localdate()
    current_code = school_year_code_for(today)
    next_first = int(current_code[:4]) + 1
    current_year = _school_year(current_code)
    next_year = _school_year(f"{next_first}-{next_first + 1}")

    by_uai = {CARNOT_UAI: carnot, COLLEGE_UAI: college}
    users: dict[str, User] = {}
    for spec in DEMO_PEOPLE:
        user = _person(spec)
        users[spec.username] = user
        if spec.role == Role.NATIONAL:
            assign_role(user, spec.role)
        elif spec.uai is None:
            assign_role(user, spec.role, academy_id=academy.pk)
        else:
            assign_role(user, spec.role, establishment=by_uai[spec.uai])

    admin = _person(DemoPerson("admin", "Admin", "Plateforme", "", Role.DAN, None))
    if not (admin.is_staff and admin.is_superuser):
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    users["admin"] = admin

    # The deputy acts for the principal over the whole current school year.
    Delegation.objects.get_or_create(
        establishment=carnot,
        delegator=users["principal"],
        delegate=users["deputy"],
        starts_on=current_year.starts_on,
        ends_on=current_year.ends_on,
    )
    return DemoGovernance(academy, carnot, college, current_year, next_year, users)
