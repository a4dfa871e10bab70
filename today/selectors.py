"""What needs a person now: the items of each role's home page, read from every domain app.

Each section is a bounded list (``LIMIT`` items, most urgent first) and its total, from a
fixed number of grouped queries over the schools where the person holds the role, so a
district of 1,800 schools costs what one school does. The weekly digest e-mails the same
sections (``today.digest``). Callers run inside the person's scope (a request, or
``activate(access_for(user))`` in a task), so every read goes through the default
managers. Definitions of each item: docs/today.md.

Why one long module: the four roles' sections read the same few helpers (``Section``,
``Item``, the week and the urgency order), and splitting them per role would scatter the
one page's rules across files that are always read together.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from equity.imports.models import ImportJob
from equity.inventory.coverage import device_gaps, school_coverage
from equity.inventory.models import (
    Assignment,
    Circumstance,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    HomeInternet,
    Student,
    applicable_expiration,
    usable_q,
)
from equity.year.models import Acceptance, Charge, ChargeStatus, StationEvent, StationKind
from googlesync.models import SyncRun
from initiatives.models import (
    ACTIVE,
    BudgetLine,
    ComplianceItem,
    ComplianceStatus,
    Decision,
    Initiative,
    Milestone,
    SignOff,
    Stage,
    Status,
)
from pd.models import Attendance, AttendanceStatus, LearningLeader, PDNeedsPoll, PDSession
from pd.selectors.reports import Period, staff_hours
from readiness.models import ReadinessRun, RunStatus, Snapshot
from readiness.services import latest_snapshots
from rostering.models import RosterRun
from rostering.models import RunStatus as RosterStatus
from schools.dates import shown_date
from schools.models import TEACHING_POSITIONS, School, StaffMember
from schools.numbers import count as shown_count
from schools.selectors import district_admin_districts, schools_by_need
from stakeholders.models import Survey
from stakeholders.selectors import headline_results

# Each list shows this many items, the most urgent first; its total says how many more.
LIMIT = 5
REMINDER_DEPTH = 50  # items a reminder's section is read to (the e-mail lists them)
# A district admin sees the schools of highest need; the school list pages through the rest.
HOME_SCHOOLS = 10
MILESTONE_DAYS = 14  # milestones due within this many days (or overdue)
REPAIR_DAYS = 14  # a device in repair longer than this is slipping
EXPIRY_DAYS = 365  # auto-update expirations within twelve months
AGREEMENT_DAYS = 7  # an agreement unsigned this long after check-out
FAILED_RUN_DAYS = 30  # failed runs of the last month
FAR_BELOW = Decimal("0.5")  # a teacher "far below" the PD target has under half of it
LOW_RESPONSE_RATE = 50.0  # percent: a survey closing soon below this is low


@dataclass
class Item:
    text: str
    url: str
    note: str = ""
    when: date | None = None
    # "late" (overdue, failed), "soon" (due within days) or "" for styling and the e-mail.
    level: str = ""
    # What the item is about, for a reminder sent once per object ("survey:12").
    key: str = ""
    # A figure a reminder's rule reads (a response rate, a change of score).
    figure: float | None = None


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    total: int = 0
    more_url: str = ""
    empty: str = "Nothing needs you here."

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


@dataclass
class Home:
    """A person's home: the sections of each role they hold, in the page's order."""

    principal: list[Section] = field(default_factory=list)
    coach: list[Section] = field(default_factory=list)
    tech_staff: list[Section] = field(default_factory=list)
    # (district, its sections) for each district the person administers.
    district_admin: list[tuple] = field(default_factory=list)
    # role -> the first schools where the person holds it, for the quick links.
    schools: dict[str, list[School]] = field(default_factory=dict)

    @property
    def sections(self) -> list[Section]:
        admin = [s for _district, sections in self.district_admin for s in sections]
        return [*admin, *self.principal, *self.coach, *self.tech_staff]

    @property
    def item_count(self) -> int:
        return sum(s.total for s in self.sections)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- principal -----------------------------------------------------------------------------


def readiness_changes(school_ids, today: date, *, limit: int = LIMIT) -> Section:
    """Each school's overall readiness now and a week ago, the largest fall first."""
    week_ago = _start_of(today - timedelta(days=7))
    latest = Snapshot.unscoped.filter(school=OuterRef("pk")).order_by("-computed_at", "-pk")
    schools = (
        School.objects.filter(pk__in=school_ids)
        .annotate(
            now=Subquery(latest.values("overall")[:1]),
            before=Subquery(latest.filter(computed_at__lt=week_ago).values("overall")[:1]),
        )
        .annotate(change=Coalesce(F("now"), 0.0) - Coalesce(F("before"), F("now"), 0.0))
        .order_by(F("change").asc(nulls_last=True), "name", "pk")
    )
    rows = list(schools.values_list("pk", "name", "now", "before", "change")[:limit])
    items = []
    for pk, name, now, before, change in rows:
        if now is None:
            note, level = "no score yet", ""
        elif before is None or abs(change) < 0.05:
            note, level = f"{now:.0f}, no change since last week", ""
        else:
            word = "down" if change < 0 else "up"
            note = f"{now:.0f}, {word} {abs(change):.0f} since last week"
            level = "late" if change <= -10 else ""
        items.append(
            Item(
                name,
                reverse("readiness:school", args=[pk]),
                note,
                level=level,
                key=f"school:{pk}",
                figure=None if now is None or before is None else change,
            )
        )
    return Section(
        "readiness",
        "Readiness since last week",
        items,
        total=len(school_ids),
        more_url=reverse("readiness:index"),
        empty="No school to score yet.",
    )


