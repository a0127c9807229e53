"""The error pages (400, 403, 404, 500, 503): French, in the state design system, each
with a way back (the home page, and the page the person came from when it is one of
ours). The API keeps answering JSON ``{code, detail}`` (DESIGN §7), 5xx included.

The 400, 500 and 503 pages are rendered without the request's context nor the database
(``templates/400.html``, ``500.html`` and ``503.html`` stand alone, as Django's own
``bad_request`` and ``server_error`` render them; 400 and 503 take the way back from the
Referer): they show whatever failed, a Host header refused or the database gone included.

A database that does not answer (``OperationalError``, ``InterfaceError``) is a 503
with ``Retry-After``, not a 500: nothing was lost, the person may try again.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"
# What a 503 asks a client to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 30
# The errors of a database that does not answer (or no longer does).
DATABASE_DOWN = (OperationalError, InterfaceError)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def back_url(request: HttpRequest) -> str:
    """The page the person came from (the Referer), when it is a page of this site and
    not the one that failed: the « Retour à la page précédente » link, without script."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return ""
    if referer == request.build_absolute_uri():
        return ""
    return referer


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: what is refused and why (the ``PermissionDenied``'s French reason)."""
    reason = str(exception) if exception is not None else ""
    if _is_api(request):
        return JsonResponse(
            {"code": "permission_denied", "detail": reason or _("Action non autorisée.")},
            status=403,
        )
    return render(request, "403.html", {"reason": reason, "back": back_url(request)}, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the same answer for what does not exist and what the person may not see
    (DESIGN §1), so it never says which."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": _("Introuvable.")}, status=404)
    return render(request, "404.html", {"back": back_url(request)}, status=404)


def _standalone(request: HttpRequest, template_name: str, status: int) -> HttpResponse:
    """A page rendered without the request's context: no database, no person; only the
    way back, read from the Referer."""
    page = loader.get_template(template_name).render({"back": back_url(request)})
    return HttpResponse(page, status=status)


def request_too_large_body() -> dict[str, str]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return {
        "code": "request_too_large",
        "detail": _(
            "Le corps de la requête dépasse la taille admise (%(limit)s octets, fichiers exclus)."
        )
        % {"limit": limit},
    }


def bad_request_body() -> dict[str, str]:
    return {"code": "bad_request", "detail": _("Requête invalide.")}


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 (``SuspiciousOperation``: a body too large, too many fields, a Host header not
    allowed…): JSON for the API, 413 for a body too large; for a page, ``400.html``."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(request_too_large_body(), status=413)
        return JsonResponse(bad_request_body(), status=400)
    return _standalone(request, "400.html", 400)


def database_unavailable_body() -> dict[str, str]:
    return {
        "code": "service_unavailable",
        "detail": _(
            "Le service est momentanément indisponible : la base de données ne répond pas. "
            "Réessayez dans quelques instants."
        ),
    }


def server_error(request: HttpRequest) -> HttpResponse:
    """500: JSON for the API; for a page, ``500.html`` rendered with no context at all,
    so that it shows even when the database or a context processor is what failed.

    Django calls this while it handles the exception, so ``sys.exc_info()`` names it: a
    database that does not answer is a 503 with ``Retry-After`` (``503.html`` for a page)."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        if _is_api(request):
            response: HttpResponse = JsonResponse(database_unavailable_body(), status=503)
        else:
            response = _standalone(request, "503.html", 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": _("Erreur interne du serveur.")}, status=500
        )
    return defaults.server_error(request)
