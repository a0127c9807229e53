"""The application's URLs plus the benchmark's ceiling: a DRF endpoint that returns a
constant, through the same middleware, authentication and renderer as the API. Mounted
only by ``bench.settings``, never in production."""

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as application_urlpatterns


class Ceiling(APIView):
    """What any API request costs before the application does anything."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/ceiling/", Ceiling.as_view()), *application_urlpatterns]
