"""The council meetings' pages: the list with each agenda, their calendars (.ics),
and the form recording a meeting's opinions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.models import (
    CouncilKind,
    Meeting,
    User,
)
from governance.selectors import (
    signed_in_user,
)
from workflow.errors import (
    InvalidInput,
)
from workflow.models import (
    AgendaItem,
    LetterState,
    OpinionValue,
)
from workflow.selectors.visibility import (
    meetings_visible_to,
    opinion_recorders_meetings,
    visible_letters,
)
from workflow.services.meetings import record_meeting_opinions
from workflow.web.calendar import meetings_calendar


def _agenda_titles(user: User, meetings: list[Meeting]) -> dict[int, list[str]]:
    """The letters on each meeting's agenda that ``user`` may see."""
    visible = set(visible_letters(user).values_list("pk", flat=True))
    titles: dict[int, list[str]] = {}
    for item in AgendaItem.objects.filter(meeting__in=meetings).select_related(
        "letter__establishment", "letter__school_year"
    ):
        if item.letter_id in visible:
            titles.setdefault(item.meeting_id, []).append(
                f"{item.letter.establishment.name} — {item.letter.school_year.code}"
            )
    return titles


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    """The councils' meetings to come (and the last ones), with their agenda."""
    user = signed_in_user(request)
    now = timezone.now()
    upcoming = list(meetings_visible_to(user).filter(starts_at__gte=now).order_by("starts_at")[:50])
    past = list(meetings_visible_to(user).filter(starts_at__lt=now).order_by("-starts_at")[:20])
    titles = _agenda_titles(user, upcoming + past)
    return render(
        request,
        "workflow/meeting_list.html",
        {
            "upcoming": [(m, titles.get(m.pk, [])) for m in upcoming],
            "past": [(m, titles.get(m.pk, [])) for m in past],
            "records_opinions": opinion_recorders_meetings(user, upcoming + past),
        },
    )


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def meetings_ics(request: HttpRequest) -> HttpResponse:
    """Every meeting to come, as one calendar to import."""
    user = signed_in_user(request)
    meetings = list(
        meetings_visible_to(user).filter(starts_at__gte=timezone.now()).order_by("starts_at")
    )
    return _ics_response(meetings_calendar(meetings, _agenda_titles(user, meetings)), "seances.ics")


@login_required
def meeting_ics(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = meetings_visible_to(user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404(_("Séance introuvable."))
    return _ics_response(
        meetings_calendar([meeting], _agenda_titles(user, [meeting])), f"seance-{meeting.pk}.ics"
    )


@login_required
def meeting_opinions(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A council's opinions on every letter waiting for it, recorded in one go: all of
    them or none (``record_meeting_opinions``). Bad input keeps what was typed."""
    user = signed_in_user(request)
    meeting = meetings_visible_to(user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404(_("Séance introuvable."))
    if not opinion_recorders_meetings(user, [meeting]):
        raise PermissionDenied(_("Les avis sont saisis par le secrétaire du conseil."))
    board = meeting.council.kind == CouncilKind.BOARD
    waiting = list(
        visible_letters(user)
        .filter(
            establishment=meeting.council.establishment,
            state=LetterState.BOARD if board else LetterState.PEDAGOGICAL_COUNCIL,
        )
        .order_by("id")
    )
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = {key: str(request.POST.get(key, "")) for key in request.POST}
        shared = {"members_present": posted.get("members_present", "")}
        rows: list[Mapping[str, Any]] = []
        for letter in waiting:
            if posted.get(f"opinion-{letter.pk}", "") == "":
                continue  # not examined at this meeting
            row: dict[str, Any] = {
                "letter": letter.pk,
                "opinion": posted[f"opinion-{letter.pk}"],
                "remarks": posted.get(f"remarks-{letter.pk}", ""),
            }
            if board:
                row |= shared | {
                    field: posted.get(f"{field}-{letter.pk}", "")
                    for field in ("votes_for", "votes_against", "abstentions", "not_voting")
                }
            rows.append({key: value for key, value in row.items() if value != ""})
        try:
            record_meeting_opinions(meeting_id=meeting.pk, user=user, opinions=rows)
        except InvalidInput as exc:
            details = "; ".join(
                f"{where} : {' '.join(errors)}" for where, errors in exc.errors.items()
            )
            messages.error(request, f"{exc.detail} {details}")
        else:
            messages.success(
                request,
                ngettext(
                    "Avis enregistré pour %(count)s lettre.",
                    "Avis enregistrés pour %(count)s lettres.",
                    len(rows),
                )
                % {"count": len(rows)},
            )
            return redirect("meetings-page")
    fields = ("opinion", "votes_for", "votes_against", "abstentions", "not_voting", "remarks")
    entries = [
        {"letter": letter, **{f: posted.get(f"{f}-{letter.pk}", "") for f in fields}}
        for letter in waiting
    ]
    return render(
        request,
        "workflow/meeting_opinions.html",
        {
            "meeting": meeting,
            "board": board,
            "entries": entries,
            "posted": posted,
            "opinions": OpinionValue.choices,
        },
    )
