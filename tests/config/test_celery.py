"""Celery is wired to Redis when REDIS_URL is set: a real worker (celery.contrib.testing)
consumes a task published through the broker."""

import threading

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app

RECEIVED: list[str] = []
ARRIVED = threading.Event()


@app.task(name="tests.echo")
def echo(value: str) -> None:
    RECEIVED.append(value)
    ARRIVED.set()


@pytest.mark.redis
def test_a_real_worker_consumes_a_task_through_redis():
    assert app.conf.broker_url.startswith("redis://")
    RECEIVED.clear()
    ARRIVED.clear()
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        echo.delay("bonjour")  # through Redis, to the worker's thread
        assert ARRIVED.wait(timeout=20)
    assert RECEIVED == ["bonjour"]
