"""A real SMTP server on loopback (aiosmtpd in a thread) for tests of the mail path.

``smtp_server`` starts it on a free port of 127.0.0.1 and points Django's SMTP backend at
it; ``smtp_server.messages`` holds what arrived (``email.message.EmailMessage``),
``wait_for(n)`` waits until ``n`` messages have arrived (a condition, never a sleep), and
``connections`` counts SMTP conversations (EHLO/HELO), so a test can show that a request
opened none.
"""

from __future__ import annotations

import re
import socket
import threading
from email import message_from_bytes, policy

import pytest


class _Inbox:
    def __init__(self):
        self.messages = []
        self.connections = 0
        self._arrived = threading.Condition()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._arrived:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        with self._arrived:
            self.connections += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self._arrived:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} e-mails arrived"
        return self.messages

    def body(self, index: int = -1) -> str:
        return self.messages[index].get_body(preferencelist=("plain",)).get_content()


def code_in(body: str) -> str:
    """The one 6-digit code standing on its own line of an e-mail."""
    (code,) = re.findall(r"^\s+(\d{6})\s*$", body, flags=re.M)
    return code


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()
