"""Reads the imports share: where a person may import, and the place a command line names."""

from __future__ import annotations

from schools.models import District, School
from schools.permissions import schools_for

from ..permissions import can_import


class ImportSetupError(Exception):
    """The command line named no usable district or school."""


def allowed_school_ids(access, district_id: int) -> set[int] | None:
    """The schools of ``district_id`` where ``access`` may import (None: all of them)."""
    ids = schools_for(access, can_import, district=district_id)
    return None if ids is None else set(ids)


def resolve_place(
    school_code: str | None, district_slug: str | None
) -> tuple[District, School | None]:
    """The district and default school a command line names (run with scopes disabled)."""
    districts = District.objects.all()
    if district_slug:
        district = districts.filter(slug=district_slug).first()
        if district is None:
            raise ImportSetupError(f"No district has the slug {district_slug}.")
    else:
        district = None
    if school_code:
        schools = School.objects.select_related("district").filter(code__iexact=school_code)
        if district is not None:
            schools = schools.filter(district=district)
        found = list(schools[:2])
        if not found:
            raise ImportSetupError(f"No school has the code {school_code}.")
        if len(found) > 1:
            raise ImportSetupError(
                f"Several districts have a school {school_code}; add --district SLUG."
            )
        return found[0].district, found[0]
    if district is None:
        found = list(districts[:2])
        if len(found) != 1:
            raise ImportSetupError(
                "Give --district SLUG (or --school CODE): there is more than one district."
                if found
                else "There is no district yet."
            )
        district = found[0]
    return district, None
