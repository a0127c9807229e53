"""The DAN's dashboard: her académie's letters of a year, counted by state and
establishment, with each establishment's envelope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from governance.imp import check_envelope, envelope_weight
from governance.models import (
    Establishment,
    Role,
    SchoolYear,
    User,
)
from governance.selectors import (
    HeldRole,
    may_see_dashboard,
)
from workflow.errors import NotPermitted
from workflow.models import LetterReferent, LetterState, MissionLetter, YearEndReport
from workflow.selectors.visibility import visible_letters


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
