"""From the outbox to e-mails (DESIGN §6): one French e-mail per person told of a step,
text and HTML, with the link to the letter and why the person receives it; never to
the person who acted; made once however often the sweep runs; held for a daily digest
when the person chose one; failed, with a clear reason, without an address."""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils.html import escape

from governance.models import Establishment, SchoolYear, User
from notifications import emails
from notifications.emails import TOPICS, compose
from notifications.models import DeliveryMode, Email, EmailStatus, NotificationPreference
from notifications.services import process_notifications, send_digests, send_pending_emails
from tests.factories import School, advance, complete_report, fire, make_letter, make_school, shown
from workflow.audit.snapshot import content_sha256
from workflow.models import MissionLetter, OutboxItem, OutboxKind, OutboxStatus
from workflow.services.comments import add_comment
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db

SITE = "https://lettres.example.fr"
PARIS = ZoneInfo("Europe/Paris")
WHY_LINE = "Vous recevez ce message parce que"


@pytest.fixture(autouse=True)
def _site(settings: Any) -> None:
    settings.SITE_URL = SITE + "/"


def emails_of(step: Callable[[], object]) -> list[Email]:
    """The e-mails made from what ``step`` asked for (the outbox is drained first)."""
    process_notifications()
    before = set(Email.objects.values_list("pk", flat=True))
    step()
    process_notifications()
    return list(
        Email.objects.exclude(pk__in=before)
        .select_related("recipient", "letter__establishment", "letter__school_year")
        .order_by("id")
    )


def check_email(email: Email, letter: MissionLetter, topic: str, why: str) -> None:
    spec = TOPICS[topic]
    recipient = email.recipient
    assert email.topic == topic
    assert email.letter_id == letter.pk
    assert email.to_address == recipient.email
    assert email.status == EmailStatus.PENDING
    assert email.subject == (
        f"{spec.subject} — {letter.establishment.name} ({letter.school_year.code})"
    )
    url = f"{SITE}/lettres/{letter.pk}/"
    text, html = email.body_text, email.body_html
    assert text.startswith(f"Bonjour {recipient.get_full_name()},")
    assert spec.what in text
    assert spec.action in text
    assert url in text
    assert f"{WHY_LINE} {why}." in text
    assert f'href="{url}"' in html
    assert escape(spec.what) in html
    assert f"{WHY_LINE} {escape(why)}." in html


REFERENT, PRINCIPAL, SECRETARY, DAN = (
    emails.REFERENT,
    emails.PRINCIPAL,
    emails.SECRETARY,
    emails.DAN,
)


def expect(
    school: School,
    letter: MissionLetter,
    made: list[Email],
    expected: dict[str, tuple[str, str]],
) -> None:
    """``made`` is exactly one e-mail per person named in ``expected`` ({person: (topic,
    why)}), each one right."""
    names = {user.pk: name for name, user in school.people().items()}
    got = Counter(names[e.recipient_id] for e in made)
    assert got == Counter(list(expected)), [(names[e.recipient_id], e.topic) for e in made]
    for email in made:
        topic, why = expected[names[email.recipient_id]]
        check_email(email, letter, topic, why)


