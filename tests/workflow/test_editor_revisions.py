"""Two heads editing the letter at once (issue 29): a save based on an older revision
is refused, the person's input comes back as typed, and beside each part the other
person changed, what they saved. A part the person had not touched takes the stored
value, so that saving again keeps both people's work."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from governance.models import CatalogItem
from tests.factories import School, make_letter, make_school
from tests.html_forms import form_fields
from workflow.models import MissionLetter
from workflow.services.content import update_letter

pytestmark = pytest.mark.django_db


def _editor(school: School, who: str) -> tuple[Client, str, dict[str, Any]]:
    """A client signed in as ``who``, the editor's address and its form as shown."""
    letter = MissionLetter.objects.get(establishment=school.establishment)
    client = Client()
    client.force_login(getattr(school, who))
    url = f"/lettres/{letter.pk}/modifier/"
    return client, url, dict(form_fields(client.get(url).content.decode(), "editeur"))


def _textarea(page: str, field_id: str) -> str:
    found = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, field_id
    return found.group(1)


def _note(page: str, anchor: str) -> str:
    """The « enregistré entre-temps » note of a part, as text."""
    found = re.search(rf'<div[^>]*id="{anchor}-entre-temps"[^>]*>(.*?)</div>', page, re.S)
    assert found is not None, anchor
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_the_deputy_saves_one_field_the_principal_another_from_a_stale_page():
    school = make_school("EdRev")
    letter = make_letter(school)
    principal, url, stale = _editor(school, "principal")
    deputy, _url, fresh = _editor(school, "deputy")
    assert stale["base_revision"] == fresh["base_revision"]
    assert deputy.post(url, {**fresh, "means_other": "Salle B12"}).status_code == 302

    refused = principal.post(url, {**stale, "qualification": "PIX niveau 3"})
    assert refused.status_code == 200
    page = refused.content.decode()
    deputy_name = school.deputy.get_full_name()
    assert f"{deputy_name} a enregistré la lettre le " in page
    assert _textarea(page, "qualification") == "PIX niveau 3"  # as typed
    note = _note(page, "means_other")
    assert f"Enregistré entre-temps par {deputy_name} : Salle B12" in note
    assert "Vous n'aviez pas modifié cette rubrique" in note
    assert 'value="Salle B12"' in page  # untouched by the principal: the form takes it
    assert 'id="qualification-entre-temps"' not in page  # the deputy did not change it
    assert 'href="#means_other-entre-temps"' in page  # listed at the top
    stored = MissionLetter.objects.get(pk=letter.pk)
    assert (stored.means_other, stored.qualification) == ("Salle B12", letter.qualification)

    # Saving again from that page keeps both.
    again = dict(form_fields(page, "editeur"))
    assert principal.post(url, again).status_code == 302
    stored = MissionLetter.objects.get(pk=letter.pk)
    assert (stored.means_other, stored.qualification) == ("Salle B12", "PIX niveau 3")


def test_a_part_both_changed_keeps_the_input_with_the_stored_value_beside():
    school = make_school("EdBoth")
    letter = make_letter(school)
    principal, url, stale = _editor(school, "principal")
    deputy, _url, fresh = _editor(school, "deputy")
    deputy.post(url, {**fresh, "free-0-text": "Animer le club robotique et l'atelier 3D"})
    page = principal.post(
        url, {**stale, "free-0-text": "Animer le club de robotique"}
    ).content.decode()
    assert _textarea(page, "free-0-text") == "Animer le club de robotique"
    note = _note(page, "free_missions")
    assert "« Animer le club robotique et l&#x27;atelier 3D »" in note
    assert "Mission secondaire" in note
    assert school.referent2.get_full_name() in note
    assert "Vous l'aviez modifiée aussi : le formulaire garde votre saisie." in note
    assert "Autres missions</a> — vous l'aviez modifiée aussi" in page
    texts = set(MissionLetter.objects.get(pk=letter.pk).missions.values_list("text", flat=True))
    assert "Animer le club robotique et l'atelier 3D" in texts


def test_every_part_the_other_saved_is_taken_when_the_person_left_it_alone():
    """What the form shows and what it posts back untouched agree, part by part: the
    principal's stale save loses nothing of the deputy's, whatever part it was."""
    school = make_school("EdAll")
    letter = make_letter(school)
    principal, url, stale = _editor(school, "principal")
    year = school.year
    third = CatalogItem.objects.filter(outside_scope=False).order_by("id")[2]
    update_letter(
        letter_id=letter.pk,
        user=school.deputy,
        changes={
            "period_kind": "dates",
            "period_start": (year.starts_on + dt.timedelta(days=30)).isoformat(),
            "period_end": (year.starts_on + dt.timedelta(days=120)).isoformat(),
            "referents": [
                {
                    "user": school.referent1.username,
                    "mode": "decharge",
                    "decharge_hours": "1.5",
                    "share": "Tout",
                }
            ],
            "missions": [
                {
                    "catalog_item": third.pk,
                    "priority": "principal",
                    "referents": [school.referent1.username],
                },
                {
                    "text": "Tenir le blog du CDI",
                    "priority": "secondary",
                    "referents": [school.referent1.username],
                },
            ],
            "indicators": [{"text": "Articles publiés", "target": "10"}],
            "means": ["office"],
            "means_other": "Salle B12",
            "follow_up": "ticket_tool",
            "dane_training": "Parcours M@gistère\nNiveau 2",
        },
    )
    wanted = MissionLetter.objects.get(pk=letter.pk)
    refused = principal.post(url, {**stale, "qualification": "PIX niveau 3"})
    page = refused.content.decode()
    for part in [
        "period_kind",
        "period_start",
        "period_end",
        "referents",
        "catalogue",
        "free_missions",
        "indicators",
        "means",
        "means_other",
        "follow_up",
        "dane_training",
    ]:
        assert "Vous n'aviez pas modifié cette rubrique" in _note(page, part), part
    assert "IMP" not in _note(page, "referents")
    assert "décharge de 1,5 h par semaine" in _note(page, "referents")
    assert "Parcours M@gistère<br>Niveau 2" in page
    assert principal.post(url, dict(form_fields(page, "editeur"))).status_code == 302
    saved = MissionLetter.objects.get(pk=letter.pk)
    assert saved.qualification == "PIX niveau 3"
    for name in ["period_kind", "period_start", "period_end", "means", "means_other"]:
        assert getattr(saved, name) == getattr(wanted, name), name
    assert (saved.follow_up, saved.dane_training) == (wanted.follow_up, wanted.dane_training)
    assert [(r.user_id, r.mode, r.share) for r in saved.referents.all()] == [
        (school.referent1.pk, "decharge", "Tout")
    ]
    assert sorted(saved.missions.values_list("text", flat=True)) == sorted(
        wanted.missions.values_list("text", flat=True)
    )
    assert list(saved.indicators.values_list("text", "target")) == [("Articles publiés", "10")]


def test_a_stale_save_with_nothing_changed_meanwhile_says_so():
    school = make_school("EdNone")
    letter = make_letter(school)
    principal, url, stale = _editor(school, "principal")
    update_letter(letter_id=letter.pk, user=school.deputy, changes={})  # revision moves
    page = principal.post(url, {**stale, "means_other": "Salle B12"}).content.decode()
    assert "Rien de ce que le formulaire montre n'a changé entre-temps" in page
    assert "-entre-temps" not in page
    assert principal.post(url, dict(form_fields(page, "editeur"))).status_code == 302
    assert MissionLetter.objects.get(pk=letter.pk).means_other == "Salle B12"
