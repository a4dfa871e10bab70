"""The coverage plan: is every student covered, and what must be bought next year?

Every figure is computed for a whole set of schools at once with queries grouped by
school (five queries whatever the number of schools or devices), so the district view of
a 1,800-school district costs what a three-school one does. Formulas: docs/coverage.md.

Those grouped queries still read every device and student of the schools: for a school,
a few hundred rows; for a district of a million students, seconds. ``coverage_summary``
keeps the result of many schools in the cache under a key that changes whenever anything
it was computed from changes (see ``_fingerprint``), so the district page reads a million
rows once per change rather than once per visit (docs/scale.md).
"""

from __future__ import annotations

import hashlib
import math
import pickle
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery
from django.utils import timezone

from schools.models import District, Grade, School, device_target

from .models import (
    Assignment,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    EventKind,
    HomeInternet,
    Student,
    expires_before,
    usable_q,
)

YEAR = timedelta(days=365)


@dataclass
class ForecastLine:
    label: str
    model: DeviceModel | None
    quantity: int
    unit_price: Decimal | None
    # A line summed over schools carries the sum of their costs (prices may differ).
    summed_cost: Decimal | None = None
    is_sum: bool = False

    @property
    def cost(self) -> Decimal | None:
        if self.is_sum:
            return self.summed_cost
        if self.quantity == 0:
            return Decimal(0)
        return None if self.unit_price is None else self.unit_price * self.quantity


@dataclass
class Forecast:
    """Devices to buy so that next school year starts at target."""

    standard: int = 0
    touch: int = 0
    hotspots: int = 0
    expected_losses: int = 0
    expiring: int = 0
    lines: list[ForecastLine] = field(default_factory=list)

    @property
    def cost(self) -> Decimal | None:
        costs = [line.cost for line in self.lines]
        return None if any(c is None for c in costs) else sum(costs, Decimal(0))

    @property
    def total(self) -> int:
        return self.standard + self.touch + self.hotspots


@dataclass
class SchoolCoverage:
    school: School | None
    enrollment: int = 0
    target: int = 0
    usable: int = 0
    touch_target: int = 0
    touch_usable: int = 0
    no_home_internet: int = 0
    hotspots_assigned: int = 0
    homework_gap: int = 0
    expiring_12m: int = 0
    touch_expiring_12m: int = 0
    in_service: int = 0
    lost_12m: int = 0
    hotspots_in_stock: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    forecast: Forecast = field(default_factory=Forecast)

    @property
    def gap(self) -> int:
        """Devices short of target; negative means a surplus."""
        return self.target - self.usable

    @property
    def touch_gap(self) -> int:
        return self.touch_target - self.touch_usable

    @property
    def short(self) -> int:
        """Devices this school lacks to reach its target (0 at or above it)."""
        return max(0, self.gap)

    @property
    def spare(self) -> int:
        """Devices this school holds beyond its target (0 at or below it)."""
        return max(0, -self.gap)

    @property
    def touch_short(self) -> int:
        return max(0, self.touch_gap)

    @property
    def touch_spare(self) -> int:
        return max(0, -self.touch_gap)

    @property
    def loss_rate_12m(self) -> float | None:
        """Devices lost or stolen in 12 months per device in service; None without devices."""
        return None if not self.in_service else self.lost_12m / self.in_service

    @property
    def coverage_pct(self) -> int | None:
        return None if not self.target else round(100 * self.usable / self.target)

    def as_json(self) -> dict:
        return {
            "school": self.school.code if self.school else None,
            "enrollment": self.enrollment,
            "target": self.target,
            "usable": self.usable,
            "gap": self.gap,
            "short": self.short,
            "spare": self.spare,
            "touch_target": self.touch_target,
            "touch_usable": self.touch_usable,
            "touch_gap": self.touch_gap,
            "touch_short": self.touch_short,
            "touch_spare": self.touch_spare,
            "no_home_internet": self.no_home_internet,
            "hotspots_assigned": self.hotspots_assigned,
            "homework_gap": self.homework_gap,
            "expiring_12m": self.expiring_12m,
            "loss_rate_12m": None if self.loss_rate_12m is None else round(self.loss_rate_12m, 4),
        }


