"""Letters that the tests of reading them share."""

from __future__ import annotations

from typing import Any

import pytest

from governance.models import CatalogItem
from tests.factories import letter_content, make_letter, make_school
from workflow.models import MissionLetter
from workflow.services import create_letter, update_letter


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
