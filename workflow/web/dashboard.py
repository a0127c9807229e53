"""The académie's dashboard page (the national view first for the national role) and
its exports (CSV, XLSX)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import (
    EstablishmentKind,
    SchoolYear,
)
from governance.selectors import (
    dashboard_academies,
    may_see_dashboard,
    reads_every_academy,
    school_year_for,
    signed_in_user,
)
from workflow.errors import (
    InvalidInput,
    NotPermitted,
)
from workflow.models import (
    LetterState,
)
from workflow.selectors.dashboard import (
    NO_LETTER,
    TableQuery,
    academy_board,
    national_board,
)
from workflow.selectors.exports import (
    LettersExport,
    export_academy,
    export_school_year,
    letters_export,
)
from workflow.services.content import MAX_REFERENTS
from workflow.web.exports import export_csv, export_xlsx


def _with(request: HttpRequest, **changes: str | None) -> str:
    """The page's query string with ``changes`` (``None``: the parameter removed)."""
    params = request.GET.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = value
    return "?" + params.urlencode()


def _columns(request: HttpRequest, query: TableQuery) -> list[dict[str, str]]:
    """The table's header: each column's label, its link to sort by it (ascending
    first, then descending) and, for the column the rows are sorted by, ``aria-sort``."""
    labels = {
        "etablissement": _("Établissement"),
        "departement": _("Département"),
        "type": _("Type"),
        "etat": _("État de la lettre"),
        "enveloppe": _("Enveloppe"),
        "compte-rendu": _("Compte rendu"),
    }
    columns = []
    for key, label in labels.items():
        current = key == query.sort_key
        ascending_next = not current or query.descending
        columns.append(
            {
                "key": key,
                "label": label,
                "sort": ("descending" if query.descending else "ascending") if current else "",
                "href": _with(request, tri=key if ascending_next else f"-{key}", page=None),
                "next": _("tri croissant") if ascending_next else _("tri décroissant"),
            }
        )
    return columns


def _pages(request: HttpRequest, page: Page[Any]) -> list[dict[str, Any]]:
    """The numbered links of the DSFR pagination: the first, the last, and two either
    side of the current page; ``None`` numbers mark the gaps."""
    last = page.paginator.num_pages
    shown = sorted({1, last, *range(max(1, page.number - 2), min(last, page.number + 2) + 1)})
    links: list[dict[str, Any]] = []
    for number in shown:
        if links and number - links[-1]["number"] > 1:
            links.append({"number": None})
        links.append({"number": number, "href": _with(request, page=str(number))})
    return links


def _chart(labels: list[str], values: list[int]) -> dict[str, str]:
    """A ``<bar-chart>``'s attributes: its labels and values as the component reads
    them (lists of lists, in JSON), and the top of its scale: at least 10, so that the
    graduations of a count are whole numbers."""
    return {
        "x": json.dumps([labels], ensure_ascii=False),
        "y": json.dumps([values]),
        "max": str(max(10, *values)),
    }


def _chart_state_labels() -> list[str]:
    """The states as the chart names them: short enough for a phone's width (the
    table beside it says them in full)."""
    short = {
        LetterState.CONCERTATION: _("Concertation"),
        LetterState.PEDAGOGICAL_COUNCIL: _("Conseil pédagogique"),
        LetterState.BOARD: _("Conseil d'administration"),
        LetterState.CLOSED: _("Clôturée"),
    }
    return [str(short.get(state, state.label)) for state in LetterState]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The académie's dashboard (DESIGN §8): a DAN's own académie; the national role
    first sees every académie's figures, each leading to its dashboard."""
    user = signed_in_user(request)
    if not may_see_dashboard(user):
        raise PermissionDenied(_("Le tableau de bord est celui de la délégation académique."))
    today = timezone.localdate()
    years = list(SchoolYear.objects.order_by("-starts_on"))
    code = request.GET.get("annee", "")
    year = (
        next((y for y in years if y.code == code), None)
        if code
        else (school_year_for(today) or (years[0] if years else None))
    )
    if year is None:
        if code:
            raise Http404(_("Année scolaire inconnue."))
        return render(request, "workflow/dashboard_empty.html")
    academy_code = request.GET.get("academie", "")
    academies = list(dashboard_academies(user))
    if not academy_code and reads_every_academy(user):
        return render(
            request,
            "workflow/dashboard_national.html",
            {"school_year": year, "years": years, "rows": national_board(user, year, today)},
        )
    if not academy_code and academies:
        academy_code = academies[0].code
    query = TableQuery(
        department=request.GET.get("departement", ""),
        kind=request.GET.get("type", ""),
        state=request.GET.get("etat", ""),
        search=request.GET.get("recherche", "")[:100],
        sort=request.GET.get("tri", "etablissement"),
    )
    try:
        board = academy_board(user, academy_code, year, query, request.GET.get("page"), today)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    figures = board.figures
    state_labels = [str(label) for label in LetterState.labels]
    return render(
        request,
        "workflow/dashboard.html",
        {
            "board": board,
            "figures": figures,
            "years": years,
            "academies": academies,
            "national": reads_every_academy(user),
            "states": LetterState.choices,
            "no_letter": NO_LETTER,
            "kinds": EstablishmentKind.choices,
            "columns": _columns(request, query),
            "pages": _pages(request, board.page),
            "previous": _with(request, page=str(board.page.number - 1)),
            "next": _with(request, page=str(board.page.number + 1)),
            "first": _with(request, page="1"),
            "last": _with(request, page=str(board.page.paginator.num_pages)),
            "by_state": list(zip(state_labels, figures.counts.values(), strict=True)),
            "state_chart": _chart(_chart_state_labels(), list(figures.counts.values())),
            "envelope_chart": _chart(
                [_("Sous le minimum"), _("Dans les bornes"), _("Au-dessus du maximum")],
                [figures.below_minimum, figures.within_bounds, figures.above_maximum],
            ),
            # The exports take the year, and the académie when there is a choice.
            "exports_query": "?"
            + urlencode(
                {"annee": year.code}
                | ({"academie": board.academy.code} if len(academies) > 1 else {})
            ),
        },
    )


def _letters_export(request: HttpRequest) -> LettersExport | HttpResponse:
    """The export asked (``?annee=``, ``?academie=``), or the 400 page saying why not."""
    user = signed_in_user(request)
    try:
        academy = export_academy(user, request.GET.get("academie", ""))
        year = export_school_year(request.GET.get("annee", ""), timezone.localdate())
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    except InvalidInput as exc:
        return render(request, "workflow/export_refused.html", {"detail": exc.detail}, status=400)
    return letters_export(academy, year, referent_columns=MAX_REFERENTS)


@login_required
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The académie's letters of a year, one row each, for French Excel."""
    export = _letters_export(request)
    return export if isinstance(export, HttpResponse) else export_csv(export)


@login_required
def dashboard_xlsx(request: HttpRequest) -> HttpResponse:
    """The académie's letters of a year, one row each, as a workbook with typed cells."""
    export = _letters_export(request)
    return export if isinstance(export, HttpResponse) else export_xlsx(export)
