"""Reminders follow the real calendar (DESIGN §6): a reminder that falls due on a weekend,
a French public holiday (from the ``holidays`` library) or the school holidays of the
académie's zone goes out on the next working day, by time travel through the daily
sweep. The school holidays come from the ministry's open data, loaded by
``import_school_calendar`` (idempotent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.models import Academy, Establishment, HolidayZone
from notifications.models import Email, QuietPeriod, Reminder, ReminderPolicy
from notifications.schedule import QuietCalendar
from notifications.school_calendar import (
    SAMPLE,
    SAMPLE_ICS,
    import_school_calendar,
    import_school_calendar_ics,
    official_date,
    zone_from_file_name,
)
from notifications.services import plan_reminders
from tests.factories import fire, make_letter, make_school

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WEEK = dt.timedelta(days=7)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def one_reminder_only() -> None:
    """Only the référents' agreement reminder, once, seven days after the concertation
    opened: each letter below has exactly one reminder, due on a known day."""
    ReminderPolicy.objects.exclude(code="concertation-accord").update(is_active=False)
    ReminderPolicy.objects.filter(code="concertation-accord").update(
        offsets_days=[7], repeat_every_days=None, max_count=1
    )


def due_on(clock: Any, due: dt.date, prefix: str, academy: Academy | None = None) -> Any:
    """A letter whose single reminder falls due on ``due``: its concertation opens a
    week before."""
    clock.move_to(at(due - WEEK, 10))
    school = make_school(prefix, academy=academy)
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    return letter


def sent_on(clock: Any, day: dt.date) -> set[tuple[int, dt.date]]:
    """Run the daily sweep on ``day`` (09:00 in Paris): the (letter, due day) of each
    reminder it sent, each with its e-mail."""
    clock.move_to(at(day))
    before = set(Reminder.objects.values_list("pk", flat=True))
    plan_reminders()
    made = list(Reminder.objects.exclude(pk__in=before).select_related("email"))
    for reminder in made:
        assert reminder.email is not None
        assert reminder.email.topic == "reminder"
    return {(r.letter_id, r.due_on) for r in made}


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    while first <= last:
        yield first
        first += dt.timedelta(days=1)


def test_christmas_and_the_zone_christmas_holidays_wait_for_monday_4_january(clock):
    call_command("import_school_calendar", stdout=StringIO())
    christmas = dt.date(2026, 12, 25)  # a Friday, public holiday, in the holidays
    in_holidays = dt.date(2026, 12, 22)  # a Tuesday of the zone's Christmas holidays
    on_christmas = due_on(clock, christmas, "Noel")
    in_the_holidays = due_on(clock, in_holidays, "Vacances")
    assert on_christmas.establishment.academy.holiday_zone == HolidayZone.A

    for day in days(in_holidays, dt.date(2027, 1, 3)):
        assert sent_on(clock, day) == set(), day
    # School starts again on Monday 4 January 2027, the first working day.
    assert sent_on(clock, dt.date(2027, 1, 4)) == {
        (on_christmas.pk, christmas),
        (in_the_holidays.pk, in_holidays),
    }
    assert Reminder.objects.count() == 4  # two référents each
    assert Email.objects.filter(topic="reminder").count() == 4
    assert sent_on(clock, dt.date(2027, 1, 5)) == set()


def test_christmas_day_alone_is_quiet_without_school_holidays(clock):
    """Without the zone's holidays loaded, the public holiday alone holds the reminder
    until after the weekend."""
    assert not QuietPeriod.objects.exists()
    letter = due_on(clock, dt.date(2026, 12, 25), "Ferie")
    for day in days(dt.date(2026, 12, 25), dt.date(2026, 12, 27)):
        assert sent_on(clock, day) == set(), day
    assert sent_on(clock, dt.date(2026, 12, 28)) == {(letter.pk, dt.date(2026, 12, 25))}


@pytest.mark.parametrize(
    ("due", "sent"),
    [
        (dt.date(2026, 5, 1), dt.date(2026, 5, 4)),  # 1 May, a Friday: Monday
        (dt.date(2026, 7, 14), dt.date(2026, 7, 15)),  # 14 July, a Tuesday
        (dt.date(2027, 7, 14), dt.date(2027, 7, 15)),  # 14 July, a Wednesday
        (dt.date(2027, 3, 13), dt.date(2027, 3, 15)),  # a Saturday: Monday
        (dt.date(2027, 3, 29), dt.date(2027, 3, 30)),  # Easter Monday (a movable feast)
        (dt.date(2027, 5, 6), dt.date(2027, 5, 7)),  # Ascension Thursday
        (dt.date(2027, 3, 10), dt.date(2027, 3, 10)),  # an ordinary Wednesday
    ],
)
def test_a_reminder_due_on_a_quiet_day_goes_out_on_the_next_working_day(clock, due, sent):
    letter = due_on(clock, due, "Jour")
    for day in days(due, sent - dt.timedelta(days=1)):
        assert sent_on(clock, day) == set(), day
    assert sent_on(clock, sent) == {(letter.pk, due)}


def test_good_friday_is_quiet_in_alsace_moselle_only(clock):
    """Good Friday (26 March 2027) is a public holiday under Alsace-Moselle's local law:
    a school in Moselle hears on Monday after Easter Monday, one in Côte-d'Or that day."""
    good_friday = dt.date(2027, 3, 26)
    metz = due_on(clock, good_friday, "Metz")
    Establishment.objects.filter(pk=metz.establishment_id).update(department_code="057")
    dijon = due_on(clock, good_friday, "Dijon")
    Establishment.objects.filter(pk=dijon.establishment_id).update(department_code="021")
    assert sent_on(clock, good_friday) == {(dijon.pk, good_friday)}
    for day in days(dt.date(2027, 3, 27), dt.date(2027, 3, 29)):  # weekend, Easter Monday
        assert sent_on(clock, day) == set(), day
    assert sent_on(clock, dt.date(2027, 3, 30)) == {(metz.pk, good_friday)}
    # 26 December is the other local holiday; Strasbourg's Alsace counts them too.
    calendar = QuietCalendar.load()
    boxing_day = dt.date(2028, 12, 26)  # a Tuesday
    assert calendar.is_quiet(boxing_day, HolidayZone.B, "067")
    assert not calendar.is_quiet(boxing_day, HolidayZone.B, "021")
    assert calendar.is_quiet(boxing_day, HolidayZone.B, "68")  # as an administrator types it


