"""Password rules beyond Django's own validators (see docs/security.md)."""

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Refuse absurdly long passwords, while allowing any passphrase a person would type.

    NIST SP 800-63B asks to accept at least 64 characters; 128 leaves room for long
    passphrases and stops megabyte "passwords" sent only to make hashing slow.
    """

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max)d character.",
                    "This password is too long. It must contain at most %(max)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max": self.max_length},
            )

    def get_help_text(self):
        return f"Your password can be up to {self.max_length} characters long."
