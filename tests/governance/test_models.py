import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from governance.models import (
    Academy,
    Establishment,
    EstablishmentKind,
    Role,
    RoleAssignment,
    SchoolYear,
    User,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def academy():
    return Academy.objects.create(code="dijon", name="Académie de Dijon")


def _establishment(academy, uai):
    return Establishment(
        uai=uai,
        name="Lycée Carnot",
        kind=EstablishmentKind.LYCEE,
        local_authority="Région Bourgogne-Franche-Comté",
        academy=academy,
    )


def test_an_establishment_with_a_wrong_check_letter_fails_validation(academy):
    with pytest.raises(ValidationError) as excinfo:
        _establishment(academy, "0211234A").full_clean()
    assert "uai" in excinfo.value.message_dict
    _establishment(academy, "0211234C").full_clean()


def test_the_database_refuses_a_malformed_uai(academy):
    with pytest.raises(IntegrityError), transaction.atomic():
        _establishment(academy, "0210015c").save()


def test_school_year_code_must_name_two_consecutive_years():
    with pytest.raises(ValidationError):
        SchoolYear(
            code="2026-2028", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2028, 8, 31)
        ).full_clean()
    SchoolYear(
        code="2026-2027", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31)
    ).full_clean()


def test_the_database_keeps_school_year_dates_in_order():
    with pytest.raises(IntegrityError), transaction.atomic():
        SchoolYear.objects.create(
            code="2026-2027", starts_on=dt.date(2027, 9, 1), ends_on=dt.date(2026, 8, 31)
        )


def test_report_dates_follow_the_academy_settings(academy):
    year = SchoolYear(code="2026-2027", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 8, 31))
    assert academy.report_window_opens_on(year) == dt.date(2027, 6, 1)
    assert academy.report_due_on(year) == dt.date(2027, 6, 30)
    academy.report_due_month, academy.report_due_day = 2, 30
    with pytest.raises(ValidationError):
        academy.full_clean()


def test_a_dan_role_belongs_to_an_academy_and_other_roles_to_an_establishment(academy):
    user = User.objects.create_user("x")
    carnot = _establishment(academy, "0210015C")
    carnot.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.DAN, establishment=carnot)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.PRINCIPAL, academy=academy)
    RoleAssignment.objects.create(user=user, role=Role.DAN, academy=academy)
    RoleAssignment.objects.create(user=user, role=Role.PRINCIPAL, establishment=carnot)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.PRINCIPAL, establishment=carnot)
