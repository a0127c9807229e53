"""The caller's own notification preference: immediate e-mails or a daily digest."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.selectors import signed_in_user
from notifications.models import DeliveryMode, NotificationPreference


class PreferenceSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=DeliveryMode.choices)


class MyNotificationPreference(APIView):
    """GET: how I am told (``immediate`` or ``digest``); PUT: change it."""

    @extend_schema(responses=PreferenceSerializer)
    def get(self, request: Request) -> Response:
        preference = NotificationPreference.objects.filter(user=signed_in_user(request)).first()
        mode = preference.mode if preference else DeliveryMode.IMMEDIATE
        return Response({"mode": mode})

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    def put(self, request: Request) -> Response:
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference, _created = NotificationPreference.objects.update_or_create(
            user=signed_in_user(request), defaults={"mode": serializer.validated_data["mode"]}
        )
        return Response({"mode": preference.mode})