def test_the_calendar_names_the_next_working_day_per_zone():
    QuietPeriod.objects.create(
        zone=HolidayZone.B,
        label="Vacances d'hiver",
        starts_on=dt.date(2027, 2, 20),
        ends_on=dt.date(2027, 3, 7),
    )
    calendar = QuietCalendar.load()
    assert calendar.next_working_day(dt.date(2027, 2, 22), HolidayZone.B) == dt.date(2027, 3, 8)
    assert calendar.next_working_day(dt.date(2027, 2, 22), HolidayZone.A) == dt.date(2027, 2, 22)
    # New Year's Day, a Friday: Monday 4 January.
    assert calendar.next_working_day(dt.date(2027, 1, 1), HolidayZone.A) == dt.date(2027, 1, 4)


# The import ----------------------------------------------------------------------------


def test_the_sample_loads_the_christmas_holidays_of_each_zone_once():
    out = StringIO()
    call_command("import_school_calendar", stdout=out)
    assert "3 période(s) créée(s)" in out.getvalue()
    assert "(enseignants, territoires sans calendrier ici, dates manquantes)" in out.getvalue()
    rows = set(QuietPeriod.objects.values_list("zone", "label", "starts_on", "ends_on"))
    assert rows == {
        (zone, "Vacances de Noël 2026-2027", dt.date(2026, 12, 19), dt.date(2027, 1, 3))
        for zone in (HolidayZone.A, HolidayZone.B, HolidayZone.C)
    }
    first = list(QuietPeriod.objects.order_by("pk").values())

    again = StringIO()
    call_command("import_school_calendar", str(SAMPLE), stdout=again)
    assert "0 période(s) créée(s), 0 corrigée(s), 3 inchangée(s)" in again.getvalue()
    assert list(QuietPeriod.objects.order_by("pk").values()) == first


HEADER_FIELDS = "description;population;start_date;end_date;location;zones;annee_scolaire\n"


