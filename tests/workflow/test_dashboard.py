"""The académie's dashboard (issue 31): its key figures, the establishments' table
(filters, sort, pages), the national view, and what the national role may not do.

Most tests read the module's ``world`` (tests/workflow/conftest.py): in the académie
of Dijon, one establishment per state with its letter, and one without a letter; in
Besançon, one establishment without a letter."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance.models import (
    Academy,
    Establishment,
    EstablishmentKind,
    Role,
    RoleAssignment,
    User,
)
from tests.factories import STATES, World, next_uai, school_year, shown
from workflow.errors import NotPermitted
from workflow.lifecycle.engine import available_transitions
from workflow.lifecycle.table import TRANSITIONS
from workflow.models import (
    AuditEvent,
    LetterReferent,
    LetterState,
    MissionLetter,
    RecognitionMode,
    YearEndReport,
)
from workflow.selectors.dashboard import (
    ROWS_PER_PAGE,
    TableQuery,
    academy_board,
    establishment_rows,
    key_figures,
)

pytestmark = pytest.mark.django_db

DIJON_OPEN = len(STATES) + 1  # one establishment per state, and one without a letter


def _national() -> User:
    user = User.objects.create_user("dne", first_name="Inès", last_name="Garcia", password="pw")
    RoleAssignment.objects.create(user=user, role=Role.NATIONAL)
    return user


def _dijon(world: World) -> Academy:
    return world.other.establishment.academy


def _uais(rows: Any) -> list[str]:
    return [row.uai for row in rows]


def _table_uais(page: str) -> list[str]:
    """The UAIs of the establishments' table as the page shows them, in order."""
    table = page[page.index('id="etablissements"') :]
    return re.findall(r'<span class="fr-text--xs">([0-9]{7}[A-Z])', table)


def test_the_key_figures_of_the_year(world: World, settings: Any):
    dijon, year = _dijon(world), world.other.year
    # A closed establishment without a letter counts nowhere.
    Establishment.objects.create(
        uai=next_uai(),
        name="Collège fermé",
        kind=EstablishmentKind.COLLEGE,
        academy=dijon,
        closed_on=dt.date(2025, 7, 1),
    )
    before_due = key_figures([dijon], year, dt.date(2027, 6, 1))[dijon.pk]
    assert before_due.establishments == DIJON_OPEN
    # In force or later: in_force, report_due, report_submitted, closed.
    assert before_due.covered == 4
    assert before_due.coverage_percent == round(100 * 4 / DIJON_OPEN)
    assert before_due.counts == dict.fromkeys(LetterState.values, 1)
    assert before_due.letters == len(STATES)
    # Every letter not withdrawn: 1 250 € of IMP and 1 h of décharge (1 250 € a week-hour).
    assert before_due.imp_total == Decimal("1250.00") * (len(STATES) - 1)
    assert before_due.envelope_median == Decimal("2500.00")
    assert (before_due.below_minimum, before_due.within_bounds, before_due.above_maximum) == (
        0,
        len(STATES) - 1,
        0,
    )
    assert (before_due.reports_due, before_due.reports_received) == (1, 2)
    assert before_due.reports_late == 0
    after_due = key_figures([dijon], year, dt.date(2027, 7, 1))[dijon.pk]
    assert after_due.reports_late == 1

    # The envelope's bounds are the settings' (governance/imp.py check_envelope).
    settings.IMP_ENVELOPE_MAX = Decimal("2000.00")
    tight = key_figures([dijon], year, dt.date(2027, 6, 1))[dijon.pk]
    assert tight.above_maximum == len(STATES) - 1
    settings.IMP_ENVELOPE_MAX, settings.IMP_ENVELOPE_MIN = Decimal("5000"), Decimal("3000")
    loose = key_figures([dijon], year, dt.date(2027, 6, 1))[dijon.pk]
    assert loose.below_minimum == len(STATES) - 1


