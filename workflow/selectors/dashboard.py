"""The académie's dashboard: the key figures of a school year (coverage, letters by
state, the IMP committed and each establishment's envelope, the reports), a filtered,
sorted and paged table of every establishment with its letter, the reports received;
and the same key figures for every académie, the national role's view. Each read is a
fixed number of queries, whatever the number of establishments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from governance.imp import envelope_position, to_cents
from governance.models import (
    Academy,
    Establishment,
    EstablishmentKind,
    Role,
    SchoolYear,
    User,
)
from governance.selectors import (
    HeldRole,
    dashboard_academies,
    may_see_dashboard,
    reads_every_academy,
)
from governance.text import normalized
from workflow.errors import NotPermitted
from workflow.models import LetterReferent, LetterState, MissionLetter, YearEndReport
from workflow.selectors.visibility import visible_letters


def received_reports(user: User, roles: list[HeldRole], limit: int = 20) -> list[YearEndReport]:
    """The year-end reports sent to the DAN (``user``, holding ``roles``), newest first:
    her À faire lists them, each linking to the report."""
    if not any(assignment.role == Role.DAN for assignment in roles):
        return []
    return list(
        YearEndReport.objects.filter(letter__in=visible_letters(user), submitted_at__isnull=False)
        .select_related("letter__establishment", "letter__school_year", "submitted_by")
        .order_by("-submitted_at")[:limit]
    )


# A letter covers its establishment from the day it comes into force: it stays so
# through its report and once archived.
COVERING_STATES = (
    LetterState.IN_FORCE,
    LetterState.REPORT_DUE,
    LetterState.REPORT_SUBMITTED,
    LetterState.CLOSED,
)
# The state filter's value for the establishments without a letter this year.
NO_LETTER = "aucune"
ROWS_PER_PAGE = 50


@dataclass(frozen=True)
class KeyFigures:
    """One académie's year at a glance (``key_figures``)."""

    establishments: int  # the open EPLE of the académie
    covered: int  # of which covered by a letter in force (or later)
    counts: dict[str, int]  # letters per state
    imp_total: Decimal  # the IMP of the year's letters, not withdrawn
    envelope_median: Decimal | None  # per establishment with a letter
    below_minimum: int  # establishments whose envelope is below the minimum
    above_maximum: int  # ... above the maximum
    within_bounds: int
    reports_due: int  # awaited (the letter's report is due)
    reports_received: int
    reports_late: int  # awaited after the académie's due date

    @property
    def letters(self) -> int:
        return sum(self.counts.values())

    @property
    def envelopes(self) -> int:
        """The establishments with a letter of the year not withdrawn."""
        return self.below_minimum + self.within_bounds + self.above_maximum

    @property
    def coverage_percent(self) -> int:
        return round(100 * self.covered / self.establishments) if self.establishments else 0


def _median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return ((ordered[middle - 1] + ordered[middle]) / 2).quantize(Decimal("0.01"))


def envelope_status(total: Decimal) -> str:
    """``"above"`` the maximum, ``"below"`` the minimum, or ``"ok"``."""
    return str(envelope_position(total).value)


def _envelope_total(referents: str = "") -> ExpressionWrapper:
    """An establishment's envelope, summed over its référents (``referents``: the path
    to them) grouped by establishment: the IMP, and the décharges at their conventional
    rate (``envelope_weight``, in SQL). The key figures and the table judge the same
    total."""
    return ExpressionWrapper(
        Coalesce(Sum(f"{referents}imp_amount"), Value(Decimal("0")))
        + Coalesce(Sum(f"{referents}decharge_hours"), Value(Decimal("0")))
        * Value(settings.DECHARGE_HOUR_RATE),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def key_figures(
    academies: list[Academy], school_year: SchoolYear, today: dt.date
) -> dict[int, KeyFigures]:
    """The key figures of ``school_year`` for each of ``academies`` (by id): five
    queries, whatever the number of académies and establishments. The envelope of an
    establishment is what its letters of the year not withdrawn grant (IMP, and
    décharges at their conventional rate), judged by ``envelope_position``."""
    ids = [academy.pk for academy in academies]
    open_counts = dict(
        Establishment.objects.filter(academy_id__in=ids, closed_on__isnull=True)
        .order_by()
        .values("academy_id")
        .annotate(number=Count("id"))
        .values_list("academy_id", "number")
    )
    letters = MissionLetter.objects.filter(academy_id__in=ids, school_year=school_year).order_by()
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(LetterState.values, 0) for pk in ids}
    for academy_id, state, number in (
        letters.values("academy_id", "state")
        .annotate(number=Count("id"))
        .values_list("academy_id", "state", "number")
    ):
        counts[academy_id][state] = number
    covered = dict(
        letters.filter(state__in=COVERING_STATES, establishment__closed_on__isnull=True)
        .values("academy_id")
        .annotate(number=Count("establishment_id", distinct=True))
        .values_list("academy_id", "number")
    )
    envelopes: dict[int, list[Decimal]] = {pk: [] for pk in ids}
    imp_totals: dict[int, Decimal] = dict.fromkeys(ids, Decimal("0"))
    for academy_id, imp, total in (
        letters.exclude(state=LetterState.WITHDRAWN)
        .values("academy_id", "establishment_id")
        .annotate(imp=Sum("referents__imp_amount"), total=_envelope_total("referents__"))
        .values_list("academy_id", "imp", "total")
    ):
        imp_totals[academy_id] += Decimal(imp or 0)
        envelopes[academy_id].append(to_cents(Decimal(total)))
    received = dict(
        YearEndReport.objects.filter(
            letter__academy_id__in=ids,
            letter__school_year=school_year,
            submitted_at__isnull=False,
        )
        .order_by()
        .values("letter__academy_id")
        .annotate(number=Count("id"))
        .values_list("letter__academy_id", "number")
    )
    figures = {}
    for academy in academies:
        statuses = [envelope_status(total) for total in envelopes[academy.pk]]
        due = counts[academy.pk][LetterState.REPORT_DUE]
        figures[academy.pk] = KeyFigures(
            establishments=open_counts.get(academy.pk, 0),
            covered=covered.get(academy.pk, 0),
            counts=counts[academy.pk],
            imp_total=to_cents(imp_totals[academy.pk]),
            envelope_median=_median(envelopes[academy.pk]),
            below_minimum=statuses.count("below"),
            above_maximum=statuses.count("above"),
            within_bounds=statuses.count("ok"),
            reports_due=due,
            reports_received=received.get(academy.pk, 0),
            reports_late=due if today > academy.report_due_on(school_year) else 0,
        )
    return figures