def blocked_initiatives(school_ids, today: date) -> Section:
    """Live initiatives whose next step the rules refuse, and why (three rules, one query)."""
    closed_survey = Survey.unscoped.filter(initiative=OuterRef("pk")).filter(
        Q(closed_on__isnull=False) | Q(closes_on__lt=today)
    )
    open_item = ComplianceItem.unscoped.filter(initiative=OuterRef("pk")).exclude(
        Q(status=ComplianceStatus.DONE) | (Q(status=ComplianceStatus.WAIVED) & ~Q(waiver_reason=""))
    )
    committed = BudgetLine.unscoped.filter(initiative=OuterRef("pk")).exclude(stage=Stage.PLANNED)
    listen = Q(status=Status.PLANNING, has_closed=False)
    compliance = Q(status__in=[Status.PLANNING, Status.PILOT], has_open_item=True)
    money = Q(has_committed=True) & (Q(why="") | Q(learning_goals=""))
    blocked = (
        Initiative.objects.filter(schools__in=school_ids, status__in=ACTIVE)
        .distinct()
        .annotate(
            has_closed=Exists(closed_survey),
            has_open_item=Exists(open_item),
            has_committed=Exists(committed),
        )
        .filter(listen | compliance | money)
    )
    total = blocked.count()
    items = []
    for i in blocked.order_by("updated_at", "pk")[:LIMIT]:
        why = []
        if i.status == Status.PLANNING and not i.has_closed:
            why.append("listen first: no linked survey has closed")
        if i.status in (Status.PLANNING, Status.PILOT) and i.has_open_item:
            why.append("a compliance item is open")
        if i.has_committed and not (i.why and i.learning_goals):
            why.append("money committed before the why and learning goals")
        items.append(Item(i.title, i.get_absolute_url(), "; ".join(why), level="late"))
    return Section(
        "blocked",
        "Initiatives blocked",
        items,
        total,
        reverse("initiatives:list"),
        "No initiative is held up.",
    )


def open_surveys(school_ids, today: date, *, limit: int = LIMIT) -> Section:
    """Surveys taking answers, closing soonest first, with their response rate."""
    surveys = (
        Survey.objects.filter(
            schools__in=school_ids, opens_on__lte=today, closes_on__gte=today, closed_on=None
        )
        .distinct()
        .order_by("closes_on", "pk")
    )
    total = surveys.count()
    shown = list(surveys[:limit])
    figures = headline_results(shown)
    items = []
    for s in shown:
        rate = figures.get(s.pk, {}).get("rate")
        rate_text = f"{rate:g}% responded" if rate is not None else "response rate not shown yet"
        days = (s.closes_on - today).days
        items.append(
            Item(
                s.title,
                reverse("stakeholders:survey_detail", args=[s.pk]),
                f"{rate_text}; closes {shown_date(s.closes_on)}",
                when=s.closes_on,
                level="soon" if days <= 3 else "",
                key=f"survey:{s.pk}",
                figure=rate,
            )
        )
    return Section(
        "surveys",
        "Surveys open",
        items,
        total,
        reverse("stakeholders:home"),
        "No survey is taking answers.",
    )


