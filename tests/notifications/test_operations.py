"""What operators and people see of the notifications: the outbox status (command and
admin page) and each person's own choice of immediate e-mails or a daily digest."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import Email, EmailStatus, NotificationPreference
from notifications.selectors import outbox_report
from notifications.services import process_notifications, queue_email
from tests.factories import make_letter, make_school
from workflow.lifecycle.engine import fire_transition

pytestmark = pytest.mark.django_db


def test_the_outbox_report_counts_waiting_and_failed_work_and_its_age():
    school = make_school("Ops")
    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    report = outbox_report(now=timezone.now() + dt.timedelta(minutes=30))
    # Two archives (the letter's creation, the opening) and two referents' notifications.
    assert report.pending_requests == 4
    assert report.oldest_pending_age is not None
    assert report.oldest_pending_age >= dt.timedelta(minutes=30)
    assert report.healthy

    process_notifications()
    failed = queue_email(key="broken", recipient=school.teacher, topic="reminder", letter=letter)
    Email.objects.filter(pk=failed.pk).update(
        status=EmailStatus.FAILED, attempts=10, last_error="SMTPDataError: 554 refusé"
    )
    report = outbox_report()
    assert (report.pending_requests, report.pending_emails, report.failed_emails) == (2, 2, 1)
    assert [(f.key, f.last_error) for f in report.recent_failures] == [
        ("broken", "SMTPDataError: 554 refusé")
    ]
    assert not report.healthy


def test_the_outbox_command_prints_the_state_and_fails_when_work_failed_or_waits_too_long():
    school = make_school("Cmd")
    out = StringIO()
    call_command("outbox_status", stdout=out)
    assert "Plus ancien élément en attente : aucun" in out.getvalue()

    make_letter(school)  # its creation asks for an archive
    with pytest.raises(CommandError, match="plus de 0 minutes"):
        call_command("outbox_status", "--max-age", "0", stdout=StringIO())
    call_command("outbox_status", "--max-age", "60", stdout=StringIO())

    email = queue_email(key="k", recipient=school.teacher, topic="reminder", letter=None)
    Email.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED, last_error="boom")
    out = StringIO()
    with pytest.raises(CommandError, match="en échec"):
        call_command("outbox_status", stdout=out)
    assert "échec k (0 tentative(s)) : boom" in out.getvalue()


def test_the_admin_email_page_shows_the_outbox_summary(admin_client):
    school = make_school("Admin")
    email = queue_email(key="x", recipient=school.teacher, topic="reminder", letter=None)
    Email.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED, last_error="SMTP 554")
    response = admin_client.get("/admin/notifications/email/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "File des traitements" in page
    assert "courriels en échec : 1" in page
    assert "SMTP 554" in page


def test_a_person_chooses_immediate_emails_or_a_daily_digest():
    school = make_school("Pref")
    client = APIClient()
    client.force_authenticate(school.referent1)
    assert client.get("/api/v1/me/notifications/").json() == {"mode": "immediate"}
    assert client.put("/api/v1/me/notifications/", {"mode": "digest"}, format="json").json() == {
        "mode": "digest"
    }
    assert NotificationPreference.objects.get(user=school.referent1).mode == "digest"
    bad = client.put("/api/v1/me/notifications/", {"mode": "pigeon"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"

    letter = make_letter(school)
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school.principal)
    fire_transition(
        letter_id=letter.pk,
        name="return_to_draft",
        user=school.principal,
        payload={"reason": "Reprise"},
    )
    process_notifications()
    statuses = dict(
        Email.objects.filter(topic="returned_to_draft").values_list("recipient__username", "status")
    )
    assert statuses[school.referent1.username] == EmailStatus.HELD  # waits for the digest
    assert statuses[school.referent2.username] == EmailStatus.PENDING
    # A request to act is never held.
    opened = dict(
        Email.objects.filter(topic="concertation_opened").values_list(
            "recipient__username", "status"
        )
    )
    assert opened[school.referent1.username] == EmailStatus.PENDING
