"""Demo: the district's devices counted by auto-update expiration (``AueTally``), as the
nightly count would, so the Google reports show the coming year's replacements."""

from __future__ import annotations

from schools.models import District, School

from .services import count_aue


def seed(district: District, schools: dict[str, School]) -> None:
    count_aue(district_id=district.pk)  # a recount: running it again changes nothing