def _by_school(queryset, **aggregates) -> dict[int, dict]:
    return {
        row.pop("school_id"): row for row in queryset.values("school_id").annotate(**aggregates)
    }


def school_coverage(schools, *, today: date | None = None) -> list[SchoolCoverage]:
    """Coverage of each school in ``schools``, largest gap and highest need first."""
    today = today or timezone.localdate()
    horizon = today + YEAR
    year_ago = timezone.now() - YEAR
    schools = list(schools.select_related("district"))
    ids = [s.pk for s in schools]

    computing = ~Q(model__kind=DeviceKind.HOTSPOT)
    usable = usable_q(today)
    expiring = usable & expires_before(horizon)
    touch = computing & Q(model__touchscreen=True)
    devices = _by_school(
        Device.objects.filter(school_id__in=ids),
        usable=Count("pk", filter=usable & computing),
        touch_usable=Count("pk", filter=usable & touch),
        expiring=Count("pk", filter=expiring & computing),
        touch_expiring=Count("pk", filter=expiring & touch),
        in_service=Count("pk", filter=~Q(status=DeviceStatus.RETIRED) & computing),
        hotspots_in_stock=Count(
            "pk",
            filter=usable & Q(status=DeviceStatus.IN_STOCK, model__kind=DeviceKind.HOTSPOT),
        ),
    )
    statuses: dict[int, dict[str, int]] = {}
    for row in (
        Device.objects.filter(school_id__in=ids)
        .values("school_id", "status")
        .annotate(n=Count("pk"))
    ):
        statuses.setdefault(row["school_id"], {})[row["status"]] = row["n"]

    no_internet = Q(home_internet=HomeInternet.NO)
    students = _by_school(
        _with_hotspot(Student.objects.filter(school_id__in=ids, active=True), len(ids)),
        touch_beyond_k2=Count("pk", filter=Q(needs_touch=True, grade__gt=Grade.G2)),
        no_internet=Count("pk", filter=no_internet),
        hotspots=Count("pk", filter=Q(hotspot_id__isnull=False)),
        homework_gap=Count("pk", filter=no_internet & Q(hotspot_id__isnull=True)),
    )
    losses = _by_school(
        DeviceEvent.objects.filter(
            school_id__in=ids, kind__in=[EventKind.LOST, EventKind.STOLEN], at__gte=year_ago
        ).exclude(device__model__kind=DeviceKind.HOTSPOT),
        lost=Count("device", distinct=True),
    )
    catalog = _catalog(schools)

    rows = []
    for school in schools:
        d, s = devices.get(school.pk, {}), students.get(school.pk, {})
        row = SchoolCoverage(
            school=school,
            enrollment=school.enrollment,
            target=device_target(school.enrollment, school.district.device_planning_ratio),
            usable=d.get("usable", 0),
            touch_target=school.enrollment_pk_2 + s.get("touch_beyond_k2", 0),
            touch_usable=d.get("touch_usable", 0),
            no_home_internet=s.get("no_internet", 0),
            hotspots_assigned=s.get("hotspots", 0),
            homework_gap=s.get("homework_gap", 0),
            expiring_12m=d.get("expiring", 0),
            touch_expiring_12m=d.get("touch_expiring", 0),
            in_service=d.get("in_service", 0),
            lost_12m=losses.get(school.pk, {}).get("lost", 0),
            hotspots_in_stock=d.get("hotspots_in_stock", 0),
            status_counts=statuses.get(school.pk, {}),
        )
        row.forecast = forecast(row, catalog.get(school.district_id, {}))
        rows.append(row)
    rows.sort(
        key=lambda r: (-r.gap, -(r.school.economically_disadvantaged_pct or 0), r.school.name)
    )
    return rows


