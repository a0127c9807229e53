"""``/api/v1/`` (DESIGN §7): paths that outside clients rely on. Keep them stable."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from governance import api as governance_api
from notifications import api as notifications_api


class TokenView(ObtainAuthToken):
    """Exchange a username and password for a token: ``Authorization: Token <token>``."""

    # ObtainAuthToken turns throttling off (throttle_classes = ()): guessing passwords
    # must be slowed down, so it is turned back on here.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("me/", governance_api.MeView.as_view(), name="api-me"),
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
