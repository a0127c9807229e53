"""The caller's own notification preferences (DESIGN §6, §7): immediate e-mails or a
daily digest at an hour of their choice, and per kind of notification immediately, in
the digest or not at all. ``/api/v1/me/`` shows them with who the caller is and changes
them; ``/api/v1/me/notifications/`` is the older, general choice alone. Every value is
checked by ``notifications.preferences.update_preferences``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api import MeSerializer, me
from governance.models import User
from governance.selectors import signed_in_user
from notifications.models import DeliveryMode
from notifications.preferences import (
    HOURS,
    Delivery,
    Kind,
    preferences_of,
    update_preferences,
)
from workflow.errors import InvalidInput


class PreferenceSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=DeliveryMode.choices)


class KindsSerializer(serializers.Serializer):
    """Per kind of notification: ``default`` follows ``mode``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            kind: serializers.ChoiceField(
                choices=Delivery.choices, required=False, help_text=str(label)
            )
            for kind, label in Kind.choices
        }


class NotificationPreferencesSerializer(serializers.Serializer):
    """For the schema only: the values are checked by the service."""

    mode = serializers.ChoiceField(
        choices=DeliveryMode.choices,
        required=False,
        help_text="Réglage général : `immediate` (un courriel à chaque fois) ou `digest` "
        "(un récapitulatif quotidien).",
    )
    digest_hour = serializers.IntegerField(
        min_value=HOURS.start,
        max_value=HOURS.stop - 1,
        required=False,
        help_text="Heure du récapitulatif quotidien (heure de Paris, 0 à 23).",
    )
    kinds = KindsSerializer(
        required=False,
        help_text="Par sorte de notification : `immediate`, `digest`, `none` (aucun "
        "courriel) ou `default` (comme `mode`).",
    )
    always_sent = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Les sujets toujours envoyés aussitôt, quel que soit le choix : demandes "
        "d'agir et relances.",
    )


class MePatchSerializer(serializers.Serializer):
    notifications = NotificationPreferencesSerializer()


class MeWithPreferencesSerializer(MeSerializer):
    notifications = serializers.SerializerMethodField()

    class Meta(MeSerializer.Meta):
        fields = [*MeSerializer.Meta.fields, "notifications"]

    @extend_schema_field(NotificationPreferencesSerializer)
    def get_notifications(self, user: User) -> dict[str, Any]:
        return preferences_of(user).as_dict()


def _me(request: Request) -> Response:
    return Response(MeWithPreferencesSerializer(me(signed_in_user(request))).data)


class MeView(APIView):
    """The person signed in: their roles, the delegations they hold today, and how they
    want to be told (``notifications``). PATCH changes the notification preferences,
    and only them: what is not given is kept."""

    @extend_schema(responses=MeWithPreferencesSerializer)
    def get(self, request: Request) -> Response:
        return _me(request)

    @extend_schema(
        request=MePatchSerializer,
        responses=MeWithPreferencesSerializer,
        examples=[
            OpenApiExample(
                "Commentaires dans le récapitulatif de 17 h",
                value={"notifications": {"digest_hour": 17, "kinds": {"comments": "digest"}}},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict) or set(data) - {"notifications"}:
            message = _(
                "Seules les préférences de notification (« notifications ») se modifient ici."
            )
            raise InvalidInput({"non_field_errors": [message]}, detail=message)
        preferences = data.get("notifications", {})
        if not isinstance(preferences, dict):
            message = _("« notifications » : attendu un objet {mode, digest_hour, kinds}.")
            raise InvalidInput({"notifications": [message]}, detail=message)
        unknown = set(preferences) - {"mode", "digest_hour", "kinds"}
        if unknown:
            message = _("« notifications » : champ inconnu « %(field)s ».") % {
                "field": str(sorted(unknown)[0])[:60]
            }
            raise InvalidInput({"notifications": [message]}, detail=message)
        update_preferences(signed_in_user(request), **preferences)
        return _me(request)


class MyNotificationPreference(APIView):
    """GET: how I am told in general (``immediate`` or ``digest``); PUT: change it.
    ``/api/v1/me/`` shows and changes every choice."""

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        return Response({"mode": preferences_of(signed_in_user(request)).mode})

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        preferences = update_preferences(signed_in_user(request), mode=data.get("mode"))
        return Response({"mode": preferences.mode})
