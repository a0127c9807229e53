"""Meetings are real: a letter sent to a council is on the agenda of the meeting chosen
then, its opinion is that meeting's (or, the CA's quorum missed, its second
convocation's), the forms offer the meetings that fit, the agendas and their calendars
list only the letters still waiting, and the principal or the council's secretary
schedules a meeting from its page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar

from governance.models import CouncilKind, Meeting
from governance.services import schedule_meeting
from tests.factories import (
    School,
    advance,
    complete_report,
    fire,
    make_letter,
    make_school,
    opinion_payload,
    shown,
)
from workflow.errors import ConditionsUnmet, InvalidInput
from workflow.lifecycle.councils import agenda_places
from workflow.lifecycle.engine import available_transitions
from workflow.models import AgendaItem, LetterState, MissionLetter, Opinion

pytestmark = pytest.mark.django_db


def _meeting(school: School, kind: str, days: float, convocation: int = 1) -> Meeting:
    """A meeting of the school's council ``kind``, ``days`` from now (negative: held)."""
    council = (school.cp_meeting if kind == CouncilKind.PEDAGOGICAL else school.ca_meeting).council
    return Meeting.objects.create(
        council=council,
        starts_at=timezone.now() + dt.timedelta(days=days),
        convocation=convocation,
        members_in_office=council.members_in_office,
    )


def _hold(meeting: Meeting) -> None:
    """The meeting takes place: its date is now past."""
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - dt.timedelta(hours=1))
    meeting.refresh_from_db()


def _agreed(school: School) -> MissionLetter:
    letter = advance(make_letter(school), school, "concertation")
    for referent in (school.referent1, school.referent2):
        fire(letter, "agree", referent, **shown(letter))
    return letter


def _submitted(school: School, meeting: Meeting) -> MissionLetter:
    letter = _agreed(school)
    fire(letter, "submit_to_pedagogical_council", school.principal, meeting=meeting.pk)
    return letter


def _codes(excinfo: Any) -> set[str]:
    return {unmet.code for unmet in excinfo.value.unmet}


def _when(meeting: Meeting) -> str:
    return timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y %H:%M")


def _options(page: str, select_id: str) -> list[str]:
    """The values a page's ``<select id=…>`` offers, in order."""
    match = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select #{select_id}"
    return re.findall(r'<option value="([^"]*)"', match.group(1))


# The opinion is the one of the meeting the letter is on -------------------------------


def test_the_opinion_waits_for_the_meeting_the_letter_is_on(client):
    school = make_school("Ordre")
    coming = _meeting(school, CouncilKind.PEDAGOGICAL, 10)
    letter = _submitted(school, coming)
    assert list(letter.agenda_items.values_list("meeting", flat=True)) == [coming.pk]

    # Not for yesterday's meeting, which the letter was never on: it waits for its own.
    (offered,) = available_transitions(MissionLetter.objects.get(pk=letter.pk), school.cp_secretary)
    assert [u.code for u in offered.unmet] == ["agenda_meeting_to_come"]
    with pytest.raises(ConditionsUnmet) as excinfo:
        fire(
            letter,
            "record_pedagogical_opinion",
            school.cp_secretary,
            **opinion_payload(school.cp_meeting),
        )
    assert _codes(excinfo) == {"agenda_meeting_to_come"}
    assert f"séance du {_when(coming)}, qui n'a pas encore eu lieu" in (
        excinfo.value.unmet[0].message
    )

    # Held, it gives the opinion; an earlier meeting still cannot.
    _hold(coming)
    with pytest.raises(ConditionsUnmet) as excinfo:
        fire(
            letter,
            "record_pedagogical_opinion",
            school.cp_secretary,
            **opinion_payload(school.cp_meeting),
        )
    assert _codes(excinfo) == {"not_on_agenda"}
    assert excinfo.value.unmet[0].message == (
        f"La lettre est inscrite à l'ordre du jour de la séance du {_when(coming)}, pas de "
        f"celle du {_when(school.cp_meeting)} : son avis est celui de la séance du "
        f"{_when(coming)}."
    )
    assert not Opinion.objects.filter(letter=letter).exists()
    fire(letter, "record_pedagogical_opinion", school.cp_secretary, **opinion_payload(coming))
    assert Opinion.objects.get(letter=letter).meeting_id == coming.pk
    assert MissionLetter.objects.get(pk=letter.pk).state == LetterState.BOARD