@dataclass(frozen=True)
class TableQuery:
    """What the DAN asks of the establishments' table: the filters (empty: any) and
    the sort, a column's key (``SORTS``) with ``-`` before it for descending."""

    department: str = ""
    kind: str = ""
    state: str = ""  # a LetterState value, or NO_LETTER
    search: str = ""
    sort: str = "etablissement"

    @property
    def sort_key(self) -> str:
        key = self.sort.removeprefix("-")
        return key if key in SORTS else "etablissement"

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-") and self.sort_key == self.sort[1:]


def _state_order() -> Case:
    return Case(
        *[When(letter_state=state, then=Value(i)) for i, state in enumerate(LetterState.values)],
        default=Value(-1),
        output_field=IntegerField(),
    )


def _kind_order() -> Case:
    return Case(
        *[When(kind=kind, then=Value(i)) for i, kind in enumerate(EstablishmentKind.values)],
        default=Value(len(EstablishmentKind.values)),
        output_field=IntegerField(),
    )


# The sortable columns: the key of ``?tri=`` → what the rows are ordered by.
SORTS: dict[str, Callable[[], list[Any]]] = {
    "etablissement": lambda: [F("name")],
    "departement": lambda: [F("department_code")],
    "type": lambda: [_kind_order()],
    "etat": lambda: [_state_order()],
    "enveloppe": lambda: [F("envelope")],
    "compte-rendu": lambda: [F("report_submitted_at")],
}


@dataclass(frozen=True)
class TableRow:
    """One establishment of the table, with its letter of the year (if any)."""

    establishment: Establishment
    letter_id: int | None
    letter_state: str | None
    envelope: Decimal | None
    envelope_status: str  # "above", "below", "ok", or "" without a letter
    report_submitted_at: dt.datetime | None
    report_late: bool

    @property
    def state_label(self) -> str:
        return str(LetterState(self.letter_state).label) if self.letter_state else ""


