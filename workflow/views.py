"""The letter's pages (DESIGN §8). Thin: they read through the selectors and change
things only through ``workflow.services``, exactly as the API does."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from governance.imp import recognition_label
from governance.models import (
    CouncilKind,
    Meeting,
    MissionPriority,
    Role,
    SchoolYear,
    User,
)
from governance.selectors import (
    catalogue_headings,
    heads_of,
    held_roles,
    school_year_for,
    signed_in_user,
)
from workflow.actors import Actor, actor_for, actors_for
from workflow.calendar import meetings_calendar
from workflow.editor import (
    EditorState,
    changes_from_state,
    check_state_envelope,
    error_labels,
    imp_choices,
    mark_errors,
    state_from_letter,
    state_from_post,
)
from workflow.errors import (
    ConditionsUnmet,
    InvalidInput,
    LetterExists,
    LetterNotFound,
    NotPermitted,
    SnapshotMismatch,
    WorkflowError,
)
from workflow.models import (
    AgendaItem,
    AuditEvent,
    Comment,
    FollowUp,
    LetterState,
    Means,
    MissionLetter,
    OpinionValue,
    OutcomeStatus,
    PeriodKind,
    RecognitionMode,
    YearEndReport,
    choice_label,
)
from workflow.selectors import (
    ALREADY_DONE,
    NOT_TO_DO,
    Dashboard,
    academy_dashboard,
    envelope_amounts,
    get_visible_letter,
    get_visible_letter_with_content,
    letter_warnings,
    lifecycle_step,
    meetings_visible_to,
    opinion_recorders_meetings,
    people_with_role,
    visible_letters,
)
from workflow.services import (
    add_comment,
    available_transitions,
    create_letter,
    fire_transition,
    record_meeting_opinions,
    report_refusal,
    save_report,
    update_letter,
)
from workflow.transitions import action_label
from workflow.versions import (
    current_version,
    referent_names,
    version_changes,
    version_of,
    version_with_hash,
)


def _letter_or_404(user: User, letter_id: int) -> MissionLetter:
    try:
        return get_visible_letter(user, letter_id)
    except LetterNotFound as exc:
        raise Http404(exc.detail) from exc


@login_required
def todo(request: HttpRequest) -> HttpResponse:
    """À faire: the letters waiting for something from this person."""
    user = signed_in_user(request)
    roles = held_roles(user)
    acting = any(assignment.role != Role.DAN for assignment in roles)
    items = []
    letters = (
        list(
            visible_letters(user)
            .exclude(state__in=[LetterState.CLOSED, LetterState.WITHDRAWN])
            .order_by("-updated_at")[:100]
        )
        if acting or user.referent_of.exists()
        else []
    )
    for letter, actor in zip(letters, actors_for(user, letters, roles), strict=True):
        actions = [
            t
            for t in available_transitions(letter, user, actor)
            if t.name not in NOT_TO_DO and not {u.code for u in t.unmet} & ALREADY_DONE
        ]
        if actions:
            items.append({"letter": letter, "actions": actions})
    return render(request, "workflow/todo.html", {"items": items, "roles": roles})


@login_required
def letter_list(request: HttpRequest) -> HttpResponse:
    letters = visible_letters(signed_in_user(request)).order_by("-school_year__starts_on", "-id")
    state = request.GET.get("etat", "")
    year = request.GET.get("annee", "")
    if state in LetterState.values:
        letters = letters.filter(state=state)
    if year:
        letters = letters.filter(school_year__code=year)
    page = Paginator(letters, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "workflow/letter_list.html",
        {
            "page": page,
            "states": LetterState.choices,
            "state": state,
            "year": year,
            "may_create": heads_of(signed_in_user(request)).exists(),
        },
    )


def _action_forms(letter: MissionLetter, user: User) -> list[dict[str, Any]]:
    """Each transition the person may fire, with what its form needs."""
    forms = []
    for transition in available_transitions(letter, user):
        council = {
            "record_pedagogical_opinion": CouncilKind.PEDAGOGICAL,
            "record_board_opinion": CouncilKind.BOARD,
            "submit_to_pedagogical_council": CouncilKind.PEDAGOGICAL,
        }.get(transition.name)
        meetings = (
            Meeting.objects.filter(
                council__establishment=letter.establishment, council__kind=council
            ).order_by("-starts_at")
            if council
            else Meeting.objects.none()
        )
        if transition.name in {"record_pedagogical_opinion", "record_board_opinion"}:
            # Only a meeting that has been held has an opinion to record.
            meetings = meetings.filter(starts_at__lte=timezone.now())
        forms.append(
            {
                "transition": transition,
                "meetings": meetings[:10],
                "needs_reason": transition.name
                in {
                    "return_to_draft",
                    "reopen_concertation",
                    "return_report",
                    "withdraw",
                    "open_report",
                },
                "is_opinion": transition.name
                in {"record_pedagogical_opinion", "record_board_opinion"},
                "is_board": transition.name == "record_board_opinion",
                "is_sign": transition.name == "sign",
                "is_agree": transition.name == "agree",
                "is_submit": transition.name == "submit_to_pedagogical_council",
                "danger": transition.name in {"withdraw", "return_to_draft"},
            }
        )
    return forms


def _outdated_agreement(letter: MissionLetter, actor: Actor) -> int | None:
    """The version a référent agreed to, when the letter in concertation has changed
    since: they are asked to agree again."""
    referent = actor.referent
    if referent is None or letter.state != LetterState.CONCERTATION:
        return None
    agreed = referent.agreed_version
    return agreed if agreed is not None and agreed < letter.version else None


def _named_version(request: HttpRequest, letter: MissionLetter) -> int | None:
    """The earlier version named in the address: a référent's agreement refused because
    the letter changed comes back to the page with the version they were shown."""
    named = request.GET.get("depuis", "")
    return int(named) if named.isdigit() and 0 < int(named) < letter.version else None


@login_required
def letter_detail(request: HttpRequest, letter_id: int) -> HttpResponse:
    user = signed_in_user(request)
    letter = _letter_or_404(user, letter_id)
    actor = actor_for(user, letter)
    step, steps, next_label = lifecycle_step(letter)
    version = current_version(letter)
    content = version.content
    agreed = dict(letter.referents.values_list("user__username", "agreed_version"))
    names = referent_names(content)
    outdated = _outdated_agreement(letter, actor)
    since = _named_version(request, letter) or outdated
    earlier = version_of(letter, since) if since else None
    events = (
        AuditEvent.objects.filter(letter=letter)
        .select_related("archive")
        .defer("snapshot", "payload")
        .order_by("-sequence")
    )
    return render(
        request,
        "workflow/letter_detail.html",
        {
            "letter": letter,
            "step": step,
            "steps": steps,
            "next_label": next_label,
            "warnings": letter_warnings(letter, content),
            "actions": _action_forms(letter, user),
            "may_edit": letter.is_editable and actor.acts_for_principal,
            "opinions": OpinionValue.choices,
            "snapshot_sha256": version.content_sha256,
            "comments": Comment.objects.filter(letter=letter).select_related("author"),
            "history": [(event, action_label(event.action)) for event in events],
            "period": {
                "kind": choice_label(PeriodKind, content["period"]["kind"]),
                "start": _day(content["period"]["start"]),
                "end": _day(content["period"]["end"]),
            },
            "referents": [
                {
                    "name": names[r["username"]],
                    "recognition": recognition_label(r["imp_amount"], r["decharge_hours"]),
                    "share": r["share"],
                    "agreed": agreed.get(r["username"]) == letter.version,
                }
                for r in content["referents"]
            ],
            "missions": [
                {
                    "text": m["text"],
                    "priority": choice_label(MissionPriority, m["priority"]),
                    "carried_by": [names.get(u, u) for u in m["referents"]],
                }
                for m in content["missions"]
            ],
            "indicators": content["indicators"],
            "means": [choice_label(Means, value) for value in content["means"]],
            "means_other": content["means_other"],
            "follow_up": choice_label(FollowUp, content["follow_up"]),
            "since": earlier,
            "agreement_outdated": outdated,
            "changes": (version_changes(earlier.content, content) if earlier is not None else []),
        },
    )


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@login_required
def letter_new(request: HttpRequest) -> HttpResponse:
    """A new draft: the establishment (where the person heads it) and the school year."""
    user = signed_in_user(request)
    heads = list(heads_of(user))
    years = list(SchoolYear.objects.filter(ends_on__gte=timezone.localdate()))
    if not heads:
        raise PermissionDenied(_("Seul le chef d'établissement (ou son adjoint) rédige la lettre."))
    if request.method == "POST":
        establishment = next(
            (
                a.establishment
                for a in heads
                if str(a.establishment_id) == request.POST.get("etablissement")
            ),
            None,
        )
        year = next((y for y in years if str(y.pk) == request.POST.get("annee")), None)
        if establishment is None or year is None:
            messages.error(request, _("Choisissez l'établissement et l'année scolaire."))
        else:
            try:
                letter = create_letter(user=user, establishment=establishment, school_year=year)
            except LetterExists as exc:  # a second click, or a colleague's draft
                messages.info(request, _("Une lettre existe déjà pour cette année : la voici."))
                return redirect("letter-page", letter_id=exc.letter_id)
            except WorkflowError as exc:
                messages.error(request, exc.detail)
            else:
                messages.success(request, _("Brouillon créé : rédigez la lettre."))
                return redirect("letter-page-edit", letter_id=letter.pk)
    return render(request, "workflow/letter_new.html", {"heads": heads, "years": years})


def _editable_letter(request: HttpRequest, letter_id: int) -> tuple[User, MissionLetter]:
    """The letter the signed-in head may edit; 404 if unseen, 403 if not theirs to write."""
    user = signed_in_user(request)
    try:
        letter = get_visible_letter_with_content(user, letter_id)
    except LetterNotFound as exc:
        raise Http404(exc.detail) from exc
    if not actor_for(user, letter).acts_for_principal:
        raise PermissionDenied(
            _("Seul le chef d'établissement (ou son adjoint par délégation) rédige la lettre.")
        )
    return user, letter


def _teachers(letter: MissionLetter) -> list[User]:
    """The establishment's teachers as the editor lists them: the letter's référents
    first, in the letter's order (which the editor keeps), then the others by name."""
    named = {r.user_id: (r.order, r.pk) for r in letter.referents.all()}
    return sorted(
        people_with_role(letter, Role.TEACHER),
        key=lambda u: (
            u.pk not in named,
            named.get(u.pk, (0, 0)),
            u.last_name.lower(),
            u.first_name.lower(),
            u.username,
        ),
    )