def test_the_export_with_field_names_and_utc_instants_reads_the_same_days():
    text = (
        HEADER_FIELDS
        # Midnight in Paris, written in UTC: the official day is the day in Paris.
        + "Vacances de Noël;-;2026-12-18T23:00:00+00:00;2027-01-03T23:00:00+00:00;"
        "Dijon;Zone A;2026-2027\n"
        # Teachers' duplicate, a territory without a zone here, a summer without its
        # end: skipped.
         + "Vacances d'Été;Enseignants;2027-07-03T22:00:00+00:00;2027-08-31T22:00:00+00:00;"
        "Dijon;Zone A;2026-2027\n"
        + "Vacances de Noël;-;2026-12-19T00:00:00-10:00;2027-01-04T00:00:00-10:00;"
        "Polynésie;Polynésie;2026-2027\n"
        + "Début des Vacances d'Été;-;2027-07-03T22:00:00+00:00;;Dijon;Zone A;2026-2027\n"
    )
    result = import_school_calendar(text)
    assert (result.created, result.skipped_rows) == (1, 3)
    period = QuietPeriod.objects.get()
    assert (period.zone, period.starts_on, period.ends_on) == (
        HolidayZone.A,
        dt.date(2026, 12, 19),
        dt.date(2027, 1, 3),
    )


def test_a_newer_file_corrects_the_dates_in_place():
    call_command("import_school_calendar", stdout=StringIO())
    before = dict(QuietPeriod.objects.values_list("zone", "pk"))
    # A Wednesday departure after classes: quiet from Thursday.
    corrected = HEADER_FIELDS + "Vacances de Noël;-;2026-12-16;2027-01-04;Lille;Zone B;2026-2027\n"
    result = import_school_calendar(corrected)
    assert (result.created, result.updated) == (0, 1)
    period = QuietPeriod.objects.get(zone=HolidayZone.B)
    assert period.pk == before[HolidayZone.B]
    assert (period.starts_on, period.ends_on) == (dt.date(2026, 12, 17), dt.date(2027, 1, 3))


def test_a_file_that_is_not_the_calendar_is_refused(tmp_path):
    path = tmp_path / "autre.csv"
    path.write_text("nom;date\nx;2026-01-01\n", encoding="utf-8")
    with pytest.raises(Exception, match="Colonne « Description » absente"):
        call_command("import_school_calendar", str(path), stdout=StringIO())
    assert not QuietPeriod.objects.exists()


def test_official_dates_are_the_days_in_paris():
    assert official_date("2026-12-18T23:00:00+00:00") == dt.date(2026, 12, 19)
    assert official_date("2026-12-19T00:00:00+01:00") == dt.date(2026, 12, 19)
    assert official_date("2026-12-19") == dt.date(2026, 12, 19)


# The ministry's iCalendar files -------------------------------------------------------


