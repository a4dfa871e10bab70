"""Reads of the accounts app."""

from django.db.models import Exists, OuterRef

from schools import selectors as school_selectors
from schools.models import District, Membership
from schools.scoping import Access

from .models import User
from .services import account_switch_refusal


def district_members(district: District, *, by: User, access: Access) -> list[Membership]:
    """The district's memberships, each with ``can_switch``: whether ``by`` may switch that
    person's account on or off (``account_switch_refusal``), read in one query."""
    elsewhere = Membership.unscoped.filter(user=OuterRef("user_id")).exclude(district=district)
    memberships = list(
        school_selectors.district_members(district).annotate(elsewhere=Exists(elsewhere))
    )
    for m in memberships:
        refusal = account_switch_refusal(
            user=m.user,
            by=by,
            district=district,
            active=not m.user.is_active,
            access=access,
            elsewhere=m.elsewhere,
        )
        m.can_switch = refusal is None
    return memberships