def test_a_letter_on_no_agenda_takes_the_meeting_held_that_examined_it():
    """Sent without a meeting, the letter is on no agenda: the opinion of any meeting
    held is accepted, and puts it on that agenda."""
    school = make_school("Sans")
    letter = advance(make_letter(school), school, "pedagogical_council")
    assert not letter.agenda_items.exists()
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting),
    )
    assert list(letter.agenda_items.values_list("meeting", flat=True)) == [school.cp_meeting.pk]


def test_a_letter_not_examined_at_its_meeting_is_taken_up_by_a_later_one():
    school = make_school("Report")
    earlier = _meeting(school, CouncilKind.PEDAGOGICAL, -5)
    held = _meeting(school, CouncilKind.PEDAGOGICAL, -3)
    letter = _submitted(school, held)
    with pytest.raises(ConditionsUnmet) as excinfo:
        fire(letter, "record_pedagogical_opinion", school.cp_secretary, **opinion_payload(earlier))
    assert _codes(excinfo) == {"not_on_agenda"}
    # Yesterday's meeting comes after the one it was on: it takes the letter up.
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting),
    )
    assert Opinion.objects.get(letter=letter).meeting_id == school.cp_meeting.pk


def test_the_cp_opinion_puts_the_letter_on_the_ca_meeting_named():
    school = make_school("VersCA")
    letter = advance(make_letter(school), school, "pedagogical_council")
    ca_next = _meeting(school, CouncilKind.BOARD, 20)
    other = make_school("AutreCA")
    for wrong in (school.cp_meeting.pk, other.ca_meeting.pk):  # a CP meeting; another school's
        with pytest.raises(InvalidInput) as refused:
            fire(
                letter,
                "record_pedagogical_opinion",
                school.cp_secretary,
                **opinion_payload(school.cp_meeting, board_meeting=wrong),
            )
        assert set(refused.value.errors) == {"board_meeting"}
    assert not Opinion.objects.filter(letter=letter).exists()

    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, board_meeting=ca_next.pk),
    )
    assert AgendaItem.objects.filter(letter=letter, meeting=ca_next).exists()
    assert letter.events.latest("sequence").payload["board_meeting"] == ca_next.pk
    # The CA's opinion now waits for that meeting, not for yesterday's.
    with pytest.raises(ConditionsUnmet) as excinfo:
        fire(
            letter,
            "record_board_opinion",
            school.ca_secretary,
            **opinion_payload(school.ca_meeting),
        )
    assert _codes(excinfo) == {"agenda_meeting_to_come"}


def test_reopening_the_concertation_takes_the_letter_off_the_agendas_still_waiting():
    school = make_school("Rouvre")
    ca_next = _meeting(school, CouncilKind.BOARD, 20)
    letter = advance(make_letter(school), school, "pedagogical_council")
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, board_meeting=ca_next.pk),
    )
    fire(letter, "reopen_concertation", school.principal, reason="Revoir les missions")
    # The CP's agenda, which gave its opinion, stays; the CA's, still waiting, goes.
    assert list(letter.agenda_items.values_list("meeting", flat=True)) == [school.cp_meeting.pk]


def test_a_missed_quorum_is_followed_by_a_second_convocation_that_gives_the_opinion():
    school = make_school("Quorum")
    letter = advance(make_letter(school), school, "pedagogical_council")
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, board_meeting=school.ca_meeting.pk),
    )
    few: dict[str, Any] = {
        "members_present": 10,
        "votes_for": 8,
        "votes_against": 1,
        "abstentions": 1,
    }
    with pytest.raises(ConditionsUnmet) as excinfo:
        fire(
            letter,
            "record_board_opinion",
            school.ca_secretary,
            **opinion_payload(school.ca_meeting, **few),
        )
    assert _codes(excinfo) == {"quorum_not_met"}

    second = schedule_meeting(
        school.ca_meeting.council,
        by=school.ca_secretary,
        starts_at=timezone.now() + dt.timedelta(days=6),
        convocation=2,
    )
    # The second convocation takes up the first's agenda: the letter is shown there,
    # and its opinion is recorded there once it has been held.
    letter.refresh_from_db()
    assert agenda_places([letter])[letter.pk].pk == second.pk
    with pytest.raises(ConditionsUnmet) as excinfo:
        fire(letter, "record_board_opinion", school.ca_secretary, **opinion_payload(second, **few))
    assert _codes(excinfo) == {"meeting_not_held"}
    _hold(second)
    fire(letter, "record_board_opinion", school.ca_secretary, **opinion_payload(second, **few))
    opinion = Opinion.objects.get(letter=letter, council=CouncilKind.BOARD)
    assert (opinion.meeting_id, opinion.members_present, opinion.quorum_met) == (
        second.pk,
        10,
        True,
    )
    assert MissionLetter.objects.get(pk=letter.pk).state == LetterState.SIGNATURE


