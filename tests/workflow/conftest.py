"""What the workflow's tests share: a letter in every state (``world``), and letters
unlike each other (``letters``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from governance.models import Academy, CatalogItem
from tests.factories import (
    STATES,
    World,
    letter_content,
    letter_in_state,
    make_letter,
    make_school,
    settle_constraints,
)
from workflow.models import MissionLetter
from workflow.services.content import update_letter
from workflow.services.letters import create_letter


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
    elsewhere = make_school("RowsEmpty")
    empty = create_letter(
        user=elsewhere.principal, establishment=elsewhere.establishment, school_year=school.year
    )
    return [full, other, empty]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """A letter in every state, each in its own establishment, built once for a module
    of tests (each test's changes are rolled back to it)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        try:
            schools = {state: make_school(f"w-{state}") for state in STATES}
            letters = {state: letter_in_state(schools[state], state).pk for state in STATES}
            elsewhere = Academy.objects.create(code="besancon", name="Académie de Besançon")
            built = World(
                schools,
                letters,
                make_school("w-other"),
                make_school("w-foreign", academy=elsewhere),
            )
            settle_constraints()
            yield built
        finally:
            transaction.set_rollback(True)
