from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from governance.models import (
    Academy,
    CatalogHeading,
    CatalogItem,
    Council,
    Delegation,
    Establishment,
    Meeting,
    RoleAssignment,
    SchoolYear,
    User,
)


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["establishment", "academy"]


class EmailFailingFilter(admin.SimpleListFilter):
    title = _("adresse électronique")
    parameter_name = "adresse"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("echec", str(_("En échec"))), ("ok", str(_("Sans échec")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        if self.value() == "echec":
            return queryset.filter(email_failing_since__isnull=False)
        if self.value() == "ok":
            return queryset.filter(email_failing_since__isnull=True)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Profil professionnel"), {"fields": ("discipline",)}),
        (
            _("Adresse en échec"),
            {
                "fields": ("email_failing_since", "email_failing_reason"),
                "description": _(
                    "Le serveur de messagerie a refusé cette adresse : plus rien ne lui "
                    "est envoyé. Videz ces deux champs (ou utilisez l'action « Effacer "
                    "l'échec d'adresse ») une fois l'adresse corrigée ; changer l'adresse "
                    "les efface aussi."
                ),
            },
        ),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "email_status",
        "discipline",
        "is_active",
    )
    list_filter = (*DjangoUserAdmin.list_filter, EmailFailingFilter)
    actions = ["clear_email_failing"]
    inlines = [RoleAssignmentInline]

    @admin.display(description=_("Adresse"), ordering="email_failing_since")
    def email_status(self, user: User) -> str:
        if user.email_failing_since is None:
            return "—"
        return str(_("En échec : %(reason)s")) % {"reason": user.email_failing_reason}

    @admin.action(description=_("Effacer l'échec d'adresse des personnes choisies"))
    def clear_email_failing(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = queryset.filter(email_failing_since__isnull=False).update(
            email_failing_since=None, email_failing_reason=""
        )
        self.message_user(
            request,
            ngettext(
                "L'échec d'adresse de %(count)d personne est effacé.",
                "L'échec d'adresse de %(count)d personnes est effacé.",
                count,
            )
            % {"count": count},
        )


@admin.register(Academy)
class AcademyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "holiday_zone")
    search_fields = ("name", "code")


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ("uai", "name", "kind", "city", "academy")
    list_filter = ("kind", "academy")
    search_fields = ("uai", "name", "city")


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ("code", "starts_on", "ends_on")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "establishment", "academy")
    list_filter = ("role",)
    search_fields = ("user__username", "user__last_name", "establishment__uai")
    autocomplete_fields = ["user", "establishment", "academy"]


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("establishment", "delegator", "delegate", "starts_on", "ends_on", "revoked_at")
    list_filter = ("establishment",)
    autocomplete_fields = ["establishment", "delegator", "delegate"]


class CatalogItemInline(admin.TabularInline):
    model = CatalogItem
    extra = 0
    fields = ("order", "text", "priority_hint", "outside_scope", "scope_note", "is_active")


@admin.register(CatalogHeading)
class CatalogHeadingAdmin(admin.ModelAdmin):
    list_display = ("title", "part", "order")
    inlines = [CatalogItemInline]


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    list_display = ("text", "heading", "priority_hint", "outside_scope", "is_active")
    list_filter = ("heading", "priority_hint", "outside_scope", "is_active")
    search_fields = ("text", "code")


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ("establishment", "kind", "members_in_office")
    list_filter = ("kind",)
    search_fields = ("establishment__uai", "establishment__name")
    autocomplete_fields = ["establishment"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("council", "starts_at", "convocation", "members_in_office", "minutes_reference")
    list_filter = ("council__kind", "convocation")
    search_fields = ("council__establishment__uai", "council__establishment__name")
    date_hierarchy = "starts_at"
