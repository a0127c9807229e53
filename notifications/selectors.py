"""Reads for operating the notifications: what is waiting, what failed and since when,
and whether the SMTP server takes the e-mails."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Max, Min
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


@dataclass(frozen=True)
class SmtpHealth:
    """Whether the last attempt to send an e-mail failed, with no e-mail sent since."""

    failing: bool
    last_error: str  # without addresses: /healthz shows it to anyone
    last_error_at: dt.datetime | None
    failing_since: dt.datetime | None
    last_sent_at: dt.datetime | None


_ADDRESS = re.compile(r"[^\s<>()\[\]'\",;:]+@[^\s<>()\[\]'\",;:]+")


def smtp_health() -> SmtpHealth:
    """The SMTP server is failing when an attempt failed after the last e-mail it took.
    Failing since: when the first e-mail it has not taken since then became due (it is
    tried as soon as it is made), or the last e-mail it took if that is later.

    ``Email.claimed_at`` holds when an e-mail was sent, or when its last attempt failed
    (``services``), so these are reads of the (status, claimed_at) index."""
    last_sent_at = Email.objects.filter(status=EmailStatus.SENT).aggregate(last=Max("claimed_at"))[
        "last"
    ]
    failed = Email.objects.filter(
        status__in=[EmailStatus.PENDING, EmailStatus.FAILED],
        attempts__gte=1,
        claimed_at__isnull=False,
    ).exclude(last_error="")
    latest = failed.order_by("-claimed_at").values_list("last_error", "claimed_at").first()
    if latest is None or (last_sent_at is not None and latest[1] <= last_sent_at):
        return SmtpHealth(False, "", latest[1] if latest else None, None, last_sent_at)
    unsent = failed if last_sent_at is None else failed.filter(claimed_at__gt=last_sent_at)
    first_due = unsent.aggregate(first=Min("created_at"))["first"]
    since = max(filter(None, [first_due, last_sent_at]), default=None)
    error = _ADDRESS.sub("…", latest[0])[:300]
    return SmtpHealth(True, error, latest[1], since, last_sent_at)
