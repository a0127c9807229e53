"""Reads of letters: what a person may see, the establishment's envelope, the warnings
a letter carries, the transitions a person may fire now."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from governance.imp import check_envelope, recognition_amount
from governance.models import Establishment, Role, RoleAssignment, SchoolYear, User
from workflow.actors import ESTABLISHMENT_READERS
from workflow.errors import LetterNotFound, Unmet
from workflow.models import LetterReferent, LetterState, MissionLetter


def visible_letters(user: User) -> QuerySet[MissionLetter]:
    """Letters ``user`` may see (DESIGN §1): the establishment's staff see its letters,
    a teacher only those naming them as référent, the DAN every letter of the académie."""
    letters = MissionLetter.objects.select_related("establishment", "school_year")
    if user.is_superuser:
        return letters
    assignments = RoleAssignment.objects.filter(user=user)
    return letters.filter(
        Q(
            establishment__in=assignments.filter(role__in=ESTABLISHMENT_READERS).values(
                "establishment"
            )
        )
        | Q(establishment__academy__in=assignments.filter(role=Role.DAN).values("academy"))
        | Q(pk__in=LetterReferent.objects.filter(user=user).values("letter"))
    ).distinct()


def get_visible_letter(user: User, letter_id: int) -> MissionLetter:
    """The letter, or ``LetterNotFound`` whether it does not exist or is not visible."""
    letter = visible_letters(user).filter(pk=letter_id).first()
    if letter is None:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    return letter


def envelope_amounts(establishment: Establishment, school_year: SchoolYear) -> list[Decimal]:
    """Every référent's recognition, converted to euros, over the establishment's
    letters for the year (withdrawn letters do not count)."""
    referents = LetterReferent.objects.filter(
        letter__establishment=establishment, letter__school_year=school_year
    ).exclude(letter__state=LetterState.WITHDRAWN)
    return [
        recognition_amount(imp, hours)
        for imp, hours in referents.values_list("imp_amount", "decharge_hours")
    ]


def letter_warnings(letter: MissionLetter) -> list[Unmet]:
    """What the principal should know but that blocks nothing (or not yet)."""
    warnings = [
        Unmet(finding.code, finding.message)
        for finding in check_envelope(envelope_amounts(letter.establishment, letter.school_year))
    ]
    for mission in letter.missions.filter(catalog_item__outside_scope=True).select_related(
        "catalog_item"
    ):
        assert mission.catalog_item is not None
        warnings.append(
            Unmet(
                "mission_outside_scope",
                _("« %(text)s » sort du périmètre technico-pédagogique du référent. %(note)s")
                % {"text": mission.text, "note": mission.catalog_item.scope_note},
            )
        )
    return warnings
