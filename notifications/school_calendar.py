"""The school holidays of each zone (``QuietPeriod``), loaded from the ministry's open
data: the « Calendrier scolaire » dataset (``fr-en-calendrier-scolaire`` on
data.education.gouv.fr), exported as CSV.

The export has one row per holiday and académie (a zone's holidays come once for each
of its académies), semicolon-separated, with a header of labels (``Description;
Population;Date de début;Date de fin;Académies;Zones;annee_scolaire``) or of field
names (``description;population;start_date;end_date;location;zones;annee_scolaire``).
Its dates are instants at midnight in Paris, written with an offset
(``2026-12-19T00:00:00+01:00`` or ``2026-12-18T23:00:00+00:00``): the official day is
the day in Paris.

The dataset's convention: pupils leave *after classes* on the start date and come back
the morning of the end date. So the quiet days run from the day after the start (from
the start itself when it is a Saturday or a Sunday) to the day before the end.

Loading is idempotent: a zone's holiday is known by its label (« Vacances de Noël
2026-2027 »); loading the file again changes nothing, and a newer file corrects the
dates. Rows for teachers only (« Enseignants ») and for zones the application does not
know (overseas, whose calendars differ from one territory to the next) are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from governance.models import HolidayZone
from notifications.models import QuietPeriod

PARIS = ZoneInfo("Europe/Paris")

# The sample checked in with the code: the 2026-2027 Christmas holidays of zones A, B
# and C, for the tests and the demonstration.
SAMPLE = Path(__file__).resolve().parent / "data" / "calendrier-scolaire-2026-2027.csv"

# Each column as the export names it: its label, or its field name.
COLUMNS = {
    "description": ("Description",),
    "population": ("Population",),
    "start": ("Date de début", "start_date"),
    "end": ("Date de fin", "end_date"),
    "zones": ("Zones",),
    "year": ("annee_scolaire", "Année scolaire"),
}

ZONES = {
    "zone a": HolidayZone.A,
    "zone b": HolidayZone.B,
    "zone c": HolidayZone.C,
    "corse": HolidayZone.CORSE,
}


class CalendarFileError(ValueError):
    """The file is not an export of the « Calendrier scolaire » dataset."""


def official_date(value: str) -> dt.date:
    """The official day of one of the dataset's dates: the day in Paris of the instant
    it writes (a bare ``2026-12-19`` is that day)."""
    text = value.strip()
    if "T" not in text:
        return dt.date.fromisoformat(text[:10])
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(PARIS).date()


def quiet_span(departure: dt.date, resumption: dt.date) -> tuple[dt.date, dt.date]:
    """The quiet days of a holiday, from the day pupils leave after classes to the day
    they come back in the morning."""
    first = departure if departure.weekday() >= 5 else departure + dt.timedelta(days=1)
    return first, resumption - dt.timedelta(days=1)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_rows: int = 0


def _columns(header: list[str]) -> dict[str, int]:
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    found: dict[str, int] = {}
    for key, accepted in COLUMNS.items():
        index = next(
            (names.index(name.lower()) for name in accepted if name.lower() in names), None
        )
        if index is None and key != "population":
            raise CalendarFileError(
                f"Colonne « {accepted[0]} » absente : ce fichier n'est pas un export du "
                "jeu de données « Calendrier scolaire »."
            )
        if index is not None:
            found[key] = index
    return found


def read_holidays(text: str) -> tuple[dict[tuple[str, str], tuple[dt.date, dt.date]], int]:
    """(zone, label) → the quiet days of that holiday, and the number of rows skipped.
    A holiday whose académies of one zone differ is quiet over all their days."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = ";" if ";" in first_line else ","
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    header = next(rows, None)
    if header is None:
        raise CalendarFileError("Le fichier est vide.")
    column = _columns(header)
    spans: dict[tuple[str, str], tuple[dt.date, dt.date]] = {}
    skipped = 0
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            index = column.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""

        zone = ZONES.get(cell("zones").lower())
        if zone is None or "enseignant" in cell("population").lower():
            skipped += 1
            continue
        try:
            first, last = quiet_span(official_date(cell("start")), official_date(cell("end")))
        except ValueError:  # no end published yet (« Début des vacances d'été »), or no date
            skipped += 1
            continue
        if last < first:
            skipped += 1
            continue
        label = f"{cell('description')} {cell('year')}".strip()[:120]
        if (zone, label) in spans:
            known_first, known_last = spans[(zone, label)]
            first, last = min(first, known_first), max(last, known_last)
        spans[(zone, label)] = (first, last)
    return spans, skipped


def import_school_calendar(text: str) -> ImportResult:
    """Load the holidays of an export of the dataset as ``QuietPeriod`` rows: created,
    corrected, or left as they are."""
    spans, skipped = read_holidays(text)
    result = ImportResult(skipped_rows=skipped)
    with transaction.atomic():
        for (zone, label), (first, last) in sorted(spans.items()):
            period = QuietPeriod.objects.filter(zone=zone, label=label).order_by("pk").first()
            if period is None:
                QuietPeriod.objects.create(zone=zone, label=label, starts_on=first, ends_on=last)
                result.created += 1
            elif (period.starts_on, period.ends_on) != (first, last):
                period.starts_on, period.ends_on = first, last
                period.save(update_fields=["starts_on", "ends_on"])
                result.updated += 1
            else:
                result.unchanged += 1
    return result