def test_each_step_mails_each_person_told_once_with_the_right_reason():
    school = make_school("Courriels")
    letter = make_letter(school)
    p, r1, r2 = school.principal, school.referent1, school.referent2

    def step(action: Callable[[], object], expected: dict[str, tuple[str, str]]) -> None:
        expect(school, letter, emails_of(action), expected)

    def referents(topic: str) -> dict[str, tuple[str, str]]:
        return {"referent1": (topic, REFERENT), "referent2": (topic, REFERENT)}

    step(lambda: fire(letter, "open_concertation", p), referents("concertation_opened"))
    step(
        lambda: fire(letter, "agree", r1, **shown(letter)),
        {"principal": ("referent_agreed", PRINCIPAL)},
    )
    step(
        lambda: update_letter(letter_id=letter.pk, user=p, changes={"qualification": "PIX 5"}),
        referents("content_changed"),
    )
    step(
        lambda: add_comment(letter_id=letter.pk, user=r1, body="Et le club robotique ?"),
        {
            "principal": ("comment_posted", PRINCIPAL),
            "referent2": ("comment_posted", REFERENT),
        },
    )
    step(
        lambda: fire(letter, "agree", r1, **shown(letter)),
        {"principal": ("referent_agreed", PRINCIPAL)},
    )
    step(
        lambda: fire(letter, "agree", r2, **shown(letter)),
        {"principal": ("referent_agreed", PRINCIPAL)},
    )
    step(
        lambda: fire(letter, "submit_to_pedagogical_council", p),
        {
            "cp_secretary": ("opinion_requested", SECRETARY),
            **referents("submitted_to_councils"),
        },
    )
    step(
        lambda: fire(
            letter,
            "record_pedagogical_opinion",
            school.cp_secretary,
            meeting=school.cp_meeting.pk,
            opinion="favorable",
        ),
        {
            "principal": ("opinion_recorded", PRINCIPAL),
            **referents("opinion_recorded"),
            "ca_secretary": ("opinion_requested", SECRETARY),
        },
    )
    # The principal records the CA's opinion: everyone is told but the principal.
    step(
        lambda: fire(
            letter,
            "record_board_opinion",
            p,
            meeting=school.ca_meeting.pk,
            opinion="favorable",
            votes_for=20,
            votes_against=2,
            abstentions=1,
            not_voting=0,
            members_present=23,
        ),
        referents("signature_requested"),
    )
    letter.refresh_from_db()  # version 2 since the change of content
    step(lambda: fire(letter, "sign", p, snapshot_sha256=content_sha256(letter)), {})
    step(lambda: fire(letter, "sign", r1, snapshot_sha256=content_sha256(letter)), {})
    # Every signatory is told the letter is in force, the last one too.
    step(
        lambda: fire(letter, "sign", r2, snapshot_sha256=content_sha256(letter)),
        {
            "principal": ("letter_in_force", PRINCIPAL),
            **referents("letter_in_force"),
        },
    )
    step(lambda: fire(letter, "open_report", p, reason="Fin anticipée"), referents("report_due"))
    complete_report(letter, r1)
    submitted = {
        "principal": ("report_submitted", PRINCIPAL),
        "dan": ("report_submitted", DAN),
    }
    step(lambda: fire(letter, "submit_report", r1), submitted)
    step(lambda: fire(letter, "return_report", p, reason="Précisez"), referents("report_returned"))
    step(lambda: fire(letter, "submit_report", r2), submitted)
    step(lambda: fire(letter, "acknowledge_report", p), referents("report_acknowledged"))

    # Every request was carried out, and running the sweep again makes nothing more.
    count = Email.objects.count()
    assert process_notifications() == 0
    assert process_notifications() == 0
    assert Email.objects.count() == count
    assert not OutboxItem.objects.filter(
        kind=OutboxKind.NOTIFICATION, status=OutboxStatus.PENDING
    ).exists()
    assert not Email.objects.filter(recipient__in=[school.teacher, school.deputy]).exists()


def test_return_reopen_and_withdraw_tell_the_referents():
    school = make_school("Abandon")
    letter = advance(make_letter(school), school, "pedagogical_council")
    p = school.principal
    referents = {
        "referent1": ("concertation_reopened", REFERENT),
        "referent2": ("concertation_reopened", REFERENT),
    }
    expect(
        school,
        letter,
        emails_of(lambda: fire(letter, "reopen_concertation", p, reason="Revoir")),
        referents,
    )
    for name, topic in [("return_to_draft", "returned_to_draft"), ("withdraw", "letter_withdrawn")]:
        expected = dict.fromkeys(referents, (topic, REFERENT))
        made = emails_of(partial(fire, letter, name, p, reason="Motif"))
        expect(school, letter, made, expected)


def test_the_sweep_makes_each_email_once():
    school = make_school("Une fois")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    assert process_notifications() == 2
    assert process_notifications() == 0
    assert Email.objects.count() == 2
    # Even if a request is found pending again (a worker died before marking it done).
    OutboxItem.objects.filter(kind=OutboxKind.NOTIFICATION).update(status=OutboxStatus.PENDING)
    assert process_notifications() == 2
    assert Email.objects.count() == 2


def test_emails_are_sent_in_text_and_html(mailoutbox):
    school = make_school("Envoi")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    process_notifications()
    assert send_pending_emails() == 2
    assert send_pending_emails() == 0
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [school.referent1.email, school.referent2.email]
    )
    message = mailoutbox[0]
    assert message.subject.startswith(TOPICS["concertation_opened"].subject)
    assert f"{SITE}/lettres/{letter.pk}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"{SITE}/lettres/{letter.pk}/" in str(html)
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


# Digest ------------------------------------------------------------------------------------


