"""The year-end report written by two référents at once (issue 29): each entry (a
mission's outcome, an indicator's result, each closing text) saves on its own, so
different entries never meet; the same entry saved from a stale page is refused, told
with the other's text beside the typed one, and nothing is overwritten unseen."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import advance, make_letter, make_school
from tests.html_forms import form_fields
from workflow.errors import StaleEntries
from workflow.models import MissionOutcome, YearEndReport
from workflow.services.report import save_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def school_and_letter() -> tuple[Any, Any]:
    school = make_school("Entries")
    return school, advance(make_letter(school), school, "report_due")


def _outcome(letter: Any, index: int) -> MissionOutcome:
    return MissionOutcome.objects.filter(report__letter=letter).order_by("mission__order")[index]


def _pages(school: Any, letter: Any) -> tuple[Client, Client, dict[str, Any], dict[str, Any]]:
    """Both référents open the report's page before either saves."""
    first, second = Client(), Client()
    first.force_login(school.referent1)
    second.force_login(school.referent2)
    url = f"/lettres/{letter.pk}/compte-rendu/"
    first_form = dict(form_fields(first.get(url).content.decode(), "compte-rendu"))
    second_form = dict(form_fields(second.get(url).content.decode(), "compte-rendu"))
    return first, second, first_form, second_form


def test_two_referents_saving_different_missions_from_their_pages_both_are_kept(
    school_and_letter,
):
    school, letter = school_and_letter
    url = f"/lettres/{letter.pk}/compte-rendu/"
    one, two = _outcome(letter, 0).mission_id, _outcome(letter, 1).mission_id
    first, second, first_form, second_form = _pages(school, letter)

    answer = first.post(
        url, {**first_form, f"status-{one}": "done", f"comment-{one}": "Fait en novembre"}
    )
    assert answer.status_code == 302
    answer = second.post(
        url, {**second_form, f"status-{two}": "partly", f"comment-{two}": "À poursuivre"}
    )
    assert answer.status_code == 302  # the untouched mission 1 of the stale page is left out

    first_saved, second_saved = _outcome(letter, 0), _outcome(letter, 1)
    assert (first_saved.status, first_saved.comment) == ("done", "Fait en novembre")
    assert (second_saved.status, second_saved.comment) == ("partly", "À poursuivre")
    assert first_saved.revised_by == school.referent1
    assert second_saved.revised_by == school.referent2


def test_the_same_mission_saved_from_a_stale_page_is_told_and_keeps_the_typed_text(
    school_and_letter,
):
    school, letter = school_and_letter
    url = f"/lettres/{letter.pk}/compte-rendu/"
    one, two = _outcome(letter, 0).mission_id, _outcome(letter, 1).mission_id
    first, second, first_form, second_form = _pages(school, letter)
    first.post(url, {**first_form, f"status-{one}": "done", f"comment-{one}": "Texte de Alice"})

    typed = {
        **second_form,
        f"status-{one}": "partly",
        f"comment-{one}": "Texte de Bob",
        f"comment-{two}": "Autre mission",
    }
    page = second.post(url, typed)
    assert page.status_code == 200
    html = page.content.decode()
    assert school.referent1.get_full_name() in html
    assert "Texte de Alice" in html  # the other's text, beside
    assert "Texte de Bob" in html  # the typed text, kept
    assert "Autre mission" in html
    assert "Quel texte garder" in html
    # Nothing written: neither the conflicting entry nor the other one.
    assert _outcome(letter, 0).comment == "Texte de Alice"
    assert _outcome(letter, 1).comment == ""

    # The second référent chooses to keep their own: now saved, both entries.
    again = dict(form_fields(html, "compte-rendu"))
    assert again[f"comment-{one}"] == ["Texte de Bob"]
    again[f"keep-outcome-{one}"] = ["mine"]
    assert second.post(url, again).status_code == 302
    assert _outcome(letter, 0).comment == "Texte de Bob"
    assert _outcome(letter, 1).comment == "Autre mission"


def test_choosing_the_others_text_keeps_it_and_saves_the_rest(school_and_letter):
    school, letter = school_and_letter
    url = f"/lettres/{letter.pk}/compte-rendu/"
    one = _outcome(letter, 0).mission_id
    first, second, first_form, second_form = _pages(school, letter)
    first.post(url, {**first_form, f"comment-{one}": "Texte de Alice"})
    html = second.post(
        url, {**second_form, f"comment-{one}": "Texte de Bob", "difficulties": "Peu de temps"}
    ).content.decode()
    again = dict(form_fields(html, "compte-rendu"))
    again[f"keep-outcome-{one}"] = ["theirs"]
    assert second.post(url, again).status_code == 302
    assert _outcome(letter, 0).comment == "Texte de Alice"
    assert YearEndReport.objects.get(letter=letter).difficulties == "Peu de temps"


