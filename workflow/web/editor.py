"""The letter editor's pages: the form, and the envelope check it asks as one types."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.models import (
    MissionPriority,
    Role,
    User,
)
from governance.selectors import (
    catalogue_headings,
    signed_in_user,
)
from workflow.errors import (
    InvalidInput,
    LetterNotFound,
    StaleRevision,
    StaleVersion,
    WorkflowError,
)
from workflow.models import (
    FollowUp,
    Means,
    MissionLetter,
    PeriodKind,
    RecognitionMode,
)
from workflow.selectors.actors import actor_for
from workflow.selectors.envelope import envelope_amounts
from workflow.selectors.visibility import get_visible_letter_with_content, people_with_role
from workflow.services.content import update_letter
from workflow.web.editor_form import (
    EditorState,
    Meanwhile,
    changes_from_state,
    check_state_envelope,
    error_labels,
    imp_choices,
    mark_errors,
    posted_fingerprints,
    saved_meanwhile,
    shown_fingerprints,
    state_from_letter,
    state_from_post,
)


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
    request: HttpRequest,
    letter: MissionLetter,
    state: EditorState,
    errors: list[str],
    *,
    shown: dict[str, str],
    meanwhile: dict[str, Meanwhile] | None = None,
) -> HttpResponse:
    """The editor showing ``state``, with the fingerprints ``shown`` of the letter it
    stands on. ``meanwhile``: after a save refused as stale, what another person saved
    since, beside each part; the page then stands on the letter as stored now (its
    version and revision), since the person sees what changed."""
    if meanwhile is None:
        # The version the person started from, kept across refusals: a save after « la
        # lettre est passée à la version N » must not overwrite that version blindly.
        base_version = request.POST.get("base_version") or letter.version
        base_revision = request.POST.get("base_revision") or letter.revision
    else:
        base_version, base_revision = letter.version, letter.revision
    choices = imp_choices()
    return render(
        request,
        "workflow/letter_edit.html",
        {
            "letter": letter,
            "base_version": base_version,
            "base_revision": base_revision,
            "shown": shown,
            "stale": meanwhile is not None,
            "meanwhile": meanwhile or {},
            "meanwhile_by": _saved_by(request, letter),
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


def _saved_by(request: HttpRequest, letter: MissionLetter) -> str:
    """Who saved the letter last, as the page names them beside what they changed."""
    by = letter.revised_by
    if by is None:
        return _("quelqu'un")
    if by.pk == request.user.pk:
        return _("vous-même, dans une autre fenêtre")
    return by.get_full_name() or by.username


def _number(posted: str | None) -> int | None:
    """A hidden field's number (the version or revision the page was opened on)."""
    return int(posted) if posted and posted.isdigit() else None


@login_required
def letter_edit(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The editor (seed 004's checklist). A refused edit comes back as it was typed,
    with each error on its row; only ``update_letter`` decides what is valid. Refused
    because another person saved meanwhile, it shows beside each part they changed
    what they saved (``editor_form.saved_meanwhile``)."""
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
        state = state_from_letter(letter, teachers, headings)
        return _editor_page(request, letter, state, [], shown=shown_fingerprints(state))
    state = state_from_post(request.POST, letter, teachers, headings)
    shown = posted_fingerprints(request.POST)
    if request.POST.get("action") == "verifier":  # the envelope check, without JavaScript
        return _editor_page(request, letter, state, [], shown=shown)
    changes, origins = changes_from_state(state)
    try:
        update_letter(
            letter_id=letter.pk,
            user=user,
            changes=changes,
            base_version=_number(request.POST.get("base_version")),
            base_revision=_number(request.POST.get("base_revision")),
        )
    except InvalidInput as exc:
        mark_errors(state, exc.errors, origins)
        errors = error_labels(state, exc.errors, origins)
        return _editor_page(request, letter, state, errors, shown=shown)
    except (StaleRevision, StaleVersion) as exc:
        _user, current = _editable_letter(request, letter.pk)
        stored = state_from_letter(current, teachers, headings)
        meanwhile = saved_meanwhile(state, stored, request.POST)
        return _editor_page(
            request,
            current,
            state,
            [exc.detail],
            shown=shown_fingerprints(stored),
            meanwhile=meanwhile,
        )
    except WorkflowError as exc:
        return _editor_page(request, letter, state, [exc.detail], shown=shown)
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