def milestones_due(school_ids, today: date, *, limit: int = LIMIT) -> Section:
    milestones = (
        Milestone.objects.filter(
            initiative__schools__in=school_ids,
            done_on=None,
            due_on__lte=today + timedelta(days=MILESTONE_DAYS),
        )
        .exclude(initiative__status=Status.RETIRED)
        .distinct()
        .select_related("initiative")
        .order_by("due_on", "pk")
    )
    total = milestones.count()
    items = [
        Item(
            f"{m.title} ({m.initiative.title})",
            reverse("initiatives:milestone_edit", args=[m.pk]),
            ("overdue since " if m.due_on < today else "due ") + shown_date(m.due_on),
            when=m.due_on,
            level="late" if m.due_on < today else "soon",
            key=f"milestone:{m.pk}",
        )
        for m in milestones[:limit]
    ]
    return Section(
        "milestones",
        f"Milestones due in {MILESTONE_DAYS} days or overdue",
        items,
        total,
        reverse("initiatives:list"),
        "No milestone is due.",
    )


def sign_offs_awaited(school_ids, today: date) -> Section:
    """Initiatives heading for students (planning, pilot) with no approving sign-off."""
    approved = SignOff.unscoped.filter(
        initiative=OuterRef("pk"), decision__in=[Decision.APPROVED, Decision.CONDITIONS]
    )
    waiting = (
        Initiative.objects.filter(
            schools__in=school_ids, status__in=[Status.PLANNING, Status.PILOT]
        )
        .distinct()
        .annotate(approved=Exists(approved))
        .filter(approved=False)
        .order_by("updated_at", "pk")
    )
    total = waiting.count()
    items = [
        Item(
            i.title,
            reverse("initiatives:signoff_add", args=[i.pk]),
            f"in {i.get_status_display().lower()}, no approval on record",
        )
        for i in waiting[:LIMIT]
    ]
    return Section(
        "sign_offs",
        "Sign-offs awaited",
        items,
        total,
        reverse("initiatives:list"),
        "No initiative waits for a sign-off.",
    )


def devices_short(school_ids, today: date) -> Section:
    """Schools with fewer usable devices than their target, the largest gap first."""
    rows = school_coverage(School.objects.filter(pk__in=school_ids), today=today)
    short = sorted((r for r in rows if r.usable < r.target), key=lambda r: r.usable - r.target)
    items = [
        Item(
            r.school.name,
            reverse("equity:coverage", args=[r.school.pk]),
            f"{shown_count(r.target - r.usable)} short: {shown_count(r.usable)} usable "
            f"of {shown_count(r.target)}",
            level="late",
        )
        for r in short[:LIMIT]
    ]
    return Section(
        "devices_short",
        "Devices short of target",
        items,
        len(short),
        "",
        "Every school has its devices.",
    )


def principal_home(school_ids, today: date) -> list[Section]:
    if not school_ids:
        return []
    return [
        readiness_changes(school_ids, today),
        blocked_initiatives(school_ids, today),
        open_surveys(school_ids, today),
        milestones_due(school_ids, today),
        sign_offs_awaited(school_ids, today),
        devices_short(school_ids, today),
    ]


# --- coach ---------------------------------------------------------------------------------


def sessions_soon(school_ids, today: date) -> Section:
    monday, _ = week_of(today)
    until = monday + timedelta(days=13)
    sessions = (
        PDSession.objects.filter(schools__in=school_ids, date__gte=today, date__lte=until)
        .distinct()
        .order_by("date", "start_time", "pk")
    )
    total = sessions.count()
    items = [
        Item(s.title, s.get_absolute_url(), shown_date(s.date), when=s.date)
        for s in sessions[:LIMIT]
    ]
    return Section(
        "sessions",
        "Sessions this week and next",
        items,
        total,
        reverse("pd:calendar"),
        "No session is planned for the next two weeks.",
    )


