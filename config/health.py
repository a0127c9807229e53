"""``/healthz``: what a load balancer and an operator need to know, without signing in
and without anything personal. 200 while the database answers; ``degraded`` when Redis
is down, when the SMTP server failed to take the last e-mail tried (with its error and
since when), or when the outbox has waited too long (the application still works then:
the sweeps catch up); 503 when the database does not answer."""

from __future__ import annotations

import datetime as dt

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from notifications.selectors import outbox_report, smtp_health

OUTBOX_MAX_AGE_SECONDS = 15 * 60


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not_configured"
    try:
        # Short: a Redis that hangs must not hold a web worker (and the requests
        # queued behind it) for the probe's sake.
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        return "ok" if client.ping() else "down"
    except redis.RedisError:
        return "down"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    if not _database():
        return JsonResponse({"status": "down", "database": "down"}, status=503)
    report = outbox_report()
    age = report.oldest_pending_age
    oldest = int(age.total_seconds()) if age is not None else None
    redis_state = _redis()
    smtp = smtp_health()
    degraded = redis_state == "down" or smtp.failing or (oldest or 0) > OUTBOX_MAX_AGE_SECONDS
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "redis": redis_state,
            "smtp": {
                "status": "failing" if smtp.failing else "ok",
                "last_error": smtp.last_error if smtp.failing else None,
                "failing_since": _iso(smtp.failing_since),
                "last_error_at": _iso(smtp.last_error_at),
                "last_sent_at": _iso(smtp.last_sent_at),
            },
            "outbox": {
                "pending": report.pending_requests + report.pending_emails,
                "failed": report.failed_requests + report.failed_emails,
                "oldest_pending_seconds": oldest,
            },
        }
    )
