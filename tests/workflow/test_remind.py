"""« Relancer » (DESIGN §6): the principal, or the deputy by delegation, sends an e-mail
to whoever the letter waits for, at most once a day per person and letter; the second
the same day is refused with the time of the first. Each relance is a step of the
letter's history, and its e-mail goes through the outbox. Through the service, the API
and the letter's page.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from notifications.models import Email
from notifications.services import process_notifications
from tests.factories import School, fire, make_letter, make_school, shown
from workflow.errors import AlreadyReminded, NotAwaited, NotPermitted
from workflow.lifecycle.table import action_label
from workflow.models import AuditEvent, MissionLetter, OutboxItem
from workflow.services.reminders import REMINDER_TOPIC, remind_awaited

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2027, 3, 1)


def at(hour: int, minute: int = 0, day: dt.date = MONDAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(at(9), tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(clock: Any) -> tuple[School, MissionLetter]:
    """A letter in concertation: it waits for both référents' agreement."""
    school = make_school("Relance")
    letter = make_letter(school)
    fire(letter, "open_concertation", school.principal)
    return school, letter


def relances(letter: MissionLetter) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(letter=letter, action="remind").order_by("sequence"))


def requests_for(letter: MissionLetter) -> list[tuple[str, str]]:
    return sorted(
        OutboxItem.objects.filter(letter=letter, topic=REMINDER_TOPIC).values_list(
            "recipient__username", "topic"
        )
    )


# The service -----------------------------------------------------------------------------


def test_a_second_relance_the_same_day_is_refused_with_the_time_of_the_first(clock, setup):
    school, letter = setup
    clock.move_to(at(14, 2))
    assert remind_awaited(
        letter_id=letter.pk, user=school.principal, person_id=school.referent1.pk
    ) == [school.referent1]

    clock.move_to(at(16, 30))  # the deputy, the same afternoon
    with pytest.raises(AlreadyReminded) as refused:
        remind_awaited(letter_id=letter.pk, user=school.deputy, person_id=school.referent1.pk)
    assert refused.value.detail == (
        "Déjà relancé aujourd'hui à 14 h 02 par Claire Martin : Sophie Durand."
    )
    assert refused.value.code == "already_reminded"
    # Once per person: the other référent may still be reminded today, by the deputy.
    assert remind_awaited(
        letter_id=letter.pk, user=school.deputy, person_id=school.referent2.pk
    ) == [school.referent2]
    assert requests_for(letter) == [
        (school.referent1.username, REMINDER_TOPIC),
        (school.referent2.username, REMINDER_TOPIC),
    ]

    # The next day, referent1 may be reminded again.
    clock.move_to(at(8, 15, MONDAY + dt.timedelta(days=1)))
    assert remind_awaited(
        letter_id=letter.pk, user=school.principal, person_id=school.referent1.pk
    ) == [school.referent1]
    assert len(relances(letter)) == 3


def test_each_relance_is_a_step_of_the_history(clock, setup):
    school, letter = setup
    clock.move_to(at(14, 2))
    remind_awaited(letter_id=letter.pk, user=school.principal, person_id=school.referent1.pk)
    [event] = relances(letter)
    assert event.actor == school.principal
    assert (event.from_state, event.to_state) == ("concertation", "concertation")
    assert event.payload == {"people": [school.referent1.pk], "names": ["Sophie Durand"]}
    assert action_label("remind") == "Relance envoyée"


def test_without_a_person_every_awaited_person_not_yet_reminded_is(clock, setup):
    school, letter = setup
    clock.move_to(at(10))
    remind_awaited(letter_id=letter.pk, user=school.principal, person_id=school.referent1.pk)
    clock.move_to(at(11, 5))
    assert remind_awaited(letter_id=letter.pk, user=school.principal) == [school.referent2]
    with pytest.raises(AlreadyReminded) as refused:
        remind_awaited(letter_id=letter.pk, user=school.principal)
    assert refused.value.detail == (
        "Déjà relancé aujourd'hui à 10 h 00 par Claire Martin : Sophie Durand. "
        "Déjà relancé aujourd'hui à 11 h 05 par Claire Martin : Karim Benali."
    )


def test_only_whoever_the_letter_waits_for_is_reminded(clock, setup):
    school, letter = setup
    fire(letter, "agree", school.referent1, **shown(letter))
    with pytest.raises(NotAwaited):  # she has agreed: nothing is awaited from her
        remind_awaited(letter_id=letter.pk, user=school.principal, person_id=school.referent1.pk)
    with pytest.raises(NotAwaited):
        remind_awaited(letter_id=letter.pk, user=school.principal, person_id=school.teacher.pk)
    assert remind_awaited(letter_id=letter.pk, user=school.principal) == [school.referent2]


