"""The OpenAPI schema class: every operation documents the error body next to its own."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error's body."""

    code = serializers.CharField(help_text="Code stable, par exemple `transition_not_allowed`.")
    detail = serializers.CharField(help_text="Explication en français.")
    # The metaclass takes declared fields off the class, so this does not shadow
    # Serializer.errors at run time; mypy cannot know that.
    errors = serializers.JSONField(  # type: ignore[assignment]
        required=False,
        help_text="Pour `invalid` : les messages par champ ; pour `conditions_unmet` : la liste "
        "des conditions non remplies `[{code, message}]`.",
    )


ERROR_RESPONSES = {
    400: OpenApiResponse(
        ErrorSerializer, description="`invalid`, `parse_error` ou `conditions_unmet`"
    ),
    401: OpenApiResponse(
        ErrorSerializer, description="`not_authenticated` ou `authentication_failed`"
    ),
    403: OpenApiResponse(
        ErrorSerializer, description="`permission_denied` : visible, mais pas à vous"
    ),
    404: OpenApiResponse(ErrorSerializer, description="`not_found` : inexistant ou non visible"),
    405: OpenApiResponse(ErrorSerializer, description="`method_not_allowed`"),
    406: OpenApiResponse(ErrorSerializer, description="`not_acceptable`"),
    409: OpenApiResponse(
        ErrorSerializer,
        description="`transition_not_allowed`, `snapshot_mismatch`, `stale_version`, "
        "`letter_exists` ou `not_editable`",
    ),
    415: OpenApiResponse(ErrorSerializer, description="`unsupported_media_type`"),
    429: OpenApiResponse(ErrorSerializer, description="`throttled`"),
}


class AutoSchema(SpectacularAutoSchema):
    """Documents the error responses on every operation, next to its own."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        for code, response in ERROR_RESPONSES.items():
            if str(code) in bodies:
                continue
            if code == 409 and self.method == "GET":
                continue
            bodies[str(code)] = self._get_response_for_code(
                response, str(code), direction=direction
            )
        return bodies