# The forms offer the meetings that fit ---------------------------------------------------


def test_the_submit_form_offers_the_meetings_to_come_soonest_first(client):
    school = make_school("Offre")
    later = _meeting(school, CouncilKind.PEDAGOGICAL, 30)
    sooner = _meeting(school, CouncilKind.PEDAGOGICAL, 7)
    letter = _agreed(school)
    client.force_login(school.principal)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert _options(page, "meeting-submit_to_pedagogical_council") == [
        "",
        str(sooner.pk),
        str(later.pk),
    ]  # yesterday's meeting is not offered
    assert "Les séances à venir, la plus proche d'abord" in page


def test_the_opinion_forms_offer_the_meeting_of_the_agenda_first(client):
    school = make_school("Avis")
    before = _meeting(school, CouncilKind.PEDAGOGICAL, -9)
    on_it = _meeting(school, CouncilKind.PEDAGOGICAL, -4)
    ca_next = _meeting(school, CouncilKind.BOARD, 12)
    ca_after = _meeting(school, CouncilKind.BOARD, 40)
    letter = _submitted(school, on_it)
    client.force_login(school.cp_secretary)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    # Its own meeting first, then yesterday's (later, it may take the letter up); never
    # the one before, nor one to come.
    assert _options(page, "meeting-record_pedagogical_opinion") == [
        str(on_it.pk),
        str(school.cp_meeting.pk),
    ]
    assert before.pk not in (int(v) for v in _options(page, "meeting-record_pedagogical_opinion"))
    assert f"La lettre est à l'ordre du jour de la séance du {_when(on_it)}." in page
    # Where it goes next: the CA's meetings to come, soonest first.
    assert _options(page, "board_meeting-record_pedagogical_opinion") == [
        "",
        str(ca_next.pk),
        str(ca_after.pk),
    ]


def test_the_opinion_form_says_when_the_meeting_is_to_come(client):
    school = make_school("Attente")
    coming = _meeting(school, CouncilKind.PEDAGOGICAL, 3)
    letter = _submitted(school, coming)
    client.force_login(school.cp_secretary)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert 'id="meeting-record_pedagogical_opinion"' not in page
    assert "Aucune séance tenue de ce conseil ne peut encore donner cet avis." in page
    assert escape(f"séance du {_when(coming)}, qui n'a pas encore eu lieu") in page


def test_the_ca_opinion_form_leads_to_the_second_convocation(client):
    school = make_school("Lien")
    letter = advance(make_letter(school), school, "board")
    for user in (school.ca_secretary, school.principal):
        client.force_login(user)
        page = client.get(f"/lettres/{letter.pk}/").content.decode()
        assert "Programmer la séance de seconde convocation" in page
        assert (
            f"/seances/nouvelle/?conseil={school.ca_meeting.council_id}&amp;convocation=2"
            f"&amp;retour=%2Flettres%2F{letter.pk}%2F"
        ) in page
    client.force_login(school.cp_secretary)  # sees the letter, schedules no CA meeting
    assert "seconde convocation" not in client.get(f"/lettres/{letter.pk}/").content.decode()


def test_after_a_missed_quorum_the_second_convocation_is_offered_first(client):
    school = make_school("Ordre2")
    letter = advance(make_letter(school), school, "pedagogical_council")
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, board_meeting=school.ca_meeting.pk),
    )
    second = _meeting(school, CouncilKind.BOARD, -0.01, convocation=2)
    client.force_login(school.ca_secretary)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert _options(page, "meeting-record_board_opinion") == [
        str(second.pk),
        str(school.ca_meeting.pk),
    ]


# Agendas and calendars -------------------------------------------------------------------


