"""No message of the concertation changed unseen (issue 29): each carries a revision
that moves on every change (correction, deletion, marked resolved); a change based on
an older one is refused, by the service, the API (``If-Match``) and the pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from governance.models import User
from tests.factories import World
from tests.html_forms import form_fields
from workflow.errors import StaleRevision
from workflow.models import Comment, MissionLetter
from workflow.services.comments import (
    add_comment,
    delete_comment,
    edit_comment,
    resolve_change_request,
)

pytestmark = pytest.mark.django_db


def _api(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _url(letter: MissionLetter, comment: Comment) -> str:
    return f"/api/v1/letters/{letter.pk}/comments/{comment.pk}/"


def _stored(comment: Comment) -> Comment:
    return Comment.objects.get(pk=comment.pk)


# The service ---------------------------------------------------------------------------


def test_every_change_of_a_message_moves_its_revision(world: World):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    assert comment.revision == 1
    edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body="Bonjour")
    assert _stored(comment).revision == 2
    delete_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1)
    assert _stored(comment).revision == 3
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    resolve_change_request(letter_id=letter.pk, comment_id=request.pk, user=school.principal)
    assert _stored(request).revision == 2


def test_two_corrections_from_the_same_revision_the_second_is_refused(world: World):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    edit_comment(
        letter_id=letter.pk,
        comment_id=comment.pk,
        user=school.referent1,
        body="Bonjour",
        base_revision=1,
    )
    with pytest.raises(StaleRevision) as refused:
        edit_comment(
            letter_id=letter.pk,
            comment_id=comment.pk,
            user=school.referent1,
            body="Bonjour à tous",
            base_revision=1,
        )
    assert "Ce message a été modifié entre-temps (corrigé par vous-même le " in (
        refused.value.detail
    )
    assert _stored(comment).body == "Bonjour"
    with pytest.raises(StaleRevision):
        delete_comment(
            letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, base_revision=1
        )
    assert _stored(comment).deleted_at is None
    # The same text again changes nothing: not refused (a client's retry).
    edit_comment(
        letter_id=letter.pk,
        comment_id=comment.pk,
        user=school.referent1,
        body="Bonjour",
        base_revision=1,
    )


def test_a_request_corrected_since_it_was_read_is_not_marked_resolved(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    edit_comment(
        letter_id=letter.pk, comment_id=request.pk, user=school.referent1, body="PIX et ENT ?"
    )
    with pytest.raises(StaleRevision) as refused:
        resolve_change_request(
            letter_id=letter.pk, comment_id=request.pk, user=school.principal, base_revision=1
        )
    assert f"corrigé par {school.referent1.get_full_name()} le " in refused.value.detail
    assert _stored(request).resolved_at is None
    resolve_change_request(
        letter_id=letter.pk, comment_id=request.pk, user=school.principal, base_revision=2
    )
    assert _stored(request).resolved_by == school.principal
    # Resolved already (by the deputy's click, say): nothing to do, nothing refused.
    resolve_change_request(
        letter_id=letter.pk, comment_id=request.pk, user=school.deputy, base_revision=2
    )
    assert _stored(request).resolved_by == school.principal


# The API ---------------------------------------------------------------------------------


def test_the_api_names_the_revision_and_refuses_a_stale_if_match(world: World):
    school, letter = world.at("concertation")
    author = _api(school.referent1)
    posted = author.post(
        f"/api/v1/letters/{letter.pk}/comments/", {"body": "Bonjuor"}, format="json"
    )
    assert posted.status_code == 201
    assert posted.json()["revision"] == 1
    etag = posted["ETag"]
    assert etag == '"1"'
    comment = Comment.objects.get(pk=posted.json()["id"])
    first = author.patch(
        _url(letter, comment), {"body": "Bonjour"}, format="json", HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200
    assert (first.json()["revision"], first["ETag"]) == (2, '"2"')
    second = author.patch(
        _url(letter, comment), {"body": "Salut"}, format="json", HTTP_IF_MATCH=etag
    )
    assert second.status_code == 409
    assert second.json()["code"] == "stale_revision"
    assert "corrigé par vous-même" in second.json()["detail"]
    assert _stored(comment).body == "Bonjour"
    stale_delete = author.delete(_url(letter, comment), HTTP_IF_MATCH=etag)
    assert (stale_delete.status_code, stale_delete.json()["code"]) == (409, "stale_revision")
    assert _stored(comment).deleted_at is None
    deleted = author.delete(_url(letter, comment), HTTP_IF_MATCH=first["ETag"])
    assert deleted.status_code == 200
    assert deleted.json()["revision"] == 3
    # Listed, each message carries its revision.
    listed = author.get(f"/api/v1/letters/{letter.pk}/comments/").json()["results"]
    assert [c["revision"] for c in listed] == [3]


def test_the_api_resolves_on_the_revision_it_read(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    corrected = _api(school.referent1).patch(
        _url(letter, request), {"body": "PIX et ENT ?"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert corrected.status_code == 200
    url = f"{_url(letter, request)}resolve/"
    principal = _api(school.principal)
    stale = principal.post(url, format="json", HTTP_IF_MATCH='"1"')
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_revision")
    assert school.referent1.get_full_name() in stale.json()["detail"]
    assert _stored(request).resolved_at is None
    bad = principal.post(url, format="json", HTTP_IF_MATCH="abc")
    assert bad.status_code == 400
    assert "If-Match" in bad.json()["errors"]
    done = principal.post(url, format="json", HTTP_IF_MATCH=corrected["ETag"])
    assert done.status_code == 200
    assert done.json()["request_state"] == "resolved"
    assert done["ETag"] == '"3"'
    # Without If-Match, as before: taken.
    assert principal.post(url, format="json").status_code == 200


# The pages -------------------------------------------------------------------------------


def _textarea(page: str, field_id: str) -> str:
    found = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, field_id
    return found.group(1)


def test_a_correction_from_a_window_left_open_comes_back_beside_the_stored_text(
    world: World,
):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    edit_url = f"/lettres/{letter.pk}/commentaires/{comment.pk}/corriger/"
    first, second = Client(), Client()
    first.force_login(school.referent1)
    second.force_login(school.referent1)
    old: dict[str, Any] = dict(form_fields(second.get(edit_url).content.decode(), "corriger"))
    assert old["base_revision"] == ["1"]
    fresh: dict[str, Any] = dict(form_fields(first.get(edit_url).content.decode(), "corriger"))
    assert first.post(edit_url, {**fresh, "body": "Bonjour à tous"}).status_code == 302

    refused = second.post(edit_url, {**old, "body": "Bonjour, collègues"})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert _textarea(page, "correction") == "Bonjour, collègues"  # as typed
    assert "Texte enregistré entre-temps :" in page
    assert "Bonjour à tous</p>" in page
    assert "Ce message a été modifié entre-temps (corrigé par vous-même le " in page
    assert _stored(comment).body == "Bonjour à tous"
    # Having seen it, the person saves again: taken, from the revision now shown.
    again: dict[str, Any] = dict(form_fields(page, "corriger"))
    assert again["base_revision"] == ["2"]
    assert second.post(edit_url, {**again, "body": "Bonjour, collègues"}).status_code == 302
    assert _stored(comment).body == "Bonjour, collègues"


def test_a_deletion_from_a_window_left_open_shows_the_message_as_it_stands(world: World):
    school, letter = world.at("concertation")
    comment = add_comment(letter_id=letter.pk, user=school.referent1, body="Bonjuor")
    edit_url = f"/lettres/{letter.pk}/commentaires/{comment.pk}/corriger/"
    delete_url = f"/lettres/{letter.pk}/commentaires/{comment.pk}/supprimer/"
    client = Client()
    client.force_login(school.referent1)
    old = dict(form_fields(client.get(edit_url).content.decode(), "supprimer"))
    edit_comment(letter_id=letter.pk, comment_id=comment.pk, user=school.referent1, body="Salut")
    response = client.post(delete_url, old, follow=True)
    assert response.redirect_chain[-1][0] == edit_url
    page = response.content.decode()
    assert "Ce message a été modifié entre-temps" in page
    assert _textarea(page, "correction") == "Salut"
    assert _stored(comment).deleted_at is None


def test_marking_resolved_a_request_corrected_since_is_refused_on_the_page(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    resolve_url = f"/lettres/{letter.pk}/commentaires/{request.pk}/traitee/"
    client = Client()
    client.force_login(school.principal)
    shown = dict(
        form_fields(client.get(f"/lettres/{letter.pk}/").content.decode(), f"traiter-{request.pk}")
    )
    assert shown["base_revision"] == ["1"]
    edit_comment(
        letter_id=letter.pk, comment_id=request.pk, user=school.referent1, body="PIX et ENT ?"
    )
    response = client.post(resolve_url, shown)
    assert response["Location"] == f"/lettres/{letter.pk}/#message-{request.pk}"
    page = client.get(response["Location"]).content.decode()
    assert f"corrigé par {school.referent1.get_full_name()} le " in page
    assert "PIX et ENT ?" in page
    assert _stored(request).resolved_at is None


def test_an_answer_to_a_request_corrected_since_it_was_read_is_refused(world: World):
    """The principal opens the page; the référent then corrects her request. The answer
    written to the old text is not published: the page says what changed, by whom, and
    keeps the typed answer; answered from the request as it stands, it is."""
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    client = Client()
    client.force_login(school.principal)
    page = client.get(f"/lettres/{letter.pk}/").content.decode()
    shown = dict(form_fields(page, f"repondre-{request.pk}"))
    assert shown["base_revision"] == ["1"]
    edit_comment(
        letter_id=letter.pk, comment_id=request.pk, user=school.referent1, body="PIX et ENT ?"
    )
    answer = {**shown, "body": "D'accord pour PIX."}
    response = client.post(f"/lettres/{letter.pk}/commentaires/", answer)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "La demande a été modifiée entre-temps (corrigé par " in page
    assert f"{school.referent1.get_full_name()} le " in page
    assert "votre réponse n&#x27;est pas publiée" in page
    assert "D&#x27;accord pour PIX." in page  # the typed answer, kept in its form
    assert not Comment.objects.filter(answers=request).exists()

    again = dict(form_fields(page, f"repondre-{request.pk}"))
    assert again["base_revision"] == ["2"]
    client.post(f"/lettres/{letter.pk}/commentaires/", {**again, "body": "D'accord pour les deux."})
    assert Comment.objects.get(answers=request).body == "D'accord pour les deux."


def test_the_api_refuses_an_answer_to_a_stale_request_with_409(world: World):
    school, letter = world.at("concertation")
    request = add_comment(
        letter_id=letter.pk, user=school.referent1, body="PIX ?", is_change_request=True
    )
    edit_comment(letter_id=letter.pk, comment_id=request.pk, user=school.referent1, body="ENT ?")
    api = _api(school.principal)
    url = f"/api/v1/letters/{letter.pk}/comments/"
    stale = api.post(
        url, {"body": "Oui", "answers": request.pk, "answers_revision": 1}, format="json"
    )
    assert stale.status_code == 409, stale.content
    assert stale.json()["code"] == "stale_revision"
    assert "La demande a été modifiée entre-temps (corrigé par " in stale.json()["detail"]
    wrong = api.post(
        url, {"body": "Oui", "answers": request.pk, "answers_revision": "2"}, format="json"
    )
    assert wrong.status_code == 400
    assert "answers_revision" in wrong.json()["errors"]
    # Deleted by its author, the request says so rather than « not a request ».
    delete_comment(letter_id=letter.pk, comment_id=request.pk, user=school.referent1)
    gone = api.post(
        url, {"body": "Oui", "answers": request.pk, "answers_revision": 3}, format="json"
    )
    assert gone.status_code == 400
    assert gone.json()["errors"]["answers"] == [
        "Cette demande a été supprimée par son auteur : rien n'y est à faire."
    ]
    # A message that answers nothing may say so with nulls.
    plain = api.post(url, {"body": "Oui", "answers": None, "answers_revision": None}, format="json")
    assert plain.status_code == 201