def test_the_dashboard_page_shows_the_figures_the_french_way(world: World, client: Any):
    # The archived letter's report came first, the other one's a week later.
    for state, day in (("closed", 1), ("report_submitted", 8)):
        YearEndReport.objects.filter(letter_id=world.letters[state]).update(
            submitted_at=dt.datetime(2027, 6, day, tzinfo=dt.UTC)
        )
    client.force_login(world.other.dan)
    page = client.get(f"/tableau-de-bord/?annee={world.other.year.code}").content.decode()
    assert "4 sur 11" in page
    assert "11\u202f250,00\u00a0€" in page  # the IMP committed
    assert "2\u202f500,00\u00a0€" in page  # the median envelope, each establishment's
    assert "Tableau de bord — Académie de Dijon, 2026-2027" in page
    # The charts, drawn by the DSFR's own component, served from here.
    assert "<bar-chart" in page
    assert "/static/vendor/dsfr-chart/BarChart.js" in page
    # ... and their figures in tables.
    assert "<caption>Lettres de l'année par état</caption>" in page
    # The reports received, newest first, each linking to the report.
    closed = MissionLetter.objects.get(pk=world.letters["closed"])
    submitted = MissionLetter.objects.get(pk=world.letters["report_submitted"])
    received = page[page.index('id="comptes-rendus"') :]
    links = re.findall(r'href="/lettres/(\d+)/compte-rendu/"', received)
    assert links == [str(submitted.pk), str(closed.pk)]
    assert "remis le 08/06/2027" in received


def test_the_table_filters(world: World, client: Any):
    dijon, year = _dijon(world), world.other.year
    draft = world.schools["draft"].establishment
    in_force = world.schools["in_force"].establishment
    Establishment.objects.filter(academy=dijon).update(
        department_code="071", department_name="Saône-et-Loire"
    )
    Establishment.objects.filter(pk__in=[draft.pk, in_force.pk]).update(
        department_code="021", department_name="Côte-d'Or"
    )
    other = Establishment.objects.get(pk=world.other.establishment.pk)
    other.kind, other.name = EstablishmentKind.COLLEGE, "Collège Sans Lettre"
    other.save(update_fields=["kind", "name"])

    def rows(**query: str) -> list[str]:
        return _uais(establishment_rows(dijon, year, TableQuery(**query)))

    assert len(rows()) == DIJON_OPEN
    assert sorted(rows(department="021")) == sorted([draft.uai, in_force.uai])
    assert rows(kind="college") == [world.other.establishment.uai]
    assert rows(state="in_force") == [in_force.uai]
    assert rows(state="aucune") == [world.other.establishment.uai]
    # A name whatever its accents, case and punctuation, as a DAN types it.
    for typed in ("sans lettre", "COLLEGE SANS", "collège sans-lettre", "  Sans   Lettre "):
        assert rows(search=typed) == [world.other.establishment.uai], typed
    assert rows(search="colleges") == []
    assert rows(search="-") == []
    assert rows(search=in_force.uai.lower()) == [in_force.uai]
    assert rows(search=in_force.uai[:7], state="draft") == []
    # The foreign académie's establishment is not in Dijon's table.
    assert world.foreign.establishment.uai not in rows()

    # The same through the page's GET parameters.
    client.force_login(world.other.dan)
    url = f"/tableau-de-bord/?annee={year.code}"
    page = client.get(f"{url}&departement=021").content.decode()
    assert sorted(_table_uais(page)) == sorted([draft.uai, in_force.uai])
    assert '<option value="021" selected>' in page
    page = client.get(f"{url}&etat=aucune&type=college").content.decode()
    assert _table_uais(page) == [world.other.establishment.uai]
    assert "Aucune lettre" in page
    page = client.get(f"{url}&recherche={in_force.uai}").content.decode()
    assert _table_uais(page) == [in_force.uai]
    page = client.get(f"{url}&recherche=introuvable").content.decode()
    assert "Aucun établissement ne répond à ces critères." in page


def test_the_table_sorts_by_its_columns(world: World, client: Any):
    dijon, year = _dijon(world), world.other.year
    by_state = _uais(establishment_rows(dijon, year, TableQuery(sort="etat")))
    expected = [world.other.establishment.uai] + [
        world.schools[state].establishment.uai for state in STATES
    ]
    assert by_state == expected  # no letter first, then along the lifecycle
    descending = _uais(establishment_rows(dijon, year, TableQuery(sort="-etat")))
    assert descending == expected[::-1]
    # The envelope: without a letter first, then the withdrawn one's (0 €), then 2 500 €.
    by_envelope = list(establishment_rows(dijon, year, TableQuery(sort="enveloppe")))
    assert by_envelope[0].uai == world.other.establishment.uai
    assert by_envelope[1].uai == world.schools["withdrawn"].establishment.uai
    by_report = _uais(establishment_rows(dijon, year, TableQuery(sort="-compte-rendu")))
    assert set(by_report[:2]) == {
        world.schools["report_submitted"].establishment.uai,
        world.schools["closed"].establishment.uai,
    }
    # An unknown column sorts by name.
    assert _uais(establishment_rows(dijon, year, TableQuery(sort="n'importe"))) == _uais(
        Establishment.objects.filter(academy=dijon).order_by("name", "uai")
    )

    client.force_login(world.other.dan)
    page = client.get(f"/tableau-de-bord/?annee={year.code}&tri=-etat").content.decode()
    assert _table_uais(page) == expected[::-1]
    assert '<th scope="col" aria-sort="descending">' in page
    assert page.count("aria-sort=") == 1  # only the sorted column says how
    # Its link sorts it the other way; the others' sort ascending first.
    assert "tri=etat" in page
    assert "tri=enveloppe" in page


