"""Administration of letters. The state, the history, the signatures and the outbox are
read-only here: states change only through the transition service, and history is
append-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from workflow.models import (
    Archive,
    AuditEvent,
    AuditTimestamp,
    Comment,
    LetterIndicator,
    LetterMission,
    LetterReferent,
    LetterVersion,
    MissionLetter,
    Opinion,
    OutboxItem,
    SealedLetter,
    Signature,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReferentInline(ReadOnlyInline):
    model = LetterReferent
    fields = ("user", "mode", "imp_amount", "decharge_hours", "share", "agreed_version")


class MissionInline(ReadOnlyInline):
    model = LetterMission
    fields = ("text", "priority", "catalog_item")


class IndicatorInline(ReadOnlyInline):
    model = LetterIndicator
    fields = ("text", "target")


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = ("signer", "quality", "version", "signed_at", "snapshot_sha256")


class EventInline(ReadOnlyInline):
    model = AuditEvent
    fields = ("sequence", "action", "from_state", "to_state", "actor_label", "created_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MissionLetter)
class MissionLetterAdmin(ReadOnlyAdmin):
    list_display = ("id", "establishment", "school_year", "state", "version", "updated_at")
    list_filter = ("state", "school_year", "establishment__academy")
    search_fields = ("establishment__uai", "establishment__name", "referents__user__last_name")
    list_select_related = ("establishment", "school_year")
    inlines = [ReferentInline, MissionInline, IndicatorInline, SignatureInline, EventInline]


@admin.register(LetterVersion)
class LetterVersionAdmin(ReadOnlyAdmin):
    list_display = ("letter", "number", "content_sha256", "created_at", "created_by")
    list_select_related = ("letter__establishment", "letter__school_year", "created_by")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "letter",
        "sequence",
        "action",
        "from_state",
        "to_state",
        "actor_label",
        "created_at",
    )
    list_filter = ("action",)
    list_select_related = ("letter__establishment", "letter__school_year")


@admin.register(Opinion)
class OpinionAdmin(ReadOnlyAdmin):
    list_display = (
        "letter",
        "council",
        "meeting",
        "opinion",
        "votes_for",
        "votes_against",
        "quorum_met",
    )
    list_filter = ("council", "opinion")


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("letter", "author", "created_at", "version")


@admin.register(OutboxItem)
class OutboxItemAdmin(ReadOnlyAdmin):
    list_display = (
        "key",
        "kind",
        "topic",
        "recipient",
        "status",
        "attempts",
        "created_at",
        "last_error",
    )
    list_filter = ("kind", "status", "topic")
    search_fields = ("key",)


@admin.register(Archive)
class ArchiveAdmin(ReadOnlyAdmin):
    list_display = ("event", "file", "size", "sha256", "rendered_at")
    list_select_related = ("event",)


@admin.register(SealedLetter)
class SealedLetterAdmin(ReadOnlyAdmin):
    list_display = ("letter", "version", "level", "sealed_at", "sha256")
    list_select_related = ("letter__establishment", "letter__school_year")
    search_fields = ("token", "sha256")


@admin.register(AuditTimestamp)
class AuditTimestampAdmin(ReadOnlyAdmin):
    list_display = ("day", "digest", "authority", "created_at")
    exclude = ("token",)
