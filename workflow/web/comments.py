"""The concertation thread's pages: posting a message, a change request or an answer,
correcting or deleting one's own message for a while, marking a request resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.models import (
    User,
)
from governance.selectors import (
    signed_in_user,
)
from workflow.errors import (
    InvalidInput,
    LetterNotFound,
    NotEditable,
    NotPermitted,
    StaleRevision,
    WorkflowError,
)
from workflow.models import (
    MissionLetter,
)
from workflow.selectors.actors import Actor, actor_for
from workflow.selectors.comments import (
    OPEN,
    answer_refusal,
    change_refusal,
    editable_until,
    post_refusal,
    request_state,
    thread,
)
from workflow.services.comments import (
    MAX_LENGTH,
    add_comment,
    delete_comment,
    edit_comment,
    grouped,
    resolve_change_request,
)
from workflow.web.access import letter_or_404


@login_required
@require_POST
def comment(request: HttpRequest, letter_id: int) -> HttpResponse:
    """A new message, a référent's change request (« Je demande une modification ») or
    the principal's side's answer to one (``answers``). Refused, the text comes back
    in its form, with the reason beside it."""
    user = signed_in_user(request)
    letter = letter_or_404(user, letter_id)
    answers = request.POST.get("answers") or None
    body = request.POST.get("body", "")
    is_change_request = bool(request.POST.get("demande"))
    try:
        add_comment(
            letter_id=letter.pk,
            user=user,
            body=body,
            is_change_request=is_change_request,
            answers_id=answers,
            answers_revision=_base_revision(request) if answers else None,
        )
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    except WorkflowError as exc:
        form = f"reponse-{answers}" if answers else "nouveau"
        _keep_typed(request, letter, form, body, _first_error(exc), is_change_request)
    else:
        messages.success(request, _("Réponse publiée.") if answers else _("Message publié."))
    return redirect("letter-page", letter_id=letter.pk)


# Where a refused message waits for the page that shows its form again.
TYPED_COMMENT = "typed-comment"


def _first_error(exc: WorkflowError) -> str:
    if isinstance(exc, InvalidInput):
        return " ".join(error for errors in exc.errors.values() for error in errors)
    return exc.detail


def _keep_typed(
    request: HttpRequest,
    letter: MissionLetter,
    form: str,
    body: str,
    error: str,
    is_change_request: bool = False,
) -> None:
    """A refused message: the reason at the top of the page, and its text kept for the
    form it came from (``nouveau``, ``reponse-<id>``), once."""
    messages.error(request, error)
    request.session[TYPED_COMMENT] = {
        "letter": letter.pk,
        "form": form,
        "body": body,
        "error": error,
        "is_change_request": is_change_request,
    }


def concertation(request: HttpRequest, letter: MissionLetter, actor: Actor) -> dict[str, Any]:
    """The thread as this person reads it: each message with what they may do with it
    (correct or delete their own for a while, on its own page; answer a change request
    or mark it resolved, for the principal's side), the change requests for the
    principal's side, and a refused message to show again in its form."""
    typed = request.session.pop(TYPED_COMMENT, None)
    if not typed or typed.get("letter") != letter.pk:
        typed = {}
    user, now = actor.user, timezone.now()
    assert user is not None
    may_post = post_refusal(letter, actor) is None
    form = typed.get("form", "")
    rows = []
    for message in thread(letter):
        state = request_state(message)
        reply = f"reponse-{message.pk}"
        rows.append(
            {
                "comment": message,
                "state": state,
                "may_change": may_post and change_refusal(message, user, now) is None,
                "until": editable_until(message),
                "may_answer": state == OPEN and answer_refusal(letter, actor, message) is None,
                "reply_id": reply,
                "typed_reply": typed if form == reply else None,
            }
        )
    requests = [row for row in rows if row["state"]] if actor.acts_for_principal else []
    return {
        "rows": rows,
        "requests": requests,
        "open_count": sum(1 for row in requests if row["state"] == OPEN),
        "may_post": may_post,
        "may_request": actor.is_referent,
        "max_length": MAX_LENGTH,
        "max_label": grouped(MAX_LENGTH),
        "typed": typed if form == "nouveau" else {},
    }


def _person_and_letter(request: HttpRequest, letter_id: int) -> tuple[User, MissionLetter]:
    user = signed_in_user(request)
    return user, letter_or_404(user, letter_id)


def _base_revision(request: HttpRequest) -> int | None:
    """The revision of the message the page showed (its hidden ``base_revision``)."""
    posted = request.POST.get("base_revision", "")
    return int(posted) if posted.isdigit() else None


def _message_url(letter: MissionLetter, comment_id: int) -> str:
    return f"{reverse('letter-page', args=[letter.pk])}#message-{comment_id}"


@login_required
def comment_edit(request: HttpRequest, letter_id: int, comment_id: int) -> HttpResponse:
    """Its author's page to correct or delete a message, while they may. A correction
    refused as typed comes back on this page; refused because the time is over (or
    someone answered), it is not lost: it waits in « Votre message » on the letter, to
    be posted as a new message. Based on a revision of the message changed since (from
    another window), it comes back as typed, the text now stored beside it; the page
    then stands on the stored revision, so that saving again, having seen it, is taken."""
    user, letter = _person_and_letter(request, letter_id)
    message = thread(letter).filter(pk=comment_id).first()
    if message is None:
        raise Http404(_("Message introuvable."))
    body, error, stored, revision = message.body, "", None, message.revision
    if request.method == "POST":
        body = request.POST.get("body", "")
        revision = _base_revision(request) or revision
        try:
            edit_comment(
                letter_id=letter.pk,
                comment_id=comment_id,
                user=user,
                body=body,
                base_revision=_base_revision(request),
            )
        except NotPermitted as exc:
            raise PermissionDenied(exc.detail) from exc
        except NotEditable as exc:
            late = _(
                "Votre correction n'a pas été enregistrée : elle est reprise dans « Votre "
                "message », pour la publier comme un nouveau message."
            )
            _keep_typed(request, letter, "nouveau", body, f"{exc.detail} {late}")
            return redirect("letter-page", letter_id=letter.pk)
        except StaleRevision as exc:
            # Said at the top of the page: the text typed is not in error.
            messages.error(request, exc.detail)
            # The message as it now stands, beside the text as typed.
            stored = thread(letter).get(pk=comment_id)
            revision = stored.revision
        except WorkflowError as exc:
            error = _first_error(exc)
            messages.error(request, error)
        else:
            messages.success(request, _("Message corrigé."))
            return redirect("letter-page", letter_id=letter.pk)
    else:
        refusal = change_refusal(message, user, timezone.now()) or post_refusal(
            letter, actor_for(user, letter)
        )
        if isinstance(refusal, NotPermitted):
            raise PermissionDenied(refusal.detail)
        if refusal is not None:
            messages.error(request, refusal.detail)
            return redirect("letter-page", letter_id=letter.pk)
    return render(
        request,
        "workflow/comment_edit.html",
        {
            "letter": letter,
            "message": message,
            "state": request_state(message),
            "until": editable_until(message),
            "body": body,
            "error": error,
            "stored": stored,
            "revision": revision,
            "max_length": MAX_LENGTH,
            "max_label": grouped(MAX_LENGTH),
        },
    )


def _on_a_message(
    request: HttpRequest,
    letter: MissionLetter,
    change: Callable[[], object],
    done: str,
    stale_to: str,
) -> HttpResponse:
    """Carry out ``change`` on a message of ``letter``; back to the letter, told. Based
    on a revision of the message changed since, to ``stale_to``, where it reads as it
    now stands, with the reason."""
    try:
        change()
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    except LetterNotFound as exc:
        raise Http404(exc.detail) from exc
    except StaleRevision as exc:
        messages.error(request, exc.detail)
        return redirect(stale_to)
    except WorkflowError as exc:
        messages.error(request, _first_error(exc))
    else:
        messages.success(request, done)
    return redirect("letter-page", letter_id=letter.pk)


@login_required
@require_POST
def comment_delete(request: HttpRequest, letter_id: int, comment_id: int) -> HttpResponse:
    """Its author deletes a message; the thread keeps its place, « supprimé ». Based on
    a revision changed since, back to its page, which shows it as it now stands."""
    user, letter = _person_and_letter(request, letter_id)
    return _on_a_message(
        request,
        letter,
        lambda: delete_comment(
            letter_id=letter.pk,
            comment_id=comment_id,
            user=user,
            base_revision=_base_revision(request),
        ),
        _("Message supprimé."),
        reverse("letter-page-comment-edit", args=[letter.pk, comment_id]),
    )


@login_required
@require_POST
def comment_resolve(request: HttpRequest, letter_id: int, comment_id: int) -> HttpResponse:
    """The principal's side marks a change request resolved without answering it.
    Corrected since the page showed it, back to the request as it now reads."""
    user, letter = _person_and_letter(request, letter_id)
    return _on_a_message(
        request,
        letter,
        lambda: resolve_change_request(
            letter_id=letter.pk,
            comment_id=comment_id,
            user=user,
            base_revision=_base_revision(request),
        ),
        _("Demande de modification marquée comme traitée."),
        _message_url(letter, comment_id),
    )
