"""Reads of the PD app. Every report figure is one grouped query over a set of schools, so a
district of many schools costs what one school does. Formulas: docs/pd.md."""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth

from schools.models import TEACHING_POSITIONS, School, StaffMember

from .models import (
    Attendance,
    AttendanceStatus,
    Feedback,
    Format,
    LearningLeader,
    NeedTopic,
    PDNeedsChoice,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
    SessionPillar,
)

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
    return (Decimal(target) * period.target_factor).quantize(Decimal("0.1"))


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


def _attended_kwargs(period: Period) -> dict:
    return {
        "status": AttendanceStatus.ATTENDED,
        "session__date__gte": period.since,
        "session__date__lte": period.until,
    }


def _attendances(staff, period: Period):
    """Attended rows of ``staff`` (a scoped staff queryset) in the period."""
    return Attendance._base_manager.filter(
        staff__in=staff.active().values("pk"), **_attended_kwargs(period)
    )


def hours_by_month(staff, period: Period) -> list[tuple[date, Decimal]]:
    """Every month of the period with its attended hours, zero months included (one query)."""
    found = {
        (row["month"].year, row["month"].month): row["total"]
        for row in _attendances(staff, period)
        .annotate(month=TruncMonth("session__date"))
        .values("month")
        .annotate(total=Sum("hours"))
        .order_by()
    }
    months, y, m = [], period.since.year, period.since.month
    while (y, m) <= (period.until.year, period.until.month):
        months.append((date(y, m, 1), found.get((y, m), ZERO)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def format_mix(staff, period: Period) -> list[dict]:
    """Hours and sessions per format, every format listed (one query)."""
    found = {
        row["session__format"]: row
        for row in _attendances(staff, period)
        .values("session__format")
        .annotate(total=Sum("hours"), sessions=Count("session", distinct=True))
        .order_by()
    }
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
        _attendances(staff, period)
        .filter(session__in=in_period.values("pk"))
        .values("session__facilitator_staff", "session__facilitator_staff__full_name")
        .annotate(
            sessions=Count("session", distinct=True),
            colleagues=Count("staff", distinct=True),
            total=Sum("hours"),
        )
        .order_by("-colleagues", "session__facilitator_staff__full_name")
    )
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
    # Distinct colleagues across all leaders (one person taught by two leaders counts once).
    leader_colleagues = (
        _attendances(staff, period)
        .filter(session__in=in_period.filter(facilitator_staff__isnull=False).values("pk"))
        .values("staff")
        .distinct()
        .count()
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
        for row in Feedback._base_manager.filter(
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


def needs_ranked(polls) -> list[dict]:
    """Need topics of ``polls`` ranked by how many answers ticked them (one query)."""
    counts = dict(
        PDNeedsChoice._base_manager.filter(response__poll__in=polls.values("pk"))
        .values_list("topic")
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = dict(NeedTopic.choices)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], labels.get(kv[0], kv[0])))
    return [{"topic": t, "label": labels.get(t, t), "answers": n} for t, n in ranked]


def polls_in(polls, period: Period):
    return polls.filter(opens_on__lte=period.until, closes_on__gte=period.since)


# --- sessions -------------------------------------------------------------------------


def sessions_list(sessions):
    """Sessions with what the list shows, in a fixed number of queries."""
    return (
        sessions.select_related("facilitator_user", "facilitator_staff")
        .prefetch_related(
            Prefetch("schools", queryset=School.objects.order_by("name")),
            Prefetch("pillars", queryset=SessionPillar.objects.all()),
        )
        .annotate(
            attended=Count("attendances", filter=Q(attendances__status=AttendanceStatus.ATTENDED)),
        )
        .order_by("-date", "-start_time", "-pk")
    )


def same_sessions(*, schools, day: date, title: str, start_time=None) -> list[PDSession]:
    """Sessions already logged that look like this one: the same day at one of the same
    schools, with the same title (case and spacing aside) or the same start time."""
    same = Q(title__iexact=" ".join(title.split()))
    if start_time is not None:
        same |= Q(start_time=start_time)
    matches = PDSession.objects.filter(
        same,
        date=day,
        pk__in=PDSession.objects.filter(schools__in=list(schools)).values("pk"),
    )
    return list(sessions_list(matches)[:5])


def month_grid(year: int, month: int, sessions) -> list[list[tuple[date, list[PDSession]]]]:
    """Weeks (Monday first) of the month, each day with its sessions (one query)."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    by_day: dict[date, list[PDSession]] = defaultdict(list)
    for s in sessions.filter(date__gte=first, date__lte=last).order_by("date", "start_time", "pk"):
        by_day[s.date].append(s)
    return [[(day, by_day.get(day, [])) for day in week] for week in weeks]


def feedback_summary(session: PDSession) -> dict:
    """Count, mean and distribution of a session's ratings, and the answers (two queries)."""
    answers = list(
        Feedback._base_manager.filter(session=session).select_related("staff").order_by("-pk")
    )
    distribution = Counter(a.rating for a in answers)
    mean = (
        (Decimal(sum(a.rating for a in answers)) / len(answers)).quantize(Decimal("0.01"))
        if answers
        else None
    )
    return {
        "count": len(answers),
        "mean": mean,
        "distribution": [(r, distribution.get(r, 0)) for r in range(5, 0, -1)],
        "answers": [a for a in answers if a.will_apply.strip()],
    }


def session_attendance(session: PDSession):
    """The attendance rows the user may see (scoped by the attendee's school)."""
    return (
        Attendance.objects.filter(session=session)
        .select_related("staff", "staff__school")
        .order_by("staff__full_name")
    )


def roster(school_ids, search: str = ""):
    qs = (
        StaffMember.objects.active()
        .filter(school__in=school_ids)
        .select_related("school")
        .order_by("full_name")
    )
    if search:
        qs = qs.filter(full_name__icontains=search)
    return qs


def leaders_of(school: School):
    """The school's Learning Leaders with the number of sessions each has led (one query)."""
    return (
        LearningLeader.objects.filter(school=school)
        .select_related("staff", "nominated_by")
        .annotate(sessions_led=Count("staff__pd_sessions_led", distinct=True))
    )


def poll_results(poll: PDNeedsPoll) -> dict:
    responses = PDNeedsResponse._base_manager.filter(poll=poll)
    return {
        "responses": responses.count(),
        "ranked": needs_ranked(PDNeedsPoll._base_manager.filter(pk=poll.pk)),
        "other": list(responses.exclude(other="").values_list("other", flat=True)[:200]),
    }


def last_format(user) -> str | None:
    return (
        PDSession._base_manager.filter(created_by=user)
        .order_by("-created_at", "-pk")
        .values_list("format", flat=True)
        .first()
    )
