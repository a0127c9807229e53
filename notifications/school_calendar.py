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

The ministry also publishes the calendar as iCalendar files, one per zone
(``Calendrier_Scolaire_Zone_A.ics``: « Vacances de Noël - Zone A »), or one for all
zones whose holidays come in pieces named after the zones they cover (« Vacances de
Printemps - Zones A/B », then « - Zone A »). Each event runs from ``DTSTART`` (the day
pupils leave after classes) to ``DTEND`` (the morning they come back), as in the CSV:
a zone's pieces of one holiday are joined before the quiet days are counted. The zone
of an event without one in its name is the file's: given, or read from the published
file name.

Loading is idempotent: a zone's holiday is known by its label (« Vacances de Noël
2026-2027 », the same from the CSV or the ICS); loading the file again changes nothing,
and a newer file corrects the dates. The overseas académies (Guadeloupe, Guyane,
Martinique, Mayotte, La Réunion) each have their own zone, whose dates are read in
their own time. Rows for teachers only (« Enseignants ») and for the territories the
application does not know (Polynésie, Nouvelle-Calédonie, …) are skipped.

The calendar also says which académies are in which zone (the CSV's « Académies »
column, ``location``; a per-zone ICS's event locations): each académie of the
application whose name matches, without regard to case or accents (« Dijon », for
« Académie de Dijon »), gets its zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from django.db import transaction

from governance.models import Academy, HolidayZone
from governance.opendata import EmptyFile, MissingColumns, export_rows
from governance.text import normalized
from notifications.models import QuietPeriod

PARIS = ZoneInfo("Europe/Paris")

# The sample checked in with the code: the 2026-2027 Christmas holidays of zones A, B
# and C, for the tests and the demonstration.
SAMPLE = Path(__file__).resolve().parent / "data" / "calendrier-scolaire-2026-2027.csv"
# The same holidays as the ministry's iCalendar file of zone A, under its published name.
SAMPLE_ICS = Path(__file__).resolve().parent / "data" / "Calendrier_Scolaire_Zone_A.ics"

# Each column as the export names it: its label, or its field name.
COLUMNS = {
    "description": ("Description",),
    "population": ("Population",),
    "start": ("Date de début", "start_date"),
    "end": ("Date de fin", "end_date"),
    "zones": ("Zones",),
    "year": ("annee_scolaire", "Année scolaire"),
    "location": ("Académies", "location"),
}
OPTIONAL_COLUMNS = {"population", "location"}

# Each zone as the export's « Zones » column names it (normalized).
ZONES = {
    "zone-a": HolidayZone.A,
    "zone-b": HolidayZone.B,
    "zone-c": HolidayZone.C,
    "corse": HolidayZone.CORSE,
    "guadeloupe": HolidayZone.GUADELOUPE,
    "guyane": HolidayZone.GUYANE,
    "martinique": HolidayZone.MARTINIQUE,
    "mayotte": HolidayZone.MAYOTTE,
    "la-reunion": HolidayZone.REUNION,
    "reunion": HolidayZone.REUNION,
}
# Where an overseas zone's days are counted: its dates are instants at its own midnight.
LOCAL_TIME = {
    HolidayZone.GUADELOUPE: ZoneInfo("America/Guadeloupe"),
    HolidayZone.GUYANE: ZoneInfo("America/Cayenne"),
    HolidayZone.MARTINIQUE: ZoneInfo("America/Martinique"),
    HolidayZone.MAYOTTE: ZoneInfo("Indian/Mayotte"),
    HolidayZone.REUNION: ZoneInfo("Indian/Reunion"),
}


class CalendarFileError(ValueError):
    """The file is not an export of the « Calendrier scolaire » dataset."""


def official_date(value: str, local: ZoneInfo = PARIS) -> dt.date:
    """The official day of one of the dataset's dates: the day, in the zone's own time
    (``local``: Paris, or an overseas zone's), of the instant it writes (a bare
    ``2026-12-19`` is that day)."""
    text = value.strip()
    if "T" not in text:
        return dt.date.fromisoformat(text[:10])
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(local).date()


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
    # The académies whose zone was set: (name, zone label).
    academies_set: list[tuple[str, str]] = field(default_factory=list)
    academies_unchanged: int = 0


Spans = dict[tuple[str, str], tuple[dt.date, dt.date]]


def read_holidays(text: str) -> tuple[Spans, int]:
    """(zone, label) → the quiet days of that holiday, and the number of rows skipped.
    A holiday whose académies of one zone differ is quiet over all their days."""
    spans, skipped, _zones = _read_csv(text)
    return spans, skipped


def _read_csv(text: str) -> tuple[Spans, int, dict[str, str]]:
    """The holidays of the CSV export, the rows skipped, and each académie's zone."""
    try:
        rows = export_rows(text.splitlines(keepends=True), COLUMNS, optional=OPTIONAL_COLUMNS)
    except EmptyFile as exc:
        raise CalendarFileError("Le fichier est vide.") from exc
    except MissingColumns as exc:
        raise CalendarFileError(
            f"Colonne « {exc.missing[0]} » absente : ce fichier n'est pas un export du "
            "jeu de données « Calendrier scolaire »."
        ) from exc
    spans: Spans = {}
    skipped = 0
    academy_zones: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for cell in rows:
        zone = ZONES.get(normalized(cell("zones")))
        if cell("location") and cell("zones"):
            academy_zones[cell("location")][zone or HolidayZone.OUTRE_MER] += 1
        if zone is None or "enseignant" in cell("population").lower():
            skipped += 1
            continue
        local = LOCAL_TIME.get(zone, PARIS)
        try:
            first, last = quiet_span(
                official_date(cell("start"), local), official_date(cell("end"), local)
            )
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
    zones = {place: counts.most_common(1)[0][0] for place, counts in academy_zones.items()}
    return spans, skipped, zones


def import_school_calendar(text: str) -> ImportResult:
    """Load the holidays of a CSV export of the dataset as ``QuietPeriod`` rows
    (created, corrected, or left as they are), and set the zone of the académies it
    names."""
    spans, skipped, zones = _read_csv(text)
    return _store(spans, zones, ImportResult(skipped_rows=skipped))


# « Vacances de Noël - Zone A », « Vacances d'Hiver - Zones A/B/C - Corse »: the label,
# then the zones the event covers.
ZONE_SUFFIX = re.compile(r"\s+-\s+(?=(?:zones?\s|corse\b))", re.IGNORECASE)
ZONE_FILE_NAME = re.compile(r"zone[\s_-]*([abc])(?![a-z])", re.IGNORECASE)


def zone_from_file_name(name: str) -> str | None:
    """The zone of a ministry's ICS file from its published name
    (``Calendrier_Scolaire_Zone_A.ics``), or None."""
    match = ZONE_FILE_NAME.search(name)
    if match:
        return HolidayZone(match[1].upper()).value
    return HolidayZone.CORSE.value if "corse" in name.lower() else None


def _event_zones(parts: list[str]) -> set[str]:
    """The zones named after an event's label: « Zones A/B/C », « Zone A », « Corse »."""
    zones: set[str] = set()
    for part in parts:
        words = part.strip()
        if normalized(words) == "corse":
            zones.add(HolidayZone.CORSE)
        elif normalized(words).startswith("zone"):
            zones.update(HolidayZone(letter) for letter in re.findall(r"\b([ABC])\b", words[4:]))
    return zones


def _event_day(value: dt.date | dt.datetime) -> dt.date:
    """An event's day: a date as written, a moment as its day in Paris."""
    if isinstance(value, dt.datetime):
        return value.astimezone(PARIS).date() if value.tzinfo else value.date()
    return value


def school_year_of(day: dt.date) -> str:
    """The school year a holiday starting on ``day`` belongs to (« 2026-2027 »)."""
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def read_ics(data: bytes, zone: str | None = None) -> tuple[Spans, int, dict[str, str]]:
    """The holidays of a ministry's iCalendar file, the events skipped, and the zone of
    the académies its per-zone events list. ``zone`` is the file's zone, for the
    events that name none; an event naming zones counts for the file's zone only."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise CalendarFileError(
            f"Ce fichier n'est pas un calendrier iCalendar (.ics) lisible : {exc}"
        ) from exc
    raw: dict[tuple[str, str], tuple[dt.date, dt.date]] = {}
    skipped = 0
    academies: dict[str, str] = {}
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY", "")).strip()
        label, *zone_parts = ZONE_SUFFIX.split(summary)
        named = _event_zones(zone_parts)
        if named:
            zones = named & {zone} if zone else named
        else:
            if zone is None:
                raise CalendarFileError(
                    f"L'événement « {summary} » ne dit pas sa zone : donnez-la (--zone A, B, "
                    "C ou corse), ou gardez le nom publié du fichier "
                    "(Calendrier_Scolaire_Zone_A.ics)."
                )
            zones = {zone}
        # A per-zone event lists the académies of its zone.
        location = str(event.get("LOCATION", ""))
        if len(named or zones) == 1 and not normalized(location).startswith("zone"):
            for place in location.split(","):
                if place.strip():
                    academies[place.strip()] = next(iter(named or zones))
        start, end = event.get("DTSTART"), event.get("DTEND")
        if not zones or "enseignant" in label.lower() or start is None or end is None:
            skipped += 1
            continue
        departure, resumption = _event_day(start.dt), _event_day(end.dt)
        if resumption <= departure:  # « Début des Vacances d'Été »: no end published yet
            skipped += 1
            continue
        key_label = f"{label.strip()} {school_year_of(departure)}".strip()[:120]
        for one in zones:
            known_start, known_end = raw.get((one, key_label), (departure, resumption))
            raw[(one, key_label)] = (min(departure, known_start), max(resumption, known_end))
    spans: Spans = {}
    for key, (departure, resumption) in raw.items():
        first, last = quiet_span(departure, resumption)
        if last < first:
            skipped += 1
            continue
        spans[key] = (first, last)
    return spans, skipped, academies


def import_school_calendar_ics(data: bytes, zone: str | None = None) -> ImportResult:
    """Load the holidays of a ministry's iCalendar file as ``QuietPeriod`` rows, like
    the CSV, and set the zone of the académies its events list."""
    spans, skipped, academies = read_ics(data, zone)
    return _store(spans, academies, ImportResult(skipped_rows=skipped))


def _academy_key(name: str) -> str:
    """« Académie de Dijon », « dijon » and « Dijon » alike: dijon."""
    return re.sub(r"^academie-d(e|es|u)?-", "", normalized(name))


def set_academy_zones(zones: dict[str, str], result: ImportResult) -> None:
    """Give each académie of the application the zone the calendar gives its name
    (or its code)."""
    by_key = {_academy_key(place): zone for place, zone in zones.items()}
    for academy in Academy.objects.order_by("name"):
        zone = by_key.get(_academy_key(academy.name)) or by_key.get(_academy_key(academy.code))
        if zone is None:
            continue
        if academy.holiday_zone == zone:
            result.academies_unchanged += 1
            continue
        academy.holiday_zone = zone
        academy.save(update_fields=["holiday_zone"])
        result.academies_set.append((academy.name, str(HolidayZone(zone).label)))


def _store(spans: Spans, academies: dict[str, str], result: ImportResult) -> ImportResult:
    with transaction.atomic():
        set_academy_zones(academies, result)
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