def ics(*events: str) -> bytes:
    """An iCalendar file as the ministry publishes them, with these events (SUMMARY,
    DTSTART, DTEND as ``summary|20250419|20250422``; no DTEND when it is empty)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//FR"]
    for number, event in enumerate(events):
        summary, start, end = event.split("|")
        lines += ["BEGIN:VEVENT", f"UID:{number}@test", "DTSTAMP:20250114T124531Z"]
        lines += [f"DTSTART;VALUE=DATE:{start}", f"SUMMARY:{summary}"]
        lines += [f"DTEND;VALUE=DATE:{end}"] if end else []
        lines += ["END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_the_zone_a_ics_loads_the_same_christmas_as_the_csv():
    out = StringIO()
    call_command("import_school_calendar", str(SAMPLE_ICS), stdout=out)
    # The zone comes from the published file name; the start of school has no end.
    assert "1 période(s) créée(s)" in out.getvalue()
    assert "1 événement(s) ignoré(s)" in out.getvalue()
    assert set(QuietPeriod.objects.values_list("zone", "label", "starts_on", "ends_on")) == {
        (HolidayZone.A, "Vacances de Noël 2026-2027", dt.date(2026, 12, 19), dt.date(2027, 1, 3))
    }
    again = StringIO()
    call_command("import_school_calendar", str(SAMPLE_ICS), stdout=again)
    assert "0 période(s) créée(s), 0 corrigée(s), 1 inchangée(s)" in again.getvalue()
    # The CSV knows the same holiday under the same label: zone A's is left as it is.
    csv_out = StringIO()
    call_command("import_school_calendar", str(SAMPLE), stdout=csv_out)
    assert "2 période(s) créée(s), 0 corrigée(s), 1 inchangée(s)" in csv_out.getvalue()


def test_a_combined_ics_joins_the_pieces_of_each_zone_holiday():
    """The all-zones file cuts a holiday where the zones part: each zone's pieces are
    joined before its quiet days are counted (Tuesday 22 April stays quiet in zone A)."""
    data = ics(
        "Vacances de Printemps - Zone A|20250428|20250505",
        "Vacances de Printemps - Zones A/C - Corse|20250422|20250428",
        "Vacances de Printemps - Zones A/B/C - Corse|20250419|20250422",
        "Vacances de Printemps - Zones B/C - Corse|20250412|20250419",
        "Vacances de Printemps - Zone B|20250405|20250412",
        "Début des Vacances d'Été - Corse|20250705|20250705",
        "Vacances d'Été(prérentrée Enseignants) - Zones A/B/C|20250829|20250901",
    )
    result = import_school_calendar_ics(data)
    assert (result.created, result.skipped_rows) == (4, 2)
    spans = {
        zone: (first, last)
        for zone, first, last in QuietPeriod.objects.filter(
            label="Vacances de Printemps 2024-2025"
        ).values_list("zone", "starts_on", "ends_on")
    }
    assert spans == {
        HolidayZone.A: (dt.date(2025, 4, 19), dt.date(2025, 5, 4)),
        HolidayZone.B: (dt.date(2025, 4, 5), dt.date(2025, 4, 21)),
        HolidayZone.C: (dt.date(2025, 4, 12), dt.date(2025, 4, 27)),
        HolidayZone.CORSE: (dt.date(2025, 4, 12), dt.date(2025, 4, 27)),
    }
    # Given a zone, only that zone's pieces count.
    QuietPeriod.objects.all().delete()
    assert import_school_calendar_ics(data, HolidayZone.B).created == 1
    assert QuietPeriod.objects.get().zone == HolidayZone.B


def test_an_ics_that_names_no_zone_needs_one(tmp_path):
    path = tmp_path / "calendrier.ics"
    path.write_bytes(ics("Vacances de Noël|20261219|20270104"))
    with pytest.raises(CommandError, match="ne dit pas sa zone"):
        call_command("import_school_calendar", str(path), stdout=StringIO())
    assert not QuietPeriod.objects.exists()
    call_command("import_school_calendar", str(path), "--zone", "corse", stdout=StringIO())
    assert QuietPeriod.objects.get().zone == HolidayZone.CORSE
    with pytest.raises(CommandError, match="Zone « D » inconnue"):
        call_command("import_school_calendar", str(path), "--zone", "D", stdout=StringIO())
    with pytest.raises(CommandError, match=r"--zone ne vaut que pour un fichier \.ics"):
        call_command("import_school_calendar", str(SAMPLE), "--zone", "A", stdout=StringIO())
    broken = tmp_path / "casse.ics"
    broken.write_text("nom;date\nx;y\n", encoding="utf-8")
    with pytest.raises(CommandError, match="pas un calendrier iCalendar"):
        call_command("import_school_calendar", str(broken), stdout=StringIO())


def test_zones_from_the_published_file_names():
    assert zone_from_file_name("Calendrier_Scolaire_Zone_A.ics") == HolidayZone.A
    assert zone_from_file_name("calendrier-scolaire-zone-c.ics") == HolidayZone.C
    assert zone_from_file_name("Calendrier_Scolaire_Corse.ics") == HolidayZone.CORSE
    assert zone_from_file_name("Calendrier_Scolaire_Zones_A_B_C.ics") is None


# The académies' zones ------------------------------------------------------------------


def test_the_csv_sets_the_zone_of_the_academies_it_names():
    dijon = Academy.objects.create(code="dijon", name="Académie de Dijon", holiday_zone="C")
    lille = Academy.objects.create(code="ac-lille", name="Académie de Lille")  # A by default
    creteil = Academy.objects.create(code="creteil", name="Créteil", holiday_zone="C")
    orleans = Academy.objects.create(code="orleans-tours", name="Académie d'Orléans-Tours")
    out = StringIO()
    call_command("import_school_calendar", stdout=out)
    zones = dict(Academy.objects.values_list("pk", "holiday_zone"))
    assert zones == {
        dijon.pk: HolidayZone.A,
        lille.pk: HolidayZone.B,
        creteil.pk: HolidayZone.C,
        orleans.pk: HolidayZone.A,  # not in the file: left as it was
    }
    assert (
        "Zone des académies : Académie de Dijon → Zone A, Académie de Lille → Zone B ; "
        "1 déjà à jour." in out.getvalue()
    )
    again = StringIO()
    call_command("import_school_calendar", stdout=again)
    assert "Zone des académies : aucune changée ; 3 déjà à jour." in again.getvalue()


def test_a_csv_location_is_matched_without_case_or_accents():
    academy = Academy.objects.create(code="orleans-tours", name="Académie d'Orléans-Tours")
    text = (
        HEADER_FIELDS + "Vacances de Noël;-;2026-12-19;2027-01-04;ORLEANS-TOURS;Zone B;2026-2027\n"
    )
    result = import_school_calendar(text)
    academy.refresh_from_db()
    assert academy.holiday_zone == HolidayZone.B
    assert result.academies_set == [("Académie d'Orléans-Tours", "Zone B")]


def test_an_overseas_academie_keeps_its_own_calendar_in_its_own_time(clock):
    """La Réunion's long holidays are the austral summer, December to January. Its
    dates are instants at midnight in Saint-Denis (UTC+4), written in UTC: the days are
    Réunion's, not Paris's. Its schools' reminders wait; a zone A school's go out."""
    reunion = Academy.objects.create(code="la-reunion", name="Académie de La Réunion")
    dijon = Academy.objects.create(code="dijon", name="Académie de Dijon")
    text = (
        HEADER_FIELDS
        + "Vacances de l'été austral;-;2026-12-18T20:00:00+00:00;2027-01-24T20:00:00+00:00;"
        "La Réunion;La Réunion;2026-2027\n"
    )
    result = import_school_calendar(text)
    assert result.academies_set == [("Académie de La Réunion", "La Réunion")]
    period = QuietPeriod.objects.get()
    # From Saturday 19 December (midnight in Saint-Denis) to the eve of Monday 25
    # January, when pupils come back; read in Paris time, the end would be a day early.
    assert (period.zone, period.starts_on, period.ends_on) == (
        HolidayZone.REUNION,
        dt.date(2026, 12, 19),
        dt.date(2027, 1, 24),
    )
    in_summer = dt.date(2027, 1, 12)  # a Tuesday: Dijon's schools are back
    waiting = due_on(clock, in_summer, "Reunion", academy=reunion)
    going = due_on(clock, in_summer, "Dijon", academy=dijon)
    assert sent_on(clock, in_summer) == {(going.pk, in_summer)}
    assert sent_on(clock, dt.date(2027, 1, 25)) == {(waiting.pk, in_summer)}


def test_a_reminder_in_the_holidays_of_the_zone_the_calendar_gave_waits(clock):
    """The académie de Dijon was wrongly in zone B: the zone A calendar (ICS) lists it,
    so its letters' reminders wait for the end of zone A's Christmas holidays, while
    those of an académie still in zone B, whose holidays are not loaded, go out."""
    dijon = Academy.objects.create(code="dijon", name="Académie de Dijon", holiday_zone="B")
    lille = Academy.objects.create(code="lille", name="Académie de Lille", holiday_zone="B")
    out = StringIO()
    call_command("import_school_calendar", str(SAMPLE_ICS), stdout=out)
    assert "Académie de Dijon → Zone A" in out.getvalue()

    in_holidays = dt.date(2026, 12, 22)  # a Tuesday of zone A's Christmas holidays
    waiting = due_on(clock, in_holidays, "Dijon", academy=dijon)
    going = due_on(clock, in_holidays, "Lille", academy=lille)
    assert sent_on(clock, in_holidays) == {(going.pk, in_holidays)}
    for day in days(dt.date(2026, 12, 23), dt.date(2027, 1, 3)):
        assert sent_on(clock, day) == set(), day
    assert sent_on(clock, dt.date(2027, 1, 4)) == {(waiting.pk, in_holidays)}
