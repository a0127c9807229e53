"""The ministry's open-data CSV exports, read alike by the directory's and the school
calendar's imports (governance/opendata.py)."""

import pytest

from governance.opendata import EmptyFile, MissingColumns, export_rows

COLUMNS = {"name": ("Nom", "nom"), "city": ("Commune",), "note": ("Remarque",)}


def test_labels_or_field_names_any_case_a_byte_order_mark_and_either_separator():
    for text in (
        "\ufeffNOM;commune\nCollège Rameau;Dijon\n\n;\nLycée Carnot;Dijon\n",
        'nom,Commune\n"Collège Rameau",Dijon\n"Lycée\nCarnot",Dijon\n',
    ):
        rows = list(export_rows(text.splitlines(keepends=True), COLUMNS, optional={"note"}))
        # Blank rows are left out; a quoted cell may hold a line break.
        assert [row("name").replace("\n", " ") for row in rows] == [
            "Collège Rameau",
            "Lycée Carnot",
        ]
        assert rows[0]("city") == "Dijon"
        assert rows[0]("note") == ""  # an optional column the file lacks


def test_a_missing_column_or_an_empty_file_is_said_at_once():
    with pytest.raises(MissingColumns) as refused:
        export_rows(["nom;ville\n"], COLUMNS, optional={"note"})
    assert refused.value.missing == ["Commune"]
    with pytest.raises(EmptyFile):
        export_rows(["\n"], COLUMNS)
