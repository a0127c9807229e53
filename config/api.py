"""What every API endpoint shares: the error body and pagination (the schema class is
in ``config.api_schema`` and the renderer in ``config.renderers``, which must not be
imported while DRF loads these).

Every error answers ``{"code", "detail", "errors"?}`` (DESIGN §7): the workflow's own
refusals, and DRF's validation, authentication, permission and throttling errors alike;
a body too large (413 ``request_too_large``), a request Django finds suspicious (400
``bad_request``) and a database that does not answer (503 ``service_unavailable``, with
``Retry-After``) too. What escapes this handler is a 500 in JSON (``config.error_pages``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config import error_pages
from workflow import errors as workflow_errors
from workflow.audit.pdf import PdfUnavailable

# The workflow's refusals and the HTTP status each one answers (DESIGN §7).
WORKFLOW_STATUS: dict[type[workflow_errors.WorkflowError], int] = {
    workflow_errors.LetterNotFound: status.HTTP_404_NOT_FOUND,
    workflow_errors.UnknownTransition: status.HTTP_404_NOT_FOUND,
    workflow_errors.NotPermitted: status.HTTP_403_FORBIDDEN,
    workflow_errors.TransitionNotAllowed: status.HTTP_409_CONFLICT,
    workflow_errors.AlreadyDone: status.HTTP_409_CONFLICT,
    workflow_errors.SnapshotMismatch: status.HTTP_409_CONFLICT,
    workflow_errors.StaleVersion: status.HTTP_409_CONFLICT,
    workflow_errors.StaleRevision: status.HTTP_409_CONFLICT,
    workflow_errors.StaleEntries: status.HTTP_409_CONFLICT,
    workflow_errors.LetterExists: status.HTTP_409_CONFLICT,
    workflow_errors.AlreadyReminded: status.HTTP_409_CONFLICT,
    workflow_errors.NotAwaited: status.HTTP_409_CONFLICT,
    workflow_errors.NotEditable: status.HTTP_409_CONFLICT,
    workflow_errors.ConditionsUnmet: status.HTTP_400_BAD_REQUEST,
    workflow_errors.InvalidInput: status.HTTP_400_BAD_REQUEST,
}

# DRF's own exceptions, by the stable code they answer with.
DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def _workflow_response(exc: workflow_errors.WorkflowError) -> Response:
    body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
    if isinstance(exc, workflow_errors.ConditionsUnmet):
        body["errors"] = [u.as_dict() for u in exc.unmet]
    elif isinstance(exc, workflow_errors.InvalidInput):
        body["errors"] = exc.errors
    elif isinstance(exc, workflow_errors.StaleEntries):
        body["conflicts"] = [c.as_dict() for c in exc.conflicts]
    elif isinstance(exc, workflow_errors.LetterExists):
        body["letter"] = exc.letter_id
    elif isinstance(exc, workflow_errors.AlreadyReminded):
        body["reminded"] = exc.reminded
    return Response(body, status=WORKFLOW_STATUS.get(type(exc), status.HTTP_400_BAD_REQUEST))


logger = logging.getLogger(__name__)


def _django_response(exc: Exception) -> Response | None:
    """The errors Django raises beneath DRF, in the API's JSON."""
    if isinstance(exc, error_pages.DATABASE_DOWN):
        logger.error("Database unavailable: %s", exc, exc_info=exc)
        set_rollback()
        return Response(
            error_pages.database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(error_pages.RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_pages.request_too_large_body(),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, and the like
        return Response(error_pages.bad_request_body(), status=status.HTTP_400_BAD_REQUEST)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    django_response = _django_response(exc)
    if django_response is not None:
        return django_response
    if isinstance(exc, PdfUnavailable):
        return Response(
            {"code": "pdf_unavailable", "detail": str(exc)},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, workflow_errors.WorkflowError):
        return _workflow_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Introuvable."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = next((c for kind, c in DRF_CODES.items() if isinstance(exc, kind)), "error")
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": code,
            "detail": _("Certaines données sont invalides."),
            "errors": exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail},
        }
    else:
        response.data = {"code": code, "detail": str(exc.detail)}
    return response


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def api_in_french(get_response: Any) -> Any:
    """Middleware: the API answers in French whatever the client's Accept-Language
    (DESIGN §7, ``detail`` is an explanation in French that outside clients show as
    is). The pages are where English is offered. After ``LocaleMiddleware``."""

    def middleware(request: Any) -> Any:
        if request.path_info.startswith("/api/"):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return get_response(request)

    return middleware
