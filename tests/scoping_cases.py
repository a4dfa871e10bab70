"""Every URL of the site, classified for the scoping matrix (tests/test_scoping_matrix.py).

A URL that is not listed here fails the matrix: whoever adds a URL says what it is.

- PUBLIC: open to anyone (sign-in, password reset, health).
- SIGNED_IN: a page about the user's own scope, with no object in its URL (home, lists).
- Scoped(make): the URL names one object. ``make(school)`` creates such an object belonging
  to ``school`` and returns the URL's keyword arguments. ``level="district"`` marks objects
  that belong to a district (only a district admin of that district may use them).
- The Django admin (``admin:*``) is for superusers only and is checked as a whole.
"""

from collections.abc import Callable
from dataclasses import dataclass

from tests.factories import MembershipFactory, StaffMemberFactory, UserFactory

PUBLIC = "public"
SIGNED_IN = "signed_in"


@dataclass(frozen=True)
class Scoped:
    make: Callable[..., dict]
    methods: tuple[str, ...] = ("GET",)
    level: str = "school"


def _school(school):
    return {"pk": school.pk}


def _district(school):
    return {"pk": school.district_id}


def _staff(school):
    return {"pk": StaffMemberFactory(school=school).pk}


def _membership(school):
    return {"pk": MembershipFactory(school=school, district=school.district, user=UserFactory()).pk}


# --- equity: inventory makers (helper) ---
def _device(school):
    from tests.factories import DeviceFactory

    return {"pk": DeviceFactory(school=school).pk}


def _device_lost(school):
    return {**_device(school), "action": "lost"}


# --- end equity: inventory makers ---


# --- equity: imports makers (helper) ---
def _import_job(school):
    from equity.models import ImportJob

    return {"pk": ImportJob.objects.create(school=school, kind=ImportJob.Kind.DEVICES).pk}


# --- end equity: imports makers ---


# --- pd (helper) ---
def _pd_session(school):
    from tests.factories import PDSessionFactory

    return {"pk": PDSessionFactory(schools=[school]).pk}


def _pd_poll(school):
    from tests.factories import PDNeedsPollFactory

    return {"pk": PDNeedsPollFactory(school=school).pk}


# --- end pd ---


CASES: dict[str, object] = {
    "healthz": PUBLIC,
    # accounts
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,
    "accounts:password_reset_complete": PUBLIC,
    "accounts:password_change": SIGNED_IN,
    "accounts:password_change_done": SIGNED_IN,
    "accounts:members": Scoped(_district, level="district"),
    "accounts:invite": Scoped(_district, methods=("GET", "POST"), level="district"),
    "accounts:membership_remove": Scoped(_membership, methods=("POST",), level="district"),
    "accounts:membership_resend": Scoped(_membership, methods=("POST",), level="district"),
    # schools
    "schools:home": SIGNED_IN,
    "schools:school_list": SIGNED_IN,
    "schools:school_detail": Scoped(_school),
    "schools:school_edit": Scoped(_school, methods=("GET", "POST")),
    "schools:staff_list": Scoped(_school),
    "schools:staff_add": Scoped(_school, methods=("GET", "POST")),
    "schools:staff_edit": Scoped(_staff, methods=("GET", "POST")),
    "schools:district_settings": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- equity: inventory (helper) ---
    "equity:inventory": SIGNED_IN,
    # POST acts on the ticked devices; GET shows the selection for a second look.
    "equity:devices_bulk": SIGNED_IN,
    "equity:device_detail": Scoped(_device),
    "equity:device_action": Scoped(_device_lost, methods=("POST",)),
    "equity:checkout": Scoped(_school, methods=("GET", "POST")),
    "equity:checkin": Scoped(_school, methods=("GET", "POST")),
    "equity:audit": Scoped(_school, methods=("GET", "POST")),
    "equity:device_add": Scoped(_school, methods=("GET", "POST")),
    "equity:coverage": Scoped(_school),
    "equity:district_coverage": Scoped(_district, level="district"),
    "equity:device_models": Scoped(_district, level="district"),
    "equity:device_model_add": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- end equity: inventory ---
    # --- equity: imports (helper) ---
    "equity:import_devices": Scoped(_school, methods=("GET", "POST")),
    "equity:import_students": Scoped(_school, methods=("GET", "POST")),
    "equity:import_job": Scoped(_import_job),
    "equity:import_job_errors": Scoped(_import_job),
    # --- end equity: imports ---
    # --- pd (helper) ---
    "pd:session_list": SIGNED_IN,
    "pd:calendar": SIGNED_IN,
    "pd:session_new": SIGNED_IN,
    "pd:reports": SIGNED_IN,
    "pd:session_detail": Scoped(_pd_session),
    "pd:session_edit": Scoped(_pd_session, methods=("GET", "POST")),
    "pd:attendance": Scoped(_pd_session, methods=("POST",)),
    "pd:checkin_qr": Scoped(_pd_session),
    "pd:checkin_toggle": Scoped(_pd_session, methods=("POST",)),
    "pd:feedback_request": Scoped(_pd_session, methods=("POST",)),
    "pd:roster_partial": Scoped(_school),
    "pd:leaders": Scoped(_school, methods=("GET", "POST")),
    "pd:polls": Scoped(_school, methods=("GET", "POST")),
    "pd:poll_results": Scoped(_pd_poll),
    "pd:checkin": PUBLIC,
    "pd:feedback": PUBLIC,
    "pd:poll_answer": PUBLIC,
    # --- end pd ---
    # --- readiness (helper) ---
    "readiness:index": SIGNED_IN,
    "readiness:school": Scoped(_school),
    "readiness:school_status": Scoped(_school),
    "readiness:school_recompute": Scoped(_school, methods=("POST",)),
    "readiness:district": Scoped(_district, level="district"),
    "readiness:district_recompute": Scoped(_district, methods=("POST",), level="district"),
    "readiness:targets": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- end readiness ---
}

# Public URLs that need arguments to be reversed.
PUBLIC_KWARGS = {
    "accounts:password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
    # --- pd (helper) ---
    "pd:checkin": {"token": "no-such-check-in-token"},
    "pd:feedback": {"token": "no-such-feedback-token"},
    "pd:poll_answer": {"token": "no-such-poll-token"},
    # --- end pd ---
}
