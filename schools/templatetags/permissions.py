"""Ask a capability from a template: ``{% if access|can:"pd.use_pd" %}`` (anywhere) or
``{% if access|at:school|can:"equity.handle_devices" %}`` (at one school).

A name no app declares raises, so a typo fails the page (and its test) instead of hiding a
link forever.
"""

from __future__ import annotations

from typing import NamedTuple

from django import template

from schools import permissions
from schools.scoping import NO_ACCESS, Access

register = template.Library()


class AccessAt(NamedTuple):
    access: Access
    school: object


@register.filter
def at(access, school) -> AccessAt:
    """The person's access at one school, for ``can``."""
    return AccessAt(access or NO_ACCESS, school)


@register.filter
def can(access, name: str) -> bool:
    """Whether the person may do ``name`` (at the school given with ``at``, else anywhere)."""
    if isinstance(access, AccessAt):
        return permissions.can(access.access, name, school=access.school)
    return permissions.can(access or NO_ACCESS, name)
