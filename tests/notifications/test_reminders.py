"""The default reminder rules of DESIGN §6, by time travel: each rule reminds the right
people on the right days, once per occurrence, at most ``max_count`` times, never on a
quiet day (weekend, the school holidays of the académie's zone), and never in a burst
after a quiet stretch. The policies are data: editing them changes the reminders.

Every sweep below also checks the e-mail queued with each reminder and that a second
sweep the same day creates nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from governance.models import Academy, HolidayZone, Meeting, User
from governance.services import schedule_meeting
from notifications import emails, services
from notifications.emails import TOPICS
from notifications.models import (
    Email,
    EmailStatus,
    QuietPeriod,
    Reminder,
    ReminderPolicy,
)
from notifications.services import plan_reminders
from tests.factories import (
    School,
    advance,
    complete_report,
    fire,
    letter_content,
    make_letter,
    make_school,
    shown,
)
from workflow.audit.snapshot import content_sha256
from workflow.models import AgendaItem, LetterState
from workflow.services.content import update_letter
from workflow.services.letters import create_letter

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
Sent = set[tuple[str, str, int]]

WHY = {
    "principal": emails.PRINCIPAL,
    "referent1": emails.REFERENT,
    "referent2": emails.REFERENT,
    "cp_secretary": emails.SECRETARY,
    "ca_secretary": emails.SECRETARY,
}


def day(month: int, number: int, year: int = 2027) -> dt.date:
    return dt.date(year, month, number)


def at(when: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(when, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(at(day(1, 4)), tick=False) as traveller:
        yield traveller


def labels(*schools: School) -> dict[int, str]:
    """Who is who, by user id: ``referent1``, or ``Lycée X:referent1`` for several schools."""
    if len(schools) == 1:
        return {user.pk: name for name, user in schools[0].people().items()}
    return {
        user.pk: f"{school.establishment.name}:{name}"
        for school in schools
        for name, user in school.people().items()
    }


def _check_email(reminder: Reminder, label: str) -> None:
    email = reminder.email
    assert email is not None, reminder.key
    assert email.topic == "reminder"
    assert email.recipient_id == reminder.recipient_id
    assert email.to_address == reminder.recipient.email
    assert email.letter_id == reminder.letter_id
    assert email.status == EmailStatus.PENDING
    establishment = reminder.letter.establishment
    assert email.subject == f"{TOPICS['reminder'].subject} — {establishment.name} (2026-2027)"
    assert f"{reminder.policy.label} (rappel n° {reminder.occurrence})." in email.body_text
    assert f"/lettres/{reminder.letter_id}/" in email.body_text
    role = label.rsplit(":", 1)[-1]
    assert f"Vous recevez ce message parce que {WHY[role]}." in email.body_text


def sweep(clock: Any, when: dt.date, names: dict[int, str]) -> Sent:
    """Run the reminder sweep on ``when`` (09:00, Paris) and return what it created as
    ``{(policy, person, occurrence)}``, after checking each e-mail, and that running it
    again the same day creates nothing."""
    clock.move_to(at(when))
    before = set(Reminder.objects.values_list("pk", flat=True))
    result = plan_reminders()
    created = list(
        Reminder.objects.exclude(pk__in=before).select_related(
            "policy", "recipient", "email", "letter__establishment"
        )
    )
    assert result.reminders == len(created)
    for reminder in created:
        assert reminder.created_at.astimezone(PARIS).date() == when
        _check_email(reminder, names[reminder.recipient_id])
    assert plan_reminders().reminders == 0, f"second sweep on {when} created reminders"
    assert Email.objects.filter(topic="reminder").count() == Reminder.objects.count()
    return {(r.policy.code, names[r.recipient_id], r.occurrence) for r in created}


def due_on(code: str, user: User) -> list[tuple[int, dt.date]]:
    return list(
        Reminder.objects.filter(policy__code=code, recipient=user)
        .order_by("occurrence")
        .values_list("occurrence", "due_on")
    )


def in_concertation(clock: Any, when: dt.datetime, prefix: str, **school: Any) -> Any:
    """A school and its letter, whose concertation opens at ``when``."""
    clock.move_to(when)
    made = make_school(prefix, **school)
    letter = make_letter(made)
    fire(letter, "open_concertation", made.principal)
    return made, letter


# Concertation ----------------------------------------------------------------------------


def test_concertation_reminds_who_has_not_agreed_weekly_then_escalates(clock):
    school, letter = in_concertation(clock, at(day(3, 1)), "Concertation")  # Monday
    names = labels(school)
    clock.move_to(at(day(3, 2)))
    fire(letter, "agree", school.referent1, **shown(letter))

    assert sweep(clock, day(3, 5), names) == set()  # D+4
    assert sweep(clock, day(3, 8), names) == {("concertation-accord", "referent2", 1)}
    assert sweep(clock, day(3, 8), names) == set()
    assert sweep(clock, day(3, 12), names) == set()
    assert sweep(clock, day(3, 15), names) == {("concertation-accord", "referent2", 2)}
    assert sweep(clock, day(3, 19), names) == set()  # no escalation after only two
    assert sweep(clock, day(3, 22), names) == {
        ("concertation-accord", "referent2", 3),
        ("concertation-escalade", "principal", 1),
    }
    assert sweep(clock, day(3, 29), names) == set()  # Easter Monday, a public holiday
    assert sweep(clock, day(3, 30), names) == {
        ("concertation-accord", "referent2", 4),
        ("concertation-escalade", "principal", 2),
    }
    assert sweep(clock, day(4, 5), names) == {
        ("concertation-accord", "referent2", 5),
        ("concertation-escalade", "principal", 3),
    }
    assert sweep(clock, day(4, 12), names) == {
        ("concertation-accord", "referent2", 6),
        ("concertation-escalade", "principal", 4),
    }
    # Six reminders and four escalations at most.
    assert sweep(clock, day(4, 19), names) == set()
    assert sweep(clock, day(4, 26), names) == set()
    assert due_on("concertation-accord", school.referent2) == [
        (n, day(3, 1) + dt.timedelta(days=7 * n)) for n in range(1, 7)
    ]
    assert due_on("concertation-escalade", school.principal) == [
        (n, day(3, 1) + dt.timedelta(days=14 + 7 * n)) for n in range(1, 5)
    ]
    assert not Reminder.objects.filter(recipient=school.referent1).exists()


def test_no_escalation_once_every_referent_agreed(clock):
    school, letter = in_concertation(clock, at(day(3, 1)), "Accords")
    names = labels(school)
    clock.move_to(at(day(3, 2)))
    for referent in (school.referent1, school.referent2):
        fire(letter, "agree", referent, **shown(letter))
    assert sweep(clock, day(3, 8), names) == set()
    assert sweep(clock, day(3, 15), names) == set()
    assert sweep(clock, day(3, 22), names) == set()  # D+21: nobody is awaited


def test_a_new_version_restarts_the_concertation_clock(clock):
    school, letter = in_concertation(clock, at(day(3, 1)), "Version")
    names = labels(school)
    clock.move_to(at(day(3, 2)))
    fire(letter, "agree", school.referent1, **shown(letter))
    assert sweep(clock, day(3, 8), names) == {("concertation-accord", "referent2", 1)}

    clock.move_to(at(day(3, 10)))  # Wednesday: the content changes, version 2
    letter = update_letter(
        letter_id=letter.pk, user=school.principal, changes={"qualification": "PIX niveau 5"}
    )
    assert letter.version == 2

    assert sweep(clock, day(3, 15), names) == set()  # the old clock's second reminder
    assert sweep(clock, day(3, 16), names) == set()
    # D+7 of version 2; referent1's agreement was on version 1 and no longer counts.
    assert sweep(clock, day(3, 17), names) == {
        ("concertation-accord", "referent1", 1),
        ("concertation-accord", "referent2", 1),
    }
    assert due_on("concertation-accord", school.referent1) == [(1, day(3, 17))]
    assert sweep(clock, day(3, 22), names) == set()  # the old clock's escalation
    assert sweep(clock, day(3, 24), names) == {
        ("concertation-accord", "referent1", 2),
        ("concertation-accord", "referent2", 2),
    }


def test_the_anchor_day_is_the_day_in_paris(clock):
    # 00:30 on Tuesday in Paris is still Monday in UTC: the clock counts from Tuesday.
    school, _letter = in_concertation(clock, at(day(3, 2), 0, 30), "Minuit")
    names = labels(school)
    assert sweep(clock, day(3, 8), names) == set()
    assert sweep(clock, day(3, 9), names) == {
        ("concertation-accord", "referent1", 1),
        ("concertation-accord", "referent2", 1),
    }


# Councils' opinions ----------------------------------------------------------------------


def test_pedagogical_opinion_not_recorded_three_days_after_the_meeting(clock):
    clock.move_to(at(day(3, 1)))
    school = make_school("AvisCP")
    names = labels(school)
    letter = advance(make_letter(school), school, "concertation")
    for referent in (school.referent1, school.referent2):
        fire(letter, "agree", referent, **shown(letter))
    # The letter is on the agenda of Tuesday's meeting (not of yesterday's, school.cp_meeting).
    meeting = Meeting.objects.create(
        council=school.cp_meeting.council, starts_at=at(day(3, 2), 18), members_in_office=15
    )
    fire(letter, "submit_to_pedagogical_council", school.principal, meeting=meeting.pk)

    assert sweep(clock, day(3, 3), names) == set()
    assert sweep(clock, day(3, 4), names) == set()
    assert sweep(clock, day(3, 5), names) == {
        ("avis-cp", "cp_secretary", 1),
        ("avis-cp-chef", "principal", 1),
    }
    assert sweep(clock, day(3, 5), names) == set()
    assert sweep(clock, day(3, 11), names) == set()
    assert sweep(clock, day(3, 12), names) == {
        ("avis-cp", "cp_secretary", 2),
        ("avis-cp-chef", "principal", 2),
    }
    assert sweep(clock, day(3, 19), names) == {
        ("avis-cp", "cp_secretary", 3),
        ("avis-cp-chef", "principal", 3),
    }
    assert sweep(clock, day(3, 26), names) == {
        ("avis-cp", "cp_secretary", 4),
        ("avis-cp-chef", "principal", 4),
    }
    assert sweep(clock, day(4, 2), names) == set()  # four at most
    assert due_on("avis-cp", school.cp_secretary) == [
        (1, day(3, 5)),
        (2, day(3, 12)),
        (3, day(3, 19)),
        (4, day(3, 26)),
    ]


def test_board_opinion_not_recorded_three_days_after_the_meeting(clock):
    clock.move_to(at(day(3, 1)))
    school = make_school("AvisCA")
    names = labels(school)
    letter = advance(make_letter(school), school, "board")
    meeting = Meeting.objects.create(
        council=school.ca_meeting.council, starts_at=at(day(3, 9), 18), members_in_office=30
    )
    AgendaItem.objects.create(meeting=meeting, letter=letter)

    assert sweep(clock, day(3, 4), names) == set()  # three days after entering the state
    assert sweep(clock, day(3, 11), names) == set()
    assert sweep(clock, day(3, 12), names) == {
        ("avis-ca", "ca_secretary", 1),
        ("avis-ca-chef", "principal", 1),
    }
    assert sweep(clock, day(3, 19), names) == {
        ("avis-ca", "ca_secretary", 2),
        ("avis-ca-chef", "principal", 2),
    }
    clock.move_to(at(day(3, 22), 10))
    fire(
        letter,
        "record_board_opinion",
        school.ca_secretary,
        meeting=meeting.pk,
        opinion="favorable",
        votes_for=20,
        votes_against=2,
        abstentions=1,
        not_voting=0,
        members_present=23,
    )
    assert {s for s in sweep(clock, day(3, 26), names) if s[0].startswith("avis")} == set()


def test_no_board_reminder_before_the_board_has_met(clock):
    clock.move_to(at(day(3, 1)))
    school = make_school("AvantCA")
    names = labels(school)
    # The CA's only meeting is on Thursday 18 March, through the product's own service.
    Meeting.objects.filter(pk=school.ca_meeting.pk).delete()
    schedule_meeting(school.ca_meeting.council, by=school.principal, starts_at=at(day(3, 18), 18))
    advance(make_letter(school), school, "board")  # Monday 1 March

    assert sweep(clock, day(3, 4), names) == set()
    assert sweep(clock, day(3, 11), names) == set()
    assert sweep(clock, day(3, 17), names) == set()


# Signatures ------------------------------------------------------------------------------


def test_missing_signatures_every_three_days(clock):
    clock.move_to(at(day(3, 1)))
    school = make_school("Signatures")
    names = labels(school)
    letter = make_letter(school)
    clock.move_to(at(day(3, 2)))  # Tuesday: the CA's opinion opens the signatures
    letter = advance(letter, school, "signature")

    assert sweep(clock, day(3, 4), names) == set()
    assert sweep(clock, day(3, 5), names) == {
        ("signatures", "principal", 1),
        ("signatures", "referent1", 1),
        ("signatures", "referent2", 1),
    }
    assert sweep(clock, day(3, 5), names) == set()
    clock.move_to(at(day(3, 5), 15))  # the deputy signs for the principal
    fire(letter, "sign", school.deputy, snapshot_sha256=content_sha256(letter))
    assert sweep(clock, day(3, 8), names) == {
        ("signatures", "referent1", 2),
        ("signatures", "referent2", 2),
    }
    clock.move_to(at(day(3, 8), 15))
    fire(letter, "sign", school.referent1, snapshot_sha256=content_sha256(letter))
    assert sweep(clock, day(3, 10), names) == set()
    assert sweep(clock, day(3, 11), names) == {("signatures", "referent2", 3)}
    # The tenth and last: D+30, a Thursday.
    assert sweep(clock, day(4, 1), names) == {("signatures", "referent2", 10)}
    assert sweep(clock, day(4, 2), names) == set()
    assert sweep(clock, day(4, 5), names) == set()
    assert sweep(clock, day(4, 7), names) == set()
    assert due_on("signatures", school.referent2)[-1] == (10, day(4, 1))


# Year-end report -------------------------------------------------------------------------


def test_report_due_reminds_referents_before_and_after_then_the_principal(clock):
    clock.move_to(at(day(5, 3)))
    school = make_school("CompteRendu")
    names = labels(school)
    advance(make_letter(school), school, "report_due")

    def referents(n: int) -> Sent:
        return {("compte-rendu", "referent1", n), ("compte-rendu", "referent2", n)}

    assert sweep(clock, day(6, 15), names) == set()  # D-15
    assert sweep(clock, day(6, 16), names) == referents(1)  # D-14
    assert sweep(clock, day(6, 16), names) == set()
    assert sweep(clock, day(6, 22), names) == set()
    assert sweep(clock, day(6, 23), names) == referents(2)  # D-7
    assert sweep(clock, day(6, 28), names) == set()
    assert sweep(clock, day(6, 29), names) == referents(3)  # D-1
    assert sweep(clock, day(6, 30), names) == set()  # the due date itself
    assert sweep(clock, day(7, 6), names) == set()
    # Weekly after the due date, from D+7; the principal is told from D+7 too.
    chef = {("compte-rendu-chef", "principal", n) for n in (1,)}
    assert sweep(clock, day(7, 7), names) == referents(4) | chef
    assert sweep(clock, day(7, 13), names) == set()
    assert sweep(clock, day(7, 14), names) == set()  # 14 July, a public holiday
    assert sweep(clock, day(7, 15), names) == referents(5) | {("compte-rendu-chef", "principal", 2)}
    assert sweep(clock, day(7, 21), names) == referents(6) | {("compte-rendu-chef", "principal", 3)}
    assert sweep(clock, day(7, 28), names) == referents(7)  # three for the principal at most
    assert sweep(clock, day(8, 4), names) == referents(8)
    assert sweep(clock, day(8, 11), names) == set()  # eight for the referents at most
    assert [d for _n, d in due_on("compte-rendu", school.referent1)][:5] == [
        day(6, 16),
        day(6, 23),
        day(6, 29),
        day(7, 7),
        day(7, 14),
    ]


def test_report_due_date_is_the_academys(clock):
    clock.move_to(at(day(5, 3)))
    school = make_school("Echeance")
    academy = school.establishment.academy
    academy.report_due_day = 15  # due 15 June: D-14 is Tuesday 1 June
    academy.save()
    names = labels(school)
    advance(make_letter(school), school, "report_due")

    assert sweep(clock, day(5, 31), names) == set()
    assert sweep(clock, day(6, 1), names) == {
        ("compte-rendu", "referent1", 1),
        ("compte-rendu", "referent2", 1),
    }
    assert sweep(clock, day(6, 7), names) == set()
    assert sweep(clock, day(6, 8), names) == {  # D-7
        ("compte-rendu", "referent1", 2),
        ("compte-rendu", "referent2", 2),
    }


def test_report_not_acknowledged_reminds_the_principal_after_seven_days(clock):
    clock.move_to(at(day(5, 3)))
    school = make_school("Accuse")
    names = labels(school)
    letter = advance(make_letter(school), school, "report_due")
    complete_report(letter, school.referent1)
    clock.move_to(at(day(6, 7)))  # Monday
    letter = fire(letter, "submit_report", school.referent1)
    assert letter.state == LetterState.REPORT_SUBMITTED

    assert sweep(clock, day(6, 11), names) == set()
    assert sweep(clock, day(6, 14), names) == {("accuse-reception", "principal", 1)}
    assert sweep(clock, day(6, 14), names) == set()
    assert sweep(clock, day(6, 16), names) == set()  # no report reminder once submitted
    assert sweep(clock, day(6, 21), names) == {("accuse-reception", "principal", 2)}
    assert sweep(clock, day(6, 28), names) == {("accuse-reception", "principal", 3)}
    assert sweep(clock, day(7, 5), names) == {("accuse-reception", "principal", 4)}
    assert sweep(clock, day(7, 12), names) == set()


# Quiet days ------------------------------------------------------------------------------


def test_a_reminder_due_on_saturday_waits_for_monday(clock):
    school, _letter = in_concertation(clock, at(day(3, 6)), "Samedi")  # Saturday
    names = labels(school)
    clock.move_to(at(day(3, 13)))
    assert plan_reminders().quiet_skipped > 0
    assert sweep(clock, day(3, 13), names) == set()  # Saturday, D+7
    assert sweep(clock, day(3, 14), names) == set()  # Sunday
    assert sweep(clock, day(3, 15), names) == {
        ("concertation-accord", "referent1", 1),
        ("concertation-accord", "referent2", 1),
    }
    assert due_on("concertation-accord", school.referent1) == [(1, day(3, 13))]


def test_zone_holidays_delay_reminders_of_that_zone_only(clock):
    QuietPeriod.objects.create(
        zone=HolidayZone.A,
        label="Vacances de la Toussaint",
        starts_on=day(10, 17, 2026),
        ends_on=day(11, 1, 2026),
    )
    lyon = Academy.objects.create(code="lyon", name="Académie de Lyon", holiday_zone="B")
    opened = at(day(10, 20, 2026))  # Tuesday, first week of the holidays
    zone_a, _a = in_concertation(clock, opened, "ZoneA")
    zone_b, _b = in_concertation(clock, opened, "ZoneB", academy=lyon)
    assert zone_a.establishment.academy.holiday_zone == HolidayZone.A
    names = labels(zone_a, zone_b)

    def accord(school: School, n: int) -> Sent:
        name = school.establishment.name
        return {
            ("concertation-accord", f"{name}:referent1", n),
            ("concertation-accord", f"{name}:referent2", n),
        }

    assert sweep(clock, day(10, 27, 2026), names) == accord(zone_b, 1)  # D+7
    assert sweep(clock, day(10, 28, 2026), names) == set()
    assert sweep(clock, day(10, 30, 2026), names) == set()
    assert sweep(clock, day(11, 2, 2026), names) == accord(zone_a, 1)  # first school day
    assert sweep(clock, day(11, 3, 2026), names) == accord(zone_a, 2) | accord(zone_b, 2)
    assert due_on("concertation-accord", zone_a.referent1) == [
        (1, day(10, 27, 2026)),
        (2, day(11, 3, 2026)),
    ]


def test_after_a_long_quiet_stretch_only_the_latest_occurrence_is_sent(clock):
    QuietPeriod.objects.create(
        zone=HolidayZone.A,
        label="Vacances d'hiver",
        starts_on=day(2, 13),
        ends_on=day(3, 3),
    )
    school, _letter = in_concertation(clock, at(day(2, 1)), "Hiver")
    names = labels(school)
    assert sweep(clock, day(2, 8), names) == {
        ("concertation-accord", "referent1", 1),
        ("concertation-accord", "referent2", 1),
    }
    for quiet_day in (day(2, 15), day(2, 22), day(3, 1), day(3, 3)):
        assert sweep(clock, quiet_day, names) == set()
    # Back on Thursday 4 March: reminders 2-4 and escalations 1-2 fell in the holidays;
    # only the latest of each is sent.
    assert sweep(clock, day(3, 4), names) == {
        ("concertation-accord", "referent1", 4),
        ("concertation-accord", "referent2", 4),
        ("concertation-escalade", "principal", 2),
    }
    assert Reminder.objects.count() == 5
    assert sweep(clock, day(3, 8), names) == {
        ("concertation-accord", "referent1", 5),
        ("concertation-accord", "referent2", 5),
        ("concertation-escalade", "principal", 3),
    }


# Policies are data -----------------------------------------------------------------------


def test_an_inactive_policy_reminds_nobody(clock):
    ReminderPolicy.objects.filter(code="concertation-accord").update(is_active=False)
    school, _letter = in_concertation(clock, at(day(3, 1)), "Inactive")
    names = labels(school)
    assert sweep(clock, day(3, 8), names) == set()
    assert sweep(clock, day(3, 15), names) == set()

    ReminderPolicy.objects.filter(code="concertation-accord").update(is_active=True)
    assert sweep(clock, day(3, 15), names) == {
        ("concertation-accord", "referent1", 2),
        ("concertation-accord", "referent2", 2),
    }


def test_edited_offsets_change_the_dates(clock):
    policy = ReminderPolicy.objects.get(code="concertation-accord")
    policy.offsets_days = [2]
    policy.max_count = 2
    policy.save()
    school, _letter = in_concertation(clock, at(day(3, 1)), "Offsets")
    names = labels(school)
    assert sweep(clock, day(3, 2), names) == set()
    assert sweep(clock, day(3, 3), names) == {
        ("concertation-accord", "referent1", 1),
        ("concertation-accord", "referent2", 1),
    }
    assert sweep(clock, day(3, 8), names) == set()  # the default D+7
    assert sweep(clock, day(3, 10), names) == {
        ("concertation-accord", "referent1", 2),
        ("concertation-accord", "referent2", 2),
    }
    assert sweep(clock, day(3, 17), names) == set()  # max_count 2


def test_reports_open_when_their_window_opens_and_not_before():
    """The daily run opens the report of letters whose (académie, year) window has
    opened, and tries no other letter."""
    school = make_school("Window")
    this_year = advance(make_letter(school), school, LetterState.IN_FORCE)
    next_year = create_letter(
        user=school.principal, establishment=school.establishment, school_year=school.next_year
    )
    update_letter(letter_id=next_year.pk, user=school.principal, changes=letter_content(school))
    next_year = advance(next_year, school, LetterState.IN_FORCE)
    academy = school.establishment.academy
    opens_on = academy.report_window_opens_on(school.year)
    paris = ZoneInfo("Europe/Paris")
    with time_machine.travel(dt.datetime.combine(opens_on, dt.time(6, 30), paris), tick=False):
        assert services.open_due_reports() == 1
        assert services.open_due_reports() == 0  # the next run finds nothing more
    this_year.refresh_from_db()
    next_year.refresh_from_db()
    assert this_year.state == LetterState.REPORT_DUE
    assert next_year.state == LetterState.IN_FORCE
    day_before = opens_on - dt.timedelta(days=1)
    other = make_school("WindowLater")
    waiting = advance(make_letter(other), other, LetterState.IN_FORCE)
    with time_machine.travel(dt.datetime.combine(day_before, dt.time(6, 30), paris), tick=False):
        assert services.open_due_reports() == 0
    waiting.refresh_from_db()
    assert waiting.state == LetterState.IN_FORCE
