"""A real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives."""

from __future__ import annotations

import email
import socket
import time
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = _Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages
