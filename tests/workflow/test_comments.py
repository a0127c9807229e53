"""The concertation thread: at most 5 000 characters a message, corrections and
deletions by its author for 15 minutes, and a référent's change requests, open until
the principal's side answers them or marks them resolved. Services, API and page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from governance.models import User
from tests.factories import World
from tests.html_forms import form_fields
from workflow.errors import InvalidInput, LetterNotFound, NotEditable, NotPermitted
from workflow.models import Comment, MissionLetter, OutboxItem
from workflow.selectors.comments import open_requests, request_state, thread
from workflow.services.comments import (
    MAX_LENGTH,
    add_comment,
    delete_comment,
    edit_comment,
    resolve_change_request,
)

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


@pytest.fixture
def clock() -> Iterator[Any]:
    """Time stands still until the test moves it (``clock.shift``)."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _api(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _url(letter: MissionLetter, comment: Comment | None = None) -> str:
    url = f"/api/v1/letters/{letter.pk}/comments/"
    return f"{url}{comment.pk}/" if comment is not None else url


def _state(comment: Comment) -> str | None:
    return request_state(thread(comment.letter).get(pk=comment.pk))


# The limit -----------------------------------------------------------------------------


def test_the_limit_is_5000_characters():
    assert MAX_LENGTH == 5000


def test_a_message_of_5000_characters_is_taken_one_more_is_refused_saying_by_how_much(
    world: World,
):
    school, letter = world.at("concertation")
    add_comment(letter_id=letter.pk, user=school.referent1, body="x" * 5000)
    with pytest.raises(InvalidInput) as refused:
        add_comment(letter_id=letter.pk, user=school.referent1, body="x" * 5003)
    assert refused.value.errors == {
        "body": [
            f"Le message compte 5{NNBSP}003 caractères, pour 5{NNBSP}000 au plus : "
            "raccourcissez-le de 3 caractères."
        ]
    }
    assert Comment.objects.filter(letter=letter).count() == 1


def test_a_line_end_counts_as_one_character_as_the_page_counts_it(world: World):
    """A browser sends a text area's line ends as CR LF: they are kept, and counted,
    as one character, the way the counter under the text area counts them."""
    school, letter = world.at("concertation")
    body = ("y" * 99 + "\r\n") * 50  # 100 characters a line as typed: 5 000, ending blank
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body=body)
    assert "\r" not in comment.body
    assert len(comment.body) == 4999  # the last line end is trimmed


def test_the_api_refuses_a_message_too_long_and_documents_the_same_limit(world: World):
    school, letter = world.at("concertation")
    api = _api(school.referent1)
    answer = api.post(_url(letter), {"body": "x" * 5001}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    assert "5\u202f000 au plus" in answer.json()["errors"]["body"][0]
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    shapes = schema["components"]["schemas"]
    for name in ("Comment", "CommentRequest", "PatchedCommentEditRequest"):
        assert shapes[name]["properties"]["body"]["maxLength"] == 5000, name


# Corrections and deletions ------------------------------------------------------------


def test_its_author_corrects_a_message_within_15_minutes_and_nobody_is_told(
    world: World, clock: Any
):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    told = OutboxItem.objects.count()
    clock.shift(dt.timedelta(minutes=14, seconds=59))
    edited = edit_comment(
        letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body=" Bonjour "
    )
    assert edited.body == "Bonjour"
    assert edited.edited_at == timezone.now()
    assert OutboxItem.objects.count() == told  # a correction tells nobody


def test_after_15_minutes_a_message_stands(world: World, clock: Any):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjour")
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    with pytest.raises(NotEditable, match="15 minutes"):
        edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body="?")
    with pytest.raises(NotEditable, match="15 minutes"):
        delete_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1)
    comment.refresh_from_db()
    assert (comment.body, comment.edited_at, comment.deleted_at) == ("Bonjour", None, None)


@pytest.mark.parametrize("who", ["referent2", "principal", "deputy", "dan"])
def test_nobody_else_corrects_or_deletes_a_message(world: World, who: str):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjour")
    other = school.people()[who]
    with pytest.raises(NotPermitted):
        edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=other, body="Modifié")
    with pytest.raises(NotPermitted):
        delete_comment(letter_id=letter.pk, comment_id=comment.pk, user=other)
    comment.refresh_from_db()
    assert comment.body == "Bonjour"
    assert comment.deleted_at is None


def test_a_message_of_another_letter_is_not_found(world: World):
    school, letter = world.at("concertation")
    other_school, other = world.at("pedagogical_council")
    comment = add_comment(letter_id=other.pk, user=other_school.referent1, body="Ailleurs")
    with pytest.raises(LetterNotFound):
        edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body="x")


def test_a_correction_is_checked_like_a_message(world: World):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjour")
    for body in ["  ", "x" * 5001]:
        with pytest.raises(InvalidInput):
            edit_comment(
                letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body=body
            )


def test_a_deleted_message_keeps_its_place_emptied(world: World, clock: Any):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.principal, body="Oups")
    told = OutboxItem.objects.count()
    clock.shift(dt.timedelta(minutes=3))
    delete_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.principal)
    comment.refresh_from_db()
    assert (comment.body, comment.deleted_at) == ("", timezone.now())
    assert OutboxItem.objects.count() == told
    with pytest.raises(NotEditable, match="supprimé"):
        edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.principal, body="x")
    with pytest.raises(NotEditable):
        delete_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.principal)


def test_nothing_changes_once_the_letter_is_closed(world: World, clock: Any):
    school, letter = world.at("closed")
    comment = Comment.objects.create(
        letter=letter, author=school.referent1, body="Avant", version=letter.version
    )
    with pytest.raises(NotEditable, match="close"):
        edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body="x")


# Change requests ----------------------------------------------------------------------


def test_a_referents_change_request_is_open_until_the_principal_answers_it(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk,
        user=school.referent1,
        body="Retirez la mission ENT, je n'ai pas les accès.",
        is_change_request=True,
    )
    assert _state(request) == "open"
    assert list(open_requests(letter)) == [request]
    told = set(
        OutboxItem.objects.filter(key__startswith=f"notify:comment:{request.pk}:").values_list(
            "recipient", flat=True
        )
    )
    assert school.principal.pk in told  # the principal hears of it like of any message

    answer = add_comment(
        letter_id=letter.pk,
        user=school.principal,
        body="C'est fait, voyez la version 2.",
        answers_id=request.pk,
    )
    assert answer.answers_id == request.pk
    assert _state(request) == "answered"
    assert not open_requests(letter).exists()
    # Answered, the request may no longer be changed under its answer.
    with pytest.raises(NotEditable, match="réponse"):
        edit_comment(letter_id=letter.pk, comment_id=request.pk, user=school.referent1, body="x")


def test_the_deputy_by_delegation_answers_and_deleting_the_answer_reopens(
    world: World,
):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk,
        user=school.referent2,
        body="Une heure de plus ?",
        is_change_request=True,
    )
    answer = add_comment(
        letter_id=letter.pk, user=school.deputy, body="Non.", answers_id=request.pk
    )
    assert _state(request) == "answered"
    delete_comment(letter_id=letter.pk, comment_id=answer.pk, user=school.deputy)
    assert _state(request) == "open"


def test_the_principal_marks_a_request_resolved_once(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="Ajoutez PIX.", is_change_request=True
    )
    resolved = resolve_change_request(
        letter_id=letter.pk, comment_id=request.pk, user=school.principal
    )
    assert resolved.resolved_by == school.principal
    assert _state(request) == "resolved"
    at = resolved.resolved_at
    again = resolve_change_request(letter_id=letter.pk, comment_id=request.pk, user=school.deputy)
    assert (again.resolved_at, again.resolved_by) == (at, school.principal)
    assert not open_requests(letter).exists()


@pytest.mark.parametrize("who", ["referent1", "referent2", "cp_secretary"])
def test_only_the_principals_side_answers_or_resolves(world: World, who: str):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="Ajoutez PIX.", is_change_request=True
    )
    person = school.people()[who]
    with pytest.raises(NotPermitted):
        add_comment(letter_id=letter.pk, user=person, body="Je réponds", answers_id=request.pk)
    with pytest.raises(NotPermitted):
        resolve_change_request(letter_id=letter.pk, comment_id=request.pk, user=person)
    assert _state(request) == "open"


def test_only_a_referent_asks_for_a_change(world: World):
    school, letter = world.at("concertation")
    with pytest.raises(NotPermitted):
        add_comment(
            letter_id=letter.pk, user=school.principal, body="Moi aussi", is_change_request=True
        )
    with pytest.raises(InvalidInput):
        add_comment(letter_id=letter.pk, user=school.referent1, body="?", is_change_request="oui")
    assert not Comment.objects.filter(letter=letter).exists()


def test_one_answers_only_a_change_request_of_the_letter(world: World):
    school, letter = world.at("concertation")
    plain = add_comment(letter_id=letter.pk, user=school.referent1, body="Merci")
    with pytest.raises(InvalidInput) as refused:
        add_comment(letter_id=letter.pk, user=school.principal, body="?", answers_id=plain.pk)
    assert set(refused.value.errors) == {"answers"}
    with pytest.raises(InvalidInput):
        resolve_change_request(letter_id=letter.pk, comment_id=plain.pk, user=school.principal)
    with pytest.raises(InvalidInput):
        add_comment(letter_id=letter.pk, user=school.principal, body="?", answers_id="abc")
    deleted = add_comment(
        letter_id=letter.pk, user=school.referent1, body="Non", is_change_request=True
    )
    delete_comment(letter_id=letter.pk, comment_id=deleted.pk, user=school.referent1)
    assert _state(deleted) is None  # withdrawn by its author: nothing is left to answer
    with pytest.raises(InvalidInput):
        add_comment(letter_id=letter.pk, user=school.principal, body="?", answers_id=deleted.pk)


# API ----------------------------------------------------------------------------------