def test_the_table_pages(world: World, client: Any):
    dijon = _dijon(world)
    Establishment.objects.bulk_create(
        Establishment(
            uai=next_uai(),
            name=f"Collège {number:03d}",
            kind=EstablishmentKind.COLLEGE,
            academy=dijon,
            department_code="058",
            department_name="Nièvre",
        )
        for number in range(ROWS_PER_PAGE)
    )
    client.force_login(world.other.dan)
    url = f"/tableau-de-bord/?annee={world.other.year.code}&tri=etablissement"
    first = client.get(url).content.decode()
    assert len(_table_uais(first)) == ROWS_PER_PAGE
    assert "page 1 sur 2" in first
    assert 'aria-label="Pagination des établissements"' in first
    second = client.get(f"{url}&page=2").content.decode()
    assert len(_table_uais(second)) == DIJON_OPEN
    assert "page 2 sur 2" in second
    assert not set(_table_uais(first)) & set(_table_uais(second))
    # The filters carry over from page to page, the sort too.
    filtered = client.get(f"{url}&departement=058&page=2").content.decode()
    assert "Aucun établissement ne répond à ces critères." not in filtered
    assert "departement=058" in filtered
    assert "tri=etablissement" in filtered


def test_the_national_role_reads_every_academy(world: World, client: Any):
    national = _national()
    client.force_login(national)
    year = world.other.year.code
    home = client.get("/").content.decode()
    assert 'href="/tableau-de-bord/"' in home  # in the menu
    page = client.get(f"/tableau-de-bord/?annee={year}").content.decode()
    assert "Vue nationale — 2026-2027" in page
    assert "Académie de Besançon" in page
    assert "Académie de Dijon" in page
    assert f'href="?annee={year}&amp;academie=besancon"' in page
    assert f'href="?annee={year}&amp;academie=dijon"' in page
    assert "4 sur 11 (36 %)" in page  # Dijon's coverage
    assert "0 sur 1 (0 %)" in page  # Besançon's

    besancon = client.get(f"/tableau-de-bord/?annee={year}&academie=besancon").content.decode()
    assert _table_uais(besancon) == [world.foreign.establishment.uai]
    assert "Toutes les académies" in besancon
    dijon = client.get(f"/tableau-de-bord/?annee={year}&academie=dijon").content.decode()
    assert len(_table_uais(dijon)) == DIJON_OPEN
    # It reads each letter, and its report.
    letter = world.letters["report_submitted"]
    assert client.get(f"/lettres/{letter}/").status_code == 200
    assert client.get(f"/lettres/{letter}/compte-rendu/").status_code == 200
    api = APIClient()
    api.force_authenticate(national)
    assert api.get("/api/v1/letters/").json()["count"] == len(STATES)


def test_the_dan_reads_her_academy_only(world: World, client: Any):
    client.force_login(world.other.dan)
    year = world.other.year.code
    page = client.get(f"/tableau-de-bord/?annee={year}").content.decode()
    assert "Tableau de bord — Académie de Dijon" in page
    assert world.foreign.establishment.uai not in page
    assert client.get(f"/tableau-de-bord/?annee={year}&academie=besancon").status_code == 403
    assert client.get("/tableau-de-bord/?annee=1999-2000").status_code == 404
    with pytest.raises(NotPermitted):
        academy_board(
            world.foreign.dan, "dijon", world.other.year, TableQuery(), None, dt.date(2027, 1, 1)
        )
    # The foreign DAN has no national view: her own académie's dashboard.
    client.force_login(world.foreign.dan)
    page = client.get(f"/tableau-de-bord/?annee={year}").content.decode()
    assert "Tableau de bord — Académie de Besançon" in page
    assert "Vue nationale" not in page
    client.force_login(world.other.principal)
    assert client.get("/tableau-de-bord/").status_code == 403