def test_agendas_list_each_letter_still_waiting_once_with_its_state(client):
    school = make_school("Agenda")
    coming = _meeting(school, CouncilKind.PEDAGOGICAL, 5)
    waiting = _submitted(school, coming)
    # A withdrawn letter on the same agenda, and a closed one.
    withdrawn = make_letter(school, year=school.next_year)
    AgendaItem.objects.create(meeting=coming, letter=withdrawn)
    fire(withdrawn, "withdraw", school.principal, reason="Abandon")
    closed = advance(make_letter(school, year=school.next_year), school, "report_due")
    complete_report(closed, school.referent1)
    fire(closed, "submit_report", school.referent1)
    fire(closed, "acknowledge_report", school.principal)
    AgendaItem.objects.create(meeting=coming, letter=closed)

    client.force_login(school.principal)
    page = client.get("/seances/").content.decode()
    row = re.search(rf"<tr>(?:(?!</tr>).)*?{coming.starts_at:%d/%m/%Y}.*?</tr>", page, re.S)
    assert row
    title = f"{school.establishment.name} — {school.year.code}"
    assert row.group(0).count(escape(title)) == 1
    assert "Avis du conseil pédagogique" in row.group(0)
    assert f"/lettres/{waiting.pk}/" in row.group(0)
    assert f"/lettres/{withdrawn.pk}/" not in page
    assert f"/lettres/{closed.pk}/" not in page
    assert escape(school.next_year.code) not in row.group(0)

    calendar = Calendar.from_ical(client.get("/seances/calendrier.ics").content)
    (event,) = [e for e in calendar.walk("VEVENT") if e.decoded("dtstart") >= timezone.now()]
    description = str(event["description"])
    assert description.count(title) == 1
    assert f"- {title} (Avis du conseil pédagogique)" in description
    assert school.next_year.code not in description
    single = Calendar.from_ical(client.get(f"/seances/{coming.pk}/calendrier.ics").content)
    assert f"- {title} (Avis du conseil pédagogique)" in str(
        single.walk("VEVENT")[0]["description"]
    )

    # Its opinion given, the letter leaves the agenda.
    _hold(coming)
    fire(waiting, "record_pedagogical_opinion", school.cp_secretary, **opinion_payload(coming))
    page = client.get("/seances/").content.decode()
    assert f"/lettres/{waiting.pk}/" not in page


def test_a_second_convocations_agenda_takes_up_the_first(client):
    school = make_school("Reprise")
    letter = advance(make_letter(school), school, "pedagogical_council")
    fire(
        letter,
        "record_pedagogical_opinion",
        school.cp_secretary,
        **opinion_payload(school.cp_meeting, board_meeting=school.ca_meeting.pk),
    )
    second = _meeting(school, CouncilKind.BOARD, 6, convocation=2)
    client.force_login(school.ca_secretary)
    page = client.get("/seances/").content.decode()
    assert page.count(f"/lettres/{letter.pk}/") == 1  # on the second convocation only
    upcoming = page[page.index("Séances à venir") : page.index("Dernières séances")]
    assert f"/lettres/{letter.pk}/" in upcoming
    assert f"/seances/{second.pk}/calendrier.ics" in upcoming


# The meeting's page of opinions -------------------------------------------------------------


def test_a_meetings_opinions_page_lists_only_the_letters_it_may_give(client):
    school = make_school("Page")
    coming = _meeting(school, CouncilKind.PEDAGOGICAL, 4)
    elsewhere = _submitted(school, coming)  # waits for the meeting to come
    free = advance(make_letter(school, year=school.next_year), school, "pedagogical_council")
    ca_next = _meeting(school, CouncilKind.BOARD, 15)
    client.force_login(school.cp_secretary)
    url = f"/seances/{school.cp_meeting.pk}/avis/"
    page = client.get(url).content.decode()
    assert f"/lettres/{free.pk}/" in page
    assert f"/lettres/{elsewhere.pk}/" not in page
    assert "Inscrite à l'ordre du jour d'aucune séance" in page
    assert _options(page, "board_meeting") == ["", str(ca_next.pk)]

    response = client.post(
        url, {f"opinion-{free.pk}": "favorable", "board_meeting": str(ca_next.pk)}, follow=True
    )
    assert "Avis enregistré pour 1 lettre." in response.content.decode()
    assert AgendaItem.objects.filter(letter=free, meeting=ca_next).exists()
    assert AgendaItem.objects.filter(letter=free, meeting=school.cp_meeting).exists()


