"""The content of letters read as rows (``letter_contents``) and the one snapshot built
on them: the rows say what the letter's instances say, in three queries however many
letters, and a snapshot is the same read alone or with a page of others."""

from __future__ import annotations

from typing import Any

import pytest

from workflow.audit.snapshot import (
    IndicatorRow,
    LetterContent,
    MissionRow,
    ReferentRow,
    content_sha256,
    content_snapshot,
    letter_contents,
)
from workflow.models import MissionLetter

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
