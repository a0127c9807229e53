from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from notifications.models import (
    Email,
    NotificationPreference,
    QuietPeriod,
    Reminder,
    ReminderPolicy,
)
from notifications.selectors import outbox_report
from workflow.admin import ReadOnlyAdmin


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "label",
        "state",
        "anchor",
        "audience",
        "offsets_days",
        "repeat_every_days",
        "max_count",
        "is_active",
    )
    list_filter = ("state", "audience", "is_active")
    list_editable = ("is_active",)


@admin.register(QuietPeriod)
class QuietPeriodAdmin(admin.ModelAdmin):
    list_display = ("label", "zone", "starts_on", "ends_on")
    list_filter = ("zone",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "mode")
    list_filter = ("mode",)
    autocomplete_fields = ["user"]


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    """The e-mail outbox: what is pending, what failed and why."""

    list_display = (
        "created_at",
        "to_address",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "topic")
    search_fields = ("to_address", "subject", "key")
    date_hierarchy = "created_at"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The outbox at a glance above the list (templates/admin/notifications/email/):
        what waits, what failed and why, and the age of the oldest waiting item."""
        context = {**(extra_context or {}), "outbox": outbox_report()}
        return super().changelist_view(request, extra_context=context)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "policy", "letter", "recipient", "occurrence", "due_on")
    list_filter = ("policy",)
