import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from governance import selectors
from governance.models import (
    Academy,
    CatalogHeading,
    CatalogItem,
    Establishment,
    EstablishmentKind,
    Role,
    User,
)
from governance.services import (
    CATALOGUE_FILE,
    assign_role,
    grant_delegation,
    load_catalogue,
    revoke_delegation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def carnot():
    academy = Academy.objects.create(code="dijon", name="Académie de Dijon")
    return Establishment.objects.create(
        uai="0210015C",
        name="Lycée Carnot",
        kind=EstablishmentKind.LYCEE,
        local_authority="Région Bourgogne-Franche-Comté",
        academy=academy,
    )


@pytest.fixture
def people(carnot):
    principal = User.objects.create_user("principal")
    deputy = User.objects.create_user("deputy")
    teacher = User.objects.create_user("teacher")
    assign_role(principal, Role.PRINCIPAL, establishment=carnot)
    assign_role(deputy, Role.DEPUTY, establishment=carnot)
    assign_role(teacher, Role.TEACHER, establishment=carnot)
    return principal, deputy, teacher


def test_the_catalogue_loads_every_heading_and_item_of_the_seeds_once():
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    expected_items = sum(len(h["items"]) for h in data["headings"])
    first = load_catalogue()
    assert (first.headings_created, first.items_created) == (len(data["headings"]), expected_items)
    second = load_catalogue()
    assert (second.headings_created, second.items_created, second.items_updated) == (0, 0, 0)
    assert CatalogItem.objects.count() == expected_items
    titles = set(CatalogHeading.objects.values_list("title", flat=True))
    assert {
        "Accompagner l'équipe éducative",
        "Conseiller le chef d'établissement",
        "Communiquer",
        "Se former",
    } <= titles


def test_technical_items_are_flagged_outside_the_referent_scope():
    load_catalogue()
    printers = CatalogItem.objects.get(text__icontains="imprimantes")
    assert printers.outside_scope
    assert printers.scope_note
    coaching = CatalogItem.objects.filter(text__startswith="Impulser et accompagner").get()
    assert not coaching.outside_scope


def test_admin_edits_survive_a_reload_unless_overwrite_is_asked():
    load_catalogue()
    item = CatalogItem.objects.order_by("id").first()
    assert item is not None
    original = item.text
    CatalogItem.objects.filter(pk=item.pk).update(text="Texte adapté par l'administrateur")
    call_command("load_catalogue")
    item.refresh_from_db()
    assert item.text == "Texte adapté par l'administrateur"
    call_command("load_catalogue", "--overwrite")
    item.refresh_from_db()
    assert item.text == original


def test_a_principal_delegates_to_a_deputy_for_dated_period(carnot, people):
    principal, deputy, _teacher = people
    delegation = grant_delegation(
        establishment=carnot,
        delegator=principal,
        delegate=deputy,
        starts_on=dt.date(2026, 9, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    assert selectors.active_delegation(deputy, carnot, dt.date(2026, 10, 1)) == delegation
    assert selectors.active_delegation(deputy, carnot, dt.date(2027, 1, 1)) is None
    revoke_delegation(delegation)
    assert selectors.active_delegation(deputy, carnot, dt.date(2026, 10, 1)) is None


def test_a_delegation_needs_a_principal_and_a_deputy_of_the_establishment(carnot, people):
    principal, deputy, teacher = people
    with pytest.raises(ValidationError) as excinfo:
        grant_delegation(
            establishment=carnot,
            delegator=teacher,
            delegate=deputy,
            starts_on=dt.date(2026, 9, 1),
            ends_on=dt.date(2026, 12, 31),
        )
    assert "delegator" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        grant_delegation(
            establishment=carnot,
            delegator=principal,
            delegate=teacher,
            starts_on=dt.date(2026, 9, 1),
            ends_on=dt.date(2026, 12, 31),
        )
    assert "delegate" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        grant_delegation(
            establishment=carnot,
            delegator=principal,
            delegate=deputy,
            starts_on=dt.date(2027, 1, 1),
            ends_on=dt.date(2026, 12, 31),
        )
    assert "ends_on" in excinfo.value.message_dict


def test_school_year_code_for_a_day():
    assert selectors.school_year_code_for(dt.date(2026, 11, 23)) == "2026-2027"
    assert selectors.school_year_code_for(dt.date(2027, 8, 31)) == "2026-2027"
    assert selectors.school_year_code_for(dt.date(2027, 9, 1)) == "2027-2028"


def test_a_dan_sees_every_establishment_of_its_academy_only(carnot):
    other_academy = Academy.objects.create(code="besancon", name="Académie de Besançon")
    Establishment.objects.create(
        uai="0250001R",
        name="Lycée Victor-Hugo",
        kind=EstablishmentKind.LYCEE,
        local_authority="Région Bourgogne-Franche-Comté",
        academy=other_academy,
    )
    dan = User.objects.create_user("dan")
    assign_role(dan, Role.DAN, academy_id=carnot.academy_id)
    assert list(selectors.establishments_visible_to(dan)) == [carnot]
    assert selectors.has_role(dan, Role.DAN, carnot)


def test_held_roles_are_the_persons_roles_as_rows_named_as_their_places_show(
    carnot, django_assert_num_queries
):
    """Read once per instance, in the order they were given, each named as its
    establishment or académie shows itself (what « À faire » prints)."""
    person = User.objects.create_user("cumul")
    assign_role(person, Role.PRINCIPAL, establishment=carnot)
    assign_role(person, Role.DAN, academy_id=carnot.academy_id)
    with django_assert_num_queries(1):
        held = selectors.held_roles(person)
    assert held == [
        selectors.HeldRole(Role.PRINCIPAL, carnot.pk, None, "Lycée Carnot (0210015C)"),
        selectors.HeldRole(Role.DAN, None, carnot.academy_id, "Académie de Dijon"),
    ]
    assert [role.place for role in held] == [
        str(assignment.establishment or assignment.academy)
        for assignment in selectors.roles_of(person).order_by("pk")
    ]
    assert [role.role_label for role in held] == [
        "Chef d'établissement",
        "Délégation académique au numérique",
    ]
    with django_assert_num_queries(0):
        assert selectors.held_roles(person) is held
    assert selectors.held_roles(User.objects.get(pk=person.pk)) == held  # read anew


def test_the_national_role_is_held_in_no_academie_and_no_establishment(carnot):
    national = User.objects.create_user("dne")
    first = assign_role(national, Role.NATIONAL)
    assert assign_role(national, Role.NATIONAL) == first
    assert (first.academy_id, first.establishment_id) == (None, None)
    with pytest.raises(ValidationError) as refused:
        assign_role(national, Role.NATIONAL, establishment=carnot)
    assert refused.value.code == "national_scope"
    assert selectors.reads_every_academy(national)
    # It reads every establishment, as it reads every letter.
    assert list(selectors.establishments_visible_to(national)) == [carnot]
