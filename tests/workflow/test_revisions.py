"""No write overwritten unseen (issue 29): the letter's content carries a revision
that moves on every save, draft included; a save based on an older one is refused."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import make_letter, make_school
from tests.html_forms import form_fields
from workflow.errors import StaleRevision
from workflow.models import MissionLetter
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db


def test_two_patches_of_a_draft_from_the_same_revision_one_is_refused():
    school = make_school("Rev")
    letter = make_letter(school)
    principal, deputy = APIClient(), APIClient()
    principal.force_authenticate(school.principal)
    deputy.force_authenticate(school.deputy)
    url = f"/api/v1/letters/{letter.pk}/"
    etag = principal.get(url)["ETag"]
    assert deputy.get(url)["ETag"] == etag
    first = principal.patch(
        url, {"version": 1, "means_other": "Salle B12"}, format="json", HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200
    assert first["ETag"] != etag
    second = deputy.patch(
        url, {"version": 1, "means_other": "Salle C3"}, format="json", HTTP_IF_MATCH=etag
    )
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "stale_revision"
    assert school.principal.get_full_name() in body["detail"]
    assert MissionLetter.objects.get(pk=letter.pk).means_other == "Salle B12"
    # Told, the deputy starts again from the revision standing now.
    third = deputy.patch(
        url, {"version": 1, "means_other": "Salle C3"}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert third.status_code == 200


def test_a_malformed_if_match_is_a_clear_400():
    school = make_school("RevBad")
    letter = make_letter(school)
    api = APIClient()
    api.force_authenticate(school.principal)
    answer = api.patch(
        f"/api/v1/letters/{letter.pk}/", {"version": 1}, format="json", HTTP_IF_MATCH="abc"
    )
    assert answer.status_code == 400
    assert "If-Match" in answer.json()["errors"]


def test_the_editor_refuses_a_save_from_a_page_left_open_and_keeps_the_input():
    school = make_school("RevPage")
    letter = make_letter(school)
    principal, deputy = Client(), Client()
    principal.force_login(school.principal)
    deputy.force_login(school.deputy)
    url = f"/lettres/{letter.pk}/modifier/"
    stale: dict[str, Any] = dict(form_fields(deputy.get(url).content.decode(), "editeur"))
    fresh: dict[str, Any] = dict(form_fields(principal.get(url).content.decode(), "editeur"))
    principal.post(url, {**fresh, "means_other": "Salle B12"})
    page = deputy.post(url, {**stale, "means_other": "Salle C3"}).content.decode()
    assert f"{school.principal.get_full_name()} a enregistré la lettre" in page
    assert 'value="Salle C3"' in page  # the input comes back as typed
    assert MissionLetter.objects.get(pk=letter.pk).means_other == "Salle B12"


def test_the_service_moves_the_revision_on_every_save():
    school = make_school("RevSvc")
    letter = make_letter(school)
    revision = MissionLetter.objects.get(pk=letter.pk).revision
    update_letter(letter_id=letter.pk, user=school.principal, changes={}, base_revision=revision)
    with pytest.raises(StaleRevision):
        update_letter(letter_id=letter.pk, user=school.deputy, changes={}, base_revision=revision)
