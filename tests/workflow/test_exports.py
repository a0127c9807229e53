"""The DAN's exports (issue 31): one row per letter of her académie for a year, with
its référents and amounts, in CSV for French Excel and in XLSX with typed cells."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from governance.models import Academy, Role, RoleAssignment, User
from tests.factories import advance, make_letter, make_school

pytestmark = pytest.mark.django_db

XLSX = "/tableau-de-bord/export.xlsx"
CSV = "/tableau-de-bord/export.csv"


@pytest.fixture
def dijon():
    """Two schools of Dijon: a letter in force (1 250 € IMP and a 1 h décharge), and a
    draft (two IMP of 312,50 €)."""
    school = make_school("Export")
    other = make_school("Export2")
    in_force = advance(make_letter(school), school, "in_force")
    draft = make_letter(other, imp1="312.50", hours2=None, imp2="312.50")
    return school, other, in_force, draft


def _workbook_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    return sheet, rows[1], rows[2:]


def test_the_xlsx_has_one_typed_row_per_letter_with_its_referents(client, dijon):
    school, other, in_force, _draft = dijon
    client.force_login(school.dan)
    response = client.get(f"{XLSX}?annee=2026-2027")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="lettres-de-mission-dijon-2026-2027.xlsx"'
    )
    sheet, header, rows = _workbook_rows(response)
    assert "dijon" in sheet.title
    assert "2026-2027" in sheet.title
    assert sheet["A1"].value == "Lettres de mission — Académie de Dijon — 2026-2027"
    assert sheet.freeze_panes == "C3"
    assert sheet.auto_filter.ref == f"A2:{sheet.cell(2, len(header)).column_letter}4"
    assert len(rows) == 2
    by_uai = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    signed = by_uai[school.establishment.uai]
    assert signed["Établissement"] == "Lycée Export"
    assert signed["Année scolaire"] == "2026-2027"
    assert signed["État"] == "En vigueur"
    assert isinstance(signed["Dans cet état depuis le"], dt.datetime)
    assert signed["En vigueur le"] == signed["Dans cet état depuis le"]
    assert (signed["Référent 1"], signed["Reconnaissance 1"]) == ("Sophie Durand", "IMP")
    assert signed["Montant 1 (€)"] == 1250
    assert isinstance(signed["Montant 1 (€)"], int | float)
    assert (signed["Référent 2"], signed["Reconnaissance 2"]) == (
        "Karim Benali",
        "Décharge horaire",
    )
    assert signed["Décharge 2 (h/semaine)"] == 1
    assert signed["Montant 2 (€)"] == 1250
    assert signed["Référent 3"] is None
    assert signed["Montant 3 (€)"] is None
    assert isinstance(signed["Signature 1 le"], dt.datetime)
    assert isinstance(signed["Signature de la direction le"], dt.datetime)
    assert signed["Total de la lettre (€)"] == 2500
    assert signed["Enveloppe de l'établissement (€)"] == 2500
    assert signed["Enveloppe"] == "dans les bornes"
    assert signed["Avis du conseil pédagogique"] == "Favorable"
    assert signed["Conseil pédagogique le"].date() == school.cp_meeting.starts_at.date()
    assert signed["Avis du conseil d'administration"] == "Favorable"
    assert signed["Compte rendu"] == "Pas encore attendu"
    assert signed["Lettre n°"] == in_force.pk
    drafted = by_uai[other.establishment.uai]
    assert drafted["État"] == "Brouillon"
    assert drafted["Montant 1 (€)"] == drafted["Montant 2 (€)"] == 312.5
    assert drafted["Enveloppe"] == "sous le minimum"
    assert drafted["Avis du conseil pédagogique"] is None
    assert drafted["Signature de la direction le"] is None
    # The cells' formats: amounts in euros, dates as dates.
    amount = header.index("Montant 1 (€)") + 1
    since = header.index("Dans cet état depuis le") + 1
    assert "€" in sheet.cell(3, amount).number_format
    assert sheet.cell(3, since).number_format == "DD/MM/YYYY"
    assert sheet.column_dimensions["B"].width >= 30


def test_the_csv_is_for_french_excel(client, dijon):
    school, other, _in_force, _draft = dijon
    client.force_login(school.dan)
    response = client.get(f"{CSV}?annee=2026-2027")
    assert response["Content-Disposition"] == (
        'attachment; filename="lettres-de-mission-dijon-2026-2027.csv"'
    )
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:3] == ["UAI", "Établissement", "Type"]
    by_uai = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert len(by_uai) == 2
    signed = by_uai[school.establishment.uai]
    assert signed["Montant 1 (€)"] == "1250,00"
    assert signed["Décharge 2 (h/semaine)"] == "1,00"
    assert signed["Total de la lettre (€)"] == "2500,00"
    assert re.fullmatch(r"\d\d/\d\d/20\d\d", signed["Dans cet état depuis le"])
    assert re.fullmatch(r"\d\d/\d\d/20\d\d", signed["Conseil pédagogique le"])
    assert signed["Référent 3"] == ""
    assert by_uai[other.establishment.uai]["Montant 2 (€)"] == "312,50"


def test_an_unknown_year_or_academy_answers_400_in_french(client, dijon):
    school = dijon[0]
    client.force_login(school.dan)
    response = client.get(f"{XLSX}?annee=1999-2000")
    assert response.status_code == 400
    assert "L&#x27;année scolaire « 1999-2000 » n&#x27;existe pas" in response.content.decode()
    assert client.get(f"{CSV}?annee=2026-2027&academie=atlantide").status_code == 400


def test_the_dan_of_another_academie_does_not_get_these_letters(client, dijon):
    school = dijon[0]
    besancon = Academy.objects.create(code="besancon", name="Académie de Besançon")
    elsewhere = make_school("Doubs", academy=besancon)
    make_letter(elsewhere)
    client.force_login(elsewhere.dan)
    _sheet, _header, rows = _workbook_rows(client.get(f"{XLSX}?annee=2026-2027"))
    assert [row[0] for row in rows] == [elsewhere.establishment.uai]
    assert client.get(f"{XLSX}?annee=2026-2027&academie=dijon").status_code == 403
    client.force_login(school.principal)
    assert client.get(XLSX).status_code == 403
    assert client.get(CSV).status_code == 403


def test_the_national_role_exports_the_academie_it_names(client, dijon):
    school = dijon[0]
    national = User.objects.create_user("dne", password="pw")
    RoleAssignment.objects.create(user=national, role=Role.NATIONAL)
    client.force_login(national)
    response = client.get(f"{CSV}?annee=2026-2027&academie=dijon")
    assert response.status_code == 200
    assert school.establishment.uai in response.content.decode("utf-8-sig")
    assert "dijon-2026-2027" in response["Content-Disposition"]
    # It reads every académie: it names the one it exports.
    response = client.get(f"{CSV}?annee=2026-2027")
    assert response.status_code == 400
    assert "Précisez l&#x27;académie à exporter." in response.content.decode()


def test_the_export_reads_a_fixed_number_of_queries(client):
    schools = [make_school(f"Count{n}") for n in range(20)]
    letters = [make_letter(school) for school in schools[:3]]
    advance(letters[0], schools[0], "in_force")
    client.force_login(schools[0].dan)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{XLSX}?annee=2026-2027")
        assert response.status_code == 200
        return len(captured)

    three = queries()
    more = [make_letter(school) for school in schools[3:]]
    advance(more[0], schools[3], "signature")
    advance(more[1], schools[4], "in_force")
    assert queries() == three
    _sheet, _header, rows = _workbook_rows(client.get(f"{XLSX}?annee=2026-2027"))
    assert len(rows) == 20
