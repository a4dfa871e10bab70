"""The district-wide PD report, summarised (pd/summary.py): what a district admin's reports
page and its CSV files read instead of grouping the district's kept rows on each request.

``DistrictPDReport`` holds one district's figures for the kept twelve months (the summary,
the month chart, the format mix, Learning Leaders' reach, feedback and needs), when they
were counted and whether a PD change since waits for the next count; ``DistrictPDStaffRow``
holds the staff table, one row per active staff member, indexed in the page's order so a
page of it is an index range, not a sort of the district's 70,000 people. Both are
rewritten whole by ``pd.summary.refresh`` (a Celery task, debounced after PD writes, and
the nightly count); nothing else writes them.

Imported by pd/models.py, so they are the ``pd`` app's models (pd/models.py is near the
module-size limit)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from schools.models import TEACHING_POSITIONS, District, Position, School, StaffMember
from schools.scoping import DISTRICT, ScopedManager

HOURS = {"max_digits": 10, "decimal_places": 2, "default": Decimal(0)}


class DistrictPDReport(models.Model):
    """A district's PD report over the twelve months ``since``–``until`` as counted at
    ``refreshed_at`` (None: never counted yet, its first count is queued; the page reads the
    figures directly meanwhile). ``stale_since``: the first PD change after that count
    (a count is then queued; cleared when it starts)."""

    district = models.OneToOneField(
        District, on_delete=models.CASCADE, primary_key=True, related_name="pd_report"
    )
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True)
    # The page's figures (pd.summary.figures_of): small, read on every view.
    figures = models.JSONField(default=dict)
    # Every Learning Leader's reach, for the leaders CSV only (the page defers it).
    leaders = models.JSONField(default=list)

    objects = ScopedManager("district", dimension=DISTRICT)

    def __str__(self) -> str:
        return f"{self.district_id}: PD report as of {self.refreshed_at}"


class DistrictPDStaffRow(models.Model):
    """One active staff member's line of the district's staff table, as of the report's
    count: the figures of ``pd.selectors.report_rows`` with the names it shows."""

    staff = models.OneToOneField(
        StaffMember, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    school_name = models.CharField(max_length=200)
    school_code = models.CharField(max_length=50)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    position = models.CharField(max_length=30, choices=Position.choices)
    hours = models.DecimalField(**HOURS)
    sessions = models.PositiveIntegerField(default=0)
    job_embedded_hours = models.DecimalField(**HOURS)
    ongoing_hours = models.DecimalField(**HOURS)
    target = models.DecimalField(**HOURS)
    below_target = models.BooleanField(default=False)

    objects = ScopedManager("school")

    class Meta:
        indexes = [
            # The page: fewest hours first (everyone; "no PD" rows lead it).
            models.Index(
                fields=["district", "hours", "full_name", "staff"], name="pd_staffrow_page"
            ),
            # "Below target", in the same order.
            models.Index(
                fields=["district", "below_target", "hours", "full_name", "staff"],
                name="pd_staffrow_below",
            ),
            # The hours CSV: by school, then name.
            models.Index(
                fields=["district", "school_name", "full_name", "staff"],
                name="pd_staffrow_csv",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name}: {self.hours} h"

    @property
    def is_teaching(self) -> bool:
        return self.position in TEACHING_POSITIONS