def teachers_behind(school_ids, today: date) -> Section:
    """Teaching staff with no PD in the last twelve months or under half the target."""
    period = Period.last_year(today)
    staff = StaffMember.objects.filter(school__in=school_ids, position__in=TEACHING_POSITIONS)
    behind = staff_hours(staff, period).filter(Q(sessions=0) | Q(hours__lt=F("target") * FAR_BELOW))
    total = behind.count()
    items = [
        Item(
            f"{s.full_name} ({s.school.name})",
            reverse("schools:staff_edit", args=[s.pk]),
            "no PD this year" if not s.sessions else f"{s.hours:g} of {s.target:g} hours",
            level="late" if not s.sessions else "",
        )
        for s in behind.order_by("hours", "full_name", "pk")[:LIMIT]
    ]
    return Section(
        "teachers_behind",
        "Teachers with no PD or far below the target",
        items,
        total,
        reverse("pd:reports"),
        "Every teacher is on track.",
    )


def feedback_waiting(school_ids, today: date) -> Section:
    """Sessions held in the last 30 days with attendees whose feedback was never asked."""
    attended = Attendance.unscoped.filter(session=OuterRef("pk"), status=AttendanceStatus.ATTENDED)
    sessions = (
        PDSession.objects.filter(
            schools__in=school_ids,
            date__lt=today,
            date__gte=today - timedelta(days=30),
            feedback_requested_at=None,
        )
        .filter(Exists(attended))
        .distinct()
        .order_by("-date", "pk")
    )
    total = sessions.count()
    items = [
        Item(s.title, s.get_absolute_url(), f"held {shown_date(s.date)}", when=s.date)
        for s in sessions[:LIMIT]
    ]
    return Section(
        "feedback",
        "Feedback to ask for",
        items,
        total,
        reverse("pd:session_list"),
        "Every recent session has asked for feedback.",
    )


def leaders_sessions(school_ids, today: date) -> Section:
    leaders = LearningLeader.objects.filter(school__in=school_ids).values("staff_id")
    sessions = (
        PDSession.objects.filter(date__gte=today, facilitator_staff__in=leaders)
        .select_related("facilitator_staff")
        .distinct()
        .order_by("date", "start_time", "pk")
    )
    total = sessions.count()
    items = [
        Item(
            s.title,
            s.get_absolute_url(),
            f"{s.facilitator_staff.full_name}, {shown_date(s.date)}",
            when=s.date,
        )
        for s in sessions[:LIMIT]
    ]
    school = min(school_ids)
    return Section(
        "leaders",
        "Learning Leaders' next sessions",
        items,
        total,
        reverse("pd:leaders", args=[school]),
        "No Learning Leader leads an upcoming session.",
    )


def polls_to_act_on(school_ids, today: date) -> Section:
    """Closed needs polls with answers, and no session at their school since they closed."""
    since = PDSession.unscoped.filter(schools=OuterRef("school"), date__gte=OuterRef("closes_on"))
    polls = (
        PDNeedsPoll.objects.filter(school__in=school_ids, closes_on__lt=today)
        .annotate(answers=Count("responses"), acted=Exists(since))
        .filter(answers__gt=0, acted=False)
        .select_related("school")
        .order_by("closes_on", "pk")
    )
    total = polls.count()
    items = [
        Item(
            f"{p.school.name}: {p.period}",
            p.get_absolute_url(),
            f"{shown_count(p.answers)} answers, closed {shown_date(p.closes_on)}",
            when=p.closes_on,
        )
        for p in polls[:LIMIT]
    ]
    return Section(
        "polls",
        "Needs-poll results not acted on",
        items,
        total,
        "",
        "Every needs poll has been followed by a session.",
    )


def coach_home(school_ids, today: date) -> list[Section]:
    if not school_ids:
        return []
    return [
        sessions_soon(school_ids, today),
        teachers_behind(school_ids, today),
        feedback_waiting(school_ids, today),
        leaders_sessions(school_ids, today),
        polls_to_act_on(school_ids, today),
    ]


# --- tech staff ----------------------------------------------------------------------------


