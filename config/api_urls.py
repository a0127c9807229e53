"""``/api/v1/`` (DESIGN §7): paths that outside clients rely on. Keep them stable."""

import math
from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api_schema import ErrorSerializer
from config.client_address import ScopedRateThrottle
from config.parsers import JSONParser
from governance import api as governance_api
from notifications import api as notifications_api


class TokenView(ObtainAuthToken):
    """Exchange a username and password for a token: ``Authorization: Token <token>``.

    Too many tries from one client answer 429 with ``Retry-After``: ``throttled`` (the
    "auth" rate, per client address) or ``locked_out`` (django-axes: too many wrong
    passwords for this account from this address)."""

    # ObtainAuthToken turns throttling off (throttle_classes = ()): guessing passwords
    # must be slowed down, so it is turned back on here, per client address.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    # ObtainAuthToken names DRF's own parsers, whose JSON recursed without limit (a deep
    # body was a 500): the API's parsers (config.parsers), as for every other endpoint.
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            429: OpenApiResponse(
                ErrorSerializer,
                description="`throttled` ou `locked_out` : attendre `Retry-After` secondes",
            ),
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            # django-axes refused the sign-in (or has just locked it): it marks the
            # request it was given, this one.
            if getattr(request, "axes_locked_out", False):
                return _locked_out(request)
            raise


def _locked_out(request: Request) -> Response:
    """429 ``locked_out``. A failure during the lockout starts its cool-off again
    (django-axes' default), so the wait is the whole cool-off."""
    cool_off = get_cool_off(request)
    if not cool_off:  # locked until an administrator unlocks the account
        return Response(
            {
                "code": "locked_out",
                "detail": _("Trop de mots de passe erronés pour ce compte depuis cette adresse."),
            },
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    seconds = math.ceil(cool_off.total_seconds())
    detail = _(
        "Trop de mots de passe erronés pour ce compte depuis cette adresse : "
        "réessayez dans %(minutes)s min."
    ) % {"minutes": max(math.ceil(seconds / 60), 1)}
    return Response(
        {"code": "locked_out", "detail": detail},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(seconds)},
    )


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", notifications_api.MeView.as_view(), name="api-me"),
    path(
        "me/notifications/",
        notifications_api.MyNotificationPreference.as_view(),
        name="api-me-notifications",
    ),
    path("establishments/", governance_api.EstablishmentList.as_view(), name="api-establishments"),
    path(
        "establishments/<str:uai>/",
        governance_api.EstablishmentDetail.as_view(),
        name="api-establishment",
    ),
    path("school-years/", governance_api.SchoolYearList.as_view(), name="api-school-years"),
    path("catalog/", governance_api.CatalogList.as_view(), name="api-catalog"),
    path("", include("workflow.api.urls")),
]


@csrf_exempt  # it changes nothing and must answer every method with JSON
def not_found(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    """Any /api/ path that matches no endpoint: the JSON error body, not an HTML page."""
    return JsonResponse({"code": "not_found", "detail": _("Introuvable.")}, status=404)
