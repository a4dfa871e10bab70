"""A real SMTP server on loopback (aiosmtpd in a thread), for tests that send e-mail.

    def test_it(smtp_server): ...; smtp_server.messages  # what arrived

(tests/conftest.py makes the fixture available everywhere.)

The fixture points Django's SMTP backend at it for the test's duration; ``connections``
counts SMTP conversations (EHLO/HELO), so a test can show that a request opened none.
"""

import socket
import threading
from email import message_from_bytes
from email.message import Message

import pytest


class Recorder:
    def __init__(self):
        self.messages: list[Message] = []
        self.envelopes = []
        self.connections = 0
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
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
        yield recorder
    finally:
        controller.stop()