def not_returned(school_ids, today: date, *, since_days: int = 120):
    """Open assignments of students a collection day (today or in the last ``since_days``)
    was for, checked out before that day: (queryset of assignments, the collection days)."""
    days = list(
        StationEvent.objects.filter(
            school__in=school_ids,
            kind=StationKind.COLLECTION,
            day__lte=today,
            day__gte=today - timedelta(days=since_days),
        ).order_by("day", "pk")
    )
    if not days:
        return Assignment.objects.none(), days
    expected = Q()
    for day in days:
        one = Q(device__school_id=day.school_id, checked_out_at__lt=_start_of(day.day))
        if day.grades:
            one &= Q(student__grade__in=day.grades)
        expected |= one
    open_ = Assignment.objects.filter(checked_in_at=None).filter(expected)
    return open_, days


def _collection_day(assignment, days) -> date:
    """The first collection day that expected ``assignment``'s device back."""
    return next(
        d.day
        for d in days
        if d.school_id == assignment.device.school_id
        and (not d.grades or assignment.student.grade in d.grades)
    )


def devices_out_late(school_ids, today: date, *, limit: int = LIMIT) -> Section:
    """Devices still out after their collection day (from the day itself), oldest day first."""
    late, days = not_returned(school_ids, today)
    total = late.count() if days else 0
    items = []
    if days:
        for a in late.select_related("device", "student").order_by("checked_out_at", "pk")[:limit]:
            due = _collection_day(a, days)
            items.append(
                Item(
                    f"{a.device.asset_tag} with student {a.student.local_id}",
                    a.device.get_absolute_url(),
                    f"due back {shown_date(due)}",
                    when=due,
                    level="late" if due < today else "soon",
                    key=f"assignment:{a.pk}",
                )
            )
    return Section(
        "out_late",
        "Devices not returned after collection day",
        items,
        total,
        "",
        "Every device due back has been returned.",
    )


def repairs_slipping(school_ids, today: date) -> Section:
    cutoff = _start_of(today - timedelta(days=REPAIR_DAYS))
    devices = (
        Device.objects.filter(school__in=school_ids, status=DeviceStatus.IN_REPAIR)
        .annotate(sent=Max("events__at", filter=Q(events__kind=EventKind.REPAIR_SENT)))
        .filter(Q(sent__lt=cutoff) | Q(sent=None))
        .order_by(F("sent").asc(nulls_first=True), "pk")
    )
    total = devices.count()
    items = [
        Item(
            d.asset_tag,
            d.get_absolute_url(),
            f"in repair since {shown_date(timezone.localtime(d.sent).date())}"
            if d.sent
            else "in repair",
            level="late",
        )
        for d in devices[:LIMIT]
    ]
    return Section(
        "repairs",
        f"In repair for more than {REPAIR_DAYS} days",
        items,
        total,
        reverse("equity:inventory") + "?status=in_repair",
        "No repair is overdue.",
    )


def lost_this_month(school_ids, today: date) -> Section:
    first = _start_of(today.replace(day=1))
    rows = (
        DeviceEvent.objects.filter(
            school__in=school_ids, kind__in=[EventKind.LOST, EventKind.STOLEN], at__gte=first
        )
        .values("circumstance")
        .annotate(n=Count("device", distinct=True))
        .order_by("-n", "circumstance")
    )
    labels = dict(Circumstance.choices)
    report = reverse("equity:school_losses", args=[min(school_ids)])
    items = [
        Item(
            labels.get(r["circumstance"], "Not said"),
            report,
            f"{shown_count(r['n'])} device{'s' if r['n'] != 1 else ''}",
        )
        for r in rows
    ]
    return Section(
        "lost",
        "Lost this month, by circumstance",
        items[:LIMIT],
        sum(r["n"] for r in rows) and len(items),
        report,
        "No device was lost this month.",
    )


