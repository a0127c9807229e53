"""Reads for operating the notifications: what is waiting, what failed and since when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min
from django.utils import timezone

from notifications.models import Email, EmailStatus
from workflow.models import OutboxItem, OutboxStatus


@dataclass(frozen=True)
class Failure:
    key: str
    attempts: int
    last_error: str


@dataclass(frozen=True)
class OutboxReport:
    pending_requests: int
    failed_requests: int
    pending_emails: int
    held_for_digest: int
    failed_emails: int
    oldest_pending_age: dt.timedelta | None
    recent_failures: list[Failure]

    @property
    def healthy(self) -> bool:
        return not self.failed_requests and not self.failed_emails


def outbox_report(now: dt.datetime | None = None, failures: int = 10) -> OutboxReport:
    """Counts, the age of the oldest work still waiting (requests or e-mails), and the
    last failures with their error."""
    now = now or timezone.now()
    oldest_request = OutboxItem.objects.filter(status=OutboxStatus.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    oldest_email = Email.objects.filter(
        status__in=[EmailStatus.PENDING, EmailStatus.SENDING]
    ).aggregate(oldest=Min("created_at"))["oldest"]
    candidates = [moment for moment in (oldest_request, oldest_email) if moment is not None]
    failed = [
        Failure(key, attempts, error)
        for key, attempts, error in Email.objects.filter(status=EmailStatus.FAILED)
        .order_by("-created_at")
        .values_list("key", "attempts", "last_error")[:failures]
    ] + [
        Failure(key, attempts, error)
        for key, attempts, error in OutboxItem.objects.filter(status=OutboxStatus.FAILED)
        .order_by("-created_at")
        .values_list("key", "attempts", "last_error")[:failures]
    ]
    return OutboxReport(
        pending_requests=OutboxItem.objects.filter(status=OutboxStatus.PENDING).count(),
        failed_requests=OutboxItem.objects.filter(status=OutboxStatus.FAILED).count(),
        pending_emails=Email.objects.filter(
            status__in=[EmailStatus.PENDING, EmailStatus.SENDING]
        ).count(),
        held_for_digest=Email.objects.filter(status=EmailStatus.HELD).count(),
        failed_emails=Email.objects.filter(status=EmailStatus.FAILED).count(),
        oldest_pending_age=now - min(candidates) if candidates else None,
        recent_failures=failed,
    )