def device_gaps(schools, *, today: date | None = None) -> dict[int, int]:
    """Per school of ``schools``, ``school_coverage``'s ``gap`` (target minus usable
    computing devices; negative is a surplus), in two queries: for a page that shows the
    gap alone, without reading the students, losses and catalog the plan needs."""
    today = today or timezone.localdate()
    schools = list(schools.select_related("district"))
    usable = dict(
        Device.objects.filter(usable_q(today), ~Q(model__kind=DeviceKind.HOTSPOT))
        .filter(school_id__in=[s.pk for s in schools])
        .values("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
        .order_by()
    )
    return {
        s.pk: device_target(s.enrollment, s.district.device_planning_ratio) - usable.get(s.pk, 0)
        for s in schools
    }


# Up to this many schools, each student's open hotspot is looked up by the student (an
# index probe each); beyond it, joined. PostgreSQL hashes the join or an EXISTS: it reads
# every open hotspot of the district, 26,000 at a million students, which is right for the
# district (0.4 s, against 1.9 s probing 1,000,000 students), and two to four times the
# cost of the probes for one school's 550 students (11-21 ms against 4-5 ms), which is what
# a principal's coverage page reads.
LOOKUP_UP_TO_SCHOOLS = 25


def _with_hotspot(students, school_count: int):
    """``students`` with their open hotspot assignment's id as ``hotspot_id`` (at most one
    per student, a database rule, so a join counts no student twice); read from the partial
    index ``assignment_open_hotspot`` either way."""
    open_hotspot = Q(is_hotspot=True, checked_in_at__isnull=True)
    if school_count <= LOOKUP_UP_TO_SCHOOLS:
        held = Assignment.unscoped.filter(open_hotspot, student=OuterRef("pk")).values("pk")
        return students.annotate(hotspot_id=Subquery(held[:1]))
    return students.annotate(
        hotspot=FilteredRelation(
            "assignments",
            condition=Q(assignments__is_hotspot=True, assignments__checked_in_at__isnull=True),
        ),
        hotspot_id=F("hotspot__id"),
    )


def _catalog(schools) -> dict[int, dict[str, DeviceModel]]:
    """Per district, the model to buy for each need: the one supported longest."""
    district_ids = {s.district_id for s in schools}
    best: dict[int, dict[str, DeviceModel]] = {}
    models = DeviceModel.objects.filter(district_id__in=district_ids).order_by(
        "district_id", "-auto_update_expiration", "unit_price", "pk"
    )
    for m in models:
        need = (
            "hotspot" if m.kind == DeviceKind.HOTSPOT else "touch" if m.touchscreen else "standard"
        )
        best.setdefault(m.district_id, {}).setdefault(need, m)
        if need == "touch":  # a touch device also serves as a standard one if nothing else does
            best[m.district_id].setdefault("standard_fallback", m)
    return best


def forecast(row: SchoolCoverage, catalog: dict[str, DeviceModel]) -> Forecast:
    """What to buy so next year opens at target, after this year's losses and expirations.

    Expected losses repeat this year's loss rate on the usable fleet; devices whose
    auto-update expiration falls within 12 months drop out. Touch devices are bought for the
    touch gap first; standard devices cover the rest; hotspots close the homework gap beyond
    the hotspots already in stock.
    """
    rate = row.loss_rate_12m or 0.0
    expected_losses = math.ceil(rate * row.usable)
    touch_losses = math.ceil(rate * row.touch_usable)
    remaining = row.usable - expected_losses - row.expiring_12m
    touch_remaining = row.touch_usable - touch_losses - row.touch_expiring_12m
    total_need = max(0, row.target - remaining)
    touch = min(total_need, max(0, row.touch_target - touch_remaining))
    standard = total_need - touch
    hotspots = max(0, row.homework_gap - row.hotspots_in_stock)
    standard_model = catalog.get("standard") or catalog.get("standard_fallback")
    lines = [
        ForecastLine(
            "Touchscreen devices (PK–2 and students who need touch)",
            catalog.get("touch"),
            touch,
            None,
        ),
        ForecastLine("Standard devices", standard_model, standard, None),
        ForecastLine(
            "Hotspots for students without home internet", catalog.get("hotspot"), hotspots, None
        ),
    ]
    for line in lines:
        line.unit_price = line.model.unit_price if line.model else None
    return Forecast(
        standard=standard,
        touch=touch,
        hotspots=hotspots,
        expected_losses=expected_losses,
        expiring=row.expiring_12m,
        lines=lines,
    )


SUMMED = [
    f.name for f in fields(SchoolCoverage) if f.name not in {"school", "status_counts", "forecast"}
]


@dataclass
class CoverageTotals:
    """The figures of several schools added up.

    A total has no ``gap``: one school's spare devices do not reach another school's
    students, so netting them would hide a shortage. ``short`` sums the shortfall of the
    schools below target, ``spare`` the surplus of those above it, each with its count of
    schools; the same for touchscreens.
    """

    enrollment: int = 0
    target: int = 0
    usable: int = 0
    touch_target: int = 0
    touch_usable: int = 0
    no_home_internet: int = 0
    hotspots_assigned: int = 0
    homework_gap: int = 0
    expiring_12m: int = 0
    touch_expiring_12m: int = 0
    in_service: int = 0
    lost_12m: int = 0
    hotspots_in_stock: int = 0
    short: int = 0
    spare: int = 0
    schools_short: int = 0
    schools_spare: int = 0
    touch_short: int = 0
    touch_spare: int = 0
    schools_touch_short: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    forecast: Forecast = field(default_factory=Forecast)

    loss_rate_12m = SchoolCoverage.loss_rate_12m
    coverage_pct = SchoolCoverage.coverage_pct


def district_totals(rows: list[SchoolCoverage]) -> CoverageTotals:
    """The sum of several schools' coverage, shortfalls and surpluses kept apart."""
    total = CoverageTotals()
    for name in SUMMED:
        setattr(total, name, sum(getattr(r, name) for r in rows))
    total.short = sum(r.short for r in rows)
    total.spare = sum(r.spare for r in rows)
    total.schools_short = sum(1 for r in rows if r.short)
    total.schools_spare = sum(1 for r in rows if r.spare)
    total.touch_short = sum(r.touch_short for r in rows)
    total.touch_spare = sum(r.touch_spare for r in rows)
    total.schools_touch_short = sum(1 for r in rows if r.touch_short)
    for r in rows:
        for status, n in r.status_counts.items():
            total.status_counts[status] = total.status_counts.get(status, 0) + n
    lines: dict[str, ForecastLine] = {}
    for r in rows:
        for line in r.forecast.lines:
            agg = lines.setdefault(
                line.label, ForecastLine(line.label, line.model, 0, line.unit_price)
            )
            agg.quantity += line.quantity
            if line.quantity and line.unit_price is None:
                agg.unit_price = None
    total.forecast = Forecast(
        standard=sum(r.forecast.standard for r in rows),
        touch=sum(r.forecast.touch for r in rows),
        hotspots=sum(r.forecast.hotspots for r in rows),
        expected_losses=sum(r.forecast.expected_losses for r in rows),
        expiring=sum(r.forecast.expiring for r in rows),
        lines=list(lines.values()),
    )
    return total


# --- the cached summary of many schools ---------------------------------------------------

# A bound on staleness for what the fingerprint cannot see: the twelve-month loss window
# sliding by the hour, and a row deleted without touching any other (purges remove only
# students who left, whom coverage does not count).
CACHE_SECONDS = 15 * 60
SCHOOL_FIELDS = (
    "pk",
    "district_id",
    "enrollment_pk_2",
    "enrollment_3_5",
    "enrollment_6_8",
    "enrollment_9_12",
    "economically_disadvantaged_pct",
    "name",
    "district__device_planning_ratio",
)


@dataclass
class CoverageSummary:
    """Coverage of many schools: their order (largest gap first), figures and the total.

    Rows carry no School (it is loaded for the rows a page shows, ``rows_for``), which
    keeps the cached value small: numbers and the few catalog models of the forecasts.
    """

    order: list[int]
    rows: dict[int, bytes]  # each a pickled SchoolCoverage (see _lean)
    totals: CoverageTotals

    def __len__(self) -> int:
        return len(self.order)


def _fingerprint(schools, today: date) -> tuple[str, list[int]]:
    """A digest of everything coverage is computed from, and the school ids (three queries).

    The schools' own figures (enrollment, need, the district's ratio) and the catalog are
    small and hashed whole; devices and students are too many to read, so each is stood
    for by its latest ``updated_at``, read from the (district, updated_at) indexes: every
    change coverage counts (a status, a move, a check-out or check-in through the device's
    status, a student's grade, flags or leaving, an import) writes one.
    """
    rows = sorted(schools.order_by().values_list(*SCHOOL_FIELDS))
    ids = [r[0] for r in rows]
    districts = sorted({r[1] for r in rows})
    catalog = list(
        DeviceModel.objects.filter(district_id__in=districts)
        .order_by("pk")
        .values_list("pk", "kind", "touchscreen", "unit_price", "auto_update_expiration")
    )
    stamps = list(
        District.unscoped.filter(pk__in=districts)
        .order_by("pk")
        .annotate(students=_latest(Student), devices=_latest(Device))
        .values_list("pk", "students", "devices")
    )
    digest = hashlib.sha256(repr((rows, catalog, stamps, today)).encode()).hexdigest()
    return digest, ids


def _latest(model):
    # ORDER BY ... LIMIT 1 reads one entry of the (district, updated_at) index backwards.
    latest = model.unscoped.filter(district_id=OuterRef("pk")).order_by("-updated_at")
    return Subquery(latest.values("updated_at")[:1])


def coverage_summary(schools, *, today: date | None = None) -> CoverageSummary:
    """``school_coverage`` of ``schools`` with its total, from the cache when unchanged."""
    today = today or timezone.localdate()
    digest, ids = _fingerprint(schools, today)
    key = f"equity:coverage:{digest}"
    summary = cache.get(key)
    if summary is None:
        rows = school_coverage(School.objects.filter(pk__in=ids), today=today)
        summary = CoverageSummary(
            order=[r.school.pk for r in rows],
            rows={r.school.pk: _lean(r) for r in rows},
            totals=district_totals(rows),
        )
        cache.set(key, summary, CACHE_SECONDS)
    return summary


def _lean(row: SchoolCoverage) -> bytes:
    """A row to cache: without its school, its forecast lines without the catalog model
    (a school's row shows quantities and costs; the totals keep the models to name them),
    pickled on its own. Reading the summary then unpickles 1,800 byte strings, and only the
    rows a page shows become objects (``rows_for``)."""
    lines = [replace(line, model=None) for line in row.forecast.lines]
    return pickle.dumps(replace(row, school=None, forecast=replace(row.forecast, lines=lines)))


def rows_for(summary: CoverageSummary, school_ids: list[int]) -> list[SchoolCoverage]:
    """The summary's rows of ``school_ids`` (in that order) with their schools (one query)."""
    schools = School.objects.select_related("district").in_bulk(school_ids)
    return [
        replace(pickle.loads(summary.rows[pk]), school=schools[pk])  # noqa: S301 - our own cache
        for pk in school_ids
        if pk in schools
    ]


# --- the district table as a CSV ------------------------------------------------------------

CSV_HEADER = [
    "school_code",
    "school",
    "economically_disadvantaged_pct",
    "enrollment",
    "target",
    "usable",
    "short",
    "spare",
    "touch_target",
    "touch_usable",
    "touch_short",
    "touch_spare",
    "homework_gap",
    "expiring_12m",
    "to_buy",
    "forecast_cost",
]


def csv_rows(summary: CoverageSummary):
    """One line per school in the summary's order, then the total line (short and spare kept
    apart, as on the page)."""

    def line(code, name, pct, r):
        cost = r.forecast.cost
        return [
            code,
            name,
            pct,
            r.enrollment,
            r.target,
            r.usable,
            r.short,
            r.spare,
            r.touch_target,
            r.touch_usable,
            r.touch_short,
            r.touch_spare,
            r.homework_gap,
            r.expiring_12m,
            r.forecast.total,
            "" if cost is None else cost,
        ]

    # The three columns of every school in one query (a district's 1,800 are a few hundred
    # KB): the same number of queries for 50 schools or 1,800, where pages of 500 made it
    # grow with the district. The rows stay pickled until their line is written.
    schools = {
        pk: (code, name, pct)
        for pk, code, name, pct in School.objects.filter(pk__in=summary.order)
        .order_by()
        .values_list("pk", "code", "name", "economically_disadvantaged_pct")
    }
    for pk in summary.order:
        if pk in schools:
            row = pickle.loads(summary.rows[pk])  # noqa: S301 - our own cache
            yield line(*schools[pk], row)
    yield line("", f"Total of {len(summary)} schools", "", summary.totals)
