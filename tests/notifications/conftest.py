"""The delivery tests' SMTP server (``tests.servers``), started for a test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers import SmtpRecorder, SmtpServer, free_port
from workflow.services import writes


@pytest.fixture(autouse=True)
def _kick_breaker_closed() -> Iterator[None]:
    """Each test starts and ends with the outbox kick's breaker closed and no broker
    connection kept: a test that makes the broker fail does not pause the next one's."""
    writes._kick_paused_until = 0.0
    writes._drop_kick_connection()
    yield
    writes._kick_paused_until = 0.0
    writes._drop_kick_connection()


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(SmtpRecorder(), free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
