"""The council meetings' pages: the list with each agenda, their calendars (.ics),
the form scheduling a meeting and the form recording a meeting's opinions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.models import (
    Council,
    CouncilKind,
    Meeting,
    User,
)
from governance.selectors import (
    councils_scheduled_by,
    meetings_to_come,
    signed_in_user,
)
from governance.services import schedule_meeting
from workflow.errors import (
    InvalidInput,
)
from workflow.lifecycle.councils import WAITING_FOR, agenda_places, agenda_unmet, open_agenda
from workflow.lifecycle.spec import Form, TransitionSpec
from workflow.lifecycle.table import TRANSITIONS
from workflow.models import (
    AgendaItem,
    LetterState,
    MissionLetter,
    OpinionValue,
)
from workflow.selectors.visibility import (
    meetings_visible_to,
    opinion_recorders_meetings,
    visible_letters,
)
from workflow.services.meetings import record_meeting_opinions
from workflow.web.calendar import meetings_calendar
from workflow.web.field_errors import agenda_errors


@dataclass(frozen=True)
class AgendaEntry:
    """A letter on a meeting's agenda, as the pages and calendars name it."""

    letter: MissionLetter
    title: str  # « Lycée Carnot — 2026-2027 »
    state: str  # its state's label

    def __str__(self) -> str:
        return f"{self.title} ({self.state})"


def _title(letter: MissionLetter) -> str:
    return f"{letter.establishment.name} — {letter.school_year.code}"


def _agendas(user: User, meetings: list[Meeting]) -> dict[int, list[AgendaEntry]]:
    """The letters each meeting is to give its opinion on that ``user`` may see: only
    letters still waiting for that council, each in one place (``agenda_places``), never
    a withdrawn or closed one."""
    shown = {m.pk for m in meetings}
    letters = list(
        visible_letters(user)
        .filter(
            state__in=list(WAITING_FOR),
            pk__in=AgendaItem.objects.filter(
                meeting__council_id__in={m.council_id for m in meetings}
            ).values("letter"),
        )
        .order_by("establishment__name", "school_year__starts_on", "pk")
    )
    agendas: dict[int, list[AgendaEntry]] = {}
    places = agenda_places(letters)
    for letter in letters:  # in order: by establishment, then year
        place = places.get(letter.pk)
        if place is not None and place.pk in shown:
            agendas.setdefault(place.pk, []).append(
                AgendaEntry(letter, _title(letter), str(LetterState(letter.state).label))
            )
    return agendas


