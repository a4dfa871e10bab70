"""What the digest and the reminders remember: who asked not to receive which kind of
e-mail, and what was already sent (one row per person, kind and period, unique, so a
retried task or a second run of ``send_digests`` sends nothing twice)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    DIGEST = "digest", "Weekly digest of your home page"
    SURVEY_CLOSING = "survey_closing", "A survey closes in 3 days with a low response rate"
    MILESTONE_OVERDUE = "milestone_overdue", "A milestone is overdue"
    DEVICE_NOT_RETURNED = "device_not_returned", "A device was not returned after collection day"
    AGREEMENT_UNSIGNED = "agreement_unsigned", "A device agreement is unsigned after a week"
    READINESS_FELL = "readiness_fell", "A school's readiness score fell by 10 points"


class OptOut(models.Model):
    """A person who asked for no more e-mail of one kind (the settings page, or the
    one-click link in such an e-mail). No row: the kind is sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_opt_outs"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="today_one_opt_out_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} opted out of {self.kind}"


class Sent(models.Model):
    """One e-mail sent (or being sent): the row is written, in its own transaction, before
    the message leaves, and its unique key refuses a second one for the same person, kind
    and period ("2026-W49" for a digest; the object and the week for a reminder)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices_sent"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    period = models.CharField(max_length=80)
    subject = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "period"], name="today_sent_once_per_period"
            )
        ]
        indexes = [models.Index(fields=["kind", "period"], name="today_sent_kind_period")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} to {self.user_id}"
