"""The letters as the API shows them (``workflow.api.representations``): a page read as
rows of heads and a letter read as an instance give the same representation, and the
cache each process keeps shows every change of what a letter is made of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cachetools import TTLCache
from django.db.models import Max
from django.utils import translation

from governance.models import CatalogHeading, CatalogItem
from governance.services import CATALOGUE_FILE, load_catalogue
from tests.factories import make_letter, make_school
from workflow.api import representations
from workflow.api.representations import (
    HeadRows,
    heads_of,
    letter_heads,
    letter_representations,
    page_representations,
)
from workflow.models import MissionLetter
from workflow.services import fire_transition, update_letter

pytestmark = pytest.mark.django_db


def _page(ids: list[int]) -> list[dict[str, Any]]:
    """The letters as the API's list reads them: their heads, newest first."""
    letters = HeadRows(MissionLetter.objects.filter(pk__in=ids).order_by("-id"))
    return page_representations(letters[0 : len(ids)])


def _read(letter_id: int) -> dict[str, Any]:
    return _page([letter_id])[0]


@pytest.fixture
def uncached(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Read a letter as an instance, built anew with a cache of its own: what the
    database says now, whatever the process's cache holds."""

    def read(letter_id: int) -> dict[str, Any]:
        with monkeypatch.context() as patched:
            patched.setattr(representations, "_cache_of_letters", TTLCache(maxsize=10, ttl=60))
            letter = MissionLetter.objects.select_related("establishment", "school_year").get(
                pk=letter_id
            )
            return letter_representations([letter])[0]

    return read


def _rename_referent(letter: MissionLetter, tmp_path: Path) -> None:
    user = letter.referents.order_by("order", "id").first().user  # type: ignore[union-attr]
    user.last_name = "Renommée"
    user.save()


def _change_discipline(letter: MissionLetter, tmp_path: Path) -> None:
    user = letter.referents.order_by("order", "id").first().user  # type: ignore[union-attr]
    user.discipline = "Physique-chimie"
    user.save()


def _catalog_item(letter: MissionLetter) -> CatalogItem:
    mission = letter.missions.exclude(catalog_item=None).select_related("catalog_item").first()
    assert mission is not None
    assert mission.catalog_item is not None
    return mission.catalog_item


def _edit_catalog_item(letter: MissionLetter, tmp_path: Path) -> None:
    item = _catalog_item(letter)
    item.outside_scope = True
    item.scope_note = "Relève désormais de la DSI."
    item.save()


def _retitle_heading(letter: MissionLetter, tmp_path: Path) -> None:
    heading = _catalog_item(letter).heading
    heading.title = "Rubrique renommée"
    heading.save()


def _reload_the_catalogue(letter: MissionLetter, tmp_path: Path) -> None:
    """``load_catalogue(overwrite=True)`` writes with update(), which skips auto_now."""
    item = _catalog_item(letter)
    catalogue = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for heading in catalogue["headings"]:
        for entry in heading["items"]:
            if entry["code"] == item.code:
                entry.update(outside_scope=True, scope_note="Relève désormais de la DSI.")
    edited = tmp_path / "catalogue.json"
    edited.write_text(json.dumps(catalogue), encoding="utf-8")
    assert load_catalogue(edited, overwrite=True).items_updated


def _rename_establishment(letter: MissionLetter, tmp_path: Path) -> None:
    establishment = letter.establishment
    establishment.name = "Collège renommé"
    establishment.save()


def _edit_the_draft(letter: MissionLetter, tmp_path: Path) -> None:
    """A draft's edit writes no event: the letter's updated_at moves."""
    update_letter(
        letter_id=letter.pk,
        user=letter.created_by,
        changes={"indicators": [{"text": "Un seul indicateur", "target": "1"}]},
    )


def _agree(letter: MissionLetter, tmp_path: Path) -> None:
    """An agreement changes a référent's row: the transition writes an event."""
    school_principal = letter.created_by
    fire_transition(letter_id=letter.pk, name="open_concertation", user=school_principal)
    referent = letter.referents.order_by("order", "id").first().user  # type: ignore[union-attr]
    fire_transition(letter_id=letter.pk, name="agree", user=referent)


def _open_concertation(letter: MissionLetter, tmp_path: Path) -> None:
    """A transition changes the state only (and writes an event)."""
    fire_transition(letter_id=letter.pk, name="open_concertation", user=letter.created_by)


@pytest.mark.parametrize(
    "change",
    [
        _rename_referent,
        _change_discipline,
        _edit_catalog_item,
        _retitle_heading,
        _reload_the_catalogue,
        _rename_establishment,
        _edit_the_draft,
        _agree,
        _open_concertation,
    ],
)
def test_a_cached_read_shows_every_change_of_what_the_letter_is_made_of(
    change: Any, tmp_path: Path, uncached: Any
):
    letter = make_letter(make_school("Cache"))
    before = _read(letter.pk)
    assert before == uncached(letter.pk)
    assert _read(letter.pk)["referents"] is before["referents"]  # the second is the cache's
    change(MissionLetter.objects.select_related("establishment").get(pk=letter.pk), tmp_path)
    after = _read(letter.pk)
    assert after == uncached(letter.pk)
    assert after != before


def test_the_warnings_are_read_anew_since_other_letters_fill_the_envelope(uncached: Any):
    school = make_school("Envelope")
    letter = make_letter(school)
    before = _read(letter.pk)
    assert _read(letter.pk)["referents"] is before["referents"]
    make_letter(school)  # the same establishment and year: its référents count too
    after = _read(letter.pk)
    assert after["referents"] is before["referents"]  # the letter itself is the cache's
    assert after["warnings"] != before["warnings"]
    assert after == uncached(letter.pk)


def test_a_page_and_a_letter_read_alone_agree_and_a_cached_page_costs_one_query(
    letters: list[MissionLetter], uncached: Any, django_assert_num_queries: Any
):
    ids = [letter.pk for letter in letters]
    rows = letter_heads(sorted(ids, reverse=True))
    # The letters whole, their content (three queries), the envelopes.
    with django_assert_num_queries(1 + 3 + 1):
        first = page_representations(rows)
    with django_assert_num_queries(1):  # the envelopes only
        again = page_representations(rows)
    assert [item["id"] for item in first] == sorted(ids, reverse=True)
    assert again == first == [uncached(pk) for pk in sorted(ids, reverse=True)]
    assert any(item["warnings"] for item in first)
    # Instances get their stamps in one more query.
    instances = list(
        MissionLetter.objects.select_related("establishment", "school_year").order_by("-id")
    )
    with django_assert_num_queries(1 + 1):
        assert letter_representations(instances) == first


def test_a_cached_letter_speaks_the_readers_language(letters: list[MissionLetter]):
    """The cache keeps the data; the state's label and the warnings are the reader's."""
    outside = letters[1]
    french = _read(outside.pk)
    with translation.override("en"):
        english = _read(outside.pk)
    assert english["referents"] is french["referents"]
    assert (french["state_label"], english["state_label"]) == ("Brouillon", "Draft")
    assert english["warnings"] != french["warnings"]
    assert [w["code"] for w in english["warnings"]] == [w["code"] for w in french["warnings"]]


def test_the_cache_keeps_at_most_its_bound_least_recently_read_out_first(
    letters: list[MissionLetter], monkeypatch: pytest.MonkeyPatch, uncached: Any
):
    monkeypatch.setattr(representations, "_cache_of_letters", TTLCache(maxsize=2, ttl=60))
    for letter in letters:
        _read(letter.pk)
    assert len(representations._cache()) == 2
    assert letters[0].pk not in {head.pk for head in representations._cache()}
    assert _read(letters[0].pk) == uncached(letters[0].pk)  # read again, not lost


def test_a_head_reads_the_same_from_its_row_and_from_its_instance(
    letters: list[MissionLetter],
):
    """The key of a letter on a page is the key of the same letter read alone, and its
    stamps are what the ORM says of its référents and of the catalogue."""
    ids = sorted(letter.pk for letter in letters)
    heads = letter_heads(ids)
    instances = list(
        MissionLetter.objects.select_related("establishment", "school_year").order_by("pk")
    )
    assert heads == heads_of(instances)
    assert [head.uai for head in heads] == [letter.establishment.uai for letter in instances]
    catalog = CatalogItem.objects.aggregate(at=Max("updated_at"))["at"]
    headings = CatalogHeading.objects.aggregate(at=Max("updated_at"))["at"]
    for head, letter in zip(heads, instances, strict=True):
        people = letter.referents.aggregate(at=Max("user__updated_at"))["at"]
        assert (head.updated_at, head.audit_head, head.state) == (
            letter.updated_at,
            letter.audit_head,
            letter.state,
        )
        assert (head.people_changed_at, head.catalog_changed_at, head.headings_changed_at) == (
            people,
            catalog,
            headings,
        )
    assert any(head.people_changed_at is not None for head in heads)


def test_heads_come_in_the_order_asked_and_an_unknown_id_is_left_out(
    letters: list[MissionLetter], django_assert_num_queries: Any
):
    first, second = letters[0].pk, letters[1].pk
    with django_assert_num_queries(1):
        heads = letter_heads([second, 10**9, first])
    assert [head.pk for head in heads] == [second, first]
    assert letter_heads([]) == []


def test_a_paginated_queryset_is_counted_and_sliced_as_heads_in_its_order(
    letters: list[MissionLetter], django_assert_num_queries: Any
):
    """The paginator counts the letters, then reads the page's ids in the queryset's own
    order and filters, then their heads."""
    rows = HeadRows(MissionLetter.objects.filter(state="draft").order_by("-id"))
    drafts = list(MissionLetter.objects.filter(state="draft").order_by("-id"))
    with django_assert_num_queries(1):
        assert len(rows) == len(drafts)
    with django_assert_num_queries(2):
        page = rows[1:3]
    assert [head.pk for head in page] == [letter.pk for letter in drafts[1:3]]
    assert rows[0].pk == drafts[0].pk
