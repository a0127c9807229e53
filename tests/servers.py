"""Real parts for the tests: a local SMTP server (aiosmtpd) that records what it
receives and can refuse for a while, a free port, and a wait for a condition. The
``smtp`` fixture (tests/notifications/conftest.py) starts the server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, every: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail the test past ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


@dataclass
class Received:
    recipients: list[str]
    subject: str
    key: str


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler: keeps each accepted message; ``refuse`` answers 451 to that
    many messages first; ``delay`` slows every acceptance down."""

    refuse: int = 0
    delay: float = 0.0
    messages: list[Received] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                return "451 4.3.0 Essayez plus tard"
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(
                Received(
                    list(envelope.rcpt_tos),
                    str(message["Subject"]),
                    str(message["X-Lettres-De-Mission-Key"]),
                )
            )
        return "250 OK"

    def keys(self) -> list[str]:
        with self.lock:
            return [m.key for m in self.messages]


@dataclass
class SmtpServer:
    recorder: SmtpRecorder
    port: int
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
