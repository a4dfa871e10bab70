"""Composing e-mail: one message with a plain-text and an HTML version.

Small on purpose: sending stays Django's (``EMAIL_*`` settings, its SMTP backend); this
only puts the two versions and any extra headers (List-Unsubscribe) into one message.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def compose(
    *,
    subject: str,
    to: str,
    template: str,
    context: Mapping,
    headers: Mapping[str, str] | None = None,
    connection=None,
) -> EmailMultiAlternatives:
    """A message from ``template``.txt and ``template``.html rendered with ``context``."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        headers=dict(headers or {}),
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message
