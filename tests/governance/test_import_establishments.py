"""``import_establishments`` loads the académies and the public EPLE of the national
directory's open-data export (the committed sample is in the export's exact format),
leaves out every other row with its reason, marks closed establishments, and changes
nothing when run again."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.directory import department_authority, import_directory, kind_of
from governance.models import Academy, Establishment, EstablishmentKind, HolidayZone
from tests.factories import school_year
from workflow.selectors.dashboard import TableQuery, establishment_rows

pytestmark = pytest.mark.django_db

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "governance"
    / "data"
    / "annuaire-education-echantillon.csv"
)
TODAY = dt.date(2026, 9, 7)


def run(path: Path = SAMPLE) -> str:
    out = StringIO()
    with time_machine.travel(dt.datetime(2026, 9, 7, 10, tzinfo=dt.UTC), tick=False):
        call_command("import_establishments", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> tuple[list[Any], list[Any]]:
    return (
        list(Establishment.objects.order_by("uai").values()),
        list(Academy.objects.order_by("code").values()),
    )


def test_the_sample_creates_the_public_eple_with_their_place():
    out = run()
    rows = {
        e.uai: (e.name, e.kind, e.city, e.department_code, e.department_name, e.academy.code)
        for e in Establishment.objects.select_related("academy")
    }
    assert rows == {
        "0219801P": (
            "Collège Les Tilleuls",
            EstablishmentKind.COLLEGE,
            "Dijon",
            "021",
            "Côte-d'Or",
            "dijon",
        ),
        "0719802U": (
            "Collège du Val de Saône",
            EstablishmentKind.COLLEGE,
            "Chalon-sur-Saône",
            "071",
            "Saône-et-Loire",
            "dijon",
        ),
        "0219803S": (
            "Lycée Les Marronniers",
            EstablishmentKind.LYCEE,
            "Beaune",
            "021",
            "Côte-d'Or",
            "dijon",
        ),
        "0899804Y": (
            "Lycée polyvalent Les Vignes",
            EstablishmentKind.LYCEE,
            "Auxerre",
            "089",
            "Yonne",
            "dijon",
        ),
        "0589805T": (
            "Lycée professionnel Les Forges",
            EstablishmentKind.LYCEE_PROFESSIONNEL,
            "Nevers",
            "058",
            "Nièvre",
            "dijon",
        ),
        "0219806V": (
            "EREA Les Cèdres",
            EstablishmentKind.EREA,
            "Chenôve",
            "021",
            "Côte-d'Or",
            "dijon",
        ),
        "0599807P": (
            "Collège Les Hirondelles",
            EstablishmentKind.COLLEGE,
            "Roubaix",
            "059",
            "Nord",
            "lille",
        ),
        "0629808Z": (
            "Lycée Les Terrils",
            EstablishmentKind.LYCEE,
            "Lens",
            "062",
            "Pas-de-Calais",
            "lille",
        ),
        "0719811D": (
            "Collège des Carrières",
            EstablishmentKind.COLLEGE,
            "Autun",
            "071",
            "Saône-et-Loire",
            "dijon",
        ),
    }
    # A collège answers to its département, a lycée, an LP or an EREA to its région.
    authorities = dict(Establishment.objects.values_list("uai", "local_authority"))
    assert authorities["0219801P"] == "Département de la Côte-d'Or"
    assert authorities["0599807P"] == "Département du Nord"
    assert authorities["0219803S"] == "Région Bourgogne-Franche-Comté"
    assert authorities["0629808Z"] == "Région Hauts-de-France"
    # The two académies, with their zones.
    academies = {a.code: (a.name, a.holiday_zone) for a in Academy.objects.all()}
    assert academies == {
        "dijon": ("Académie de Dijon", HolidayZone.A),
        "lille": ("Académie de Lille", HolidayZone.B),
    }
    assert "Établissements : 9 créé(s), 0 mis à jour, 0 inchangé(s)" in out
    assert "Académies créées : Académie de Dijon, Académie de Lille" in out
    assert "16 ligne(s) lue(s)" in out


def test_every_row_left_out_is_counted_with_its_reason():
    out = run()
    assert "Lignes écartées : 6." in out
    assert "  - établissement privé : 1" in out
    assert "  - premier degré (école) : 1" in out
    assert "  - autre type d'établissement (ni collège, ni lycée, ni EREA) : 1" in out
    assert "  - autre ministère de tutelle que l'Éducation nationale : 1" in out
    assert "section rattachée" in out
    # The UAI whose check letter is wrong is named.
    assert "  - UAI invalide (format ou lettre de contrôle) : 1 (0219812A)" in out
    for left_out in ("0219809", "0219810", "0219812", "0219813", "0719814", "0219815"):
        assert not Establishment.objects.filter(uai__startswith=left_out).exists()


def test_a_closed_establishment_is_marked_and_a_repeated_uai_is_said():
    out = run()
    closed = Establishment.objects.get(uai="0719811D")
    assert closed.closed_on == TODAY  # « FERME » without a date: the day it was seen closed
    assert set(Establishment.objects.filter(closed_on__isnull=False)) == {closed}
    assert "1 marqué(s) fermé(s)" in out
    assert (
        "UAI présents sur plusieurs lignes : 1 — 0899804Y (2 lignes) ; "
        "la dernière ligne de chacun est retenue." in out
    )


def test_a_second_run_changes_nothing():
    run()
    before = snapshot()
    again = run()
    assert "Établissements : 0 créé(s), 0 mis à jour, 9 inchangé(s) ; 0 marqué(s) fermé(s)" in again
    assert "Académies créées : aucune ; renommées : aucune." in again
    assert snapshot() == before


def test_a_closed_establishment_keeps_the_day_it_was_first_seen_closed():
    run()
    out = StringIO()
    with time_machine.travel(dt.datetime(2026, 10, 1, 10, tzinfo=dt.UTC), tick=False):
        call_command("import_establishments", str(SAMPLE), stdout=out)
    assert Establishment.objects.get(uai="0719811D").closed_on == TODAY
    assert "0 mis à jour" in out.getvalue()


def test_a_changed_name_is_one_update_and_a_reopened_school_is_cleared(tmp_path):
    run()
    text = SAMPLE.read_text(encoding="utf-8")
    changed = tmp_path / "annuaire.csv"
    renamed = text.replace("Collège Les Tilleuls", "Collège Simone-Veil")
    changed.write_text(renamed, encoding="utf-8")
    out = run(changed)
    assert "Établissements : 0 créé(s), 1 mis à jour, 8 inchangé(s)" in out
    renamed_school = Establishment.objects.get(uai="0219801P")
    assert renamed_school.name == "Collège Simone-Veil"
    # ... and the dashboard's search finds it by its new name, typed in a hurry.
    found = establishment_rows(
        renamed_school.academy, school_year(), TableQuery(search="college simone veil")
    )
    assert [e.uai for e in found] == ["0219801P"]

    reopened = tmp_path / "rouvert.csv"
    lines = text.splitlines(keepends=True)
    lines = [
        line.replace(";FERME;", ";OUVERT;") if line.startswith("0719811D") else line
        for line in lines
    ]
    reopened.write_text("".join(lines), encoding="utf-8")
    out = run(reopened)
    assert Establishment.objects.get(uai="0719811D").closed_on is None
    assert "0 marqué(s) fermé(s), 1 rouvert(s)" in out


def test_an_existing_academy_and_establishment_are_found_and_updated():
    """The académie an administrator made (by code or name) is reused, and an
    establishment typed by hand is completed from the directory."""
    dijon = Academy.objects.create(code="ac-dijon", name="Académie de Dijon", holiday_zone="C")
    Establishment.objects.create(
        uai="0219801P",
        name="College Tilleuls",
        kind=EstablishmentKind.COLLEGE,
        local_authority="?",
        academy=dijon,
    )
    out = run()
    assert Academy.objects.count() == 2
    dijon.refresh_from_db()
    assert (dijon.code, dijon.holiday_zone) == ("ac-dijon", "C")  # zone: the calendar's job
    school = Establishment.objects.get(uai="0219801P")
    assert (school.name, school.city, school.department_code, school.academy_id) == (
        "Collège Les Tilleuls",
        "Dijon",
        "021",
        dijon.pk,
    )
    assert "Établissements : 8 créé(s), 1 mis à jour" in out
    assert "Académies créées : Académie de Lille ;" in out


def test_the_last_row_of_a_repeated_uai_wins():
    header = (
        "identifiant_de_l_etablissement;nom_etablissement;type_etablissement;"
        "statut_public_prive;libelle_nature;code_departement;libelle_departement;"
        "nom_commune;libelle_academie;libelle_region;etat;date_fermeture\n"
    )
    text = (
        header + "0219801P;Collège A;Collège;Public;COLLEGE;021;Côte-d'Or;Dijon;Dijon;"
        "Bourgogne-Franche-Comté;OUVERT;\n"
        + "0219801P;Collège B;Collège;Public;COLLEGE;021;Côte-d'Or;Is-sur-Tille;Dijon;"
        "Bourgogne-Franche-Comté;OUVERT;\n"
        # A published closing date is the day it closed.
         + "0219803S;Lycée C;Lycée;Public;LYCEE POLYVALENT;021;Côte-d'Or;Beaune;Dijon;"
        "Bourgogne-Franche-Comté;FERME;2026-07-07\n"
    )
    result = import_directory(text.splitlines(keepends=True), today=TODAY)
    assert (result.created, result.repeated_uais) == (2, {"0219801P": 2})
    school = Establishment.objects.get(uai="0219801P")
    assert (school.name, school.city) == ("Collège B", "Is-sur-Tille")
    assert Establishment.objects.get(uai="0219803S").closed_on == dt.date(2026, 7, 7)


def test_a_file_without_the_expected_columns_is_refused_in_french(tmp_path):
    path = tmp_path / "autre.csv"
    path.write_text("uai;nom\n0219801P;Collège\n", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("import_establishments", str(path), stdout=StringIO())
    message = str(raised.value)
    assert "Colonne(s) absente(s) : « identifiant_de_l_etablissement »" in message
    assert "Annuaire de l'éducation" in message
    assert not Establishment.objects.exists()
    assert not Academy.objects.exists()


def test_a_missing_file_is_refused_in_french(tmp_path):
    with pytest.raises(CommandError, match=r"Lecture de .* impossible"):
        call_command("import_establishments", str(tmp_path / "absent.csv"), stdout=StringIO())


def test_the_portal_export_with_capitalised_labels_reads_the_same(tmp_path):
    text = SAMPLE.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    path = tmp_path / "labels.csv"
    path.write_text(
        "\ufeff" + ";".join(name.capitalize() for name in header.split(";")) + "\n" + rest,
        encoding="utf-8",
    )
    run(path)
    assert Establishment.objects.count() == 9


def test_kinds_and_authorities_as_published():
    assert kind_of("Lycée", "LYCEE D ENSEIGNEMENT GENERAL") == EstablishmentKind.LYCEE
    assert kind_of("Lycée", "LYCEE D ENSEIGNEMENT TECHNOLOGIQUE") == EstablishmentKind.LYCEE
    assert kind_of("Lycée", "LYCEE PROFESSIONNEL") == EstablishmentKind.LYCEE_PROFESSIONNEL
    assert kind_of("EREA", "") == EstablishmentKind.EREA
    assert kind_of("Lycée", "SECTION D ENSEIGNEMENT GENERAL ET TECHNOLOGIQUE") is None
    assert kind_of("Lycée", "LYCEE D ENSEIGNEMENT GENERAL ET TECHNOLOGIQUE AGRICOLE") is None
    assert department_authority("Yvelines") == "Département des Yvelines"
    assert department_authority("Ain") == "Département de l'Ain"
    assert department_authority("Ille-et-Vilaine") == "Département d'Ille-et-Vilaine"
    assert department_authority("Paris") == "Département de Paris"


def test_progress_is_shown_on_a_terminal_only(tmp_path):
    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    text = SAMPLE.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    path = tmp_path / "grand.csv"
    # 1 200 rows of first-degree schools, all left out: the progress counts them.
    school = next(line for line in rest.splitlines() if line.startswith("0219810"))
    path.write_text(header + "\n" + (school + "\n") * 1200, encoding="utf-8")
    terminal, piped = Terminal(), StringIO()
    call_command("import_establishments", str(path), stdout=StringIO(), stderr=terminal)
    call_command("import_establishments", str(path), stdout=StringIO(), stderr=piped)
    assert "\r500 lignes lues…" in terminal.getvalue()
    assert "\r1000 lignes lues…" in terminal.getvalue()
    assert piped.getvalue() == ""
