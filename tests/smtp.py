"""A real SMTP server for the tests (aiosmtpd on a free loopback port): the app sends to it through smtplib, and
tests read what arrived, parsed as a mail client would."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest


class Inbox:
    """What the SMTP server received: each message with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.fail_with: int | None = None  # a status code to refuse messages with (a mail server in trouble)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_with is not None:
            return f"{self.fail_with} Try again later"
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.recipients.clear()
            self.fail_with = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, rcpts in zip(self.messages, self.recipients, strict=True) if address in rcpts]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def settings(self) -> dict[str, Any]:
        return {"MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": self.port, "MAIL_SMTP_STARTTLS": False}


@pytest.fixture(scope="session")
def smtp_session() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def smtp_server(smtp_session: SmtpServer) -> Iterator[SmtpServer]:
    """The session's SMTP server with an empty inbox; the app sends to it when the test's app_config says so
    (`{**app_config, **smtp_server.settings()}`)."""
    smtp_session.inbox.clear()
    yield smtp_session
    smtp_session.inbox.clear()


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "no text/plain part"
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return str(part.get_content())
