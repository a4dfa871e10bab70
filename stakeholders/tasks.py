from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_person_invitations(survey_id: int) -> int:
    """E-mail the survey's personal links not e-mailed yet (each person once)."""
    return services.send_person_invitations_email(survey_id=survey_id)
