"""Celery is wired to Redis when REDIS_URL is set: a real worker (celery.contrib.testing)
consumes a task published through the broker."""

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app


@app.task(name="tests.echo")
def echo(value: str) -> str:
    return value


@pytest.mark.redis
def test_a_real_worker_consumes_a_task_through_redis(settings):
    assert app.conf.broker_url.startswith("redis://")
    app.conf.update(result_backend=settings.REDIS_URL)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            result = echo.apply_async(args=("bonjour",), ignore_result=False)
            assert result.get(timeout=20) == "bonjour"
    finally:
        app.conf.update(result_backend=None)