def station_progress(school_ids, today: date) -> Section:
    """Handout and collection days of the last week and the next two, with progress."""
    days = list(
        StationEvent.objects.filter(
            school__in=school_ids,
            day__gte=today - timedelta(days=7),
            day__lte=today + timedelta(days=14),
        )
        .select_related("school")
        .order_by("day", "pk")[: LIMIT + 1]
    )
    shown = days[:LIMIT]
    ids = [d.pk for d in shown]
    handed = Counter(
        dict(
            Assignment.objects.filter(handout_event_id__in=ids)
            .values_list("handout_event_id")
            .annotate(n=Count("pk"))
        )
    )
    collected = Counter(
        dict(
            Assignment.objects.filter(collection_event_id__in=ids)
            .values_list("collection_event_id")
            .annotate(n=Count("pk"))
        )
    )
    per_grade: dict[int, dict[int, int]] = defaultdict(dict)
    for school_id, grade, n in (
        Student.objects.filter(school__in={d.school_id for d in shown}, active=True)
        .values_list("school_id", "grade")
        .annotate(n=Count("pk"))
    ):
        per_grade[school_id][grade] = n
    items = []
    for d in shown:
        grades = per_grade[d.school_id]
        expected = sum(n for g, n in grades.items() if not d.grades or g in d.grades)
        done = (handed if d.kind == StationKind.HANDOUT else collected)[d.pk]
        verb = "handed out" if d.kind == StationKind.HANDOUT else "collected"
        items.append(
            Item(
                f"{d.name} at {d.school.name}",
                d.get_absolute_url(),
                f"{shown_date(d.day)}: {shown_count(done)} of {shown_count(expected)} {verb}",
                when=d.day,
                level="soon" if d.day >= today else "",
            )
        )
    return Section(
        "stations",
        "Handout and collection days",
        items,
        len(days),
        reverse("equity:station_events", args=[min(school_ids)]),
        "No handout or collection day this fortnight.",
    )


def expirations(school_ids, today: date) -> Section:
    """Usable devices whose updates stop within twelve months, by model and date."""
    until = today + timedelta(days=EXPIRY_DAYS)
    rows = list(
        Device.objects.filter(school__in=school_ids)
        .filter(usable_q(today))
        .annotate(expires=applicable_expiration())
        .filter(expires__lte=until)
        .values("expires", "model__maker", "model__name")
        .annotate(n=Count("pk"))
        .order_by("expires", "model__name")
    )
    items = [
        Item(
            f"{r['model__maker']} {r['model__name']}",
            reverse("equity:inventory"),
            f"{shown_count(r['n'])} stop updating on {shown_date(r['expires'])}",
            when=r["expires"],
            level="soon",
        )
        for r in rows[:LIMIT]
    ]
    return Section(
        "expirations",
        "Auto-update expirations within 12 months",
        items,
        len(rows),
        "",
        "No device stops updating this year.",
    )


def agreements_unsigned(school_ids, today: date, *, limit: int = LIMIT) -> Section:
    """Open assignments whose agreement is not accepted, the longest waiting first."""
    cutoff = timezone.now()
    unsigned = (
        Acceptance.objects.filter(
            assignment__device__school__in=school_ids,
            assignment__checked_in_at=None,
            accepted_at=None,
            assignment__checked_out_at__lt=cutoff,
        )
        .select_related("assignment__device", "assignment__student")
        .order_by("assignment__checked_out_at", "pk")
    )
    total = unsigned.count()
    items = [
        Item(
            f"Student {a.assignment.student.local_id} ({a.assignment.device.asset_tag})",
            a.assignment.device.get_absolute_url(),
            "out since " + shown_date(timezone.localtime(a.assignment.checked_out_at).date()),
            level="late"
            if a.assignment.checked_out_at < _start_of(today - timedelta(days=AGREEMENT_DAYS))
            else "",
            key=f"acceptance:{a.pk}",
        )
        for a in unsigned[:limit]
    ]
    return Section(
        "agreements",
        "Device agreements not signed",
        items,
        total,
        "",
        "Every agreement is signed.",
    )


def charges_due(school_ids, today: date) -> Section:
    charges = (
        Charge.objects.filter(device__school__in=school_ids, status=ChargeStatus.DUE)
        .select_related("student", "device")
        .order_by("created_at", "pk")
    )
    total = charges.count()
    items = [
        Item(
            f"Student {c.student.local_id}: {c.get_kind_display().lower()}",
            reverse("equity:charges", args=[c.device.school_id]),
            f"since {shown_date(timezone.localtime(c.created_at).date())}",
        )
        for c in charges[:LIMIT]
    ]
    return Section(
        "charges",
        "Charges due",
        items,
        total,
        reverse("equity:charges", args=[min(school_ids)]),
        "No charge is due.",
    )


