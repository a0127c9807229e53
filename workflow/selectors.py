"""Reads of letters: what a person may see, the establishment's envelope, the warnings
a letter carries, the transitions a person may fire now."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from governance.imp import check_envelope, envelope_weight
from governance.models import (
    CatalogItem,
    Establishment,
    Meeting,
    Role,
    RoleAssignment,
    SchoolYear,
    User,
)
from governance.selectors import (
    establishments_visible_to,
    may_schedule_meeting,
    may_see_dashboard,
)
from governance.sql import placeholders, sql_names
from workflow.actors import ESTABLISHMENT_READERS
from workflow.errors import LetterNotFound, NotPermitted, Unmet
from workflow.models import LetterMission, LetterReferent, LetterState, MissionLetter

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
    query, since every read of letters starts here.

    Written in SQL (``governance.sql``), with the names taken from the models: every
    request that reads letters makes it, and the ORM took several times longer to
    build and compile this union of two indexed reads than PostgreSQL takes to answer."""
    roles, role, establishment, academy, role_user = sql_names(
        RoleAssignment, "role", "establishment", "academy", "user"
    )
    referents, letter, referent_user = sql_names(LetterReferent, "letter", "user")
    sql = (
        f"SELECT {role}, {establishment}, {academy} FROM {roles} WHERE {role_user} = %s "
        f"UNION ALL SELECT '{REFERENT_ROW}', {letter}, NULL FROM {referents} "
        f"WHERE {referent_user} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk])
        return list(cursor.fetchall())


def visible_letters(user: User) -> QuerySet[MissionLetter]:
    """Letters ``user`` may see (DESIGN §1): the establishment's staff see its letters,
    a teacher only those naming them as référent, the DAN every letter of the académie.

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


def envelope_amounts(
    establishment: Establishment,
    school_year: SchoolYear,
    *,
    excluding: MissionLetter | None = None,
) -> list[Decimal]:
    """Every référent's recognition, converted to euros, over the establishment's
    letters for the year (withdrawn letters do not count). ``excluding``: a letter left
    out, whose amounts the editor is changing."""
    referents = LetterReferent.objects.filter(
        letter__establishment=establishment, letter__school_year=school_year
    ).exclude(letter__state=LetterState.WITHDRAWN)
    if excluding is not None:
        referents = referents.exclude(letter=excluding)
    return [
        envelope_weight(imp, hours)
        for imp, hours in referents.values_list("imp_amount", "decharge_hours")
    ]


def envelopes_for(
    pairs: Collection[tuple[int, int]],
) -> dict[tuple[int, int], list[Decimal]]:
    """``envelope_amounts`` for every (establishment id, school year id) of ``pairs``, in
    one query: what a page of letters needs for its warnings."""
    result: dict[tuple[int, int], list[Decimal]] = {pair: [] for pair in pairs}
    if not pairs:
        return result
    # Establishments × years, then the pairs in Python: one OR per pair made a query
    # that took longer to compile than to run. Written in SQL, for the same reason: a
    # page of letters reads it on every request.
    referents, letter, imp_amount, decharge_hours = sql_names(
        LetterReferent, "letter", "imp_amount", "decharge_hours"
    )
    letters, pk, establishment, school_year, state = sql_names(
        MissionLetter, "id", "establishment", "school_year", "state"
    )
    establishments = sorted({e for e, _y in pairs})
    years = sorted({y for _e, y in pairs})
    sql = (
        f"SELECT l.{establishment}, l.{school_year}, r.{imp_amount}, r.{decharge_hours} "
        f"FROM {referents} r INNER JOIN {letters} l ON l.{pk} = r.{letter} "
        f"WHERE l.{establishment} IN ({placeholders(establishments)}) "
        f"AND l.{school_year} IN ({placeholders(years)}) AND l.{state} <> %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*establishments, *years, LetterState.WITHDRAWN.value])
        rows = cursor.fetchall()
    # PostgreSQL gives Decimals; SQLite's numbers become Decimals as the ORM would.
    as_imp = LetterReferent._meta.get_field("imp_amount").to_python
    as_hours = LetterReferent._meta.get_field("decharge_hours").to_python
    for establishment_id, school_year_id, imp, hours in rows:
        if (establishment_id, school_year_id) in result:
            result[(establishment_id, school_year_id)].append(
                envelope_weight(as_imp(imp), as_hours(hours))
            )
    return result


def envelope_warnings(envelope: list[Decimal]) -> list[Unmet]:
    """The warnings the envelope of an establishment's year makes: the same for every
    letter of that year."""
    return [Unmet(finding.code, finding.message) for finding in check_envelope(envelope)]


def scope_notes(contents: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The catalogue's note on each item outside the référent's remit that the stored
    ``contents`` carry, by code, in one query (none when no mission is outside)."""
    codes = {
        mission["catalog_item"]
        for content in contents
        for mission in content["missions"]
        if mission["outside_scope"] and mission["catalog_item"]
    }
    if not codes:
        return {}
    return dict(CatalogItem.objects.filter(code__in=codes).values_list("code", "scope_note"))


def content_warnings(content: dict[str, Any], notes: dict[str, str]) -> list[Unmet]:
    """The warnings a version's stored ``content`` makes: each mission outside the
    référent's remit, with the catalogue's note on it (``scope_notes``). The message is
    translated only for a letter that has such a mission."""
    outside = [mission for mission in content["missions"] if mission["outside_scope"]]
    if not outside:
        return []
    message = _("« %(text)s » sort du périmètre technico-pédagogique du référent. %(note)s")
    return [
        Unmet(
            "mission_outside_scope",
            message % {"text": mission["text"], "note": notes.get(mission["catalog_item"], "")},
        )
        for mission in outside
    ]


def letter_warnings(letter: MissionLetter, content: dict[str, Any]) -> list[Unmet]:
    """What the principal should know of a letter but that blocks nothing (or not yet):
    its establishment's envelope for the year, and its stored ``content``."""
    return [
        *envelope_warnings(envelope_amounts(letter.establishment, letter.school_year)),
        *content_warnings(content, scope_notes([content])),
    ]


# Transitions that are always open to the principal's side but are not "to do".
NOT_TO_DO = frozenset(
    {"withdraw", "reopen_concertation", "return_to_draft", "return_report", "open_report"}
)
# Conditions that say the person already did it: nothing left "to do" for them.
ALREADY_DONE = frozenset({"already_agreed", "already_signed"})
LIFECYCLE = [
    LetterState.DRAFT,
    LetterState.CONCERTATION,
    LetterState.PEDAGOGICAL_COUNCIL,
    LetterState.BOARD,
    LetterState.SIGNATURE,
    LetterState.IN_FORCE,
    LetterState.REPORT_DUE,
    LetterState.REPORT_SUBMITTED,
    LetterState.CLOSED,
]


def lifecycle_step(letter: MissionLetter) -> tuple[int, int, str | None]:
    """(current step, total steps, next step's label) for the stepper of a letter."""
    if letter.state not in LIFECYCLE:
        return 0, len(LIFECYCLE), None
    index = LIFECYCLE.index(LetterState(letter.state))
    following = LIFECYCLE[index + 1].label if index + 1 < len(LIFECYCLE) else None
    return index + 1, len(LIFECYCLE), str(following) if following else None


@dataclass(frozen=True)
class EstablishmentRow:
    uai: str
    name: str
    counts: dict[str, int]
    envelope: Decimal
    envelope_status: str  # "above", "below" or "ok"


@dataclass(frozen=True)
class Dashboard:
    school_year: SchoolYear | None
    counts: dict[str, int]
    rows: list[EstablishmentRow]
    overdue_reports: list[MissionLetter]
    late_letters: list[MissionLetter]  # period started, not yet in force

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def academy_dashboard(user: User, school_year: SchoolYear | None, today: dt.date) -> Dashboard:
    """What the DAN follows for a school year: letters per state, per establishment and
    their envelope, reports overdue, letters whose period began before they came into
    force. A fixed number of queries, whatever the number of establishments. Only for
    whom ``may_see_dashboard`` allows (``NotPermitted`` otherwise)."""
    if not may_see_dashboard(user):
        raise NotPermitted(_("Le tableau de bord est celui de la délégation académique."))
    letters = visible_letters(user)
    if school_year is not None:
        letters = letters.filter(school_year=school_year)
    counts = dict.fromkeys(LetterState.values, 0)
    per_establishment: dict[int, dict[str, int]] = {}
    for establishment_id, state, number in letters.values_list(
        "establishment_id", "state"
    ).annotate(number=Count("id")):
        counts[state] += number
        per_establishment.setdefault(establishment_id, {})[state] = number
    sums = (
        LetterReferent.objects.filter(letter__in=letters)
        .exclude(letter__state=LetterState.WITHDRAWN)
        .values("letter__establishment_id")
        .annotate(imp=Sum("imp_amount"), hours=Sum("decharge_hours"))
    )
    envelopes = {
        row["letter__establishment_id"]: (
            envelope_weight(row["imp"], None)
            + (envelope_weight(None, row["hours"]) if row["hours"] else Decimal("0"))
        ).quantize(Decimal("0.01"))
        for row in sums
    }
    rows = []
    for establishment in Establishment.objects.filter(pk__in=per_establishment).order_by("name"):
        total = envelopes.get(establishment.pk, Decimal("0"))
        findings = check_envelope([total])
        status = (
            "ok"
            if not findings
            else ("above" if findings[0].code == "above_envelope_maximum" else "below")
        )
        rows.append(
            EstablishmentRow(
                establishment.uai,
                establishment.name,
                per_establishment[establishment.pk],
                total,
                status,
            )
        )
    in_year = letters.select_related("establishment__academy", "school_year")
    overdue = [
        letter
        for letter in in_year.filter(state=LetterState.REPORT_DUE)
        if today > letter.establishment.academy.report_due_on(letter.school_year)
    ]
    late = list(
        in_year.filter(
            state__in=[
                LetterState.DRAFT,
                LetterState.CONCERTATION,
                LetterState.PEDAGOGICAL_COUNCIL,
                LetterState.BOARD,
                LetterState.SIGNATURE,
            ],
            period_start__lt=today,
        ).order_by("period_start")[:200]
    )
    return Dashboard(school_year, counts, rows, overdue, late)