def establishment_rows(
    academy: Academy, school_year: SchoolYear, query: TableQuery
) -> QuerySet[Establishment]:
    """Every open establishment of ``academy`` (and a closed one that has a letter this
    year), with its letter of ``school_year`` — the one not withdrawn, if any —, that
    letter's envelope and report, filtered and sorted as ``query`` asks: one query,
    paged by the caller, each value read in a sub-select over indexed columns."""
    year_letters = MissionLetter.objects.filter(
        establishment_id=OuterRef("pk"), school_year=school_year
    ).order_by(Case(When(state=LetterState.WITHDRAWN, then=Value(1)), default=Value(0)), "-id")
    referents = (
        LetterReferent.objects.filter(
            letter__establishment_id=OuterRef("pk"), letter__school_year=school_year
        )
        .exclude(letter__state=LetterState.WITHDRAWN)
        .order_by()
        .values("letter__establishment_id")
        .annotate(total=_envelope_total())
        .values("total")
    )
    rows = Establishment.objects.filter(academy=academy).annotate(
        letter_id=Subquery(year_letters.values("id")[:1]),
        letter_state=Subquery(year_letters.values("state")[:1]),
    )
    rows = rows.annotate(
        envelope=Case(
            When(letter_id__isnull=True, then=Value(None)),
            default=Coalesce(Subquery(referents), Value(Decimal("0"))),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        report_submitted_at=Subquery(
            YearEndReport.objects.filter(
                letter_id=OuterRef("letter_id"), submitted_at__isnull=False
            ).values("submitted_at")[:1]
        ),
    ).filter(Q(closed_on__isnull=True) | Q(letter_id__isnull=False))
    if query.department:
        rows = rows.filter(department_code=query.department)
    if query.kind in EstablishmentKind.values:
        rows = rows.filter(kind=query.kind)
    if query.state == NO_LETTER:
        rows = rows.filter(letter_id__isnull=True)
    elif query.state in LetterState.values:
        rows = rows.filter(letter_state=query.state)
    search = query.search.strip()
    if search:
        # A name is found whatever its accents, case and punctuation (compared folded,
        # in Python: an académie has a few hundred names at most), a UAI by its beginning.
        folded = normalized(search)
        named = [
            pk
            for pk, name in Establishment.objects.filter(academy=academy).values_list("pk", "name")
            if folded and folded in normalized(name)
        ]
        rows = rows.filter(Q(pk__in=named) | Q(uai__istartswith=search))
    order = [
        expression.desc(nulls_last=True) if query.descending else expression.asc(nulls_first=True)
        for expression in SORTS[query.sort_key]()
    ]
    return rows.order_by(*order, "name", "uai")


def table_rows(
    establishments: Iterable[Establishment],
    academy: Academy,
    school_year: SchoolYear,
    today: dt.date,
) -> list[TableRow]:
    """The rows of one page of ``establishment_rows``, with each envelope judged."""
    late = today > academy.report_due_on(school_year)
    rows = []
    for establishment in establishments:
        envelope = establishment.envelope  # type: ignore[attr-defined]
        envelope = to_cents(Decimal(envelope)) if envelope is not None else None
        state = establishment.letter_state  # type: ignore[attr-defined]
        rows.append(
            TableRow(
                establishment=establishment,
                letter_id=establishment.letter_id,  # type: ignore[attr-defined]
                letter_state=state,
                envelope=envelope,
                envelope_status=envelope_status(envelope) if envelope is not None else "",
                report_submitted_at=establishment.report_submitted_at,  # type: ignore[attr-defined]
                report_late=late and state == LetterState.REPORT_DUE,
            )
        )
    return rows


def departments_of(academy: Academy) -> list[tuple[str, str]]:
    """The départements of the académie's establishments, (code, name) by code."""
    return list(
        Establishment.objects.filter(academy=academy)
        .exclude(department_code="")
        .order_by("department_code")
        .values_list("department_code", "department_name")
        .distinct()
    )


def reports_received_in(
    academy: Academy, school_year: SchoolYear, limit: int = 10
) -> list[YearEndReport]:
    """The académie's reports of ``school_year`` received, newest first."""
    return list(
        YearEndReport.objects.filter(
            letter__academy=academy, letter__school_year=school_year, submitted_at__isnull=False
        )
        .select_related("letter__establishment", "submitted_by")
        .order_by("-submitted_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class AcademyBoard:
    """The académie's page: its figures, one page of its establishments, its reports."""

    academy: Academy
    school_year: SchoolYear
    figures: KeyFigures
    page: Page[Establishment]
    rows: list[TableRow]
    departments: list[tuple[str, str]]
    reports: list[YearEndReport]
    query: TableQuery


def academy_board(
    user: User,
    academy_code: str,
    school_year: SchoolYear,
    query: TableQuery,
    page_number: str | None,
    today: dt.date,
) -> AcademyBoard:
    """One académie's dashboard for ``school_year``, as ``user`` may read it: a DAN her
    own académie, the national role and the administrators any (``NotPermitted``
    otherwise, and for an académie that does not exist). A fixed number of queries,
    whatever the number of establishments."""
    if not may_see_dashboard(user):
        raise NotPermitted(_("Le tableau de bord est celui de la délégation académique."))
    academy = dashboard_academies(user).filter(code=academy_code).first()
    if academy is None:
        raise NotPermitted(_("Ce tableau de bord est celui d'une autre académie."))
    page = Paginator(establishment_rows(academy, school_year, query), ROWS_PER_PAGE).get_page(
        page_number
    )
    return AcademyBoard(
        academy=academy,
        school_year=school_year,
        figures=key_figures([academy], school_year, today)[academy.pk],
        page=page,
        rows=table_rows(page.object_list, academy, school_year, today),
        departments=departments_of(academy),
        reports=reports_received_in(academy, school_year),
        query=query,
    )


def national_board(
    user: User, school_year: SchoolYear, today: dt.date
) -> list[tuple[Academy, KeyFigures]]:
    """Every académie with its key figures, by name: the national role's first table
    (and the administrators'). ``NotPermitted`` for anybody else."""
    if not reads_every_academy(user):
        raise NotPermitted(_("La vue nationale est celle de la direction du numérique."))
    academies = list(dashboard_academies(user))
    figures = key_figures(academies, school_year, today)
    return [(academy, figures[academy.pk]) for academy in academies]
