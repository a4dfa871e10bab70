"""Reads of the PD reports page: hours against the district's target, by month and format,
Learning Leaders' reach, feedback by format, the needs most asked for, and the page's CSV
files. Formulas: docs/pd.md.

Each figure has two readings that tests/pd/test_tallies.py holds equal: the direct one,
grouped over every attendance or feedback row of the schools, and the one the page reads
when the districts' figures are kept (pd.hours: ``StaffHours`` and ``LeaderReach`` for the
twelve months kept, ``SessionTally`` and ``FeedbackTally`` per session, for any period),
grouped over a row per person or per session instead. A district never counted (no
``HoursWindow``) is read directly. A district admin's whole-district report, with no school
or period chosen, reads a third time: the district's summary (pd/summary.py), one row of
these figures counted by a job, which tests/pd/test_summary.py holds equal to the direct
reading.

Why one long module: each figure's direct reading sits beside its kept reading, so a reader
(and tests/pd/test_tallies.py) sees the two rules side by side; split, they would drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round, TruncMonth
from django.utils import timezone
from django.utils.formats import date_format

from schools.exports import CsvColumn, CsvTable, column_values
from schools.models import TEACHING_POSITIONS, District, Position, School, StaffMember

from .. import summary as report_summary
from ..models import (
    Attendance,
    AttendanceStatus,
    Feedback,
    FeedbackTally,
    Format,
    LeaderReach,
    NeedTopic,
    PDNeedsChoice,
    PDNeedsPoll,
    PDSession,
    SessionTally,
)
from ..report_models import DistrictPDReport

YEAR_DAYS = 365
ZERO = Decimal(0)
HOURS = DecimalField(max_digits=10, decimal_places=2)


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def target_factor(self) -> Decimal:
        """Share of the yearly target that applies to this period: days ÷ 365."""
        return Decimal(self.days) / Decimal(YEAR_DAYS)

    @classmethod
    def last_year(cls, until: date) -> Period:
        return cls(since=until - timedelta(days=YEAR_DAYS - 1), until=until)


def period_target(target: Decimal, period: Period) -> Decimal:
    # Half up, as every figure (schools/numbers.py) and as SQL's round() in the hours CSV.
    return (Decimal(target) * period.target_factor).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _attended_in(period: Period, prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}status": AttendanceStatus.ATTENDED,
            f"{prefix}session__date__gte": period.since,
            f"{prefix}session__date__lte": period.until,
        }
    )


def staff_hours(staff, period: Period):
    """Active staff annotated with their PD in ``period`` (one query):

    ``hours``, ``sessions``, ``job_embedded_hours``, ``ongoing_hours``, ``target`` (the
    district's yearly target × days ÷ 365) and ``below_target`` (teaching staff only).
    Each attendance row is one person at one session, so a session of several schools
    counts once per attendee.
    """
    attended = _attended_in(period, "pd_attendances__")
    factor = Value(period.target_factor, output_field=DecimalField(max_digits=12, decimal_places=8))
    hours = Coalesce(Sum("pd_attendances__hours", filter=attended), Value(ZERO), output_field=HOURS)
    return (
        staff.active()
        .select_related("school", "school__district")
        .annotate(
            hours=hours,
            sessions=Count("pd_attendances", filter=attended),
            job_embedded_hours=Coalesce(
                Sum(
                    "pd_attendances__hours",
                    filter=attended & Q(pd_attendances__session__job_embedded=True),
                ),
                Value(ZERO),
                output_field=HOURS,
            ),
            ongoing_hours=Coalesce(
                Sum(
                    "pd_attendances__hours",
                    filter=attended & Q(pd_attendances__session__ongoing_series=True),
                ),
                Value(ZERO),
                output_field=HOURS,
            ),
            target=ExpressionWrapper(
                F("school__district__pd_hour_target") * factor, output_field=HOURS
            ),
        )
        .annotate(
            below_target=Case(
                When(Q(position__in=TEACHING_POSITIONS, hours__lt=F("target")), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def kept_staff_hours(staff):
    """``staff_hours``' annotations read from the hours kept for the district's window
    (pd.hours: one row per person, no attendance summed); a person without a row had no PD
    in the window. The window is 365 days, so the target is the yearly one."""
    return (
        staff.active()
        .select_related("school", "school__district")
        .annotate(
            hours=Coalesce(F("pd_hours__hours"), Value(ZERO), output_field=HOURS),
            sessions=Coalesce(F("pd_hours__sessions"), Value(0)),
            job_embedded_hours=Coalesce(
                F("pd_hours__job_embedded_hours"), Value(ZERO), output_field=HOURS
            ),
            ongoing_hours=Coalesce(F("pd_hours__ongoing_hours"), Value(ZERO), output_field=HOURS),
            target=ExpressionWrapper(F("school__district__pd_hour_target"), output_field=HOURS),
        )
        .annotate(
            below_target=Case(
                When(Q(position__in=TEACHING_POSITIONS, hours__lt=F("target")), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


@dataclass
class HoursSummary:
    staff: int = 0
    teaching: int = 0
    below_target: int = 0
    no_pd: int = 0
    hours: Decimal = ZERO
    job_embedded_hours: Decimal = ZERO
    ongoing_hours: Decimal = ZERO

    @staticmethod
    def _share(part: Decimal, whole: Decimal) -> Decimal | None:
        return None if not whole else (Decimal(100) * part / whole).quantize(Decimal("0.1"))

    @property
    def job_embedded_share(self) -> Decimal | None:
        return self._share(self.job_embedded_hours, self.hours)

    @property
    def ongoing_share(self) -> Decimal | None:
        return self._share(self.ongoing_hours, self.hours)

    @property
    def reached(self) -> int:
        return self.staff - self.no_pd


def hours_summary(staff, period: Period) -> HoursSummary:
    """Head counts and hour totals (four queries)."""
    rows = staff_hours(staff, period)
    counts = staff.active().aggregate(
        staff=Count("pk"), teaching=Count("pk", filter=Q(position__in=TEACHING_POSITIONS))
    )
    # Counted as filtered counts (HAVING), since they rest on the per-person sums.
    counts["below_target"] = rows.filter(below_target=True).count()
    counts["no_pd"] = rows.filter(sessions=0).count()
    totals = _attendances(staff, period).aggregate(
        total=Sum("hours"),
        job_embedded=Sum("hours", filter=Q(session__job_embedded=True)),
        ongoing=Sum("hours", filter=Q(session__ongoing_series=True)),
    )
    return HoursSummary(
        **counts,
        hours=totals["total"] or ZERO,
        job_embedded_hours=totals["job_embedded"] or ZERO,
        ongoing_hours=totals["ongoing"] or ZERO,
    )


def kept_hours_summary(staff) -> HoursSummary:
    """``hours_summary`` from the kept hours: one query over one row per person."""
    teaching = Q(position__in=TEACHING_POSITIONS)
    figures = kept_staff_hours(staff).aggregate(
        staff=Count("pk"),
        teaching=Count("pk", filter=teaching),
        # Below the yearly target: no row (no hours) under a target above zero, or fewer hours.
        below_target=Count(
            "pk",
            filter=teaching
            & (
                Q(pd_hours__isnull=True, school__district__pd_hour_target__gt=0)
                | Q(pd_hours__hours__lt=F("school__district__pd_hour_target"))
            ),
        ),
        no_pd=Count("pk", filter=Q(sessions=0)),
        hours=Sum("hours"),
        job_embedded_hours=Sum("job_embedded_hours"),
        ongoing_hours=Sum("ongoing_hours"),
    )
    for name in ("hours", "job_embedded_hours", "ongoing_hours"):
        figures[name] = figures[name] or ZERO
    return HoursSummary(**figures)


def _attended_kwargs(period: Period) -> dict:
    return {
        "status": AttendanceStatus.ATTENDED,
        "session__date__gte": period.since,
        "session__date__lte": period.until,
    }


def _attendances(staff, period: Period):
    """Attended rows of ``staff`` (a scoped staff queryset) in the period."""
    return Attendance.unscoped.filter(
        staff__in=staff.active().values("pk"), **_attended_kwargs(period)
    )


def _delivered(staff, period: Period):
    """Attended rows of everyone in ``staff`` (those who left since too: the PD was given)
    in the period: what the month chart, the format mix and the reach add up."""
    return Attendance.unscoped.filter(staff__in=staff.values("pk"), **_attended_kwargs(period))


def _session_tallies(schools, period: Period):
    """The kept tallies of sessions in the period, per attendee school of ``schools``."""
    return SessionTally.unscoped.filter(
        school__in=schools, session__date__gte=period.since, session__date__lte=period.until
    )


def hours_by_month(staff, period: Period) -> list[tuple[date, Decimal]]:
    """Every month of the period with its attended hours, zero months included (one query)."""
    return _every_month(
        _delivered(staff, period)
        .annotate(month=TruncMonth("session__date"))
        .values("month")
        .annotate(total=Sum("hours"))
        .order_by(),
        period,
    )


def tallied_hours_by_month(schools, period: Period) -> list[tuple[date, Decimal]]:
    """``hours_by_month`` from the session tallies (one query over a row per session)."""
    return _every_month(
        _session_tallies(schools, period)
        .annotate(month=TruncMonth("session__date"))
        .values("month")
        .annotate(total=Sum("hours"))
        .order_by(),
        period,
    )


def _every_month(rows, period: Period) -> list[tuple[date, Decimal]]:
    found = {(row["month"].year, row["month"].month): row["total"] for row in rows}
    months, y, m = [], period.since.year, period.since.month
    while (y, m) <= (period.until.year, period.until.month):
        months.append((date(y, m, 1), found.get((y, m), ZERO)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def format_mix(staff, period: Period) -> list[dict]:
    """Hours and sessions per format, every format listed (one query)."""
    return _every_format(
        _delivered(staff, period)
        .values("session__format")
        .annotate(total=Sum("hours"), sessions=Count("session", distinct=True))
        .order_by()
    )


def tallied_format_mix(schools, period: Period) -> list[dict]:
    """``format_mix`` from the session tallies (one query)."""
    return _every_format(
        _session_tallies(schools, period)
        .values("session__format")
        .annotate(total=Sum("hours"), sessions=Count("session", distinct=True))
        .order_by()
    )


def _every_format(rows) -> list[dict]:
    found = {row["session__format"]: row for row in rows}
    return [
        {
            "format": value,
            "label": label,
            "hours": found.get(value, {}).get("total") or ZERO,
            "sessions": found.get(value, {}).get("sessions", 0),
        }
        for value, label in Format.choices
    ]


def leader_reach(staff, sessions, period: Period) -> dict:
    """Sessions led and distinct colleagues reached, by Learning Leaders and by coaches
    (two queries), with one row per Learning Leader who led."""
    in_period = sessions.filter(date__gte=period.since, date__lte=period.until)
    led = in_period.aggregate(
        leader_sessions=Count("pk", filter=Q(facilitator_staff__isnull=False)),
        coach_sessions=Count("pk", filter=Q(facilitator_user__isnull=False)),
    )
    rows = (
        _delivered(staff, period)
        .filter(session__in=in_period.values("pk"))
        .values("session__facilitator_staff", "session__facilitator_staff__full_name")
        .annotate(
            sessions=Count("session", distinct=True),
            colleagues=Count("staff", distinct=True),
            total=Sum("hours"),
        )
        .order_by("-colleagues", "session__facilitator_staff__full_name")
    )
    # Distinct colleagues across all leaders (one person taught by two leaders counts once).
    leader_colleagues = (
        _delivered(staff, period)
        .filter(session__in=in_period.filter(facilitator_staff__isnull=False).values("pk"))
        .values("staff")
        .distinct()
        .count()
    )
    return _reach(led, rows, leader_colleagues)


def kept_leader_reach(schools, sessions, period: Period) -> dict:
    """``leader_reach`` over the twelve months kept (``period`` is the kept window): the
    colleagues and hours from ``LeaderReach`` (a row per person and leader), the sessions
    from the session tallies (four queries, none over attendance)."""
    in_period = sessions.filter(date__gte=period.since, date__lte=period.until)
    led = in_period.aggregate(
        leader_sessions=Count("pk", filter=Q(facilitator_staff__isnull=False)),
        coach_sessions=Count("pk", filter=Q(facilitator_user__isnull=False)),
    )
    reached = LeaderReach.unscoped.filter(school__in=schools)
    sessions_led = dict(
        _session_tallies(schools, period)
        .values("session__facilitator_staff")
        .annotate(n=Count("session", distinct=True))
        .order_by()
        .values_list("session__facilitator_staff", "n")
    )
    rows = [
        {
            "session__facilitator_staff": row["leader"],
            "session__facilitator_staff__full_name": row["leader__full_name"],
            "sessions": sessions_led.get(row["leader"], 0),
            "colleagues": row["colleagues"],
            "total": row["total"],
        }
        for row in reached.values("leader", "leader__full_name")
        .annotate(colleagues=Count("pk"), total=Sum("hours"))
        .order_by("-colleagues", "leader__full_name")
    ]
    leader_colleagues = (
        reached.filter(leader__isnull=False).values("staff").distinct().order_by().count()
    )
    return _reach(led, rows, leader_colleagues)


def _reach(led: dict, rows, leader_colleagues: int) -> dict:
    leaders, coach = [], {"sessions": 0, "colleagues": 0, "hours": ZERO}
    for row in rows:
        if row["session__facilitator_staff"] is None:
            coach = {"sessions": row["sessions"], "colleagues": row["colleagues"]}
            coach["hours"] = row["total"]
        else:
            leaders.append(
                {
                    "name": row["session__facilitator_staff__full_name"],
                    "sessions": row["sessions"],
                    "colleagues": row["colleagues"],
                    "hours": row["total"],
                }
            )
    return {
        **led,
        "leader_colleagues": leader_colleagues,
        "coach_colleagues": coach["colleagues"],
        "coach_hours": coach["hours"],
        "leaders": leaders,
    }


def feedback_by_format(sessions, period: Period) -> list[dict]:
    """Mean rating and number of answers per format (one query)."""
    found = {
        row["session__format"]: row
        for row in Feedback.unscoped.filter(
            session__in=sessions.filter(date__gte=period.since, date__lte=period.until).values("pk")
        )
        .values("session__format")
        .annotate(mean=Avg("rating"), answers=Count("pk"))
        .order_by()
    }
    return [
        {
            "format": value,
            "label": label,
            "answers": found[value]["answers"],
            "mean": Decimal(str(found[value]["mean"])).quantize(Decimal("0.01")),
        }
        for value, label in Format.choices
        if value in found
    ]


def tallied_feedback_by_format(sessions, period: Period) -> list[dict]:
    """``feedback_by_format`` from the feedback tallies (one query over a row per session)."""
    in_period = sessions.filter(date__gte=period.since, date__lte=period.until)
    rows = (
        FeedbackTally.unscoped.filter(session__in=in_period.values("pk"), answers__gt=0)
        .values("session__format")
        .annotate(answers=Sum("answers"), total=Sum("rating_sum"))
        .order_by()
    )
    found = {row["session__format"]: row for row in rows}
    return [
        {
            "format": value,
            "label": label,
            "answers": found[value]["answers"],
            "mean": (Decimal(found[value]["total"]) / found[value]["answers"]).quantize(
                Decimal("0.01")
            ),
        }
        for value, label in Format.choices
        if value in found
    ]


def needs_ranked(polls) -> list[dict]:
    """Need topics of ``polls`` ranked by how many answers ticked them (one query)."""
    counts = dict(
        PDNeedsChoice.unscoped.filter(response__poll__in=polls.values("pk"))
        .values_list("topic")
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = dict(NeedTopic.choices)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], labels.get(kv[0], kv[0])))
    return [{"topic": t, "label": labels.get(t, t), "answers": n} for t, n in ranked]


def polls_in(polls, period: Period):
    return polls.filter(opens_on__lte=period.until, closes_on__gte=period.since)


# --- the reports page and its CSV files -------------------------------------------------

# Whose rows the staff table shows: ?show=
REPORT_SHOWS = {"all": "Everyone", "below": "Below target", "none": "No PD at all"}
REPORT_EXPORTS = ("hours", "leaders", "feedback", "needs")
# Learning Leaders the page lists (most colleagues reached first); the CSV has them all.
LEADERS_SHOWN = 25


@dataclass(frozen=True)
class ReportScope:
    """What a PD report covers: the period, and the staff, sessions and needs polls of the
    schools chosen (lazy querysets; each figure is one query over them)."""

    period: Period
    school: School | None
    staff: object
    sessions: object
    polls: object
    # When the period is the twelve months the hours are kept for (pd.hours): when they
    # were last counted whole, shown on the page; None: the figures are summed directly.
    kept_since: datetime | None = None
    # The chosen schools, and whether every one of their districts is counted (has a kept
    # window): then the month chart, format mix and feedback read the per-session tallies
    # for any period, and the reach reads LeaderReach over the kept twelve months.
    schools: object = None
    tallied: bool = False
    # The district-wide report of a district admin (no school or period chosen): the
    # district, and its summary row (pd/summary.py) when it has one; when that row has been
    # counted (``summarised``), every figure below is read from it.
    district_id: int | None = None
    summary: DistrictPDReport | None = None

    @property
    def summarised(self) -> bool:
        return self.summary is not None and self.summary.refreshed_at is not None

    def months(self) -> list[tuple[date, Decimal]]:
        if self.summarised:
            return report_summary.months(self.summary)
        if self.tallied:
            return tallied_hours_by_month(self.schools, self.period)
        return hours_by_month(self.staff, self.period)

    def mix(self) -> list[dict]:
        if self.summarised:
            return report_summary.mix(self.summary)
        if self.tallied:
            return tallied_format_mix(self.schools, self.period)
        return format_mix(self.staff, self.period)

    def reach(self, *, every_leader: bool = False) -> dict:
        """Sessions led and colleagues reached; the summary's page figures list the first
        ``LEADERS_SHOWN`` leaders unless ``every_leader`` (the CSV)."""
        if self.summarised:
            return report_summary.reach(self.summary, every_leader=every_leader)
        if self.kept_since is not None:
            return kept_leader_reach(self.schools, self.sessions, self.period)
        return leader_reach(self.staff, self.sessions, self.period)

    def feedback(self) -> list[dict]:
        if self.summarised:
            return report_summary.feedback(self.summary)
        if self.tallied:
            return tallied_feedback_by_format(self.sessions, self.period)
        return feedback_by_format(self.sessions, self.period)

    def staff_hours(self):
        """The staff with their PD in the period: summarised, kept, or summed from
        attendance."""
        if self.summarised:
            return report_summary.staff_rows(self.summary)
        if self.kept_since is not None:
            return kept_staff_hours(self.staff)
        return staff_hours(self.staff, self.period)

    def hours_summary(self) -> HoursSummary:
        if self.summarised:
            return HoursSummary(**report_summary.hours_summary_fields(self.summary))
        if self.kept_since is not None:
            return kept_hours_summary(self.staff)
        return hours_summary(self.staff, self.period)

    def needs(self) -> list[dict]:
        if self.summarised:
            return report_summary.needs(self.summary)
        return needs_ranked(self.polls)


def report_scope(
    *,
    schools,
    sessions,
    school: School | None = None,
    since: date | None = None,
    until: date | None = None,
    today: date | None = None,
    district_id: int | None = None,
) -> ReportScope:
    """The report over ``schools`` (the schools whose PD the person works with) and their
    ``sessions``, narrowed to ``school`` when one is chosen. The period runs from ``since``
    to ``until`` (today by default), a year when ``since`` is missing or after ``until``.

    ``district_id``: ``schools`` are exactly that district's (pd.summary.whole_district);
    with no school or period chosen the report is then read from the district's summary
    (one query) once it has been counted."""
    chosen = schools.filter(pk=school.pk) if school else schools
    summary = None
    if district_id is None or school or since or until:
        district_id = None
    else:
        summary = DistrictPDReport.objects.defer("leaders").filter(district_id=district_id).first()
    if summary is not None and summary.refreshed_at is not None:
        period = Period(since=summary.since, until=summary.until)
        return ReportScope(
            period=period,
            school=None,
            staff=StaffMember.objects.filter(school__in=chosen),
            sessions=sessions,
            polls=polls_in(PDNeedsPoll.objects.filter(school__in=chosen), period),
            schools=chosen,
            tallied=True,
            district_id=district_id,
            summary=summary,
        )
    kept_since = None
    # The kept windows of the districts of these schools (one query): every district counted
    # means the tallies are whole; one window for all, and no period asked for, means the
    # last twelve months are read as kept.
    windows = list(
        District.objects.filter(pk__in=chosen.values("district_id")).values_list(
            "pd_hours_window__until", "pd_hours_window__refreshed_at"
        )
    )
    untils = {kept_until for kept_until, _ in windows}
    tallied = bool(windows) and None not in untils
    if since is None and until is None and tallied and len(untils) == 1:
        until = untils.pop()
        kept_since = min(refreshed for _, refreshed in windows)
    until = until or today or timezone.localdate()
    period = Period(since=since or (until - timedelta(days=364)), until=until)
    if period.since > period.until:
        period = Period.last_year(until)
    if school:
        links = PDSession.schools.through.unscoped.filter(school=school)
        sessions = sessions.filter(pk__in=links.values("pdsession_id"))
    return ReportScope(
        period=period,
        school=school,
        staff=StaffMember.objects.filter(school__in=chosen),
        sessions=sessions,
        polls=polls_in(PDNeedsPoll.objects.filter(school__in=chosen), period),
        kept_since=kept_since,
        schools=chosen,
        tallied=tallied,
        district_id=district_id,
        summary=summary,
    )


def report_rows(scope: ReportScope, show: str = "all"):
    """The staff table: everyone, those below the target, or those with no PD at all, the
    fewest hours first (lazy: the page shows a page of it), each with its ``school_name``."""
    rows = scope.staff_hours().order_by("hours", "full_name", "pk")
    if not scope.summarised:
        rows = rows.annotate(school_name=F("school__name"))
    if show == "below":
        return rows.filter(below_target=True)
    if show == "none":
        return rows.filter(sessions=0)
    return rows


@dataclass
class Report:
    """The figures of the reports page (each one grouped query; the staff rows are lazy)."""

    scope: ReportScope
    show: str
    summary: HoursSummary
    rows: object
    months: list[tuple[date, Decimal]]
    mix: list[dict]
    reach: dict
    feedback: list[dict]
    needs: list[dict]

    @property
    def shown_count(self) -> int:
        """How many people the staff table lists, from the summary (never a COUNT of it)."""
        return {
            "below": self.summary.below_target,
            "none": self.summary.no_pd,
        }.get(self.show, self.summary.staff)

    @property
    def chart_data(self) -> dict:
        return {
            "months": [[date_format(m, "YEAR_MONTH_FORMAT"), float(h)] for m, h in self.months],
            "formats": [[row["label"], float(row["hours"])] for row in self.mix],
        }


def report(scope: ReportScope, *, show: str = "all") -> Report:
    """Hours against the target, by month and format, Learning Leaders' reach, feedback by
    format and the needs most asked for, over ``scope``."""
    show = show if show in REPORT_SHOWS else "all"
    return Report(
        scope=scope,
        show=show,
        summary=scope.hours_summary(),
        rows=report_rows(scope, show),
        months=scope.months(),
        mix=scope.mix(),
        reach=scope.reach(),
        feedback=scope.feedback(),
        needs=scope.needs(),
    )


def hours_export(scope: ReportScope):
    """The staff table as a CSV: (filename, columns, rows), every cell an expression of the
    query, so PostgreSQL writes the file (``schools.exports.queryset_csv_response``)."""
    period = scope.period
    # The summary's rows carry the school's name, code and the target (its period is a
    # year: target × 1); the others reach them through the school and district.
    kept = scope.summarised
    rows = scope.staff_hours().order_by(
        "school_name" if kept else "school__name", "full_name", "pk"
    )
    position = Case(
        *[When(position=value, then=Value(str(label))) for value, label in Position.choices],
        default=F("position"),
        output_field=CharField(),
    )
    columns = [
        CsvColumn("Staff", "full_name"),
        CsvColumn("E-mail", "email"),
        CsvColumn("School", "school_code" if kept else "school__code"),
        CsvColumn("Position", position),
        CsvColumn("Hours", "hours"),
        CsvColumn("Sessions", "sessions"),
        CsvColumn("Job-embedded hours", "job_embedded_hours"),
        CsvColumn("Ongoing-series hours", "ongoing_hours"),
        CsvColumn(
            "Target for the period",
            Round(
                ExpressionWrapper(
                    F("target" if kept else "school__district__pd_hour_target")
                    * Value(
                        period.target_factor,
                        output_field=DecimalField(max_digits=12, decimal_places=8),
                    ),
                    output_field=HOURS,
                ),
                1,
                output_field=HOURS,
            ),
        ),
        CsvColumn(
            "Below target",
            Case(
                When(below_target=True, then=Value("yes")),
                default=Value("no"),
                output_field=CharField(),
            ),
        ),
    ]
    stamp = f"{period.since:%Y%m%d}-{period.until:%Y%m%d}"
    return f"pd-hours-{stamp}.csv", columns, rows


def report_export(scope: ReportScope, kind: str) -> CsvTable | None:
    """One of the report's tables as a CSV download (None for an unknown ``kind``)."""
    period = scope.period
    stamp = f"{period.since:%Y%m%d}-{period.until:%Y%m%d}"
    if kind == "hours":
        filename, columns, rows = hours_export(scope)
        return CsvTable(filename, [c.header for c in columns], column_values(rows, columns))
    if kind == "leaders":
        reach = scope.reach(every_leader=True)
        rows = [
            ["Learning Leader", r["name"], r["sessions"], r["colleagues"], r["hours"]]
            for r in reach["leaders"]
        ]
        rows.append(
            ["All Learning Leaders", "", reach["leader_sessions"], reach["leader_colleagues"], ""]
        )
        rows.append(
            [
                "Coaches",
                "",
                reach["coach_sessions"],
                reach["coach_colleagues"],
                reach["coach_hours"],
            ]
        )
        return CsvTable(
            f"pd-leaders-{stamp}.csv",
            ["Led by", "Name", "Sessions", "Distinct colleagues", "Hours"],
            rows,
        )
    if kind == "feedback":
        return CsvTable(
            f"pd-feedback-{stamp}.csv",
            ["Format", "Answers", "Mean rating"],
            [[r["label"], r["answers"], r["mean"]] for r in scope.feedback()],
        )
    if kind == "needs":
        return CsvTable(
            f"pd-needs-{stamp}.csv",
            ["Rank", "Need", "Answers"],
            [[i, r["label"], r["answers"]] for i, r in enumerate(scope.needs(), 1)],
        )
    return None