def test_the_api_posts_a_change_request_and_answers_it(world: World):
    school, letter = world.at("concertation")
    posted = _api(school.referent1).post(
        _url(letter), {"body": "Retirez l'ENT.", "is_change_request": True}, format="json"
    )
    assert posted.status_code == 201, posted.json()
    body = posted.json()
    assert (body["is_change_request"], body["request_state"], body["answers"]) == (
        True,
        "open",
        None,
    )
    assert (body["edited_at"], body["deleted_at"], body["resolved_by"]) == (None, None, None)
    assert body["editable_until"] > body["created_at"]

    principal = _api(school.principal)
    refused = principal.post(
        _url(letter), {"body": "Et moi ?", "is_change_request": True}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    answer = principal.post(
        _url(letter), {"body": "Entendu.", "answers": body["id"]}, format="json"
    )
    assert answer.status_code == 201
    assert answer.json()["answers"] == body["id"]
    listed = {c["id"]: c for c in principal.get(_url(letter)).json()["results"]}
    assert listed[body["id"]]["request_state"] == "answered"
    assert listed[answer.json()["id"]]["request_state"] is None


def test_the_api_resolves_a_change_request(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    url = f"{_url(letter, request)}resolve/"
    refused = _api(school.referent1).post(url, format="json")
    assert refused.status_code == 403
    answer = _api(school.principal).post(url, format="json")
    assert answer.status_code == 200
    assert answer.json()["request_state"] == "resolved"
    assert answer.json()["resolved_by"] == school.principal.username


def test_the_api_corrects_and_deletes_within_15_minutes(world: World, clock: Any):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    author = _api(school.referent1)
    clock.shift(dt.timedelta(minutes=10))
    corrected = author.patch(_url(letter, comment), {"body": "Bonjour"}, format="json")
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["body"] == "Bonjour"
    assert corrected.json()["edited_at"] is not None

    other = _api(school.referent2).patch(_url(letter, comment), {"body": "Non"}, format="json")
    assert other.status_code == 403
    assert other.json()["code"] == "permission_denied"
    assert _api(school.principal).delete(_url(letter, comment)).status_code == 403
    missing = author.patch(f"{_url(letter)}999999/", {"body": "x"}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    too_long = author.patch(_url(letter, comment), {"body": "x" * 5001}, format="json")
    assert (too_long.status_code, too_long.json()["code"]) == (400, "invalid")

    deleted = author.delete(_url(letter, comment))
    assert deleted.status_code == 200
    assert (deleted.json()["body"], deleted.json()["deleted_at"] is not None) == ("", True)
    listed = author.get(_url(letter)).json()["results"]
    assert [c["id"] for c in listed] == [comment.pk]  # still in the thread, emptied


def test_the_api_says_not_editable_after_15_minutes(world: World, clock: Any):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjour")
    clock.shift(dt.timedelta(minutes=16))
    author = _api(school.referent1)
    for answer in [
        author.patch(_url(letter, comment), {"body": "Tard"}, format="json"),
        author.delete(_url(letter, comment)),
    ]:
        assert answer.status_code == 409
        assert answer.json()["code"] == "not_editable"
        assert "15 minutes" in answer.json()["detail"]


def test_the_api_hides_a_letter_and_its_messages_from_who_may_not_see_it(world: World):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjour")
    answer = _api(world.other.principal).patch(_url(letter, comment), {"body": "x"}, format="json")
    assert answer.status_code == 404


# The page -----------------------------------------------------------------------------


def _page(client: Client, letter: MissionLetter) -> str:
    return client.get(f"/lettres/{letter.pk}/").content.decode()


def _textarea(page: str, field_id: str) -> str:
    found = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, field_id
    return found.group(1)


def test_a_message_too_long_comes_back_as_typed_with_the_reason(world: World, client: Client):
    """Without JavaScript the server is what refuses: the text waits in its text area,
    the reason beside it and at the top of the page."""
    school, letter = world.at("concertation")
    client.force_login(school.referent1)
    typed = "Trop long. " * 500  # 5 500 characters
    response = client.post(
        f"/lettres/{letter.pk}/commentaires/", {"body": typed, "demande": "1"}, follow=True
    )
    page = response.content.decode()
    reason = escape(f"Le message compte 5{NNBSP}499 caractères, pour 5{NNBSP}000 au plus")
    assert page.count(reason) == 2  # at the top, and under the text area
    assert _textarea(page, "commentaire") == escape(typed)
    assert 'id="demande-modification" name="demande" value="1" checked' in page
    assert 'aria-describedby="commentaire-erreur"' in page
    assert not Comment.objects.filter(letter=letter).exists()
    # Shown once: the next visit has an empty form.
    assert _textarea(_page(client, letter), "commentaire") == ""


def test_the_page_counts_characters_with_a_script_of_its_own(world: World, client: Client):
    school, letter = world.at("concertation")
    client.force_login(school.referent1)
    page = _page(client, letter)
    assert f"5{NNBSP}000 caractères au plus." in page  # without JavaScript, the limit
    assert re.search(r'<p class="fr-hint-text[^"]*" id="commentaire-compte" hidden', page)
    assert f"0 / 5{NNBSP}000 caractères" in page
    assert 'data-compteur="commentaire-compte"' in page
    # From the application's static files: the CSP allows no inline script.
    assert '<script src="/static/workflow/compteur.js" defer></script>' in page
    assert "<script>" not in page


def test_only_a_referent_is_offered_to_ask_for_a_change(world: World, client: Client):
    school, letter = world.at("concertation")
    client.force_login(school.referent1)
    assert "Je demande une modification" in _page(client, letter)
    client.force_login(school.principal)
    page = _page(client, letter)
    assert "Je demande une modification" not in page
    assert "Votre message" in page
    client.force_login(school.dan)  # reads the thread, takes no part in it
    page = _page(client, letter)
    assert "Votre message" not in page


def test_the_principal_sees_the_open_requests_and_answers_one(world: World, client: Client):
    school, letter = world.at("concertation")
    client.force_login(school.referent1)
    client.post(
        f"/lettres/{letter.pk}/commentaires/",
        {"body": "Retirez l'ENT.", "demande": "1"},
    )
    request = Comment.objects.get(letter=letter)
    assert request.is_change_request
    page = _page(client, letter)
    assert "Demandes de modification ouvertes" not in page  # the référent's page
    assert "Répondre à cette demande" not in page

    client.force_login(school.principal)
    page = _page(client, letter)
    assert "Demandes de modification ouvertes : 1" in page
    assert "Répondre à cette demande" in page
    form = f"reponse-{request.pk}"
    assert f'name="answers" value="{request.pk}"' in page
    response = client.post(
        f"/lettres/{letter.pk}/commentaires/",
        {"answers": str(request.pk), "body": "Fait."},
        follow=True,
    )
    page = response.content.decode()
    assert "Réponse publiée." in page
    assert "Demandes de modification ouvertes : 0" in page
    assert "Répondue" in page
    assert f'id="{form}"' not in page  # nothing left to answer
    assert "En réponse à la demande de modification de Sophie Durand" in page


def test_the_principal_marks_a_request_resolved_from_the_page(world: World, client: Client):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent2, body="Une heure ?", is_change_request=True
    )
    client.force_login(school.principal)
    response = client.post(f"/lettres/{letter.pk}/commentaires/{request.pk}/traitee/", follow=True)
    page = response.content.decode()
    assert "Demande de modification marquée comme traitée." in page
    assert "Demandes de modification ouvertes : 0" in page
    assert "Marquée comme traitée par Claire Martin" in page
    client.force_login(school.referent2)
    response = client.post(f"/lettres/{letter.pk}/commentaires/{request.pk}/traitee/")
    assert response.status_code == 403


def test_its_author_corrects_then_deletes_a_message_on_its_page(
    world: World, client: Client, clock: Any
):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    edit_url = f"/lettres/{letter.pk}/commentaires/{comment.pk}/corriger/"
    client.force_login(school.referent2)
    assert edit_url not in _page(client, letter)
    assert client.get(edit_url).status_code == 403
    client.force_login(school.referent1)
    page = _page(client, letter)
    until = timezone.localtime(comment.created_at + dt.timedelta(minutes=15))
    assert f"Corriger ou supprimer ce message (possible jusqu'à {until:%H:%M})" in page
    assert f'href="{edit_url}"' in page
    page = client.get(edit_url).content.decode()
    assert _textarea(page, "correction") == "Bonjuor"
    assert '<script src="/static/workflow/compteur.js" defer></script>' in page
    refused = client.post(edit_url, {"body": "x" * 5001})
    assert refused.status_code == 200  # the page again, as typed, with the reason
    page = refused.content.decode()
    assert _textarea(page, "correction") == "x" * 5001
    assert 'id="correction-erreur"' in page
    response = client.post(edit_url, {"body": "Bonjour"}, follow=True)
    page = response.content.decode()
    assert "Message corrigé." in page
    assert "Bonjour</p>" in page
    assert "corrigé le" in page
    response = client.post(
        f"/lettres/{letter.pk}/commentaires/{comment.pk}/supprimer/", follow=True
    )
    page = response.content.decode()
    assert "Message supprimé." in page
    assert "Message supprimé par son auteur" in page
    assert "Bonjour</p>" not in page
    response = client.get(edit_url, follow=True)  # nothing left to correct
    assert "Ce message a été supprimé." in response.content.decode()


def test_a_correction_too_late_waits_in_the_new_message(world: World, client: Client, clock: Any):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    client.force_login(school.referent1)
    edit_url = f"/lettres/{letter.pk}/commentaires/{comment.pk}/corriger/"
    assert client.get(edit_url).status_code == 200  # opened in time …
    clock.shift(dt.timedelta(minutes=20))  # … sent too late
    assert "Corriger ou supprimer ce message" not in _page(client, letter)
    response = client.get(edit_url, follow=True)
    assert "dans les 15 minutes qui suivent sa publication" in response.content.decode()
    response = client.post(edit_url, {"body": "Bonjour à tous"}, follow=True)
    page = response.content.decode()
    assert "Votre correction n&#x27;a pas été enregistrée" in page
    assert _textarea(page, "commentaire") == "Bonjour à tous"
    comment.refresh_from_db()
    assert comment.body == "Bonjuor"


def test_the_page_offers_what_the_services_accept(world: World, client: Client):
    """The forms of the page post what ``form_fields`` reads from them."""
    school, letter = world.at("concertation")
    client.force_login(school.referent1)
    fields = dict(form_fields(_page(client, letter), "nouveau-message"))
    assert set(fields) == {"csrfmiddlewaretoken", "body"}  # the box is not ticked


def test_an_answer_too_long_comes_back_in_its_own_form_opened(world: World, client: Client):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    client.force_login(school.principal)
    response = client.post(
        f"/lettres/{letter.pk}/commentaires/",
        {"answers": str(request.pk), "body": "r" * 5001},
        follow=True,
    )
    page = response.content.decode()
    assert _textarea(page, f"reponse-{request.pk}") == "r" * 5001
    assert _textarea(page, "commentaire") == ""
    assert re.search(r'<details class="fr-mt-2w" open>\s*<summary>Répondre à cette demande', page)
    assert _state(request) == "open"
