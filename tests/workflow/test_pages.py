"""The pages, through Django's test client: what each person sees, and the actions
fired from the pages going through the same services as the API."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar

from governance.models import Role, RoleAssignment
from tests.factories import advance, make_letter, make_school, shown
from tests.html_forms import form_fields
from workflow.lifecycle.engine import fire_transition
from workflow.models import LetterReferent, LetterState

pytestmark = pytest.mark.django_db


def _page(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_each_person_sees_what_waits_for_them(client):
    school = make_school("Todo")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    referent_page = _page(client, school.referent1, "/").content.decode()
    assert "Donner mon accord" in referent_page
    principal_page = _page(client, school.principal, "/").content.decode()
    assert "Soumettre au conseil pédagogique" in principal_page
    assert "conditions à remplir" in principal_page  # no agreement yet
    dan_page = _page(client, school.dan, "/").content.decode()
    assert "Rien ne vous attend" in dan_page
    teacher_page = _page(client, school.teacher, "/").content.decode()
    assert "Rien ne vous attend" in teacher_page


def test_a_faire_and_its_menu_read_the_persons_roles_once_per_request(client):
    """The page and its layout's menu share one read of the roles; the next request
    reads them anew, so a role granted in between shows at once."""
    school = make_school("Roles")
    client.force_login(school.principal)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    roles_read = [
        q for q in queries.captured_queries if 'FROM "governance_roleassignment"' in q["sql"]
    ]
    assert len(roles_read) == 2, roles_read  # the roles, and the scope of the letters
    assert "Tableau de bord" not in page
    assert f"Chef d&#x27;établissement — {school.establishment}" in page
    RoleAssignment.objects.create(
        user=school.principal, role=Role.DAN, academy=school.establishment.academy
    )
    page = client.get("/").content.decode()
    assert "Tableau de bord" in page
    assert f"Délégation académique au numérique — {school.establishment.academy}" in page


def test_the_letter_page_is_404_for_who_may_not_see_it(client):
    school = make_school("Hidden")
    letter = make_letter(school)
    assert _page(client, school.teacher, f"/lettres/{letter.pk}/").status_code == 404
    assert _page(client, school.referent1, f"/lettres/{letter.pk}/").status_code == 200
    other = make_school("Elsewhere")
    assert _page(client, other.principal, f"/lettres/{letter.pk}/").status_code == 404


def test_actions_fired_from_the_page_go_through_the_services(client):
    school = make_school("Act")
    letter = make_letter(school)
    client.force_login(school.principal)
    url = f"/lettres/{letter.pk}/actions/"
    response = client.post(f"{url}open_concertation/", follow=True)
    assert "Concertation ouverte sur la version 1" in response.content.decode()
    letter.refresh_from_db()
    assert letter.state == LetterState.CONCERTATION

    response = client.post(f"{url}submit_to_pedagogical_council/", follow=True)
    assert "Accord attendu sur la version 1" in response.content.decode()  # guard, as a message
    response = client.post(f"{url}withdraw/", follow=True)
    assert "Motif" in response.content.decode()  # the reason is required
    letter.refresh_from_db()
    assert letter.state == LetterState.CONCERTATION

    client.force_login(school.referent1)
    assert client.post(f"{url}open_concertation/").status_code == 403
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    client.post(f"{url}agree/", dict(form_fields(page, "action-agree")))
    assert LetterReferent.objects.get(letter=letter, user=school.referent1).agreed_version == 1
    client.post(f"/lettres/{letter.pk}/commentaires/", {"body": "Merci !"})
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert "Merci !" in page
    assert 'id="action-agree"' not in page  # done: no longer offered


def test_the_letters_list_filters_by_state_and_year(client):
    school = make_school("List")
    draft = make_letter(school, year=school.next_year)
    in_force = advance(make_letter(school), school, "in_force")
    client.force_login(school.dan)
    page = client.get("/lettres/?etat=in_force").content.decode()
    assert f"/lettres/{in_force.pk}/" in page
    assert f"/lettres/{draft.pk}/" not in page
    page = client.get(f"/lettres/?annee={school.next_year.code}").content.decode()
    assert f"/lettres/{draft.pk}/" in page
    assert f"/lettres/{in_force.pk}/" not in page
    page = client.get("/lettres/?annee=2031-2032").content.decode()
    assert "Aucune lettre." in page


def test_meetings_page_and_calendars(client):
    school = make_school("Cal")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    for referent in (school.referent1, school.referent2):
        fire_transition(letter_id=letter.pk, name="agree", user=referent, payload=shown(letter))
    upcoming = school.cp_meeting
    upcoming.starts_at = timezone.now() + dt.timedelta(days=10)
    upcoming.location = "Salle B12"
    upcoming.save()
    fire_transition(
        letter_id=letter.pk,
        name="submit_to_pedagogical_council",
        user=school.principal,
        payload={"meeting": upcoming.pk},
    )

    page = _page(client, school.cp_secretary, "/seances/").content.decode()
    assert "Conseil pédagogique" in page
    assert f"{school.establishment.name} — 2026-2027" in page

    response = client.get("/seances/calendrier.ics")
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 1
    assert str(events[0]["location"]) == "Salle B12"
    assert "Lettres de mission à l'ordre du jour" in str(events[0]["description"])
    assert events[0].decoded("dtstart") == upcoming.starts_at.replace(microsecond=0)

    single = client.get(f"/seances/{school.ca_meeting.pk}/calendrier.ics")
    assert single.status_code == 200
    other = make_school("OtherCal")
    assert (
        _page(client, other.principal, f"/seances/{upcoming.pk}/calendrier.ics").status_code == 404
    )
    # The teacher who is no referent sees the meeting, but not the letter on its agenda.
    teacher_ics = _page(client, school.teacher, "/seances/calendrier.ics").content
    assert "ordre du jour" not in str(
        Calendar.from_ical(teacher_ics).walk("VEVENT")[0]["description"]
    )


def test_the_accessibility_statement(client):
    page = client.get("/accessibilite/").content.decode()
    assert "RGAA" in page
    assert "non conforme" in page
    assert "Défenseur des droits" in page


def test_the_dan_dashboard_counts_envelopes_and_exports(client):
    import csv
    import io

    from openpyxl import load_workbook

    school = make_school("Dash")
    other = make_school("Dash2")
    advance(make_letter(school), school, "in_force")  # 1 250 € IMP + 1 h décharge
    make_letter(other, imp1="312.50", hours2=None, imp2="312.50")  # a draft: 625 €
    client.force_login(school.dan)
    page = client.get("/tableau-de-bord/?annee=2026-2027").content.decode()
    assert "2 lettres, par état" in page
    table = page[page.index('id="etablissements"') :]  # one row per establishment
    assert "2\u202f500,00\u00a0€" in table  # amounts the French way
    assert "au-dessus du maximum</span>" not in table
    assert table.count("sous le minimum</span>") == 1  # the second school: 625 €

    exported = client.get("/tableau-de-bord/export.csv?annee=2026-2027").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported), delimiter=";"))
    assert rows[0][:2] == ["UAI", "Établissement"]
    # One row per letter (tests/workflow/test_exports.py says the rest).
    by_uai = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    envelope = "Enveloppe de l'établissement (€)"
    assert (
        by_uai[school.establishment.uai][envelope],
        by_uai[school.establishment.uai]["Enveloppe"],
    ) == ("2500,00", "dans les bornes")
    assert (
        by_uai[other.establishment.uai][envelope],
        by_uai[other.establishment.uai]["Enveloppe"],
    ) == ("625,00", "sous le minimum")

    workbook = load_workbook(io.BytesIO(client.get("/tableau-de-bord/export.xlsx").content))
    sheet = workbook.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    header = values[1]
    assert header[0] == "UAI"
    column = header.index(envelope)
    assert sorted(float(str(row[column])) for row in values[2:]) == [625.0, 2500.0]

    client.force_login(school.principal)
    assert client.get("/tableau-de-bord/").status_code == 403
    assert client.get("/tableau-de-bord/export.csv").status_code == 403
    assert "Tableau de bord" not in client.get("/").content.decode()


def test_the_referents_fill_the_report_in_from_its_page(client):
    school = make_school("Report")
    letter = advance(make_letter(school), school, "report_due")
    url = f"/lettres/{letter.pk}/compte-rendu/"
    client.force_login(school.referent1)
    page = client.get(url).content.decode()
    missions = list(letter.missions.order_by("order"))
    assert escape(missions[0].text) in page  # pre-filled from the letter
    indicators = list(letter.indicators.order_by("order"))
    data = {f"status-{m.pk}": "done" for m in missions}
    data |= {f"result-{i.pk}": "Atteint" for i in indicators}
    data["difficulties"] = "Peu de créneaux"
    response = client.post(url, data, follow=True)
    assert "Compte rendu enregistré." in response.content.decode()
    fire_transition(letter_id=letter.pk, name="submit_report", user=school.referent2)
    letter.refresh_from_db()
    assert letter.state == LetterState.REPORT_SUBMITTED

    client.force_login(school.principal)  # reads it, cannot change it
    assert "Peu de créneaux" in client.get(url).content.decode()
    assert client.post(url, {"difficulties": "x"}).status_code == 403
    client.force_login(school.teacher)
    assert client.get(url).status_code == 404


def test_a_meeting_records_the_opinions_of_its_agenda_in_one_go(client):
    school = make_school("Agenda")
    first = advance(make_letter(school), school, "pedagogical_council")
    second = advance(make_letter(school, year=school.next_year), school, "pedagogical_council")
    url = f"/seances/{school.cp_meeting.pk}/avis/"
    client.force_login(school.cp_secretary)
    page = client.get(url).content.decode()
    assert f"/lettres/{first.pk}/" in page
    assert f"/lettres/{second.pk}/" in page

    # A reserved opinion without remarks: nothing is recorded, and what was typed stays.
    response = client.post(
        url,
        {
            f"opinion-{first.pk}": "favorable",
            f"opinion-{second.pk}": "reserve",
            f"remarks-{first.pk}": "Très bien",
        },
    )
    page = response.content.decode()
    assert "Aucun avis n&#x27;a été enregistré" in page
    assert "Très bien" in page
    assert 'value="reserve" checked' in page
    first.refresh_from_db()
    assert first.state == LetterState.PEDAGOGICAL_COUNCIL

    response = client.post(
        url,
        {
            f"opinion-{first.pk}": "favorable",
            f"opinion-{second.pk}": "reserve",
            f"remarks-{second.pk}": "Préciser le suivi",
        },
        follow=True,
    )
    assert "Avis enregistrés pour 2 lettres." in response.content.decode()
    for letter in (first, second):
        letter.refresh_from_db()
        assert letter.state == LetterState.BOARD

    client.force_login(school.referent1)
    assert client.get(url).status_code == 403