def test_two_closing_texts_written_from_stale_pages_are_both_kept(school_and_letter):
    school, letter = school_and_letter
    url = f"/lettres/{letter.pk}/compte-rendu/"
    first, second, first_form, second_form = _pages(school, letter)
    assert first.post(url, {**first_form, "proposals": "Former les collègues"}).status_code == 302
    # The second référent's page is stale, but she wrote another text: no question.
    assert second.post(url, {**second_form, "training_needs": "PIX"}).status_code == 302
    report = YearEndReport.objects.get(letter=letter)
    assert (report.proposals, report.training_needs) == ("Former les collègues", "PIX")
    assert report.revised_by == school.referent2
    # Through the service as through the API: the revision read, another text.
    save_report(
        letter_id=letter.pk,
        user=school.referent1,
        data={"difficulties": "Peu de temps", "revision": 1},
    )
    report.refresh_from_db()
    assert (report.difficulties, report.training_needs) == ("Peu de temps", "PIX")


def test_the_same_closing_text_saved_twice_from_stale_pages_is_told(school_and_letter):
    school, letter = school_and_letter
    url = f"/lettres/{letter.pk}/compte-rendu/"
    first, second, first_form, second_form = _pages(school, letter)
    first.post(url, {**first_form, "proposals": "Former les collègues"})
    html = second.post(url, {**second_form, "proposals": "Ouvrir un atelier"}).content.decode()
    assert "Former les collègues" in html  # the other's text, beside
    again = dict(form_fields(html, "compte-rendu"))
    assert again["proposals"] == ["Ouvrir un atelier"]  # the typed one, kept
    assert YearEndReport.objects.get(letter=letter).proposals == "Former les collègues"
    again["keep-closing"] = ["mine"]
    assert second.post(url, again).status_code == 302
    report = YearEndReport.objects.get(letter=letter)
    assert report.proposals == "Ouvrir un atelier"
    assert report.revised_by == school.referent2
    with pytest.raises(StaleEntries):
        save_report(
            letter_id=letter.pk,
            user=school.referent1,
            data={"proposals": "Autre chose", "revision": 2},
        )


def test_the_api_refuses_a_stale_entry_with_its_stored_values(school_and_letter):
    school, letter = school_and_letter
    first, second = APIClient(), APIClient()
    first.force_authenticate(school.referent1)
    second.force_authenticate(school.referent2)
    url = f"/api/v1/letters/{letter.pk}/report/"
    read = second.get(url).json()
    entry = read["outcomes"][0]
    mission, revision = entry["mission"], entry["revision"]
    row = {"mission": mission, "status": "done", "comment": "A", "revision": revision}
    assert first.put(url, {"outcomes": [row]}, format="json").status_code == 200
    answer = second.put(url, {"outcomes": [{**row, "comment": "B"}]}, format="json")
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "stale_revision"
    assert body["conflicts"] == [
        {
            "entry": "outcome",
            "id": mission,
            "stored": {"status": "done", "comment": "A"},
            "revision": revision + 1,
            "revised_by": school.referent1.get_full_name(),
            "revised_at": body["conflicts"][0]["revised_at"],
        }
    ]
    # The same values as stored, from the stale revision, are no conflict.
    assert (
        second.put(url, {"outcomes": [{**row, "comment": "A"}]}, format="json").status_code == 200
    )
    # Told, the client sends the revision standing now.
    answer = second.put(
        url, {"outcomes": [{**row, "comment": "B", "revision": revision + 1}]}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["outcomes"][0]["revision"] == revision + 2


def test_a_refused_save_writes_nothing_and_a_bad_revision_is_a_400(school_and_letter):
    school, letter = school_and_letter
    one, two = _outcome(letter, 0), _outcome(letter, 1)
    save_report(
        letter_id=letter.pk,
        user=school.referent1,
        data={"outcomes": [{"mission": one.mission_id, "comment": "A", "revision": 1}]},
    )
    with pytest.raises(StaleEntries) as refused:
        save_report(
            letter_id=letter.pk,
            user=school.referent2,
            data={
                "outcomes": [
                    {"mission": one.mission_id, "comment": "B", "revision": 1},
                    {"mission": two.mission_id, "comment": "C", "revision": 1},
                ]
            },
        )
    assert [c.id for c in refused.value.conflicts] == [one.mission_id]
    assert _outcome(letter, 1).comment == ""
    api = APIClient()
    api.force_authenticate(school.referent2)
    answer = api.put(
        f"/api/v1/letters/{letter.pk}/report/",
        {"outcomes": [{"mission": two.mission_id, "comment": "C", "revision": "x"}]},
        format="json",
    )
    assert answer.status_code == 400
    assert "outcomes[0].revision" in answer.json()["errors"]
