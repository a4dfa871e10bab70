import zoneinfo
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from schools.scoping import outside_scope

from . import services, summary
from .hours import keep_window
from .models import PDSession


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_feedback_requests(session_id: int) -> int:
    """E-mail each attendee who was not asked yet their personal feedback link."""
    with outside_scope():
        session = PDSession.objects.filter(pk=session_id).first()
    if session is None:
        return 0
    return services.send_feedback_emails(session=session)


# A code is wanted within seconds: retries are quick, and stop once it would have expired.
@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=2, max_retries=6)
def send_checkin_code(code_id: int) -> bool:
    """E-mail a one-time check-in code (not sent once used or expired)."""
    return services.send_checkin_code_email(code_id=code_id)


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=5)
def send_feedback_link(attendance_id: int) -> bool:
    """E-mail one attendee their personal feedback link."""
    return services.send_feedback_link_email(attendance_id=attendance_id)


def _today_in(time_zone: str, now=None):
    """The date in the district's own zone (its PD day ends at its midnight, not UTC's)."""
    return timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(time_zone)).date()


@shared_task
def move_hours_windows() -> int:
    """Each night: every district's kept PD hours counted over the 365 days to its today
    (pd.hours.keep_window), then its report summary (pd.summary.refresh); the reports page
    shows when. Returns the districts counted."""
    from schools.models import District

    now = timezone.now()
    districts = list(District.unscoped.values_list("pk", "time_zone"))
    for district_id, zone in districts:
        keep_window(district_id=district_id, until=_today_in(zone, now), now=now)
        summary.refresh(district_id, now=now)
    return len(districts)


@shared_task(acks_late=True)
def refresh_district_report(district_id: int) -> bool:
    """Count a district's PD report summary again (pd/summary.py): queued, debounced, by
    the PD writes. Idempotent: a count run twice stores the same figures."""
    return summary.refresh(district_id) is not None
