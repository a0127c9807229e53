"""Celery tasks: thin wrappers around ``notifications.services``.

All of them are idempotent, so ``acks_late`` (set for every task in the settings) is
safe: a task redelivered after a worker died does nothing twice. They are short: nothing
waits in Redis for a future date; the beat runs the sweeps and the sweeps find what is due
in the database.
"""

from __future__ import annotations

from celery import shared_task

from notifications import services
from workflow.audit.timestamps import timestamp_past_days


@shared_task(name="notifications.process_outbox")
def process_outbox() -> dict[str, int]:
    """What a transition asks for right after it commits: its e-mails (sent at once for
    people who want them so), its archive and, for a letter come into force, its sealed
    PDF. A speed-up: the sweep does the same."""
    notified = services.process_notifications()
    sent = services.send_pending_emails()
    archived = services.render_pending_archives()
    sealed = services.render_pending_seals()
    return {"notified": notified, "sent": sent, "archived": archived, "sealed": sealed}


@shared_task(name="notifications.sweep")
def sweep() -> dict[str, int]:
    """Every minute: whatever is pending and due, whoever should have done it."""
    return process_outbox()


@shared_task(name="notifications.plan_reminders")
def plan_reminders() -> dict[str, int]:
    result = services.plan_reminders()
    return {"reminders": result.reminders, "quiet_skipped": result.quiet_skipped}


@shared_task(name="notifications.send_digests")
def send_digests() -> int:
    return services.send_digests()


@shared_task(name="notifications.open_due_reports")
def open_due_reports() -> int:
    return services.open_due_reports()


@shared_task(name="notifications.timestamp_audit")
def timestamp_audit() -> int:
    """Once a day, after midnight: the heads of the audit chains that moved yesterday
    (and the last days still unstamped), timestamped by the authority."""
    return len(timestamp_past_days())
