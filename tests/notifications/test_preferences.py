"""Each person's choice of how they are told (DESIGN §6): on the « Mes notifications »
page and at ``/api/v1/me/``, immediate e-mails or one daily digest at the hour they
choose, and per kind immediately, in the digest or not at all; requests to act always
go at once. A hard bounce marks the address as failing, stops sending to it, and shows
on the letter page to the principal and in the administration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils.html import escape
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from governance.models import User
from notifications.emails import TOPICS
from notifications.models import Email, EmailStatus, NotificationPreference
from notifications.preferences import ALWAYS_SENT, Kind, kind_of
from notifications.services import process_notifications, send_digests, send_pending_emails
from tests.factories import School, advance, fire, make_letter, make_school
from tests.servers import SmtpRecorder, SmtpServer, free_port
from workflow.models import MissionLetter
from workflow.services.comments import add_comment

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
SAVED = "Vos préférences sont enregistrées."


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=PARIS)


def drain() -> None:
    """What the sweep does every minute: the outbox into e-mails, the due ones sent."""
    process_notifications()
    send_pending_emails()


def received_by(smtp: SmtpServer, user: User) -> list[str]:
    """The keys of the messages the SMTP server accepted for ``user``, in order."""
    return [m.key for m in smtp.recorder.messages if m.recipients == [user.email]]


# The page -------------------------------------------------------------------------------


def test_a_referent_reaches_the_page_from_the_header_and_saves_choices():
    school = make_school("Page")
    client = Client()
    client.force_login(school.referent1)
    home = client.get("/").content.decode()
    assert 'href="/mes-notifications/"' in home
    assert "Mes notifications" in home

    page = client.get("/mes-notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Mes notifications</h1>" in html
    assert "Toujours envoyés aussitôt" in html
    assert "les demandes d'agir et les relances vous sont envoyées aussitôt" in html
    assert 'id="mode-immediate" name="mode" value="immediate" checked' in html
    assert '<option value="17" selected>17 h</option>' in html
    for kind in Kind:
        assert f'name="kind-{kind.value}"' in html
        assert escape(str(kind.label)) in html

    answer = client.post(
        "/mes-notifications/",
        {
            "mode": "digest",
            "digest_hour": "8",
            "kind-comments": "digest",
            "kind-signatures": "immediate",
            "kind-letter": "none",
            "kind-concertation": "default",
            "kind-councils": "default",
            "kind-report": "default",
        },
        follow=True,
    )
    assert answer.redirect_chain == [("/mes-notifications/", 302)]
    html = answer.content.decode()
    assert SAVED in html
    preference = NotificationPreference.objects.get(user=school.referent1)
    assert (preference.mode, preference.digest_hour) == ("digest", 8)
    assert preference.kinds == {"comments": "digest", "signatures": "immediate", "letter": "none"}
    assert '<option value="8" selected>8 h</option>' in html
    assert 'id="mode-digest" name="mode" value="digest" checked' in html

    # A wrong hour: said in French by its label, nothing changed, what was typed kept.
    wrong = client.post(
        "/mes-notifications/", {"mode": "immediate", "digest_hour": "25", "kind-comments": "none"}
    )
    assert wrong.status_code == 200
    html = wrong.content.decode()
    assert "Vos préférences ne sont pas enregistrées" in html
    assert "Heure du récapitulatif : choisissez une heure entière de 0 à 23." in html
    assert SAVED not in html
    preference.refresh_from_db()
    assert (preference.mode, preference.digest_hour) == ("digest", 8)
    assert preference.kinds["comments"] == "digest"


def test_the_page_needs_a_sign_in():
    response = Client().get("/mes-notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


# The API -------------------------------------------------------------------------------


def test_the_api_shows_and_changes_the_preferences_under_me():
    school = make_school("Api")
    client = APIClient()
    client.force_authenticate(school.referent1)
    me = client.get("/api/v1/me/").json()
    assert me["username"] == school.referent1.username
    assert me["notifications"] == {
        "mode": "immediate",
        "digest_hour": 17,
        "kinds": dict.fromkeys(Kind.values, "default"),
        "always_sent": sorted(ALWAYS_SENT),
    }
    assert "signature_requested" in me["notifications"]["always_sent"]

    changed = client.patch(
        "/api/v1/me/",
        {"notifications": {"mode": "digest", "digest_hour": 7, "kinds": {"comments": "none"}}},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    notifications = changed.json()["notifications"]
    assert (notifications["mode"], notifications["digest_hour"]) == ("digest", 7)
    assert notifications["kinds"]["comments"] == "none"
    assert notifications["kinds"]["signatures"] == "default"
    # What is not given is kept.
    again = client.patch("/api/v1/me/", {"notifications": {"digest_hour": 18}}, format="json")
    assert again.json()["notifications"]["kinds"]["comments"] == "none"
    assert again.json()["notifications"]["mode"] == "digest"
    assert client.get("/api/v1/me/notifications/").json() == {"mode": "digest"}

    for body, detail in [
        (
            {"notifications": {"digest_hour": 24}},
            "Heure du récapitulatif : choisissez une heure entière de 0 à 23.",
        ),
        (
            {"notifications": {"kinds": {"comments": "pigeon"}}},
            "Messages de la concertation : choisissez « Un courriel à chaque fois », « Dans le "
            "récapitulatif quotidien », « Aucun courriel » ou « Comme le réglage général ».",
        ),
        (
            {"notifications": {"mode": "pigeon"}},
            "Réception : choisissez « Un courriel à chaque fois » ou « Un récapitulatif "
            "quotidien ».",
        ),
        (
            {"notifications": {"kinds": {"pigeons": "none"}}},
            "Sorte de notification inconnue : « pigeons »",
        ),
        (
            {"username": "autre"},
            "Seules les préférences de notification (« notifications ») se modifient ici.",
        ),
    ]:
        bad = client.patch("/api/v1/me/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert bad.status_code == 400, body
        assert bad.json()["code"] == "invalid"
        assert bad.json()["detail"].startswith(detail), bad.json()
    preference = NotificationPreference.objects.get(user=school.referent1)
    assert (preference.mode, preference.digest_hour, preference.kinds) == (
        "digest",
        18,
        {"comments": "none"},
    )


def test_the_schema_documents_me_with_its_preferences():
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = schema["paths"]["/api/v1/me/"]
    assert {"get", "patch"} <= set(operations)
    me = schema["components"]["schemas"]["MeWithPreferences"]
    assert "notifications" in me["properties"]
    preferences = schema["components"]["schemas"]["NotificationPreferences"]
    assert {"mode", "digest_hour", "kinds", "always_sent"} <= set(preferences["properties"])


def test_every_topic_is_a_kind_to_choose_for_or_a_request_to_act():
    """A new topic must be placed: in a kind (the person chooses) or always sent."""
    for topic in TOPICS:
        assert (kind_of(topic) is None) == (topic in ALWAYS_SENT), topic
    assert not ALWAYS_SENT - set(TOPICS)


def test_the_digest_sweep_runs_every_hour():
    task = PeriodicTask.objects.get(task="notifications.send_digests")
    assert task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour) == ("0", "*")
    assert str(task.crontab.timezone) == "Europe/Paris"


# Digest and choices, against a real SMTP server -----------------------------------------


def _concertation(school: School) -> MissionLetter:
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    return letter


def _comment(letter: MissionLetter, school: School, n: int) -> None:
    add_comment(letter_id=letter.pk, user=school.principal, body=f"Remarque n° {n}")


def test_a_person_on_the_daily_digest_gets_one_mail_for_five_comments_at_their_hour(smtp):
    with time_machine.travel(at(2, 8), tick=True) as clock:
        school = make_school("Digest")
        referent = school.referent1
        NotificationPreference.objects.create(user=referent, mode="digest", digest_hour=17)
        letter = _concertation(school)
        drain()
        # Opening the concertation asks the referent to act: it arrives at once.
        assert received_by(smtp, referent) == [
            Email.objects.get(recipient=referent, topic="concertation_opened").key
        ]

        for n, hour in enumerate([9, 10, 11, 12, 13], start=1):
            clock.move_to(at(2, hour))
            _comment(letter, school, n)
            drain()
            assert send_digests() == 0  # before 17 h
        comments = Email.objects.filter(recipient=referent, topic="comment_posted")
        assert comments.count() == 5
        assert set(comments.values_list("status", flat=True)) == {EmailStatus.HELD}
        assert len(received_by(smtp, referent)) == 1
        # The other referent, on immediate mails, had each comment at once.
        assert len(received_by(smtp, school.referent2)) == 6

        # The letter goes on to its signatures: that request arrives at once, too.
        clock.move_to(at(2, 14))
        advance(letter, school, "signature")
        drain()
        request = Email.objects.get(recipient=referent, topic="signature_requested")
        assert received_by(smtp, referent)[-1] == request.key
        assert len(received_by(smtp, referent)) == 2

        clock.move_to(at(2, 16, 59))
        assert send_digests() == 0
        clock.move_to(at(2, 17, 0))
        assert send_digests() == 1
        drain()
        digest = Email.objects.get(recipient=referent, topic="digest")
        assert digest.key == f"digest:{referent.pk}:2027-03-02"
        assert digest.status == EmailStatus.SENT
        assert received_by(smtp, referent) == [
            Email.objects.get(recipient=referent, topic="concertation_opened").key,
            request.key,
            digest.key,
        ]
        assert set(comments.values_list("status", "digest")) == {(EmailStatus.DIGESTED, digest.pk)}
        assert digest.body_text.count(TOPICS["comment_posted"].subject) == 5
        # Each message says what happened: the comment's author and text.
        for n in range(1, 6):
            assert f"Remarque n° {n}" in digest.body_text
            assert f"Remarque n° {n}" in digest.body_html
        assert school.principal.get_full_name() in digest.body_text

        # Once a day: the hourly runs that follow send nothing more today.
        for hour in (18, 23):
            clock.move_to(at(2, hour))
            assert send_digests() == 0
        clock.move_to(at(3, 18))
        assert send_digests() == 0  # the next day: nothing held, no digest
        assert Email.objects.filter(recipient=referent, topic="digest").count() == 1


def test_comments_set_to_not_at_all_send_nothing_but_a_signature_request_arrives(smtp):
    with time_machine.travel(at(2, 8), tick=True) as clock:
        school = make_school("Silence")
        referent = school.referent1
        NotificationPreference.objects.create(
            user=referent, mode="immediate", digest_hour=9, kinds={"comments": "none"}
        )
        letter = _concertation(school)
        drain()
        before = len(received_by(smtp, referent))
        for n in range(1, 4):
            _comment(letter, school, n)
        drain()
        assert len(received_by(smtp, referent)) == before
        assert len(received_by(smtp, school.referent2)) == before + 3

        clock.move_to(at(2, 10))
        assert send_digests() == 0  # nothing to digest: the comments are dropped
        assert set(
            Email.objects.filter(recipient=referent, topic="comment_posted").values_list(
                "status", flat=True
            )
        ) == {EmailStatus.DROPPED}
        drain()
        assert len(received_by(smtp, referent)) == before

        advance(letter, school, "signature")
        drain()
        request = Email.objects.get(recipient=referent, topic="signature_requested")
        assert request.status == EmailStatus.SENT
        assert received_by(smtp, referent)[-1] == request.key


# Hard bounces ---------------------------------------------------------------------------


@dataclass
class Bouncing(SmtpRecorder):
    """Refuses some recipients for good (550) or for now (450), at RCPT."""

    unknown: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    tried: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.tried.append(address)
        if address in self.unknown:
            return "550 5.1.1 Adresse inconnue"
        if address in self.busy:
            return "450 4.2.1 Boite occupee"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def bouncing(smtp: SmtpServer, settings: Any) -> Any:
    server = SmtpServer(Bouncing(), free_port())
    server.start()
    settings.EMAIL_PORT = server.port
    yield server
    server.stop()


def test_a_hard_bounce_marks_the_address_failing_and_shows_it(bouncing, admin_client):
    recorder = bouncing.recorder
    school = make_school("Rebond")
    karim, sophie = school.referent2, school.referent1
    recorder.unknown.add(karim.email)
    letter = _concertation(school)
    drain()

    bounced = Email.objects.get(recipient=karim, topic="concertation_opened")
    assert bounced.status == EmailStatus.FAILED
    assert bounced.attempts == 1
    assert "550 5.1.1 Adresse inconnue" in bounced.last_error
    karim.refresh_from_db()
    assert karim.email_failing_since is not None
    assert karim.email_failing_reason == "550 5.1.1 Adresse inconnue"
    assert Email.objects.get(recipient=sophie, topic="concertation_opened").status == "sent"

    # No retry of the bounced mail, and nothing more is tried to the address.
    tries = recorder.tried.count(karim.email)
    assert tries == 1
    _comment(letter, school, 1)
    drain()
    send_pending_emails()
    assert recorder.tried.count(karim.email) == tries
    later = Email.objects.filter(recipient=karim, topic="comment_posted").latest("id")
    assert later.status == EmailStatus.FAILED
    assert "Adresse en échec" in later.last_error
    bounced.refresh_from_db()
    assert (bounced.status, bounced.attempts) == (EmailStatus.FAILED, 1)

    # A refusal for now (4xx) is retried, and the address is not marked.
    recorder.busy.add(sophie.email)
    _comment(letter, school, 2)
    drain()
    busy = Email.objects.filter(recipient=sophie, topic="comment_posted").latest("id")
    assert busy.status == EmailStatus.PENDING
    assert busy.attempts == 1
    sophie.refresh_from_db()
    assert sophie.email_failing_since is None

    # The principal sees it on the letter page, by the referent's name; a referent does not.
    principal = Client()
    principal.force_login(school.principal)
    page = principal.get(f"/lettres/{letter.pk}/").content.decode()
    assert "Adresse en échec" in page
    assert "550 5.1.1 Adresse inconnue" in page
    referent = Client()
    referent.force_login(sophie)
    assert "Adresse en échec" not in referent.get(f"/lettres/{letter.pk}/").content.decode()

    # The administrator: a column and a filter.
    listing = admin_client.get("/admin/governance/user/?adresse=echec").content.decode()
    assert karim.username in listing
    assert sophie.username not in listing
    assert "En échec : 550 5.1.1 Adresse inconnue" in listing

    # A new address is a fresh start.
    karim.email = "karim.benali@exemple.fr"
    karim.save()
    karim.refresh_from_db()
    assert (karim.email_failing_since, karim.email_failing_reason) == (None, "")


def test_the_administrator_clears_a_failing_address(admin_client):
    school = make_school("Efface")
    User.objects.filter(pk=school.referent2.pk).update(
        email_failing_since=dt.datetime(2027, 3, 1, tzinfo=PARIS), email_failing_reason="550 x"
    )
    response = admin_client.post(
        "/admin/governance/user/",
        {"action": "clear_email_failing", "_selected_action": [school.referent2.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert escape("L'échec d'adresse de 1 personne est effacé.") in response.content.decode()
    school.referent2.refresh_from_db()
    assert school.referent2.email_failing_since is None
