"""Scale data for the Google reports (``seed_scale``): the seeded inventory counted by
auto-update expiration (``AueTally``), as the nightly count would after a seed."""

from __future__ import annotations

from schools.scale import ScaleContext

from .services import count_aue


def build(ctx: ScaleContext) -> None:
    count_aue(district_id=ctx.district.pk)
