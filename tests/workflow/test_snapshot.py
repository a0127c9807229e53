"""The content of letters read as rows (``letter_contents``) and the one snapshot built
on them: the rows say what the letter's instances say, in three queries however many
letters, and a snapshot is the same read alone or with a page of others. Reads keep the
content in a cache (``read_contents``), which shows every change of what it is made of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cachetools import TTLCache

from governance.models import CatalogItem
from governance.services import CATALOGUE_FILE, load_catalogue
from tests.factories import letter_content, make_letter, make_school
from workflow import snapshot
from workflow.models import MissionLetter
from workflow.services import create_letter, fire_transition, update_letter
from workflow.snapshot import (
    IndicatorRow,
    LetterContent,
    MissionRow,
    ReadContent,
    ReferentRow,
    content_sha256,
    content_snapshot,
    letter_contents,
    read_contents,
    with_content_stamps,
)

pytestmark = pytest.mark.django_db


def _from_instances(letter: MissionLetter) -> LetterContent:
    """What the ORM's related instances say of the letter, in the letter's order."""
    referents = sorted(letter.referents.select_related("user"), key=lambda r: (r.order, r.pk))
    missions = sorted(
        letter.missions.select_related("catalog_item__heading").prefetch_related("referents__user"),
        key=lambda m: (m.order, m.pk),
    )
    return LetterContent(
        tuple(
            ReferentRow(
                r.pk,
                r.user.username,
                r.user.get_full_name(),
                r.user.discipline,
                r.mode,
                r.imp_amount,
                r.decharge_hours,
                r.share,
                r.agreed_version,
            )
            for r in referents
        ),
        tuple(
            MissionRow(
                m.pk,
                m.catalog_item_id,
                m.catalog_item.code if m.catalog_item else None,
                m.catalog_item.heading.title if m.catalog_item else None,
                bool(m.catalog_item and m.catalog_item.outside_scope),
                m.catalog_item.scope_note if m.catalog_item else "",
                m.text,
                m.priority,
                tuple(sorted(r.user.username for r in m.referents.all())),
            )
            for m in missions
        ),
        tuple(
            IndicatorRow(i.pk, i.text, i.target)
            for i in sorted(letter.indicators.all(), key=lambda i: (i.order, i.pk))
        ),
    )


@pytest.fixture
def letters() -> list[MissionLetter]:
    """Letters unlike each other: the factory's (two référents, IMP and décharge; a
    mission carried by both), one with a mission outside the référent's scope and one
    carried by nobody, in reverse order of entry, and an empty draft."""
    school = make_school("Rows")
    full = make_letter(school)
    outside = CatalogItem.objects.filter(outside_scope=True).order_by("id").first()
    assert outside is not None
    content: dict[str, Any] = letter_content(school, imp1="625.00", hours2=None, imp2="625.00")
    content["missions"] = [
        {"text": "Sans porteur", "priority": "secondary", "referents": []},
        {
            "catalog_item": outside.pk,
            "priority": "principal",
            "referents": [school.referent2.username],
        },
        *content["missions"],
    ]
    content["indicators"] = content["indicators"][::-1]
    other = create_letter(
        user=school.principal, establishment=school.establishment, school_year=school.next_year
    )
    other = update_letter(letter_id=other.pk, user=school.principal, changes=content)
    empty = create_letter(
        user=school.principal, establishment=school.establishment, school_year=school.year
    )
    return [full, other, empty]


def test_the_rows_say_what_the_instances_say(letters: list[MissionLetter]):
    contents = letter_contents([letter.pk for letter in letters])
    assert set(contents) == {letter.pk for letter in letters}
    for letter in letters:
        assert contents[letter.pk] == _from_instances(letter)
    full, other, empty = (contents[letter.pk] for letter in letters)
    assert [m.referents for m in full.missions][1] == tuple(
        sorted(r.username for r in full.referents)
    )
    assert other.missions[0].text == "Sans porteur"
    assert other.missions[0].referents == ()
    assert other.missions[1].outside_scope
    assert other.missions[1].scope_note
    assert empty == LetterContent()


def test_three_queries_for_one_letter_or_many(
    letters: list[MissionLetter], django_assert_num_queries: Any
):
    with django_assert_num_queries(3):
        letter_contents([letters[0].pk])
    with django_assert_num_queries(3):
        letter_contents([letter.pk for letter in letters])
    with django_assert_num_queries(0):
        assert letter_contents([]) == {}


def test_a_snapshot_is_the_same_read_alone_or_with_others(letters: list[MissionLetter]):
    together = letter_contents([letter.pk for letter in letters])
    for letter in letters:
        alone = content_snapshot(letter)
        assert content_snapshot(letter, together[letter.pk]) == alone
        assert content_sha256(letter, together[letter.pk]) == content_sha256(letter)
        assert alone["letter"] == letter.pk
        assert [r["username"] for r in alone["referents"]] == [
            r.username for r in together[letter.pk].referents
        ]


def test_the_snapshot_reads_the_letters_own_fields_as_they_stand_in_memory(
    letters: list[MissionLetter],
):
    """``update_letter`` compares the snapshot before and after changing the fields,
    before it saves them."""
    letter = letters[0]
    before = content_sha256(letter)
    letter.qualification = "Autre niveau"
    assert content_sha256(letter) != before
    assert content_snapshot(letter)["qualification"] == "Autre niveau"


# The content as reads show it, cached (read_contents) ----------------------------------------


def _read(letter_id: int) -> ReadContent:
    """The letter's content as a read shows it: stamped with the letter, from the cache
    when it holds it."""
    letter = with_content_stamps(
        MissionLetter.objects.select_related("establishment", "school_year")
    ).get(pk=letter_id)
    return read_contents([letter])[letter_id]


def _truth(letter_id: int) -> ReadContent:
    """The same, read from the database without the cache."""
    letter = MissionLetter.objects.select_related("establishment", "school_year").get(pk=letter_id)
    content = letter_contents([letter_id])[letter_id]
    return ReadContent(content, content_sha256(letter, content))


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
    ],
)
def test_a_cached_read_shows_every_change_of_what_the_content_is_made_of(
    change: Any, tmp_path: Path
):
    letter = make_letter(make_school("Cache"))
    before = _read(letter.pk)
    assert before == _truth(letter.pk)
    assert _read(letter.pk) is before  # the second read is the cache's
    change(MissionLetter.objects.select_related("establishment").get(pk=letter.pk), tmp_path)
    after = _read(letter.pk)
    assert after == _truth(letter.pk)
    assert after != before


def test_a_cached_read_costs_the_stamps_only_and_gives_what_the_database_says(
    letters: list[MissionLetter], django_assert_num_queries: Any
):
    ids = [letter.pk for letter in letters]
    page = with_content_stamps(
        MissionLetter.objects.select_related("establishment", "school_year")
    ).filter(pk__in=ids)
    with django_assert_num_queries(1 + 3):  # the page with its stamps, then the content
        first = read_contents(list(page))
    with django_assert_num_queries(1):  # the page with its stamps, nothing else
        again = read_contents(list(page.all()))
    assert again == first == {pk: _truth(pk) for pk in ids}
    # Letters read without their stamps get them in one more query.
    unstamped = list(MissionLetter.objects.select_related("establishment", "school_year"))
    with django_assert_num_queries(1):
        assert read_contents(unstamped) == first


def test_the_cache_keeps_at_most_its_bound_least_recently_read_out_first(
    letters: list[MissionLetter], monkeypatch: Any
):
    monkeypatch.setattr(snapshot, "_read_cache", TTLCache(maxsize=2, ttl=60))
    for letter in letters:
        _read(letter.pk)
    assert len(snapshot._read_cache) == 2  # type: ignore[arg-type]
    assert _read(letters[0].pk) == _truth(letters[0].pk)  # read again, not lost
