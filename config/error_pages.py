"""The error pages (403, 404, 500): French, in the state design system, each with a way
back (the home page, and the page the person came from when it is one of ours). The
API keeps answering JSON ``{code, detail}`` (DESIGN §7), 5xx included.

The 500 page is rendered without a request nor the database: ``templates/500.html``
stands alone, as Django's own ``server_error`` renders it.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"


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


def server_error(request: HttpRequest) -> HttpResponse:
    """500: JSON for the API; for a page, ``500.html`` rendered with no context at all,
    so that it shows even when the database or a context processor is what failed."""
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "detail": _("Erreur interne du serveur.")}, status=500
        )
    return defaults.server_error(request)
