from smtplib import SMTPException

from celery import shared_task

from schools.models import Membership
from schools.scoping import outside_scope

from . import services


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_invitation(membership_id: int) -> bool:
    """E-mail the invitation of one membership; nothing if it was revoked meanwhile."""
    with outside_scope():
        membership = (
            Membership.objects.select_related("user", "school", "district")
            .filter(pk=membership_id)
            .first()
        )
    if membership is None:
        return False
    services.send_invitation_email(membership=membership)
    return True


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_password_reset(email: str) -> int:
    """E-mail a set-password link to the account with this address, if there is one."""
    return services.send_password_reset_email(email=email)
