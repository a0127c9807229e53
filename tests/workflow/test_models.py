"""The letter's académie (issue 8): copied from its establishment so that the DAN's
lists filter on the letter alone, and kept equal to the establishment's by PostgreSQL,
including when an establishment changes académie."""

import pytest
from django.db import IntegrityError, connection, transaction

from governance.models import Academy
from tests.factories import advance, make_letter, make_school
from workflow.models import LetterState, MissionLetter
from workflow.selectors.visibility import visible_letters
from workflow.services.letters import renew_letter

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def besancon():
    return Academy.objects.create(code="besancon", name="Académie de Besançon")


def test_a_new_letter_takes_its_establishments_academie():
    school = make_school()
    letter = make_letter(school)

    letter.refresh_from_db()
    assert letter.academy_id == school.establishment.academy_id


def test_a_renewal_takes_it_too():
    school = make_school()
    letter = advance(make_letter(school), school, LetterState.IN_FORCE)

    renewal = renew_letter(letter_id=letter.pk, user=school.principal, school_year=school.next_year)

    renewal.refresh_from_db()
    assert renewal.academy_id == school.establishment.academy_id


def test_an_establishment_moved_to_another_academie_takes_its_letters(besancon):
    school = make_school()
    other = make_school("Autre")  # same académie, stays there
    letter, stays = make_letter(school), make_letter(other)
    newcomer_dan = make_school("Besançon", academy=besancon).dan

    school.establishment.academy = besancon
    school.establishment.save()  # as the admin does

    letter.refresh_from_db()
    stays.refresh_from_db()
    assert letter.academy_id == besancon.pk
    assert stays.academy_id == other.establishment.academy_id
    assert letter in visible_letters(newcomer_dan)
    assert letter not in visible_letters(school.dan)
    assert stays in visible_letters(school.dan)


def test_the_database_refuses_a_letter_in_another_academie_than_its_establishments(
    besancon,
):
    school = make_school()
    letter = make_letter(school)

    with transaction.atomic():
        with connection.cursor() as cursor:  # checked at the statement, not at commit
            cursor.execute("SET CONSTRAINTS letter_academy_is_establishments IMMEDIATE")
        with pytest.raises(IntegrityError, match="letter_academy_is_establishments"):
            MissionLetter.objects.filter(pk=letter.pk).update(academy=besancon)
        transaction.set_rollback(True)

    letter.refresh_from_db()
    assert letter.academy_id == school.establishment.academy_id
