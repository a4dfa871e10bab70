from smtplib import SMTPException

from celery import shared_task

from schools.scoping import scopes_disabled

from . import services
from .models import PDSession


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_feedback_requests(session_id: int) -> int:
    """E-mail the feedback link to a session's attendees who were not asked yet."""
    with scopes_disabled():
        session = PDSession.objects.filter(pk=session_id).first()
    if session is None:
        return 0
    return services.send_feedback_emails(session=session)
