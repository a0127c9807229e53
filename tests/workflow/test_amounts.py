"""Amounts the French way everywhere (issue 31): « 2 500,00 € », a narrow no-break
space between thousands and a no-break space before the sign, on every page, in the
letter's PDF and in the e-mails."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string

from notifications.models import Email
from notifications.services import process_notifications
from tests.factories import advance, letter_content, make_letter, make_school
from workflow.audit.pdf import letter_context
from workflow.audit.snapshot import full_snapshot
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db

AMOUNT_1250 = "1\u202f250,00\u00a0€"
AMOUNT_2500 = "2\u202f500,00\u00a0€"
AMOUNT_3750 = "3\u202f750,00\u00a0€"


def _euros(value: object) -> str:
    return Template("{% load money %}{{ value|euros }}").render(Context({"value": value}))


def test_the_euros_filter():
    assert _euros(Decimal("2500")) == AMOUNT_2500
    assert _euros("1250.00") == AMOUNT_1250
    assert _euros("312,5") == "312,50\u00a0€"
    assert _euros(1250) == AMOUNT_1250
    assert _euros(None) == ""
    assert _euros("") == ""
    # A value typed in a form and shown back is no number: shown as typed, no error.
    assert _euros("douze") == "douze"
    assert _euros("NaN") == "NaN"


def test_every_page_the_pdf_and_the_mail_say_amounts_the_french_way(client):
    school = make_school("Montants")
    letter = advance(make_letter(school), school, "concertation")  # 1 250 € + 1 h
    client.force_login(school.principal)

    # The letter's page: each référent's recognition.
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    assert f"IMP de {AMOUNT_1250}" in page

    # The editor: the envelope (1 250 € of IMP and 1 h of décharge at 1 250 €) and the
    # amounts an IMP may take.
    letter = update_letter(
        letter_id=letter.pk,
        user=school.principal,
        changes={"referents": letter_content(school, imp1="2500.00")["referents"]},
    )
    editor = client.get(f"/lettres/{letter.pk}/modifier/").content.decode()
    assert f"Enveloppe de l'établissement pour l'année : {AMOUNT_3750}" in editor
    assert f">{AMOUNT_2500} (taux 4)</option>" in editor

    # The letter's PDF, as its template renders it.
    html = render_to_string("workflow/letter_pdf.html", letter_context(full_snapshot(letter)))
    assert f"IMP de {AMOUNT_2500}" in html

    # The e-mail announcing the new version says what changed.
    process_notifications()
    mail = Email.objects.get(topic="content_changed", recipient=school.referent2)
    assert f"IMP de {AMOUNT_1250}" in mail.body_text
    assert f"IMP de {AMOUNT_2500}" in mail.body_text

    # The dashboard: the establishment's envelope.
    client.force_login(school.dan)
    dashboard = client.get("/tableau-de-bord/?annee=2026-2027").content.decode()
    assert AMOUNT_3750 in dashboard