def test_a_digest_person_gets_one_summary_a_day(mailoutbox):
    with time_machine.travel(dt.datetime(2027, 3, 2, 10, tzinfo=PARIS), tick=False) as clock:
        school = make_school("Recap")
        r1, r2 = school.referent1, school.referent2
        NotificationPreference.objects.create(user=r1, mode=DeliveryMode.DIGEST, digest_hour=9)
        letter = make_letter(school)
        fire(letter, "open_concertation", school.principal)
        update_letter(letter_id=letter.pk, user=school.principal, changes={"qualification": "X"})
        process_notifications()

        # A request to act (the concertation opened) goes at once; the new version waits.
        mails = list(Email.objects.filter(recipient=r1).order_by("id"))
        assert [(e.topic, e.status) for e in mails] == [
            ("concertation_opened", EmailStatus.PENDING),
            ("content_changed", EmailStatus.HELD),
        ]
        held = [e for e in mails if e.status == EmailStatus.HELD]
        assert set(Email.objects.filter(recipient=r2).values_list("status", flat=True)) == {
            EmailStatus.PENDING
        }
        assert send_pending_emails() == 3  # referent2's two, referent1's request to act
        assert sorted(m.to[0] for m in mailoutbox) == sorted([r1.email, r2.email, r2.email])

        assert send_digests() == 1
        digest = Email.objects.get(topic="digest")
        assert digest.recipient == r1
        assert digest.to_address == r1.email
        assert digest.status == EmailStatus.PENDING
        assert digest.subject == "Lettres de mission : votre récapitulatif (1 notification(s))"
        for email in held:
            assert email.subject in digest.body_text
            assert escape(email.subject) in digest.body_html
        assert f"{SITE}/lettres/{letter.pk}/" in digest.body_text
        assert f"{WHY_LINE} vous avez choisi" in digest.body_text
        for email in held:
            email.refresh_from_db()
            assert (email.status, email.digest_id) == (EmailStatus.DIGESTED, digest.pk)

        # Same day: no second digest, even when something new is held.
        assert send_digests() == 0
        clock.move_to(dt.datetime(2027, 3, 2, 16, tzinfo=PARIS))
        fire(letter, "return_to_draft", school.principal, reason="Reprise")
        process_notifications()
        late = Email.objects.get(recipient=r1, topic="returned_to_draft")
        assert late.status == EmailStatus.HELD
        assert send_digests() == 0
        assert Email.objects.filter(topic="digest").count() == 1
        late.refresh_from_db()
        assert late.status == EmailStatus.HELD

        # The next day's digest carries it.
        clock.move_to(dt.datetime(2027, 3, 3, 17, tzinfo=PARIS))
        assert send_digests() == 1
        second = Email.objects.filter(topic="digest").order_by("-id").first()
        assert second is not None
        assert second.pk != digest.pk
        assert second.subject.endswith("(1 notification(s))")
        assert late.subject in second.body_text
        assert held[0].subject not in second.body_text
        mailoutbox.clear()
        send_pending_emails()
        sent_to_r1 = [m.subject for m in mailoutbox if m.to == [r1.email]]
        assert sent_to_r1 == [digest.subject, second.subject]


def test_a_person_without_an_address_gets_a_failed_email(mailoutbox):
    school = make_school("Sans adresse")
    User.objects.filter(pk=school.referent2.pk).update(email="")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    process_notifications()
    failed = Email.objects.get(recipient=school.referent2)
    assert failed.status == EmailStatus.FAILED
    assert failed.to_address == ""
    assert failed.last_error == "Aucune adresse électronique pour cette personne."
    assert send_pending_emails() == 1
    assert [m.to for m in mailoutbox] == [[school.referent1.email]]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (EmailStatus.FAILED, 0)


# Every topic renders ------------------------------------------------------------------------


@pytest.fixture
def strict_templates(settings: Any) -> str:
    """Unknown template variables show instead of vanishing."""
    marker = "@@INVALID@@"
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = marker
    settings.TEMPLATES = templates
    return marker


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_renders_in_french(topic, strict_templates):
    establishment = Establishment(name="Collège Jean Moulin", uai="0210015C")
    letter = MissionLetter(
        pk=4242, establishment=establishment, school_year=SchoolYear(code="2026-2027")
    )
    recipient = User(username="sdurand", first_name="Sophie", last_name="Durand")
    spec = TOPICS[topic]
    message = compose(topic, recipient, letter)

    assert message.subject == f"{spec.subject} — Collège Jean Moulin (2026-2027)"
    for body in (message.text, message.html):
        assert strict_templates not in body
        assert "{{" not in body
        assert "{%" not in body
        assert "Bonjour Sophie Durand," in body
        assert "Lettre de mission" in body
        assert "0210015C" in body
        assert "année scolaire 2026-2027" in body
        assert f"{SITE}/lettres/4242/" in body
        assert "merci de ne pas y répondre" in body
    assert spec.what in message.text
    assert spec.action in message.text
    assert f"{WHY_LINE} {spec.why}." in message.text
    assert escape(spec.what) in message.html
    assert message.html.startswith('<!DOCTYPE html>\n<html lang="fr">')
    assert "<" not in message.text


def test_a_message_without_a_letter_renders(strict_templates):
    recipient = User(username="x", first_name="Anne", last_name="Petit")
    message = compose("reminder", recipient, None, what="Votre accord est attendu.")
    assert message.subject == TOPICS["reminder"].subject
    assert strict_templates not in message.text + message.html
    assert "Votre accord est attendu." in message.text
    assert "Lettre de mission :" not in message.text
