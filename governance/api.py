"""Read-only API for governance data (DESIGN §7): ``me``, establishments, school years
and the mission catalogue. Lists are scoped to what the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from governance.models import (
    CatalogHeading,
    CatalogItem,
    Delegation,
    Establishment,
    RoleAssignment,
    SchoolYear,
    User,
)
from governance.selectors import establishments_visible_to


class RoleSerializer(serializers.ModelSerializer):
    # A role belongs to an establishment or (the DAN's) to an académie: the other is null.
    establishment: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="uai", read_only=True, allow_null=True
    )
    academy: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    label = serializers.CharField(source="get_role_display", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = RoleAssignment
        fields = ["role", "label", "establishment", "academy"]


class DelegationSerializer(serializers.ModelSerializer):
    establishment: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="uai", read_only=True
    )
    delegator: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Delegation
        fields = ["establishment", "delegator", "starts_on", "ends_on"]


class MeSerializer(serializers.ModelSerializer):
    roles = RoleSerializer(source="role_assignments", many=True, read_only=True)
    delegations = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "discipline",
            "roles",
            "delegations",
        ]

    @extend_schema(responses=DelegationSerializer(many=True))
    def get_delegations(self, user: User) -> list[dict[str, Any]]:
        today = timezone.localdate()
        active = user.delegations_received.filter(
            starts_on__lte=today, ends_on__gte=today, revoked_at__isnull=True
        ).select_related("establishment", "delegator")
        return list(DelegationSerializer(active, many=True).data)


def me(user: User) -> User:
    """The person signed in, with their roles read at once (``MeSerializer``)."""
    return User.objects.prefetch_related(
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.select_related("establishment", "academy"),
        )
    ).get(pk=user.pk)


class EstablishmentSerializer(serializers.ModelSerializer):
    academy: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Establishment
        fields = ["uai", "name", "kind", "city", "local_authority", "academy"]


class EstablishmentList(generics.ListAPIView):
    """Establishments the caller may see: where they hold a role, and every one of a
    DAN's académie."""

    serializer_class = EstablishmentSerializer
    filterset_fields = ["kind", "academy__code"]
    ordering_fields = ["uai", "name"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Establishment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Establishment.objects.none()
        assert isinstance(self.request.user, User)
        return establishments_visible_to(self.request.user).select_related("academy")


class EstablishmentDetail(generics.RetrieveAPIView):
    serializer_class = EstablishmentSerializer
    lookup_field = "uai"

    def get_queryset(self) -> QuerySet[Establishment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Establishment.objects.none()
        assert isinstance(self.request.user, User)
        return establishments_visible_to(self.request.user).select_related("academy")


class SchoolYearSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchoolYear
        fields = ["code", "starts_on", "ends_on"]


class SchoolYearList(generics.ListAPIView):
    serializer_class = SchoolYearSerializer
    queryset = SchoolYear.objects.order_by("starts_on")
    filter_backends: list[Any] = []


class CatalogItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogItem
        fields = ["id", "code", "text", "priority_hint", "outside_scope", "scope_note"]


class CatalogHeadingSerializer(serializers.ModelSerializer):
    items = CatalogItemSerializer(many=True, read_only=True)

    class Meta:
        model = CatalogHeading
        fields = ["code", "part", "part_title", "title", "items"]


class CatalogList(generics.ListAPIView):
    """The mission catalogue by heading; retired items are left out."""

    serializer_class = CatalogHeadingSerializer
    filter_backends: list[Any] = []
    queryset = CatalogHeading.objects.order_by("order", "id").prefetch_related(
        Prefetch(
            "items", queryset=CatalogItem.objects.filter(is_active=True).order_by("order", "id")
        )
    )