def test_the_national_role_fires_nothing_and_edits_nothing(world: World):
    national = _national()
    api = APIClient()
    api.force_authenticate(national)
    for state in STATES:
        letter = MissionLetter.objects.get(pk=world.letters[state])
        assert available_transitions(letter, national) == [], state
        url = f"/api/v1/letters/{letter.pk}/"
        assert api.get(f"{url}transitions/").json() == []
        events = AuditEvent.objects.filter(letter=letter).count()
        payload = shown(letter)
        for name in TRANSITIONS:
            response = api.post(f"{url}transitions/{name}/", payload, format="json")
            assert response.status_code in (403, 409), (state, name, response.status_code)
        responses = [
            api.patch(url, {"version": letter.version, "qualification": "x"}, format="json"),
            api.post(f"{url}comments/", {"body": "Non."}, format="json"),
        ]
        assert {r.status_code for r in responses} <= {403}, state
        fresh = MissionLetter.objects.get(pk=letter.pk)
        assert (fresh.state, fresh.version) == (letter.state, letter.version)
        assert AuditEvent.objects.filter(letter=letter).count() == events
    # Nor a letter of its own: it heads no establishment.
    response = api.post(
        "/api/v1/letters/",
        {"establishment": world.other.establishment.uai, "school_year": "2026-2027"},
        format="json",
    )
    assert response.status_code in (400, 403)
    assert not MissionLetter.objects.filter(establishment=world.other.establishment).exists()


def _academy_of(size: int, code: str) -> tuple[Academy, User]:
    """An académie of ``size`` establishments, each with a letter of 2026-2027 carrying
    one référent (IMP) and, one in three, a report received; and its DAN."""
    academy = Academy.objects.create(code=code, name=f"Académie {code}")
    year = school_year("2026-2027")
    dan = User.objects.create_user(f"dan-{code}", password="pw")
    RoleAssignment.objects.create(user=dan, role=Role.DAN, academy=academy)
    teacher = User.objects.create_user(f"teacher-{code}", password="pw")
    establishments = Establishment.objects.bulk_create(
        Establishment(
            uai=next_uai(),
            name=f"Collège {code} {number}",
            kind=EstablishmentKind.COLLEGE,
            academy=academy,
            department_code=f"0{number % 3}1",
            department_name=f"Département {number % 3}",
        )
        for number in range(size)
    )
    states = [LetterState.IN_FORCE, LetterState.REPORT_SUBMITTED, LetterState.DRAFT]
    letters = MissionLetter.objects.bulk_create(
        MissionLetter(
            establishment=establishment,
            academy=academy,
            school_year=year,
            state=states[number % 3],
            created_by=dan,
        )
        for number, establishment in enumerate(establishments)
    )
    LetterReferent.objects.bulk_create(
        LetterReferent(
            letter=letter,
            user=teacher,
            mode=RecognitionMode.IMP,
            imp_amount=Decimal("1250.00"),
        )
        for letter in letters
    )
    YearEndReport.objects.bulk_create(
        YearEndReport(letter=letter, submitted_at=dt.datetime(2027, 6, 2, tzinfo=dt.UTC))
        for letter in letters
        if letter.state == LetterState.REPORT_SUBMITTED
    )
    return academy, dan


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_dashboard_reads_a_fixed_number_of_queries(client: Any, django_assert_max_num_queries):
    _small, small_dan = _academy_of(5, "petite")
    large, large_dan = _academy_of(30, "grande")
    url = "/tableau-de-bord/?annee=2026-2027&tri=enveloppe"
    client.force_login(small_dan)
    few = _queries(client, url)
    client.force_login(large_dan)
    many = _queries(client, url)
    assert few == many
    with django_assert_max_num_queries(few):
        page = client.get(url + "&etat=in_force&departement=011").content.decode()
    assert "Collège grande" in page
    figures = key_figures([large], school_year("2026-2027"), dt.date(2027, 7, 1))[large.pk]
    assert (figures.establishments, figures.covered, figures.reports_received) == (30, 20, 10)
    # And the national table, whatever the number of académies.
    national = _national()
    client.force_login(national)
    assert _queries(client, "/tableau-de-bord/?annee=2026-2027") <= few
