"""Rules that lived only in a page, now in a service: the page and the API give the same
answer because they ask the same function."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from governance.services import schedule_meeting
from tests.factories import advance, make_letter, make_school
from workflow.errors import NotPermitted
from workflow.selectors.dashboard import TableQuery, academy_board
from workflow.selectors.visibility import opinion_recorders_meetings
from workflow.services.meetings import record_meeting_opinions

pytestmark = pytest.mark.django_db


def test_a_meetings_opinions_are_recorded_by_its_secretary_or_the_principal_only():
    school = make_school("Avis")
    letter = advance(make_letter(school), school, "pedagogical_council")
    cp, ca = school.cp_meeting, school.ca_meeting
    assert opinion_recorders_meetings(school.cp_secretary, [cp, ca]) == {cp.pk}
    assert opinion_recorders_meetings(school.ca_secretary, [cp, ca]) == {ca.pk}
    assert opinion_recorders_meetings(school.principal, [cp, ca]) == {cp.pk, ca.pk}
    assert opinion_recorders_meetings(school.deputy, [cp, ca]) == {cp.pk, ca.pk}
    for outsider in (school.dan, school.referent1, school.ca_secretary):
        with pytest.raises(NotPermitted):
            record_meeting_opinions(
                meeting_id=cp.pk,
                user=outsider,
                opinions=[{"letter": letter.pk, "opinion": "favorable"}],
            )
    # The meetings page offers « Saisir les avis » where the person may record them.
    client = Client()
    client.force_login(school.ca_secretary)
    page = client.get("/seances/").content.decode()
    assert f"/seances/{ca.pk}/avis/" in page
    assert f"/seances/{cp.pk}/avis/" not in page
    client.force_login(school.dan)
    assert "/avis/" not in client.get("/seances/").content.decode()
    assert client.get(f"/seances/{cp.pk}/avis/").status_code == 403


def test_meetings_are_scheduled_by_the_principal_or_the_councils_secretary():
    school = make_school("Seance")
    starts = timezone.now() + dt.timedelta(days=20)
    council = school.ca_meeting.council
    assert schedule_meeting(council, by=school.ca_secretary, starts_at=starts).pk
    for outsider in (school.cp_secretary, school.referent1, school.dan):
        with pytest.raises(PermissionDenied):
            schedule_meeting(council, by=outsider, starts_at=starts)
    client = APIClient()
    client.force_authenticate(school.cp_secretary)
    refused = client.post(
        "/api/v1/meetings/",
        {"establishment": school.establishment.uai, "council": "board", "date": starts.isoformat()},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json() == {
        "code": "permission_denied",
        "detail": "Seuls le chef d'établissement et le secrétaire du conseil fixent ses séances.",
    }


def test_the_dashboard_is_the_dans():
    school = make_school("Tableau")
    today = timezone.localdate()
    board = academy_board(school.dan, "dijon", school.year, TableQuery(), None, today)
    assert board.school_year == school.year
    with pytest.raises(NotPermitted):
        academy_board(school.principal, "dijon", school.year, TableQuery(), None, today)
    client = Client()
    client.force_login(school.principal)
    assert client.get("/tableau-de-bord/").status_code == 403
