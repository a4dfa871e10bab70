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
}

# Public URLs that need arguments to be reversed.
PUBLIC_KWARGS = {
    "accounts:password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
}
