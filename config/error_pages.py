"""The error pages (400, 403, 404, 500, 503): French, in the state design system, each
with a way back (the home page, and the page the person came from when it is one of
ours). The API keeps answering JSON ``{code, detail}`` (DESIGN §7), 5xx included.

The 400, 500 and 503 pages are rendered without the request's context nor the database
(``templates/400.html``, ``500.html`` and ``503.html`` stand alone, as Django's own
``bad_request`` and ``server_error`` render them; 400 and 503 take the way back from the
Referer): they show whatever failed, a Host header refused or the database gone included.

A database that does not answer (``OperationalError``, ``InterfaceError``) is a 503
with ``Retry-After``, not a 500: nothing was lost, the person may try again.

An error page never raises in turn: if its template fails (a static file missing from
``collectstatic``'s manifest, which ``{% static %}`` refuses to name, and which
``manage.py check --deploy`` reports), a plain page with the same words stands in,
rather than the server's bare « Internal Server Error ».
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
# What a 503 asks a client to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 30
# The errors of a database that does not answer (or no longer does).
DATABASE_DOWN = (OperationalError, InterfaceError)

logger = logging.getLogger(__name__)


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


def _plain_words(status: int) -> tuple[str, str, str]:
    """The title, the code and the explanation of the page for ``status``, as its
    template says them."""
    if status == 400:
        return (
            _("Requête invalide"),
            _("Erreur 400"),
            _(
                "Le service n'a pas pu lire ce qui lui a été envoyé : "
                "trop volumineux, ou mal formé."
            ),
        )
    if status == 403:
        return (
            _("Accès refusé"),
            _("Erreur 403"),
            _("Cette page ou cette action n'est pas ouverte à votre rôle."),
        )
    if status == 404:
        return (
            _("Page introuvable"),
            _("Erreur 404"),
            _("La page que vous cherchez n'existe pas, ou elle ne vous est pas accessible."),
        )
    if status == 503:
        return (
            _("Service momentanément indisponible"),
            _("Erreur 503"),
            _("Le service ne parvient pas à joindre sa base de données pour le moment."),
        )
    return (
        _("Erreur inattendue"),
        _("Erreur 500"),
        _("Désolé, le service a rencontré un problème inattendu."),
    )


def plain_error_page(status: int, reason: str = "") -> HttpResponse:
    """The error page in plain HTML, with no template and no static file: what shows
    when the error page itself cannot be rendered."""
    title, code, explanation = _plain_words(status)
    page = format_html(
        '<!DOCTYPE html>\n<html lang="{}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>{} — {}</title>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p>{}</p>\n"
        '<p>{}</p>\n<p><a href="/">{}</a></p>\n</main>\n</body>\n</html>\n',
        get_language() or settings.LANGUAGE_CODE,
        title,
        _("Lettres de mission"),
        title,
        code,
        reason or explanation,
        _("Page d'accueil"),
    )
    return HttpResponse(page, status=status)


def _safely(status: int, render_page: Callable[[], HttpResponse], reason: str = "") -> HttpResponse:
    """The error page ``render_page`` makes or, if that fails in turn, the plain one."""
    try:
        return render_page()
    except Exception:
        logger.exception("the %s page could not be rendered: the plain page stands in", status)
        return plain_error_page(status, reason)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: what is refused and why (the ``PermissionDenied``'s French reason)."""
    reason = str(exception) if exception is not None else ""
    if _is_api(request):
        return JsonResponse(
            {"code": "permission_denied", "detail": reason or _("Action non autorisée.")},
            status=403,
        )
    return _safely(
        403,
        lambda: render(
            request, "403.html", {"reason": reason, "back": back_url(request)}, status=403
        ),
        reason,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the same answer for what does not exist and what the person may not see
    (DESIGN §1), so it never says which."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": _("Introuvable.")}, status=404)
    return _safely(
        404, lambda: render(request, "404.html", {"back": back_url(request)}, status=404)
    )


def _standalone(
    request: HttpRequest, template_name: str, status: int, *, way_back: bool = True
) -> HttpResponse:
    """A page rendered without the request's context: no database, no person; only the
    way back, read from the Referer (unless ``way_back`` is false)."""

    def render_page() -> HttpResponse:
        context = {"back": back_url(request)} if way_back else {}
        return HttpResponse(loader.get_template(template_name).render(context), status=status)

    return _safely(status, render_page)


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
    return _standalone(request, "500.html", 500, way_back=False)