def _titles(user: User, meetings: list[Meeting]) -> dict[int, list[str]]:
    return {
        pk: [str(entry) for entry in entries] for pk, entries in _agendas(user, meetings).items()
    }


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    """The councils' meetings to come (and the last ones), with their agenda."""
    user = signed_in_user(request)
    now = timezone.now()
    upcoming = list(meetings_visible_to(user).filter(starts_at__gte=now).order_by("starts_at")[:50])
    past = list(meetings_visible_to(user).filter(starts_at__lt=now).order_by("-starts_at")[:20])
    agendas = _agendas(user, upcoming + past)
    return render(
        request,
        "workflow/meeting_list.html",
        {
            "upcoming": [(m, agendas.get(m.pk, [])) for m in upcoming],
            "past": [(m, agendas.get(m.pk, [])) for m in past],
            "records_opinions": opinion_recorders_meetings(user, upcoming + past),
            "may_schedule": bool(councils_scheduled_by(user)),
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
    return _ics_response(meetings_calendar(meetings, _titles(user, meetings)), "seances.ics")


@login_required
def meeting_ics(request: HttpRequest, meeting_id: int) -> HttpResponse:
    user = signed_in_user(request)
    meeting = meetings_visible_to(user).filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404(_("Séance introuvable."))
    return _ics_response(
        meetings_calendar([meeting], _titles(user, [meeting])), f"seance-{meeting.pk}.ics"
    )


class _ScheduleForm(forms.Form):
    """The schedule form's fields turned into values; the rules (who, convocation,
    place) are ``schedule_meeting``'s."""

    conseil = forms.IntegerField(label=gettext_lazy("Conseil"))
    date = forms.DateField(label=gettext_lazy("Date"), input_formats=["%Y-%m-%d"])
    heure = forms.TimeField(label=gettext_lazy("Heure"), input_formats=["%H:%M"])
    convocation = forms.IntegerField(label=gettext_lazy("Convocation"))
    lieu = forms.CharField(label=gettext_lazy("Lieu"), required=False, strip=True)


# The service's fields, by the form's names.
_SCHEDULE_FIELDS = {"starts_at": "date", "convocation": "convocation", "location": "lieu"}


def _back_to(request: HttpRequest, address: str) -> str:
    """``address`` if it is a page of this site (where to go once done), else ""."""
    safe = url_has_allowed_host_and_scheme(
        address, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return address if address.startswith("/") and safe else ""


def reconvene_address(council: Council, back: str) -> str:
    """The schedule form for ``council``'s second convocation, back to ``back`` once
    scheduled: where a CA whose quorum was not met is led."""
    query = urlencode({"conseil": council.pk, "convocation": 2, "retour": back})
    return f"{reverse('meeting-page-new')}?{query}"


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    """Schedule a council's meeting: the principal (or deputy by delegation), or the
    council's secretary (``schedule_meeting``). Led here from a CA's opinion refused for
    want of quorum, the council and the second convocation come chosen, and the person
    goes back where they were once it is scheduled."""
    user = signed_in_user(request)
    councils = councils_scheduled_by(user)
    if not councils:
        raise PermissionDenied(
            _("Seuls le chef d'établissement et le secrétaire du conseil fixent ses séances.")
        )
    source = request.POST if request.method == "POST" else request.GET
    back = _back_to(request, str(source.get("retour", "")))
    typed = {name: str(source.get(name, "")) for name in _ScheduleForm.base_fields}
    typed["convocation"] = typed["convocation"] or "1"
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = _ScheduleForm(request.POST)
        if not form.is_valid():
            errors = {name: [str(m) for m in found] for name, found in form.errors.items()}
        else:
            data = form.cleaned_data
            council = next((c for c in councils if c.pk == data["conseil"]), None)
            if council is None:
                errors["conseil"] = [_("Choisissez un conseil dont vous fixez les séances.")]
            else:
                try:
                    meeting = schedule_meeting(
                        council,
                        by=user,
                        starts_at=timezone.make_aware(
                            dt.datetime.combine(data["date"], data["heure"])
                        ),
                        convocation=data["convocation"],
                        location=data["lieu"],
                    )
                except ValidationError as exc:
                    for name, found in exc.message_dict.items():
                        errors.setdefault(_SCHEDULE_FIELDS.get(name, "date"), []).extend(found)
                else:
                    messages.success(
                        request,
                        _("Séance programmée : %(council)s, le %(day)s (%(convocation)s).")
                        % {
                            "council": council.get_kind_display(),
                            "day": timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y %H:%M"),
                            "convocation": meeting.get_convocation_display(),
                        },
                    )
                    return redirect(back or "meetings-page")
        messages.error(request, _("La séance n'a pas été programmée : corrigez le formulaire."))
    return render(
        request,
        "workflow/meeting_new.html",
        {
            "councils": councils,
            "typed": typed,
            "errors": errors,
            "back": back,
            "convocations": Meeting._meta.get_field("convocation").choices,
        },
    )


def _opinion_spec(council: str) -> TransitionSpec:
    """The transition recording ``council``'s opinion, from the table."""
    return next(
        spec
        for spec in TRANSITIONS.values()
        if spec.form == Form.OPINION and spec.council == council
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
    spec = _opinion_spec(meeting.council.kind)
    # The letters waiting for this council whose opinion this meeting may give
    # (``agenda_unmet``): those on its agenda (or taken up from an earlier one) first,
    # then those on no agenda yet.
    candidates = list(
        visible_letters(user)
        .filter(
            establishment=meeting.council.establishment,
            state=LetterState.BOARD if board else LetterState.PEDAGOGICAL_COUNCIL,
        )
        .order_by("id")
    )
    placed = open_agenda([letter.pk for letter in candidates], meeting.council.kind)
    waiting = sorted(
        (
            letter
            for letter in candidates
            if agenda_unmet(placed.get(letter.pk, []), meeting) is None
        ),
        key=lambda letter: letter.pk not in placed,
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
                row["votes_confirmed"] = posted.get(f"votes_confirmed-{letter.pk}", "")
            else:  # the CA meeting whose agenda the letters go on, if chosen
                row["board_meeting"] = posted.get("board_meeting", "")
            rows.append({key: value for key, value in row.items() if value != ""})
        try:
            record_meeting_opinions(meeting_id=meeting.pk, user=user, opinions=rows)
        except InvalidInput as exc:
            details = agenda_errors(
                exc,
                spec.payload,
                {
                    letter.pk: f"{letter.establishment.name} — {letter.school_year.code}"
                    for letter in waiting
                },
            )
            messages.error(request, " ".join([exc.detail, "; ".join(details)]))
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
    fields = (
        "opinion",
        "votes_for",
        "votes_against",
        "abstentions",
        "not_voting",
        "votes_confirmed",
        "remarks",
    )
    entries = [
        {
            "letter": letter,
            "on_agenda": letter.pk in placed,
            **{f: posted.get(f"{f}-{letter.pk}", "") for f in fields},
        }
        for letter in waiting
    ]
    establishment = meeting.council.establishment
    return render(
        request,
        "workflow/meeting_opinions.html",
        {
            "meeting": meeting,
            "board": board,
            "entries": entries,
            "posted": posted,
            "opinions": OpinionValue.choices,
            # Where the CP's letters go next: a CA meeting to come, if chosen now.
            "board_meetings": [] if board else meetings_to_come(establishment, CouncilKind.BOARD),
            # A CA on first convocation without its quorum is convened again.
            "reconvene": (
                reconvene_address(meeting.council, reverse("meetings-page"))
                if board and meeting.convocation == 1
                else ""
            ),
        },
    )
