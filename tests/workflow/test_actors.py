"""What a person is with respect to letters (``actors_for``): the same whether it reads
the person's roles itself or is given them, which the À faire page does to read them
once."""

from __future__ import annotations

from typing import Any

import pytest

from governance.selectors import held_roles
from tests.factories import make_letter, make_school
from workflow.models import MissionLetter
from workflow.selectors.actors import actors_for

pytestmark = pytest.mark.django_db


def test_roles_given_or_read_make_the_same_actors_one_query_apart(
    django_assert_num_queries: Any,
) -> None:
    school = make_school("Acteurs")
    other = make_school("Ailleurs", academy=school.establishment.academy)
    letters = list(
        MissionLetter.objects.filter(
            pk__in=[make_letter(school).pk, make_letter(other).pk]
        ).select_related("establishment")
    )
    for person in (school.principal, school.deputy, school.referent1, school.dan):
        with django_assert_num_queries(2 if person != school.deputy else 3):
            read = actors_for(person, letters)
        roles = held_roles(person)
        with django_assert_num_queries(1 if person != school.deputy else 2):
            given = actors_for(person, letters, roles)
        assert given == read
        # Their own school's letter, and the other school's for the académie's DAN only.
        assert [bool(actor.roles) for actor in read] == [True, person == school.dan]
        assert [actor.referent is not None for actor in read] == [
            person == school.referent1,
            False,
        ]
