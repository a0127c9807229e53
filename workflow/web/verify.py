"""The public check of sealed letters, open to anyone without signing in, and the sealed
PDF's download for those who see the letter.

``/verifier/<token>/`` (the address printed on the sealed PDF, and its QR code) shows
what identifies the letter and its signatures, nothing more (``workflow.selectors.seal``).
``/verifier/`` takes an uploaded PDF and says, in plain French, whether the service
sealed it, whether it is unchanged since, and which letter it is. Both are limited to
``VERIFY_RATE_PER_MINUTE`` pages a minute per client address.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from redis.exceptions import RedisError

from config.client_address import client_address
from governance.selectors import signed_in_user
from workflow.audit.seal import Finding, SealUnavailable, verify_sealed
from workflow.selectors.seal import latest_seal, public_facts, seal_by_sha256, seal_by_token
from workflow.web.access import letter_or_404, stored_pdf

# The largest file the check reads: a sealed letter weighs far less.
MAX_UPLOAD = 10 * 1024 * 1024

View = Callable[..., HttpResponse]

logger = logging.getLogger(__name__)


def rate_limited(view: View) -> View:
    """At most ``VERIFY_RATE_PER_MINUTE`` requests a minute per client address (Django's
    cache counts them: ``CACHE_URL`` shares the count between workers); beyond, a 429
    page that says when to come back. A cache that does not answer lets the request
    through, uncounted: the check stays open to whoever holds a sealed letter."""

    @wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        minute = int(time.time() // 60)
        key = f"verify-rate:{client_address(request) or '-'}:{minute}"
        try:
            cache.add(key, 0, timeout=90)
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this one alone
            count = 1
        except RedisError as exc:
            logger.warning("rate limit of the public check not counted: %s", exc)
            count = 0
        if count > settings.VERIFY_RATE_PER_MINUTE:
            response = render(request, "workflow/verify_limited.html", status=429)
            response["Retry-After"] = str(60 - int(time.time()) % 60)
            return response
        return view(request, *args, **kwargs)

    return limited


class UploadForm(forms.Form):
    document = forms.FileField(
        label=gettext_lazy("Le document à vérifier (PDF)"),
        help_text=gettext_lazy("Un fichier PDF de 10 Mo au plus."),
        error_messages={
            "required": gettext_lazy("Choisissez le fichier PDF à vérifier."),
            "empty": gettext_lazy("Le fichier choisi est vide."),
        },
    )

    def clean_document(self) -> bytes:
        upload = self.cleaned_data["document"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                _("Le fichier dépasse 10 Mo : ce n'est pas une lettre scellée par ce service.")
            )
        return bytes(upload.read())


# What the check says, by finding: a title and a sentence, in plain French.
def _answer(finding: Finding) -> tuple[str, str, str]:
    """(alert type, title, explanation) for a finding."""
    if finding == Finding.GENUINE:
        return (
            "success",
            _("Document authentique"),
            _(
                "Ce document a été scellé par le service Lettres de mission et n'a pas été "
                "modifié depuis : le cachet est intact et couvre tout le fichier."
            ),
        )
    if finding == Finding.ALTERED:
        return (
            "error",
            _("Document modifié"),
            _(
                "Ce document porte le cachet du service Lettres de mission, mais il a été "
                "modifié depuis qu'il a été scellé : ne vous y fiez pas. Demandez "
                "l'original à l'établissement, ou ouvrez l'adresse de vérification "
                "imprimée dessus."
            ),
        )
    if finding == Finding.OTHER_SIGNER:
        return (
            "error",
            _("Document inconnu"),
            _(
                "Ce document est signé, mais pas avec le cachet du service Lettres de "
                "mission : ce service ne peut pas en garantir le contenu."
            ),
        )
    if finding == Finding.UNSEALED:
        return (
            "error",
            _("Document inconnu"),
            _(
                "Ce document ne porte aucun cachet : ce n'est pas une lettre scellée par le "
                "service Lettres de mission."
            ),
        )
    return (
        "error",
        _("Fichier illisible"),
        _("Ce fichier n'est pas un PDF lisible : ce n'est pas une lettre scellée par ce service."),
    )


@never_cache
@rate_limited
@require_http_methods(["GET", "POST"])
def verify_upload(request: HttpRequest) -> HttpResponse:
    """The upload form, and its answer for the file sent."""
    context: dict[str, Any] = {}
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if form.is_bound and form.is_valid():
        try:
            verdict = verify_sealed(form.cleaned_data["document"])
        except SealUnavailable:
            return render(request, "workflow/verify_unavailable.html", status=503)
        level, title, text = _answer(verdict.finding)
        sealed = None
        if verdict.genuine:
            sealed = seal_by_sha256(verdict.sha256)
        claimed = None
        if sealed is None and verdict.finding == Finding.ALTERED and verdict.token:
            claimed = seal_by_token(verdict.token)
        if verdict.genuine and sealed is None:
            # Sealed by this service, yet unknown to it: a seal made by another
            # installation with the same certificate, or a record since lost.
            level, title = "warning", _("Document scellé, lettre introuvable")
            text = _(
                "Ce document porte le cachet intact du service Lettres de mission, mais "
                "aucune lettre enregistrée ne correspond à ce fichier."
            )
        context.update(
            verdict=verdict,
            level=level,
            title=title,
            text=text,
            facts=public_facts(sealed) if sealed else None,
            claimed=public_facts(claimed) if claimed else None,
        )
        form = UploadForm()
    context["form"] = form
    return render(request, "workflow/verify.html", context)


@never_cache
@rate_limited
@require_http_methods(["GET"])
def verify_letter(request: HttpRequest, token: str) -> HttpResponse:
    """The public facts of the sealed letter whose code is ``token``."""
    sealed = seal_by_token(token.strip().lower())
    if sealed is None:
        return render(request, "workflow/verify_letter.html", {"facts": None}, status=404)
    return render(request, "workflow/verify_letter.html", {"facts": public_facts(sealed)})


@login_required
def sealed_pdf(request: HttpRequest, letter_id: int) -> FileResponse:
    """The letter's sealed PDF, as a download, for whoever may see the letter."""
    letter = letter_or_404(signed_in_user(request), letter_id)
    sealed = latest_seal(letter)
    if sealed is None:
        raise Http404(_("Cette lettre n'a pas encore de version scellée."))
    return stored_pdf(
        sealed.file,
        filename=f"lettre-de-mission-{letter.establishment.uai}-{letter.school_year.code}-"
        f"v{sealed.version}-scellee.pdf",
        missing=_("Le fichier de la lettre scellée a disparu."),
    )
