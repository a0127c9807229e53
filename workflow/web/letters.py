"""The letter's pages (DESIGN §8): À faire, the list, a new letter, the letter itself
with its actions and its thread. Thin: they read through the selectors and change
things only through the services and the lifecycle, whose refusals they show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models.fields.json import KT
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.councils import votes_required
from governance.imp import recognition_label
from governance.models import (
    Council,
    CouncilKind,
    Meeting,
    MissionPriority,
    SchoolYear,
    User,
)
from governance.selectors import (
    failing_addresses,
    headed_establishments,
    heads_of,
    held_roles,
    may_schedule_meeting,
    meetings_to_come,
    signed_in_user,
)
from workflow.audit.versions import (
    current_version,
    referent_names,
    version_changes,
    version_of,
    version_with_hash,
)
from workflow.errors import (
    ConditionsUnmet,
    InvalidInput,
    LetterExists,
    NotPermitted,
    SnapshotMismatch,
    WorkflowError,
)
from workflow.lifecycle.awaited import awaited_with_relances
from workflow.lifecycle.councils import opinion_meetings
from workflow.lifecycle.engine import available_transitions, fire_transition
from workflow.lifecycle.signature import paper_signatories, signature_sheet
from workflow.lifecycle.spec import Form, Presentation
from workflow.lifecycle.table import TRANSITIONS, action_label
from workflow.lifecycle.todo import to_do
from workflow.models import (
    AuditEvent,
    FollowUp,
    LetterState,
    Means,
    MissionLetter,
    OpinionValue,
    PeriodKind,
    SignatureQuality,
    choice_label,
)
from workflow.selectors.actors import Actor, actor_for
from workflow.selectors.comments import letters_with_open_requests
from workflow.selectors.dashboard import received_reports
from workflow.selectors.envelope import letter_warnings
from workflow.selectors.seal import latest_seal
from workflow.selectors.stepper import lifecycle_step
from workflow.selectors.story import council_opinions, doubtful_opinions, standing_reason
from workflow.selectors.visibility import visible_letters
from workflow.selectors.years import (
    free_years,
    letters_to_renew,
    next_school_year,
    renewal_year,
)
from workflow.services.letters import create_letter, renew_letter
from workflow.services.reminders import remind_awaited
from workflow.services.writes import as_id
from workflow.web.access import letter_or_404
from workflow.web.comments import concertation
from workflow.web.field_errors import labelled_errors
from workflow.web.meetings import reconvene_address

# The states in which a letter has signatures to show, or is collecting them.
SIGNED_OR_SIGNING = frozenset(
    {
        LetterState.SIGNATURE,
        LetterState.IN_FORCE,
        LetterState.REPORT_DUE,
        LetterState.REPORT_SUBMITTED,
        LetterState.CLOSED,
    }
)


@login_required
def todo(request: HttpRequest) -> HttpResponse:
    """À faire: the letters waiting for something from this person."""
    user = signed_in_user(request)
    roles = held_roles(user)
    items = to_do(user, roles)
    headed = headed_establishments(user, roles)
    return render(
        request,
        "workflow/todo.html",
        {
            "items": items,
            "roles": roles,
            "reports": received_reports(user, roles),
            "open_requests": letters_with_open_requests(headed),
            "to_renew": [(letter, renewal_year(letter)) for letter in letters_to_renew(headed)],
        },
    )


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


def _action_forms(
    letter: MissionLetter, user: User, typed: tuple[str, dict[str, Any]] = ("", {})
) -> list[dict[str, Any]]:
    """Each transition the person may fire and has not done yet, the expected step
    first, with the meetings its form offers (the table's ``council``): to send the
    letter to a council, its meetings to come, the soonest first; to record an opinion,
    the meetings held that may give it (``opinion_meetings``), the one whose agenda the
    letter is on first. A CA opinion's form leads whoever schedules the CA's meetings to
    a second convocation, for when the quorum was not met."""
    order = list(Presentation)
    forms = []
    available = available_transitions(letter, user)
    for transition in sorted(available, key=lambda t: order.index(t.spec.presentation)):
        spec = transition.spec
        if transition.done:
            continue
        meetings: list[Meeting] = []
        on_agenda: Meeting | None = None
        board_meetings: list[Meeting] | None = None
        reconvene = ""
        if spec.council and spec.form == Form.OPINION:
            meetings, on_agenda = opinion_meetings(letter, spec.council)
            council = Council.objects.filter(
                establishment=letter.establishment, kind=spec.council
            ).first()
            if (
                council is not None
                and spec.council == CouncilKind.BOARD
                and may_schedule_meeting(user, letter.establishment, spec.council)
            ):
                reconvene = reconvene_address(council, reverse("letter-page", args=[letter.pk]))
        elif spec.council:
            meetings = meetings_to_come(letter.establishment, spec.council)
        if "board_meeting" in spec.payload.base_fields:
            board_meetings = meetings_to_come(letter.establishment, CouncilKind.BOARD)
        forms.append(
            {
                "transition": transition,
                "spec": spec,
                "meetings": meetings,
                "on_agenda": on_agenda,
                "board_meetings": board_meetings,
                "reconvene": reconvene,
                "typed": typed[1] if typed[0] == spec.name else {},
                "votes_required": bool(spec.council) and votes_required(spec.council),
                # Whom a signature given by hand may be recorded for.
                "signatories": paper_signatories(letter) if spec.form == Form.PAPER else [],
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
    letter = letter_or_404(user, letter_id)
    actor = actor_for(user, letter)
    step, steps, next_label = lifecycle_step(letter)
    version = current_version(letter)
    content = version.content
    agreed = dict(letter.referents.values_list("user__username", "agreed_version"))
    names = referent_names(content)
    # Whose address bounces, for the principal's side, who may have it corrected.
    failing = failing_addresses(list(names)) if actor.acts_for_principal else {}
    outdated = _outdated_agreement(letter, actor)
    since = _named_version(request, letter) or outdated
    earlier = version_of(letter, since) if since else None
    events = (
        AuditEvent.objects.filter(letter=letter)
        .select_related("archive")
        .defer("snapshot", "payload")
        .annotate(reason=KT("payload__reason"))
        .order_by("-sequence")
    )
    opinions = council_opinions(letter)
    reason = standing_reason(letter)
    actions = _action_forms(letter, user, _typed(request, letter))
    return render(
        request,
        "workflow/letter_detail.html",
        {
            "letter": letter,
            "step": step,
            "steps": steps,
            "next_label": next_label,
            "warnings": (
                [] if letter.state == LetterState.WITHDRAWN else letter_warnings(letter, content)
            ),
            "standing_reason": reason,
            # The quality the person signs in: the deputy reads « par délégation ».
            "signing_as": SignatureQuality(
                actor.head_quality
                if actor.acts_for_principal and not actor.is_referent
                else SignatureQuality.REFERENT
            ).label,
            "renewal_year": renewal_year(letter) if actor.acts_for_principal else None,
            "standing_label": action_label(reason.action) if reason else "",
            "council_opinions": opinions,
            "doubtful_opinions": doubtful_opinions(letter, opinions),
            "content_first": actor.is_referent and not actor.acts_for_principal,
            "actions": actions,
            # What the person may do instead of the expected step (going back).
            "alternatives": [
                a["transition"].label
                for a in actions
                if a["spec"].presentation == Presentation.SECONDARY and a["spec"].form != Form.PAPER
            ],
            "may_edit": letter.is_editable and actor.acts_for_principal,
            # Whom the letter waits for, with « Relancer », for whoever may send it.
            "awaited": awaited_with_relances(letter, user) if actor.acts_for_principal else [],
            "opinions": OpinionValue.choices,
            "signatures": (signature_sheet(letter) if letter.state in SIGNED_OR_SIGNING else None),
            "sealed": latest_seal(letter),
            "snapshot_sha256": version.content_sha256,
            "concertation": concertation(request, letter, actor),
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
                    "email_failing": failing.get(r["username"]),
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
    if not heads:
        raise PermissionDenied(_("Seul le chef d'établissement (ou son adjoint) rédige la lettre."))
    # Only the years some establishment has no letter for yet: one letter a year.
    years = free_years([a.establishment_id for a in heads if a.establishment_id is not None])
    if request.method == "POST":
        establishment = next(
            (
                a.establishment
                for a in heads
                if str(a.establishment_id) == request.POST.get("etablissement")
            ),
            None,
        )
        # Any year not over: a year that has its letter leads to that letter.
        year = SchoolYear.objects.filter(
            pk=as_id(request.POST.get("annee")), ends_on__gte=timezone.localdate()
        ).first()
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
    return render(
        request,
        "workflow/letter_new.html",
        {
            "heads": heads,
            "years": years,
            "chosen": request.POST.get("annee") or getattr(next_school_year(years), "pk", ""),
            "chosen_establishment": request.POST.get("etablissement", ""),
        },
    )


@login_required
@require_POST
def renew(request: HttpRequest, letter_id: int) -> HttpResponse:
    """Next year's draft from this letter, in one click (``renew_letter``)."""
    user = signed_in_user(request)
    letter = letter_or_404(user, letter_id)
    year = renewal_year(letter)
    if year is None:
        messages.error(request, _("Cette lettre ne peut pas être reconduite pour l'an prochain."))
        return redirect("letter-page", letter_id=letter.pk)
    try:
        draft = renew_letter(letter_id=letter.pk, user=user, school_year=year)
    except LetterExists as exc:
        messages.info(request, _("Une lettre existe déjà pour cette année : la voici."))
        return redirect("letter-page", letter_id=exc.letter_id)
    except WorkflowError as exc:
        messages.error(request, exc.detail)
        return redirect("letter-page", letter_id=letter.pk)
    messages.success(
        request,
        _(
            "Brouillon %(year)s créé à partir de la lettre %(previous)s : mêmes référents, "
            "missions et indicateurs. Relisez-le, puis ouvrez la concertation."
        )
        % {"year": year.code, "previous": letter.school_year.code},
    )
    return redirect("letter-page", letter_id=draft.pk)


@login_required
@require_POST
def remind(request: HttpRequest, letter_id: int) -> HttpResponse:
    """« Relancer » from the letter's page: the person awaited named by ``personne``, or
    everyone awaited not reminded yet today; back to the letter with what was done."""
    user = signed_in_user(request)
    letter = letter_or_404(user, letter_id)
    named = request.POST.get("personne", "")
    try:
        reminded = remind_awaited(
            letter_id=letter.pk, user=user, person_id=as_id(named) if named else None
        )
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    except WorkflowError as exc:
        messages.error(request, exc.detail)
    else:
        names = ", ".join(person.get_full_name() or person.username for person in reminded)
        messages.success(request, _("Relance envoyée à %(names)s.") % {"names": names})
    return redirect("letter-page", letter_id=letter.pk)


# Where a refused action's input waits for the page that shows its form again.
TYPED = "typed-action"


def _typed(request: HttpRequest, letter: MissionLetter) -> tuple[str, dict[str, Any]]:
    """The action refused on this letter just before, with what was typed (once)."""
    typed = request.session.pop(TYPED, None)
    if not typed or typed.get("letter") != letter.pk:
        return "", {}
    return str(typed["name"]), dict(typed["data"])


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
    letter = letter_or_404(user, letter_id)
    spec = TRANSITIONS.get(name)
    destructive = spec is not None and spec.presentation == Presentation.DESTRUCTIVE
    if destructive and "confirm" not in request.POST:
        assert spec is not None
        messages.error(
            request,
            _("Cochez la case de confirmation : « %(label)s » ne pourra pas être annulé.")
            % {"label": spec.label},
        )
        return redirect("letter-page", letter_id=letter.pk)
    typed: dict[str, Any] | None = _payload(request)
    # A file sent with the form (a scan) goes with the payload, never into the typed
    # input kept for the form shown again.
    files = {key: request.FILES[key] for key in request.FILES}
    try:
        fired = fire_transition(
            letter_id=letter.pk, name=name, user=user, payload={**(typed or {}), **files}
        )
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    except SnapshotMismatch as exc:
        # Back to the letter, showing what changed since the version they were shown.
        messages.error(request, exc.detail)
        shown = version_with_hash(letter, request.POST.get("snapshot_sha256", ""))
        if shown is not None and shown.number < letter.version:
            return redirect(f"{reverse('letter-page', args=[letter.pk])}?depuis={shown.number}")
    except ConditionsUnmet as exc:
        messages.error(request, " ".join(u.message for u in exc.unmet))
    except InvalidInput as exc:
        assert spec is not None  # an unknown transition is refused before its payload
        details = "; ".join(labelled_errors(exc, spec.payload))
        messages.error(request, _("Vérifiez le formulaire : %(errors)s") % {"errors": details})
    except WorkflowError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, TRANSITIONS[name].done_message(fired))
        typed = None
    if typed is not None:
        # Refused: the form comes back as typed on the page it was sent from.
        request.session[TYPED] = {"letter": letter.pk, "name": name, "data": typed}
    if request.POST.get("retour") == "compte-rendu":
        return redirect("letter-page-report", letter_id=letter.pk)
    return redirect("letter-page", letter_id=letter.pk)