def _editor_page(
    request: HttpRequest, letter: MissionLetter, state: EditorState, errors: list[str]
) -> HttpResponse:
    # The version the person started from, kept across refusals: a save after « la
    # lettre est passée à la version N » must not overwrite that version blindly.
    base_version = request.POST.get("base_version") or letter.version
    choices = imp_choices()
    return render(
        request,
        "workflow/letter_edit.html",
        {
            "letter": letter,
            "base_version": base_version,
            "state": state,
            "errors": errors,
            "envelope": check_state_envelope(
                state,
                envelope_amounts(letter.establishment, letter.school_year, excluding=letter),
            ),
            "imp_choices": choices,
            "imp_values": {value for value, _label in choices},
            "modes": RecognitionMode.choices,
            "priorities": MissionPriority.choices,
            "period_kinds": PeriodKind.choices,
            "means_choices": Means.choices,
            "follow_ups": FollowUp.choices,
        },
    )


@login_required
def letter_edit(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The editor (seed 004's checklist). A refused edit comes back as it was typed,
    with each error on its row; only ``update_letter`` decides what is valid."""
    user, letter = _editable_letter(request, letter_id)
    if not letter.is_editable:
        messages.error(
            request,
            _(
                "La lettre n'est plus modifiable à cette étape : rouvrez la concertation "
                "pour la changer."
            ),
        )
        return redirect("letter-page", letter_id=letter.pk)
    teachers, headings = _teachers(letter), catalogue_headings()
    if request.method != "POST":
        return _editor_page(request, letter, state_from_letter(letter, teachers, headings), [])
    state = state_from_post(request.POST, letter, teachers, headings)
    if request.POST.get("action") == "verifier":  # the envelope check, without JavaScript
        return _editor_page(request, letter, state, [])
    changes, origins = changes_from_state(state)
    try:
        base_version = int(request.POST.get("base_version", ""))
    except ValueError:
        base_version = None
    try:
        update_letter(letter_id=letter.pk, user=user, changes=changes, base_version=base_version)
    except InvalidInput as exc:
        mark_errors(state, exc.errors, origins)
        return _editor_page(request, letter, state, error_labels(state, exc.errors, origins))
    except WorkflowError as exc:
        return _editor_page(request, letter, state, [exc.detail])
    messages.success(request, _("Lettre enregistrée."))
    return redirect("letter-page", letter_id=letter.pk)


@login_required
@require_POST
def letter_envelope(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The envelope as edited, for the editor to show live (htmx); saves nothing."""
    _user, letter = _editable_letter(request, letter_id)
    state = state_from_post(request.POST, letter, _teachers(letter), catalogue_headings())
    envelope = check_state_envelope(
        state, envelope_amounts(letter.establishment, letter.school_year, excluding=letter)
    )
    return render(request, "workflow/envelope.html", {"envelope": envelope})


def _payload(request: HttpRequest) -> dict[str, Any]:
    """The form's fields, as the transition's payload (empty fields left out)."""
    return {
        key: value
        for key, value in request.POST.items()
        if key != "csrfmiddlewaretoken" and value != ""
    }


@login_required
@require_POST
def fire(request: HttpRequest, letter_id: int, name: str) -> HttpResponse:
    """A transition from its form; back to the letter with what happened."""
    user = signed_in_user(request)
    letter = _letter_or_404(user, letter_id)
    try:
        fire_transition(letter_id=letter.pk, name=name, user=user, payload=_payload(request))
    except NotPermitted as exc:
        return HttpResponseForbidden(exc.detail)
    except SnapshotMismatch as exc:
        # Back to the letter, showing what changed since the version they were shown.
        messages.error(request, exc.detail)
        shown = version_with_hash(letter, request.POST.get("snapshot_sha256", ""))
        if shown is not None and shown.number < letter.version:
            return redirect(f"{reverse('letter-page', args=[letter.pk])}?depuis={shown.number}")
    except ConditionsUnmet as exc:
        messages.error(request, " ".join(u.message for u in exc.unmet))
    except InvalidInput as exc:
        details = "; ".join(
            _("%(field)s : %(errors)s") % {"field": field, "errors": " ".join(errors)}
            for field, errors in exc.errors.items()
        )
        messages.error(request, _("Vérifiez le formulaire : %(errors)s") % {"errors": details})
    except WorkflowError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("C'est fait."))
    return redirect("letter-page", letter_id=letter.pk)


@login_required
@require_POST
def comment(request: HttpRequest, letter_id: int) -> HttpResponse:
    user = signed_in_user(request)
    letter = _letter_or_404(user, letter_id)
    try:
        add_comment(letter_id=letter.pk, user=user, body=request.POST.get("body", ""))
    except NotPermitted as exc:
        return HttpResponseForbidden(exc.detail)
    except WorkflowError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Message publié."))
    return redirect("letter-page", letter_id=letter.pk)


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


@login_required
def report(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The year-end report: a form for the référents while it is due (pre-filled from
    the letter's missions and indicators), a read-only page for everyone else."""
    user = signed_in_user(request)
    letter = _letter_or_404(user, letter_id)
    report = (
        YearEndReport.objects.filter(letter=letter)
        .prefetch_related("outcomes__mission", "results__indicator")
        .first()
    )
    if report is None:
        raise Http404(_("Le compte rendu n'est pas encore ouvert."))
    editable = report_refusal(letter, actor_for(user, letter)) is None
    if request.method == "POST":
        if not editable:
            return HttpResponseForbidden(_("Le compte rendu n'est pas modifiable par vous."))
        data = {
            "difficulties": request.POST.get("difficulties", ""),
            "training_needs": request.POST.get("training_needs", ""),
            "proposals": request.POST.get("proposals", ""),
            "outcomes": [
                {
                    "mission": o.mission_id,
                    "status": request.POST.get(f"status-{o.mission_id}", ""),
                    "comment": request.POST.get(f"comment-{o.mission_id}", ""),
                }
                for o in report.outcomes.all()
            ],
            "results": [
                {
                    "indicator": r.indicator_id,
                    "result": request.POST.get(f"result-{r.indicator_id}", ""),
                }
                for r in report.results.all()
            ],
        }
        try:
            save_report(letter_id=letter.pk, user=user, data=data)
        except WorkflowError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Compte rendu enregistré."))
        return redirect("letter-page-report", letter_id=letter.pk)
    return render(
        request,
        "workflow/report.html",
        {
            "letter": letter,
            "report": report,
            "editable": editable,
            "statuses": OutcomeStatus.choices,
        },
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