def homework_gap(school_ids, today: date) -> Section:
    """Active students without home internet and without a hotspot."""
    hotspot = Assignment.objects.filter(student=OuterRef("pk"), is_hotspot=True, checked_in_at=None)
    students = (
        Student.objects.filter(school__in=school_ids, active=True, home_internet=HomeInternet.NO)
        .annotate(has=Exists(hotspot))
        .filter(has=False)
        .select_related("school")
        .order_by("school__name", "grade", "local_id", "pk")
    )
    total = students.count()
    items = [
        Item(
            f"Student {s.local_id}, {s.get_grade_display()}",
            reverse("equity:checkout", args=[s.school_id]) + f"?student={s.local_id}",
            f"{s.school.name}: needs a hotspot",
        )
        for s in students[:LIMIT]
    ]
    return Section(
        "homework_gap",
        "Students who need a hotspot",
        items,
        total,
        reverse("equity:coverage", args=[min(school_ids)]),
        "Every student without home internet has a hotspot.",
    )


def tech_home(school_ids, today: date) -> list[Section]:
    if not school_ids:
        return []
    return [
        devices_out_late(school_ids, today),
        repairs_slipping(school_ids, today),
        lost_this_month(school_ids, today),
        station_progress(school_ids, today),
        expirations(school_ids, today),
        agreements_unsigned(school_ids, today),
        charges_due(school_ids, today),
        homework_gap(school_ids, today),
    ]


def reminder_sections(sections: dict[str, frozenset[int]], today: date) -> list[Section]:
    """The sections the reminders read, each to ``REMINDER_DEPTH`` items rather than the
    home's five: a reminder goes once per item, so an item that never reached the top five
    would otherwise never be reminded."""
    principal, tech = sections.get("principal"), sections.get("tech_staff")
    found = []
    if principal:
        found += [
            readiness_changes(principal, today, limit=REMINDER_DEPTH),
            open_surveys(principal, today, limit=REMINDER_DEPTH),
            milestones_due(principal, today, limit=REMINDER_DEPTH),
        ]
    if tech:
        found += [
            devices_out_late(tech, today, limit=REMINDER_DEPTH),
            agreements_unsigned(tech, today, limit=REMINDER_DEPTH),
        ]
    return found


# --- district admin ------------------------------------------------------------------------


def schools_in_need(district, today: date) -> Section:
    """The district's schools of highest need, with their device gap and readiness."""
    schools = schools_by_need(School.objects.filter(district=district))
    shown = list(schools[:HOME_SCHOOLS])
    gaps = device_gaps(School.objects.filter(pk__in=[s.pk for s in shown]), today=today)
    scores = latest_snapshots([s.pk for s in shown], scores_only=True)
    items = []
    for s in shown:
        gap, score = gaps.get(s.pk, 0), scores.get(s.pk)
        readiness = (
            f"readiness {score.overall:.0f}"
            if score and score.overall is not None
            else ("no readiness score yet")
        )
        need = (
            f"{s.economically_disadvantaged_pct:g}% in need; "
            if s.economically_disadvantaged_pct is not None
            else ""
        )
        items.append(
            Item(
                s.name,
                s.get_absolute_url(),
                f"{need}{shown_count(gap)} devices short; {readiness}"
                if gap > 0
                else f"{need}devices on target; {readiness}",
                level="late" if gap > 0 else "",
            )
        )
    return Section(
        f"need-{district.pk}",
        f"{district.name}: schools by need",
        items,
        schools.count(),
        reverse("schools:school_list"),
        "The district has no schools yet.",
    )


def _latest_failed(queryset) -> tuple[list, int]:
    """The LIMIT most recent rows and how many there are, in one query (a window count is
    taken before the LIMIT)."""
    rows = list(queryset.annotate(total=Window(Count("pk"))).order_by("-created_at", "-pk")[:LIMIT])
    return rows, (rows[0].total if rows else 0)