def test_a_ca_meeting_without_quorum_leads_to_the_second_convocation(client):
    school = make_school("PageCA")
    letter = advance(make_letter(school), school, "board")
    client.force_login(school.ca_secretary)
    url = f"/seances/{school.ca_meeting.pk}/avis/"
    response = client.post(
        url,
        {
            "members_present": "10",
            f"opinion-{letter.pk}": "favorable",
            f"votes_for-{letter.pk}": "9",
            f"votes_against-{letter.pk}": "0",
            f"abstentions-{letter.pk}": "1",
            f"not_voting-{letter.pk}": "0",
        },
    )
    page = response.content.decode()
    assert "le conseil doit être convoqué à nouveau" in page
    assert f"/seances/nouvelle/?conseil={school.ca_meeting.council_id}&amp;convocation=2" in page
    second = _meeting(school, CouncilKind.BOARD, -0.01, convocation=2)
    page = client.get(f"/seances/{second.pk}/avis/").content.decode()
    assert f"/lettres/{letter.pk}/" in page
    assert "seconde convocation" not in page.split("<form", 1)[1]  # no third one
    response = client.post(
        f"/seances/{second.pk}/avis/",
        {
            "members_present": "10",
            f"opinion-{letter.pk}": "favorable",
            f"votes_for-{letter.pk}": "9",
            f"votes_against-{letter.pk}": "0",
            f"abstentions-{letter.pk}": "1",
            f"not_voting-{letter.pk}": "0",
        },
        follow=True,
    )
    assert "Avis enregistré pour 1 lettre." in response.content.decode()
    assert Opinion.objects.get(letter=letter, council=CouncilKind.BOARD).meeting_id == second.pk


# Scheduling a meeting --------------------------------------------------------------------


def test_the_principal_and_the_secretaries_schedule_their_councils_meetings(client):
    school = make_school("Prog")
    client.force_login(school.principal)
    page = client.get("/seances/").content.decode()
    assert 'href="/seances/nouvelle/"' in page
    page = client.get("/seances/nouvelle/").content.decode()
    assert _options(page, "conseil") == [
        str(school.cp_meeting.council_id),
        str(school.ca_meeting.council_id),
    ]
    client.force_login(school.cp_secretary)
    page = client.get("/seances/nouvelle/").content.decode()
    assert _options(page, "conseil") == [str(school.cp_meeting.council_id)]
    for user in (school.referent1, school.dan):
        client.force_login(user)
        assert client.get("/seances/nouvelle/").status_code == 403
        assert 'href="/seances/nouvelle/"' not in client.get("/seances/").content.decode()


def test_scheduling_the_second_convocation_goes_back_to_the_letter(client):
    school = make_school("Seconde")
    letter = advance(make_letter(school), school, "board")
    council = school.ca_meeting.council_id
    client.force_login(school.ca_secretary)
    back = f"/lettres/{letter.pk}/"
    page = client.get(
        f"/seances/nouvelle/?conseil={council}&convocation=2&retour={back}"
    ).content.decode()
    assert 'value="2" checked' in page
    assert "convoqué à nouveau" in page
    response = client.post(
        "/seances/nouvelle/",
        {
            "conseil": str(council),
            "date": "2026-06-19",
            "heure": "17:30",
            "convocation": "2",
            "lieu": " Salle du conseil ",
            "retour": back,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == back
    meeting = Meeting.objects.get(council_id=council, convocation=2)
    assert timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y %H:%M") == "19/06/2026 17:30"
    assert (meeting.location, meeting.members_in_office) == ("Salle du conseil", 30)
    page = client.get(back).content.decode()
    assert escape("Séance programmée : Conseil d'administration, le 19/06/2026 17:30") in page


def test_a_refused_schedule_keeps_what_was_typed(client):
    school = make_school("Refus")
    council = school.ca_meeting.council_id
    client.force_login(school.principal)
    form = {"conseil": str(council), "date": "", "heure": "18:00", "convocation": "1"}
    page = client.post("/seances/nouvelle/", form).content.decode()
    assert "La séance n&#x27;a pas été programmée" in page
    assert 'id="date-erreur"' in page
    assert 'value="18:00"' in page
    form |= {"date": "2026-06-19", "lieu": "x" * 201}
    page = client.post("/seances/nouvelle/", form).content.decode()
    assert "Le lieu tient en 200 caractères au plus." in page
    form |= {"lieu": "", "convocation": "3"}
    page = client.post("/seances/nouvelle/", form).content.decode()
    assert 'id="convocation-erreur"' in page
    # Another school's council, and a way back off the site, are not taken.
    other = make_school("Ailleurs")
    form |= {"convocation": "1", "conseil": str(other.ca_meeting.council_id)}
    page = client.post("/seances/nouvelle/", form).content.decode()
    assert "Choisissez un conseil dont vous fixez les séances." in page
    form |= {"conseil": str(council), "retour": "https://example.com/"}
    response = client.post("/seances/nouvelle/", form)
    assert response["Location"] == "/seances/"
    assert Meeting.objects.filter(council_id=council).count() == 2