def test_a_referent_or_a_secretary_cannot_relancer(clock, setup):
    school, letter = setup
    for user in (school.referent1, school.cp_secretary):
        with pytest.raises(NotPermitted):
            remind_awaited(letter_id=letter.pk, user=user, person_id=school.referent2.pk)
    assert relances(letter) == []


def test_the_mail_arrives_through_the_outbox(clock, setup):
    school, letter = setup
    clock.move_to(at(14, 2))
    remind_awaited(letter_id=letter.pk, user=school.principal, person_id=school.referent1.pk)
    process_notifications()
    email = Email.objects.get(topic=REMINDER_TOPIC)
    assert email.recipient == school.referent1
    assert email.to_address == school.referent1.email
    assert email.subject.startswith("Relance : une lettre de mission attend votre action")
    # The mail says who asks, the step, and what the letter waits for from this person
    # (as their À faire names it), with a link to where they act.
    text = " ".join(email.body_text.split())
    assert "Relancé par : Claire Martin, chef d'établissement" in text
    assert f"Étape : Concertation avec le(s) référent(s), version {letter.version}" in text
    assert f"Attendu de vous : « {action_label('agree')} »" in text
    assert f"/lettres/{letter.pk}/#action-agree" in email.body_text


# The API ---------------------------------------------------------------------------------


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_answers_201_then_409_already_reminded(clock, setup):
    school, letter = setup
    url = f"/api/v1/letters/{letter.pk}/remind/"
    clock.move_to(at(14, 2))
    first = api(school.principal).post(url, {"person": school.referent1.pk}, format="json")
    assert first.status_code == 201, first.content
    assert first.json() == {
        "reminded": [{"user": school.referent1.username, "name": "Sophie Durand"}]
    }

    clock.move_to(at(15))
    # By username this time, and by the deputy: the same person, the same day.
    again = api(school.deputy).post(url, {"person": school.referent1.username}, format="json")
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "already_reminded"
    assert "Déjà relancé aujourd'hui à 14 h 02 par Claire Martin" in body["detail"]
    assert body["reminded"][0]["user"] == school.referent1.username
    assert body["reminded"][0]["by"] == "Claire Martin"

    # Without a body: everyone awaited not yet reminded today.
    rest = api(school.principal).post(url, format="json")
    assert rest.status_code == 201
    assert [p["user"] for p in rest.json()["reminded"]] == [school.referent2.username]


def test_the_api_refuses_a_referent_403_and_a_person_not_awaited_409(clock, setup):
    school, letter = setup
    url = f"/api/v1/letters/{letter.pk}/remind/"
    refused = api(school.referent1).post(url, {"person": school.referent2.pk}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    not_awaited = api(school.principal).post(url, {"person": school.teacher.pk}, format="json")
    assert not_awaited.status_code == 409
    assert not_awaited.json()["code"] == "not_awaited"
    invalid = api(school.principal).post(url, {"person": [1]}, format="json")
    assert invalid.status_code == 400
    assert relances(letter) == []


# The page --------------------------------------------------------------------------------


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def test_the_letter_page_offers_relancer_and_says_what_happened(clock, setup):
    school, letter = setup
    client = Client()
    client.force_login(school.principal)
    page = page_text(client.get(f"/lettres/{letter.pk}/"))
    assert "En attente de" in page
    assert f'id="relancer-{school.referent1.pk}"' in page
    assert 'id="relancer-tous"' in page

    clock.move_to(at(14, 2))
    url = f"/lettres/{letter.pk}/relancer/"
    done = client.post(url, {"personne": school.referent1.pk}, follow=True)
    text = page_text(done)
    assert "Relance envoyée à Sophie Durand." in text
    assert "relancé aujourd'hui à 14 h 02 par Claire Martin" in text
    assert "<td>Relance envoyée</td>" in text  # the history's row

    clock.move_to(at(14, 40))
    again = page_text(client.post(url, {"personne": school.referent1.pk}, follow=True))
    assert "Déjà relancé aujourd'hui à 14 h 02 par Claire Martin : Sophie Durand." in again

    everyone = page_text(client.post(url, follow=True))
    assert "Relance envoyée à Karim Benali." in everyone
    assert len(relances(letter)) == 2


def test_a_referent_sees_no_relancer_and_cannot_post_it(clock, setup):
    school, letter = setup
    client = Client()
    client.force_login(school.referent1)
    page = page_text(client.get(f"/lettres/{letter.pk}/"))
    assert "relancer-" not in page
    response = client.post(f"/lettres/{letter.pk}/relancer/", {"personne": school.referent2.pk})
    assert response.status_code == 403
    assert relances(letter) == []
