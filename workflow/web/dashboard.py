"""The DAN's dashboard page and its exports (CSV, XLSX)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from governance.models import (
    SchoolYear,
)
from governance.selectors import (
    school_year_for,
    signed_in_user,
)
from workflow.errors import (
    NotPermitted,
)
from workflow.models import (
    LetterState,
)
from workflow.selectors.dashboard import Dashboard, academy_dashboard


def _dashboard(request: HttpRequest) -> Dashboard:
    user = signed_in_user(request)
    today = timezone.localdate()
    code = request.GET.get("annee", "")
    year = SchoolYear.objects.filter(code=code).first() if code else school_year_for(today)
    try:
        return academy_dashboard(user, year, today)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def _table(dashboard: Dashboard) -> tuple[list[str], list[list[Any]]]:
    """The per-establishment table, as the exports write it."""
    states = list(LetterState)
    header = [
        _("UAI"),
        _("Établissement"),
        *[str(s.label) for s in states],
        _("Enveloppe (€)"),
        _("Enveloppe"),
    ]
    labels = {
        "ok": _("dans les bornes"),
        "above": _("au-dessus du maximum"),
        "below": _("sous le minimum"),
    }
    rows = [
        [
            row.uai,
            row.name,
            *[row.counts.get(s.value, 0) for s in states],
            row.envelope,
            labels[row.envelope_status],
        ]
        for row in dashboard.rows
    ]
    return header, rows


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The académie's dashboard for the DAN (DESIGN §8)."""
    board = _dashboard(request)
    biggest = max(board.counts.values(), default=0) or 1
    bars = [
        {"label": LetterState(state).label, "count": count, "percent": round(100 * count / biggest)}
        for state, count in board.counts.items()
    ]
    states = list(LetterState)
    return render(
        request,
        "workflow/dashboard.html",
        {
            "board": board,
            "bars": bars,
            "states": states,
            "table_rows": [
                (row, [row.counts.get(s.value, 0) for s in states]) for row in board.rows
            ],
            "years": SchoolYear.objects.order_by("-starts_on"),
        },
    )


@login_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    header, rows = _table(_dashboard(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="lettres-de-mission.csv"'
    response.write("\ufeff")  # so that spreadsheets read the accents
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    writer.writerows(
        [
            [str(cell).replace(".", ",") if isinstance(cell, Decimal) else cell for cell in row]
            for row in rows
        ]
    )
    return response


@login_required
def dashboard_xlsx(request: HttpRequest) -> HttpResponse:
    header, rows = _table(_dashboard(request))
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Établissements")
    sheet.append(header)
    for row in rows:
        sheet.append([float(cell) if isinstance(cell, Decimal) else cell for cell in row])
    content = io.BytesIO()
    workbook.save(content)
    response = HttpResponse(
        content.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="lettres-de-mission.xlsx"'
    return response
