"""``/healthz``: what a load balancer and an operator need to know, without signing in
and without anything personal. 200 while the database answers; ``degraded`` when Redis
is down or the outbox has waited too long (the application still works then: the
sweeps catch up); 503 when the database does not answer."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from notifications.selectors import outbox_report

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
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        return "ok" if client.ping() else "down"
    except redis.RedisError:
        return "down"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    if not _database():
        return JsonResponse({"status": "down", "database": "down"}, status=503)
    report = outbox_report()
    age = report.oldest_pending_age
    oldest = int(age.total_seconds()) if age is not None else None
    redis_state = _redis()
    degraded = redis_state == "down" or (oldest or 0) > OUTBOX_MAX_AGE_SECONDS
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "redis": redis_state,
            "outbox": {
                "pending": report.pending_requests + report.pending_emails,
                "failed": report.failed_requests + report.failed_emails,
                "oldest_pending_seconds": oldest,
            },
        }
    )
