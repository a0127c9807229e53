"""Which letters and meetings a person may see (DESIGN §3), and who holds a role
for a letter: every page, API list and service reads visibility from here.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce

from django.db.models import CharField, IntegerField, Prefetch, Q, QuerySet, Value
from django.utils.translation import gettext as _

from governance.models import (
    Meeting,
    Role,
    RoleAssignment,
    User,
)
from governance.selectors import (
    establishments_visible_to,
    may_schedule_meeting,
)
from workflow.errors import LetterNotFound
from workflow.models import LetterMission, LetterReferent, MissionLetter
from workflow.selectors.actors import ESTABLISHMENT_READERS

# What the editor reads of a letter's live content, as related instances, in a fixed
# number of queries (everything that shows a letter reads its stored version instead).
LETTER_PREFETCHES = (
    Prefetch("referents", queryset=LetterReferent.objects.select_related("user")),
    Prefetch(
        "missions",
        queryset=LetterMission.objects.select_related("catalog_item__heading").prefetch_related(
            Prefetch("referents", queryset=LetterReferent.objects.select_related("user"))
        ),
    ),
    "indicators",
)


# The mark of a "référent of this letter" row in ``_scope_rows``: no role has this name.
REFERENT_ROW = "letter-referent"


def _scope_rows(user: User) -> list[tuple[str, int | None, int | None]]:
    """The person's roles (role, establishment, académie) and, marked ``REFERENT_ROW``,
    the letters naming them référent (with the letter's id as the second value), in one
    query, since every read of letters starts here."""
    # Unordered: a union's parts may not be ordered (SQLite).
    roles = (
        RoleAssignment.objects.filter(user=user)
        .order_by()
        .values_list("role", "establishment_id", "academy_id")
    )
    referent_of = (
        LetterReferent.objects.filter(user=user)
        .order_by()
        .annotate(
            row=Value(REFERENT_ROW, output_field=CharField()),
            nothing=Value(None, output_field=IntegerField()),
        )
        .values_list("row", "letter_id", "nothing")
    )
    return list(roles.union(referent_of, all=True))


def visible_letters(user: User) -> QuerySet[MissionLetter]:
    """Letters ``user`` may see (DESIGN §1): the establishment's staff see its letters,
    a teacher only those naming them as référent, the DAN every letter of the académie,
    the national role every letter.

    The person's scope is read first (one small query) and the letters filtered on it
    with plain conditions: one condition OR-ed with sub-selects kept PostgreSQL from
    using the indexes, and every list, count and page of the DAN read all the letters
    of the country. The DAN's condition is on the letter's own académie: through the
    establishment, a page of closed letters walked the (state, id) index over the
    whole country."""
    letters = MissionLetter.objects.select_related("establishment", "school_year")
    if user.is_superuser:
        return letters
    establishments: set[int] = set()
    academies: set[int] = set()
    referent_of: list[int] = []
    for role, establishment_id, academy_id in _scope_rows(user):
        if role == REFERENT_ROW and establishment_id is not None:
            referent_of.append(establishment_id)  # the letter's id, in this column
        elif role in ESTABLISHMENT_READERS and establishment_id is not None:
            establishments.add(establishment_id)
        elif role == Role.DAN and academy_id is not None:
            academies.add(academy_id)
        elif role == Role.NATIONAL:
            return letters  # reads every académie (and acts on none: see ``actors_for``)
    conditions = []
    if establishments:
        conditions.append(Q(establishment_id__in=sorted(establishments)))
    if academies:
        conditions.append(Q(academy_id__in=sorted(academies)))
    if referent_of:
        conditions.append(Q(pk__in=referent_of))
    if not conditions:
        return letters.none()
    return letters.filter(reduce(operator.or_, conditions))


def referent_users(letter: MissionLetter) -> list[User]:
    return [r.user for r in letter.referents.select_related("user")]


def people_with_role(letter: MissionLetter, role: Role) -> list[User]:
    """Who holds ``role`` for the letter: in its establishment, or (the DAN) in its
    académie."""
    assignments = (
        RoleAssignment.objects.filter(role=role, academy_id=letter.academy_id)
        if role == Role.DAN
        else RoleAssignment.objects.filter(role=role, establishment_id=letter.establishment_id)
    )
    return [a.user for a in assignments.select_related("user")]


def role_holders(
    establishment_ids: Iterable[int], roles: Iterable[str]
) -> dict[tuple[int, str], list[int]]:
    """Who holds ``roles`` in many establishments at once, in one query and without
    loading the people: (establishment id, role) → their user ids."""
    found: dict[tuple[int, str], list[int]] = {}
    for establishment_id, role, user_id in (
        RoleAssignment.objects.filter(establishment_id__in=establishment_ids, role__in=roles)
        .order_by("pk")
        .values_list("establishment_id", "role", "user_id")
    ):
        found.setdefault((establishment_id, role), []).append(user_id)
    return found


def get_visible_letter(user: User, letter_id: int) -> MissionLetter:
    """The letter, or ``LetterNotFound`` whether it does not exist or is not visible."""
    letter = visible_letters(user).filter(pk=letter_id).first()
    if letter is None:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    return letter


def get_visible_letter_with_content(user: User, letter_id: int) -> MissionLetter:
    """The letter with its live content prefetched as related instances, for the editor
    (``LETTER_PREFETCHES``); ``LetterNotFound`` as ``get_visible_letter``."""
    letter = visible_letters(user).prefetch_related(*LETTER_PREFETCHES).filter(pk=letter_id).first()
    if letter is None:
        raise LetterNotFound(_("Lettre de mission introuvable."))
    return letter


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """Meetings of the councils of the establishments ``user`` may see."""
    return Meeting.objects.filter(
        council__establishment__in=establishments_visible_to(user)
    ).select_related("council__establishment")


def opinion_recorders_meetings(user: User, meetings: Iterable[Meeting]) -> set[int]:
    """The meetings among ``meetings`` whose opinions ``user`` may record: those of the
    establishments they head (the principal, or a deputy under delegation) or whose
    council they are secretary of (``may_schedule_meeting``), the people the opinion
    transitions let fire. A few queries, whatever the number of meetings."""
    mine = set(
        RoleAssignment.objects.filter(user=user, establishment__isnull=False).values_list(
            "establishment_id", flat=True
        )
    )
    pairs = {
        (m.council.establishment, m.council.kind)
        for m in meetings
        if m.council.establishment_id in mine
    }
    allowed = {
        (establishment.pk, kind)
        for establishment, kind in pairs
        if may_schedule_meeting(user, establishment, kind)
    }
    return {m.pk for m in meetings if (m.council.establishment_id, m.council.kind) in allowed}
