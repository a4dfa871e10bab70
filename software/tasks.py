from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from core import queue

from . import services


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_request_link(request_id: int) -> bool:
    """E-mail a requester without an account the link to their app request."""
    return services.send_request_link_email(request_id=request_id)


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_request_update(request_id: int) -> bool:
    """E-mail a requester that their request was decided or needs more information."""
    return services.send_request_update_email(request_id=request_id)


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_dpa_reminder(district_id: int, today: str) -> int:
    """E-mail one district's reviewers about its agreements expiring within 60 days."""
    from datetime import date

    return services.send_dpa_reminder(district_id=district_id, today=date.fromisoformat(today))


@shared_task
def remind_expiring_dpas() -> int:
    """Nightly (beat): one reminder task per district with agreements newly due."""
    today = timezone.localdate()
    due = services.dpa_reminders_due(today)
    for district_id in due:
        queue.enqueue(send_dpa_reminder, district_id, today.isoformat())
    return len(due)