def failed_runs(district, today: date) -> Section:
    """Runs of the last month that stopped: readiness, imports, Google and roster syncs."""
    since = _start_of(today - timedelta(days=FAILED_RUN_DAYS))
    runs, runs_total = _latest_failed(
        ReadinessRun.objects.filter(
            district=district, status=RunStatus.FAILED, created_at__gte=since
        ).select_related("school")
    )
    imports, imports_total = _latest_failed(
        ImportJob.objects.filter(
            school__district=district, status=ImportJob.Status.FAILED, created_at__gte=since
        ).select_related("school")
    )
    google, google_total = _latest_failed(
        SyncRun.objects.filter(
            district=district, status=SyncRun.Status.FAILED, created_at__gte=since
        )
    )
    rosters, rosters_total = _latest_failed(
        RosterRun.objects.filter(
            district=district,
            status__in=[RosterStatus.FAILED, RosterStatus.REFUSED],
            created_at__gte=since,
        ).select_related("source")
    )

    def on(when) -> str:
        return shown_date(timezone.localtime(when).date())

    dated = [
        (
            r.created_at,
            Item(
                f"Readiness: {r.get_kind_display().lower()} run"
                + (f" of {r.school.name}" if r.school_id else ""),
                reverse("readiness:district", args=[district.pk]),
                f"{r.error or 'failed'}, {on(r.created_at)}",
                level="late",
            ),
        )
        for r in runs
    ]
    dated += [
        (
            j.created_at,
            Item(
                f"Import of {j.get_kind_display().lower()} at {j.school.name}",
                reverse("equity:import_job", args=[j.pk]),
                f"{j.summary or 'not imported'}, {on(j.created_at)}",
                level="late",
            ),
        )
        for j in imports
    ]
    dated += [
        (
            g.created_at,
            Item(
                "Google Admin sync" + (" (preview)" if g.dry_run else ""),
                reverse("googlesync:run", args=[g.pk]),
                f"{(g.error or 'failed')[:200]}, {on(g.created_at)}",
                level="late",
            ),
        )
        for g in google
    ]
    dated += [
        (
            r.created_at,
            Item(
                f"Roster sync from {r.source}",
                r.get_absolute_url(),
                f"{r.get_status_display()}"
                + (f" ({shown_count(r.error_count)} errors)" if r.error_count else "")
                + f", {on(r.created_at)}",
                level="late",
            ),
        )
        for r in rosters
    ]
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return Section(
        f"failed-{district.pk}",
        "Runs that failed this month",
        [item for _when, item in dated[:LIMIT]],
        runs_total + imports_total + google_total + rosters_total,
        reverse("readiness:district", args=[district.pk]),
        "No readiness run, import or sync failed this month.",
    )


def waiting_activation(district, today: date) -> Section:
    """Invited accounts that have never signed in (no password set, never logged in)."""
    users = (
        User.objects.filter(memberships__district=district, is_active=True, last_login=None)
        # Django's mark of an unusable password: the invitation's set-password link unused.
        .filter(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .distinct()
        .order_by("date_joined", "pk")
    )
    total = users.count()
    items = [
        Item(
            u.get_full_name(),
            reverse("accounts:members", args=[district.pk]),
            f"invited {shown_date(timezone.localtime(u.date_joined).date())}",
        )
        for u in users[:LIMIT]
    ]
    return Section(
        f"activation-{district.pk}",
        "Accounts waiting for activation",
        items,
        total,
        reverse("accounts:members", args=[district.pk]),
        "Every invited person has signed in.",
    )


def admin_home(access, today: date, *, districts: int = 3) -> list[tuple]:
    return [
        (
            district,
            [
                schools_in_need(district, today),
                failed_runs(district, today),
                waiting_activation(district, today),
            ],
        )
        for district in district_admin_districts(access).order_by("name", "pk")[:districts]
    ]


def role_schools(sections: dict[str, frozenset[int]]) -> dict[str, list[School]]:
    """The first ``HOME_SCHOOLS`` schools of each role, by name (one query)."""
    ids = frozenset().union(*sections.values())
    if not ids:
        return {}
    first = {role: set(sorted(ids_)[: HOME_SCHOOLS * 4]) for role, ids_ in sections.items()}
    wanted = frozenset().union(*first.values())
    schools = list(School.objects.filter(pk__in=wanted).order_by("name", "pk"))
    return {
        role: [s for s in schools if s.pk in sections[role]][:HOME_SCHOOLS] for role in sections
    }


def home(access, sections: dict[str, frozenset[int]], today: date | None = None) -> Home:
    """The person's home: each role's sections over the schools where they hold it."""
    today = today or timezone.localdate()
    return Home(
        schools=role_schools(sections),
        principal=principal_home(sections["principal"], today),
        coach=coach_home(sections["coach"], today),
        tech_staff=tech_home(sections["tech_staff"], today),
        district_admin=admin_home(access, today),
    )
