"""School years as the letters see them: which years an establishment may still begin a
letter for (one live letter a year), and which letter may be renewed for the next."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from governance.models import SchoolYear
from workflow.models import RENEWABLE_STATES, LetterState, MissionLetter

# From this month on, À faire offers the principal to prepare next year's letter.
PREPARE_FROM_MONTH = 3


def _taken(establishment_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(establishment, school year) pairs that have a live letter (not withdrawn)."""
    return set(
        MissionLetter.objects.filter(establishment_id__in=list(establishment_ids))
        .exclude(state=LetterState.WITHDRAWN)
        .values_list("establishment_id", "school_year_id")
    )


def free_years(establishment_ids: list[int], today: dt.date | None = None) -> list[SchoolYear]:
    """The school years not yet over for which at least one of the establishments has
    no live letter, in order."""
    today = today or timezone.localdate()
    taken = _taken(establishment_ids)
    return [
        year
        for year in SchoolYear.objects.filter(ends_on__gte=today).order_by("starts_on")
        if any((establishment, year.pk) not in taken for establishment in establishment_ids)
    ]


def next_school_year(years: list[SchoolYear], today: dt.date | None = None) -> SchoolYear | None:
    """Among ``years``, the next school year (the first to start after ``today``), else
    the first: what a new letter is most often written for."""
    today = today or timezone.localdate()
    return next((year for year in years if year.starts_on > today), years[0] if years else None)


def renewal_year(letter: MissionLetter) -> SchoolYear | None:
    """The school year after the letter's, when the letter may be renewed for it: the
    letter came into force, the year exists, and the establishment has no live letter
    for it yet."""
    if letter.state not in RENEWABLE_STATES:
        return None
    following = (
        SchoolYear.objects.filter(starts_on__gt=letter.school_year.starts_on)
        .order_by("starts_on")
        .first()
    )
    if following is None or (letter.establishment_id, following.pk) in _taken(
        [letter.establishment_id]
    ):
        return None
    return following


def letters_to_renew(
    establishments: list[int], today: dt.date | None = None
) -> list[MissionLetter]:
    """From March, this year's letters of ``establishments`` (those the person heads)
    that may be renewed for the next school year: À faire offers to prepare it."""
    today = today or timezone.localdate()
    if not establishments or not PREPARE_FROM_MONTH <= today.month <= 8:
        return []
    letters = (
        MissionLetter.objects.filter(
            establishment_id__in=establishments,
            school_year__starts_on__lte=today,
            school_year__ends_on__gte=today,
            state__in=RENEWABLE_STATES,
        )
        .select_related("establishment", "school_year")
        .order_by("establishment__name")
    )
    return [letter for letter in letters if renewal_year(letter) is not None]
