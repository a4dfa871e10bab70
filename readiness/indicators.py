"""The indicator registry: what is measured per pillar, against which target, with which weight.

An indicator is one function decorated with ``@indicator(...)``. It receives the schools to
compute (a list of ``School`` with ``district`` loaded) and a ``Context`` (the day to compute
as of, memoised shared figures) and returns ``{school_id: Reading}`` for every school, using
a fixed number of set-based queries grouped by school, never one query per school.
A ``Reading`` with ``value=None`` is *no evidence*: shown as such, left out of the pillar's
average. Adding an indicator = one function here + its row in docs/readiness.md.

Rules for "no evidence": a ratio whose denominator is empty (no enrolled students, no
teaching staff, no active initiative, no PD hours, no budget, no story) has no evidence, and
so has a mean of survey answers from fewer respondents than the district's minimum group
(readiness never scores a group the results page hides). Counts of things a school does in
Pillarwise (needs polls, surveyed audiences, stories shared, partnerships, a plan, a SWOT)
are measured even when zero: the records are kept here, so "none in 12 months" is known.

Why one long module: it is the registry. Every indicator sits beside the others so a reader
compares their formulas, targets and "no evidence" rules at a glance, and the shared
set-based reads (``_devices``, the staff and survey figures) are memoised once per run in
the ``Context`` they all share; split by pillar, the shared reads would need a module of
their own that every pillar imports, and the one-page view of what is measured is lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Avg, Count, Exists, F, FilteredRelation, Min, OuterRef, Q, Sum
from django.urls import NoReverseMatch, reverse

from schools import numbers, permissions
from schools.models import TEACHING_POSITIONS, Grade, School, StaffMember, device_target
from schools.pillars import Pillar

YEAR_DAYS = 365

SHARE = "share"  # 0–1, shown as a percentage
RATIO = "ratio"  # a number per person
RATING = "rating"  # 1–5
COUNT = "count"  # a whole number
YES_NO = "yes_no"  # 1 or 0


@dataclass(frozen=True)
class Reading:
    value: float | None
    evidence: int = 0
    detail: str = ""


NO_EVIDENCE = Reading(None, 0, "")


@dataclass
class Context:
    """What every indicator of one run shares: the day, and figures several indicators use."""

    today: date
    memo: dict = field(default_factory=dict)
    # The query the run's schools came from (their pks), when there is one.
    schools_query: object = None

    @property
    def year_ago(self) -> date:
        """The first day of the 12 months ending ``today`` (365 days, both ends included)."""
        return self.today - timedelta(days=YEAR_DAYS - 1)

    # Figures being computed, for readers on other threads (``services.read_indicators``):
    # one computes a shared figure, the others wait for it.
    _pending: dict = field(default_factory=dict, repr=False)
    readers: set = field(default_factory=set, repr=False)  # the threads that read figures
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def once(self, key: str, compute: Callable[[], object]):
        with self._lock:
            if key in self.memo:
                return self.memo[key]
            pending = self._pending.get(key)
            mine = pending is None
            if mine:
                pending = self._pending[key] = Future()
        if not mine:
            return pending.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]  # the next reader tries again, as before
            pending.set_exception(exc)
            raise
        with self._lock:
            self.memo[key] = value
            del self._pending[key]
        pending.set_result(value)
        return value


@dataclass(frozen=True)
class Records:
    """A page that shows the records behind an indicator.

    ``capability`` names the capability the page's own view asks for (looked up when
    needed in ``schools.permissions``, so readiness names the very rule the page applies,
    without importing the app at start-up); None when anyone who sees the school may open
    it. ``school_arg``
    says how the school is passed: ``"pk"`` in the path, ``"query"`` as ``?school=``, or
    ``""`` not at all.
    """

    url_name: str
    capability: str | None = None
    school_arg: str = "pk"

    def url(self, school: School) -> str:
        if self.school_arg == "pk":
            return reverse(self.url_name, args=[school.pk])
        if self.school_arg == "query":
            return f"{reverse(self.url_name)}?school={school.pk}"
        return reverse(self.url_name)

    def opens_for(self, access, school: School) -> bool:
        if self.capability is None:
            return True
        return permissions.can(access, self.capability, school=school)


@dataclass(frozen=True)
class Indicator:
    key: str
    pillar: str
    label: str
    unit: str
    formula: str
    target: float
    weight: float
    action: str
    compute: Callable[[list[School], Context], dict[int, Reading]]
    # The worst value (scores 0). Ratings start at 1, everything else at 0.
    floor: float = 0.0
    # The largest target a district may set.
    ceiling: float = 1.0
    # Where the records behind the value live, and who may open that page.
    link: Records | None = None

    @property
    def pillar_label(self) -> str:
        return Pillar(self.pillar).label

    def url_for(self, school: School, access) -> str | None:
        """The records page for ``school``, or None when there is none or, given the
        reader's ``access``, their role may not open it."""
        if self.link is None or not self.link.opens_for(access, school):
            return None
        try:
            return self.link.url(school)
        except NoReverseMatch:
            return None

    def score(self, value: float | None, target: float) -> float | None:
        return score(value, target, self.floor)


REGISTRY: dict[str, Indicator] = {}


def indicator(**spec) -> Callable:
    """Register the decorated function as an indicator (see ``Indicator`` for the fields)."""

    def register(fn):
        item = Indicator(compute=fn, **spec)
        if item.key in REGISTRY:
            raise ValueError(f"Indicator {item.key} is registered twice.")
        if item.pillar not in Pillar.values:
            raise ValueError(f"Indicator {item.key} names an unknown pillar {item.pillar}.")
        REGISTRY[item.key] = item
        return fn

    return register


def by_pillar() -> dict[str, list[Indicator]]:
    grouped: dict[str, list[Indicator]] = {p: [] for p in Pillar.values}
    for item in REGISTRY.values():
        grouped[item.pillar].append(item)
    return grouped


# --- scoring ---------------------------------------------------------------------------


def score(value: float | None, target: float, floor: float = 0.0) -> float | None:
    """0–100: how far ``value`` has come from ``floor`` (0) to ``target`` (100), capped.

    score = 100 × clamp((value − floor) ÷ (target − floor), 0, 1), rounded to 0.1.
    No evidence (None) stays None."""
    if value is None:
        return None
    span = target - floor
    if span <= 0:
        return 100.0 if value >= target else 0.0
    return round(100 * min(1.0, max(0.0, (value - floor) / span)), 1)


def weighted_mean(pairs) -> float | None:
    """Σ weight × score ÷ Σ weight over pairs whose score is not None; None when none is."""
    scored = sorted((s, w) for s, w in pairs if s is not None and w > 0)
    total = sum(w for _s, w in scored)
    if not scored or total <= 0:
        return None
    return round(sum(s * w for s, w in scored) / total, 1)


def overall(pillar_scores: dict[str, float | None]) -> float | None:
    """The plain mean of the pillars that have evidence; None when none has."""
    return weighted_mean((s, 1.0) for s in pillar_scores.values())


# --- shared figures (computed once per run) --------------------------------------------


def _ids(schools, ctx: Context):
    """The run's schools for a ``school_id__in`` filter: the run's own query of them when it
    has one (a district run: ``IN (SELECT id FROM schools_school WHERE district_id = …)``,
    as the database would write it), else their ids. Django prepares every id of a list
    one by one: for 1,802 schools that cost about 0.1 s per filter, twenty filters a run."""
    if ctx.schools_query is not None:
        return ctx.schools_query
    return [s.pk for s in schools]


def _devices(schools, ctx: Context) -> dict[int, dict]:
    """Per school: usable computing devices and usable touchscreen devices (one query).

    Usable is the inventory's one rule (``equity.inventory.models.usable_q``), as coverage
    counts it; computing = not a hotspot. Readiness reads only these two figures, not the
    coverage plan's losses, status counts and forecast, which would scan years of device
    events for nothing."""
    from equity.inventory.models import Device, DeviceKind, usable_q

    def compute():
        computing = ~Q(model__kind=DeviceKind.HOTSPOT)
        return {
            row.pop("school_id"): row
            for row in Device.unscoped.filter(usable_q(ctx.today), school_id__in=_ids(schools, ctx))
            .values("school_id")
            .annotate(
                usable=Count("pk", filter=computing),
                touch_usable=Count("pk", filter=computing & Q(model__touchscreen=True)),
            )
            .order_by()
        }

    return ctx.once("devices", compute)


def _students(schools, ctx: Context) -> dict[int, dict]:
    """Per school, over its active students (one query): those beyond grade 2 flagged as
    needing touch (``equity/inventory/coverage.py``'s touch target), and for home connectivity those
    with home internet or an open hotspot assignment (``connected``) and those whose home
    internet is known or who hold a hotspot (``known``)."""
    from equity.inventory.models import HomeInternet, Student

    def compute():
        # Students holding a hotspot: a join to their open hotspot assignment (at most one
        # per student, a database rule), not a lookup per student.
        hotspot = Q(hotspot__id__isnull=False)
        connected = Q(home_internet=HomeInternet.YES) | hotspot
        known = ~Q(home_internet=HomeInternet.UNKNOWN) | hotspot
        return {
            row.pop("school_id"): row
            for row in Student.unscoped.filter(school_id__in=_ids(schools, ctx), active=True)
            .annotate(
                hotspot=FilteredRelation(
                    "assignments",
                    condition=Q(
                        assignments__is_hotspot=True, assignments__checked_in_at__isnull=True
                    ),
                )
            )
            .values("school_id")
            .annotate(
                touch_beyond_k2=Count("pk", filter=Q(needs_touch=True, grade__gt=Grade.G2)),
                connected=Count("pk", filter=connected),
                known=Count("pk", filter=known),
            )
            .order_by()
        }

    return ctx.once("students", compute)


def _teaching_staff(schools, ctx: Context) -> dict[int, dict]:
    """Per school: active teaching staff (``teaching``) and those whose PD hours attended in
    the 12 months reach the district's PD-hour target (``met``) — ``pd.selectors.
    staff_hours``' rule (below target = hours < target × days ÷ 365; a test holds the two
    equal). One query: the staff at target are a hashed subquery of the year's attendance
    summed per staff member, so no staff row travels to Python."""
    from pd.models import Attendance, AttendanceStatus
    from pd.selectors import Period

    def compute():
        factor = Period.last_year(ctx.today).target_factor
        targets = sorted({s.district.pd_hour_target for s in schools})
        at_target = Q()
        for raw in targets:
            # A run is one district: one target. Schools of several (tests) get one hashed
            # subquery per target.
            same = {"staff__school__district__pd_hour_target": raw} if len(targets) > 1 else {}
            at_target |= Q(
                pk__in=Attendance.unscoped.filter(
                    staff__school_id__in=_ids(schools, ctx),
                    **same,
                    status=AttendanceStatus.ATTENDED,
                    session__date__gte=ctx.year_ago,
                    session__date__lte=ctx.today,
                )
                .values("staff_id")
                .annotate(total=Sum("hours"))
                .filter(total__gte=raw * factor)
                .values("staff_id")
            )
        return {
            row.pop("school_id"): row
            for row in StaffMember.unscoped.filter(
                school_id__in=_ids(schools, ctx), active=True, position__in=TEACHING_POSITIONS
            )
            .values("school_id")
            .annotate(teaching=Count("pk"), met=Count("pk", filter=at_target))
            .order_by()
        }

    return ctx.once("teaching_staff", compute)


def _pd_attended(schools, ctx: Context) -> dict[int, dict]:
    """Per school: PD hours attended in the 12 months by its staff (every staff member, as
    pd's reports count them), those in job-embedded or ongoing sessions (counted once) and
    the attendance rows (one query)."""
    from pd.models import Attendance, AttendanceStatus

    def compute():
        embedded = Q(session__job_embedded=True) | Q(session__ongoing_series=True)
        return {
            row.pop("staff__school_id"): row
            for row in Attendance.unscoped.filter(
                staff__school_id__in=_ids(schools, ctx),
                status=AttendanceStatus.ATTENDED,
                session__date__gte=ctx.year_ago,
                session__date__lte=ctx.today,
            )
            .values("staff__school_id")
            .annotate(total=Sum("hours"), part=Sum("hours", filter=embedded), rows=Count("pk"))
            .order_by()
        }

    return ctx.once("pd_attended", compute)


ACTIVE_INITIATIVE = ("planning", "pilot", "rollout", "sustaining")


def _initiatives(schools, ctx: Context) -> dict[int, dict]:
    """Per school: active initiatives, those with a why and learning goals, and those with
    learning goals and a success measure (one query over the school links)."""
    from initiatives.models import Initiative

    def compute():
        links = Initiative.schools.through.unscoped.filter(
            school_id__in=_ids(schools, ctx),
            initiative__status__in=ACTIVE_INITIATIVE,
            initiative__created_at__date__lte=ctx.today,
        )
        filled = ~Q(initiative__learning_goals="")
        return {
            row.pop("school_id"): row
            for row in links.values("school_id")
            .annotate(
                active=Count("initiative", distinct=True),
                planned=Count("initiative", filter=filled & ~Q(initiative__why=""), distinct=True),
                measured=Count(
                    "initiative",
                    filter=filled & ~Q(initiative__success_measures=""),
                    distinct=True,
                ),
            )
            .order_by()
        }

    return ctx.once("initiatives", compute)


def _share(part: int, whole: int, what: str) -> Reading:
    if not whole:
        return NO_EVIDENCE
    return Reading(part / whole, whole, f"{part} of {whole} {what}")


def _shares(schools, rows: dict, part: str, whole: str, what: str) -> dict[int, Reading]:
    """``_share`` for every school from per-school rows of counts (no row: no evidence)."""
    out = {}
    for school in schools:
        row = rows.get(school.pk, {})
        out[school.pk] = _share(row.get(part, 0), row.get(whole, 0), what)
    return out


# The pages the evidence links to, with the capability their views ask for.
_COVERAGE = Records("equity:coverage", capability="equity.read_inventory")
_PD_REPORTS = Records("pd:reports", capability="pd.use_pd", school_arg="query")
_PD_LEADERS = Records("pd:leaders", capability="pd.use_pd")
_PD_POLLS = Records("pd:polls", capability="pd.use_pd")
_SURVEYS = Records("stakeholders:home", capability="stakeholders.tell_stories", school_arg="")
_COMMUNITY = Records("stakeholders:community", capability="stakeholders.tell_stories")
_SWOTS = Records("initiatives:swot_list")
_INITIATIVES = Records("initiatives:school")
_REFLECTIONS = Records("initiatives:reflections")
_APPS = Records("software:app_list", school_arg="")


# --- learning spaces & environments ----------------------------------------------------


@indicator(
    key="device_coverage",
    pillar=Pillar.SPACES,
    label="Usable devices against the device target",
    unit=SHARE,
    formula="usable computing devices ÷ ceil(planning ratio × enrollment)",
    target=1.0,
    weight=3,
    ceiling=1.5,
    action="Close the device gap before adding new programmes: repair or replace what is out "
    "of service and budget for the spare pool the planning ratio asks for.",
    link=_COVERAGE,
)
def device_coverage(schools, ctx):
    devices = _devices(schools, ctx)
    out = {}
    for school in schools:
        target = device_target(school.enrollment, school.district.device_planning_ratio)
        usable = devices.get(school.pk, {}).get("usable", 0)
        out[school.pk] = (
            Reading(usable / target, target, f"{usable} usable of {target} needed")
            if target
            else NO_EVIDENCE
        )
    return out


@indicator(
    key="touch_coverage",
    pillar=Pillar.SPACES,
    label="Touchscreen devices for PK–2 and students who need touch",
    unit=SHARE,
    formula="usable touchscreen devices ÷ (PK–2 enrollment + older students flagged as "
    "needing touch)",
    target=1.0,
    weight=1,
    ceiling=1.5,
    action="Give the youngest learners and every student whose accommodation calls for it a "
    "touchscreen device; plan these purchases first.",
    link=_COVERAGE,
)
def touch_coverage(schools, ctx):
    devices, students = _devices(schools, ctx), _students(schools, ctx)
    out = {}
    for school in schools:
        target = school.enrollment_pk_2 + students.get(school.pk, {}).get("touch_beyond_k2", 0)
        usable = devices.get(school.pk, {}).get("touch_usable", 0)
        out[school.pk] = (
            Reading(usable / target, target, f"{usable} touchscreen devices for {target} students")
            if target
            else NO_EVIDENCE
        )
    return out


@indicator(
    key="home_connectivity",
    pillar=Pillar.SPACES,
    label="Students connected at home",
    unit=SHARE,
    formula="active students with home internet or a hotspot checked out ÷ active students "
    "whose home internet is known or who hold a hotspot",
    target=0.95,
    weight=2,
    action="Ask families about home internet and lend a hotspot to every student without it, "
    "so learning does not stop at the school door.",
    link=_COVERAGE,
)
def home_connectivity(schools, ctx):
    rows = _students(schools, ctx)
    return _shares(schools, rows, "connected", "known", "students known to be connected")


@indicator(
    key="pedagogy_plan",
    pillar=Pillar.SPACES,
    label="Active initiatives with a pedagogy plan",
    unit=SHARE,
    formula="active initiatives (planning to sustaining) with a why and learning goals ÷ "
    "active initiatives",
    target=1.0,
    weight=2,
    action="Before buying furniture or technology, write down how teaching will change to "
    "use it: the why and the learning goals of each initiative.",
)
def pedagogy_plan(schools, ctx):
    rows = _initiatives(schools, ctx)
    return _shares(
        schools, rows, "planned", "active", "active initiatives with a why and learning goals"
    )


def _apps_in_use(schools, ctx: Context) -> dict[int, dict]:
    """Per school: the register's apps cited by compliance items of its active initiatives,
    and those of them cleared on the day: approved, with a signed agreement that has not
    expired (``software.models.AppQuerySet.cleared``'s rule; one query)."""
    from initiatives.models import Initiative

    def compute():
        links = Initiative.schools.through.unscoped.filter(
            school_id__in=_ids(schools, ctx),
            initiative__status__in=ACTIVE_INITIATIVE,
            initiative__created_at__date__lte=ctx.today,
            initiative__compliance_items__app__isnull=False,
        )
        app = "initiative__compliance_items__app"
        cleared = (
            Q(**{f"{app}__decision__in": ("approved", "approved_with_conditions")})
            & Q(**{f"{app}__dpa_status": "signed"})
            & (
                Q(**{f"{app}__dpa_expires_on__isnull": True})
                | Q(**{f"{app}__dpa_expires_on__gte": ctx.today})
            )
        )
        return {
            row.pop("school_id"): row
            for row in links.values("school_id")
            .annotate(
                used=Count(app, distinct=True),
                cleared=Count(app, filter=cleared, distinct=True),
            )
            .order_by()
        }

    return ctx.once("apps_in_use", compute)


@indicator(
    key="apps_cleared",
    pillar=Pillar.SPACES,
    label="Apps in active initiatives approved with a current privacy agreement",
    unit=SHARE,
    formula="apps of the district's register cited by compliance items of active initiatives "
    "that are approved with a signed, unexpired data-privacy agreement ÷ those apps",
    target=1.0,
    weight=1,
    action="Before an app reaches students, have the district approve it and sign its "
    "data-privacy agreement; renew agreements before they expire.",
    link=_APPS,
)
def apps_cleared(schools, ctx):
    rows = _apps_in_use(schools, ctx)
    return _shares(
        schools, rows, "cleared", "used", "apps in use approved with a current agreement"
    )


# --- student engagement, learning & outcomes -------------------------------------------


@indicator(
    key="initiatives_measured",
    pillar=Pillar.ENGAGEMENT,
    label="Active initiatives with learning goals and a success measure",
    unit=SHARE,
    formula="active initiatives with learning goals and a success measure ÷ active initiatives",
    target=1.0,
    weight=2,
    action="Give every initiative learning goals and a way to tell whether students learn "
    "better with it, and check that evidence as the work goes on.",
)
def initiatives_measured(schools, ctx):
    rows = _initiatives(schools, ctx)
    return _shares(
        schools, rows, "measured", "active", "active initiatives with goals and a success measure"
    )


# --- professional learning -------------------------------------------------------------


@indicator(
    key="pd_hours_met",
    pillar=Pillar.PROFESSIONAL_LEARNING,
    label="Teaching staff who reached the PD-hour target",
    unit=SHARE,
    formula="active teaching staff with attended PD hours ≥ the district's PD-hour target in "
    "the last 12 months ÷ active teaching staff",
    target=0.9,
    weight=3,
    action="Plan professional learning into the school day so every teacher reaches the hour "
    "target; start with those who have had none this year.",
    link=_PD_REPORTS,
)
def pd_hours_met(schools, ctx):
    rows = _teaching_staff(schools, ctx)
    return _shares(schools, rows, "met", "teaching", "teaching staff at target")


@indicator(
    key="pd_job_embedded",
    pillar=Pillar.PROFESSIONAL_LEARNING,
    label="PD hours that are job-embedded or ongoing",
    unit=SHARE,
    formula="attended hours in job-embedded sessions or sessions of an ongoing series ÷ all "
    "attended hours, last 12 months",
    target=0.5,
    weight=2,
    action="Move PD from one-off workshops to coaching cycles, PLCs and modelling in "
    "classrooms that continue over weeks, so teachers apply what they learn.",
    link=_PD_REPORTS,
)
def pd_job_embedded(schools, ctx):
    attended = _pd_attended(schools, ctx)
    out = {}
    for school in schools:
        row = attended.get(school.pk)
        hours = float(row["total"] or 0) if row else 0.0
        if not hours:
            out[school.pk] = NO_EVIDENCE
            continue
        embedded_hours = float(row["part"] or 0)
        out[school.pk] = Reading(
            embedded_hours / hours,
            row["rows"],
            f"{numbers.hours(embedded_hours)} of {numbers.hours(hours)} hours "
            "job-embedded or ongoing",
        )
    return out


def cohort_year(today: date) -> int:
    """The school year a day falls in, named by the year it starts (July onwards)."""
    return today.year if today.month >= 7 else today.year - 1


@indicator(
    key="learning_leaders",
    pillar=Pillar.PROFESSIONAL_LEARNING,
    label="Learning Leaders per teaching staff member",
    unit=RATIO,
    formula="Learning Leaders of the current cohort ÷ active teaching staff",
    target=0.1,
    weight=1,
    action="Invite trusted colleagues who learn in the open (not the most technical ones) to "
    "lead PD for their peers; about one for every ten teachers.",
    link=_PD_LEADERS,
)
def learning_leaders(schools, ctx):
    from pd.models import LearningLeader

    leaders = dict(
        LearningLeader.unscoped.filter(
            school_id__in=_ids(schools, ctx), cohort_year=cohort_year(ctx.today), staff__active=True
        )
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    teaching = _teaching_staff(schools, ctx)
    out = {}
    for school in schools:
        staff = teaching.get(school.pk, {}).get("teaching", 0)
        n = leaders.get(school.pk, 0)
        out[school.pk] = (
            Reading(n / staff, staff, f"{n} Learning Leaders for {staff} teaching staff")
            if staff
            else NO_EVIDENCE
        )
    return out


@indicator(
    key="pd_feedback",
    pillar=Pillar.PROFESSIONAL_LEARNING,
    label="Mean PD feedback rating",
    unit=RATING,
    formula="mean rating (1–5) of feedback given in the last 12 months on the school's sessions",
    target=4.0,
    weight=1,
    floor=1.0,
    ceiling=5.0,
    action="Read what teachers say they will apply and shape the next sessions around it; "
    "ask for feedback after every session.",
    link=_PD_REPORTS,
)
def pd_feedback(schools, ctx):
    from pd.models import PDSession

    # A session of several schools counts for each of them.
    rows = {
        row["school_id"]: row
        for row in PDSession.schools.through.unscoped.filter(
            school_id__in=_ids(schools, ctx),
            pdsession__feedback__submitted_on__gte=ctx.year_ago,
            pdsession__feedback__submitted_on__lte=ctx.today,
        )
        .values("school_id")
        .annotate(mean=Avg("pdsession__feedback__rating"), n=Count("pdsession__feedback"))
        .order_by()
    }
    out = {}
    for school in schools:
        row = rows.get(school.pk)
        out[school.pk] = (
            Reading(float(row["mean"]), row["n"], f"{row['n']} answers")
            if row and row["n"]
            else NO_EVIDENCE
        )
    return out


@indicator(
    key="needs_poll",
    pillar=Pillar.PROFESSIONAL_LEARNING,
    label="A PD needs poll in the last 12 months",
    unit=YES_NO,
    formula="1 when a needs poll of the school opened in the last 12 months, else 0",
    target=1.0,
    weight=1,
    action="Ask staff what they want to learn next with a short needs poll, and build the "
    "PD plan from the answers.",
    link=_PD_POLLS,
)
def needs_poll(schools, ctx):
    from pd.models import PDNeedsPoll

    polls = dict(
        PDNeedsPoll.unscoped.filter(
            school_id__in=_ids(schools, ctx), opens_on__gte=ctx.year_ago, opens_on__lte=ctx.today
        )
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out = {}
    for school in schools:
        n = polls.get(school.pk, 0)
        out[school.pk] = Reading(
            1.0 if n else 0.0, n, f"{n} poll{'s' if n != 1 else ''} in 12 months"
        )
    return out


# --- stakeholder surveys (shared figures) ------------------------------------------------

# The three audiences a school should hear from every year.
SURVEY_AUDIENCES = ("teachers", "students", "families")
STORY_DAYS = 90


def _min_group(school: School) -> int:
    """The district's minimum group for survey answers (stakeholders' rule)."""
    from stakeholders.selectors import DEFAULT_MIN_GROUP

    return max(getattr(school.district, "survey_min_group", None) or DEFAULT_MIN_GROUP, 1)


def _closed_in_year(ctx: Context, prefix: str = "survey__") -> Q:
    """Surveys that closed within the 12 months: by hand (``closed_on``) or by their last
    day (``closes_on`` before today)."""
    return Q(
        **{
            f"{prefix}closed_on__isnull": False,
            f"{prefix}closed_on__gte": ctx.year_ago,
            f"{prefix}closed_on__lte": ctx.today,
        }
    ) | Q(
        **{
            f"{prefix}closed_on__isnull": True,
            f"{prefix}closes_on__gte": ctx.year_ago,
            f"{prefix}closes_on__lt": ctx.today,
        }
    )


def _closed_surveys(schools, ctx: Context) -> dict[int, dict[int, set[str]]]:
    """Per school: its surveys closed in the 12 months, each with the audiences it had a
    link for (one query; a survey of several schools counts for each)."""
    from stakeholders.models import Survey

    def compute():
        found: dict[int, dict[int, set[str]]] = {}
        rows = (
            Survey.schools.through.unscoped.filter(
                _closed_in_year(ctx), school_id__in=_ids(schools, ctx)
            )
            .values_list("school_id", "survey_id", "survey__invitations__audience")
            .distinct()
            .order_by()
        )
        for school_id, survey_id, audience in rows:
            audiences = found.setdefault(school_id, {}).setdefault(survey_id, set())
            if audience:
                audiences.add(audience)
        return found

    return ctx.once("closed_surveys", compute)


# Which answers each agreement indicator reads: (audience, the questions it asks about).
AGREEMENT_ITEMS = {
    "students": Q(question__pillar=Pillar.ENGAGEMENT),
    "families": Q(question__sentiment=True) | Q(question__pillar=Pillar.BRANDING),
}


def _agreement_groups(schools, ctx: Context) -> dict[tuple[int, str], list[dict]]:
    """Likert answers of the 12 months per (school, audience), as one row per survey: the
    sum of the answers, their number and the respondents (one query for both audiences,
    grouped by school, survey and audience; a survey of several schools counts for each)."""
    from stakeholders.models import Answer

    def compute():
        items = Q()
        for audience, questions in AGREEMENT_ITEMS.items():
            items |= Q(response__audience=audience) & questions
        answers = Answer.unscoped.filter(
            items,
            response__submitted_on__gte=ctx.year_ago,
            response__submitted_on__lte=ctx.today,
            likert__isnull=False,
        )
        groups: dict[tuple[int, str], list[dict]] = {}
        for row in (
            answers.filter(response__survey__schools__in=_ids(schools, ctx))
            .annotate(school_id=F("response__survey__schools"))
            .values("school_id", "response__survey_id", "response__audience")
            .annotate(
                total=Sum("likert"),
                answers=Count("pk"),
                respondents=Count("response_id", distinct=True),
            )
            .order_by()
        ):
            groups.setdefault((row["school_id"], row["response__audience"]), []).append(row)
        return groups

    return ctx.once("agreement", compute)


def _agreement(schools, ctx: Context, audience: str, what: str) -> dict[int, Reading]:
    """Mean agreement (0–1) of ``audience``'s Likert answers to its items, 12 months.

    A survey's group counts only when its respondents reach the district's minimum group:
    below it the answers are hidden on the results page, so readiness leaves them out too
    (and a school left with none has no evidence). Agreement = (mean − 1) ÷ 4, so 1
    (strongly disagree) is 0 and 5 is 1."""
    from stakeholders.selectors import reaches_minimum

    groups = _agreement_groups(schools, ctx)
    out = {}
    for school in schools:
        minimum = _min_group(school)
        kept = [
            r
            for r in groups.get((school.pk, audience), [])
            if reaches_minimum(r["respondents"], minimum)
        ]
        answered = sum(r["answers"] for r in kept)
        if not answered:
            out[school.pk] = NO_EVIDENCE
            continue
        mean = sum(r["total"] for r in kept) / answered
        people = sum(r["respondents"] for r in kept)
        out[school.pk] = Reading(
            (mean - 1) / 4,
            people,
            f"mean {numbers.rating(mean)} of 5 from {people} {what} in {len(kept)} "
            f"survey{'s' if len(kept) != 1 else ''}",
        )
    return out


# --- student engagement: student voice ---------------------------------------------------


@indicator(
    key="student_voice",
    pillar=Pillar.ENGAGEMENT,
    label="Students' agreement with engagement items",
    unit=SHARE,
    formula="mean agreement (1–5 mapped to 0–1) of students' answers to agree–disagree "
    "items tagged engagement, surveys answered in the last 12 months; a survey counts only "
    "when its student respondents reach the district's minimum group",
    target=0.75,
    weight=2,
    action="Ask students whether their work lets them think and apply their thinking to real "
    "problems, then redesign tasks and questions with teachers where they say it does not.",
    link=_SURVEYS,
)
def student_voice(schools, ctx):
    return _agreement(schools, ctx, "students", "students")


# --- communication -----------------------------------------------------------------------


@indicator(
    key="surveys_per_audience",
    pillar=Pillar.COMMUNICATION,
    label="Teachers, students and families surveyed in the last 12 months",
    unit=SHARE,
    formula="audiences (teachers, students, families) with a link to a survey of the school "
    "that closed in the last 12 months ÷ 3",
    target=1.0,
    weight=2,
    action="Reach people where they are: survey teachers, students and families at least "
    "once a year each, and tell them what changed because of their answers.",
    link=_SURVEYS,
)
def surveys_per_audience(schools, ctx):
    closed = _closed_surveys(schools, ctx)
    out = {}
    for school in schools:
        surveys = closed.get(school.pk, {})
        heard = set().union(*surveys.values()) & set(SURVEY_AUDIENCES) if surveys else set()
        names = ", ".join(a for a in SURVEY_AUDIENCES if a in heard) or "none"
        out[school.pk] = Reading(
            len(heard) / len(SURVEY_AUDIENCES),
            len(surveys),
            f"{len(heard)} of 3 audiences ({names}) in {len(surveys)} closed "
            f"survey{'s' if len(surveys) != 1 else ''}",
        )
    return out


@indicator(
    key="survey_response_rate",
    pillar=Pillar.COMMUNICATION,
    label="Response rate of surveys closed in the last 12 months",
    unit=SHARE,
    formula="responses ÷ expected respondents (stakeholders' headline figures) of the "
    "school's surveys closed in the last 12 months, counting only surveys whose rate is "
    "shown: responses at or above the minimum group and every answering audience with an "
    "expected number",
    target=0.6,
    weight=1,
    action="Send each survey through the tools people already use every day, say how long it "
    "takes and remind once; set the expected number on every link so the rate is known.",
    link=_SURVEYS,
)
def survey_response_rate(schools, ctx):
    closed = _closed_surveys(schools, ctx)
    ids = sorted({sid for surveys in closed.values() for sid in surveys})
    rates = ctx.once("survey_rates", lambda: shown_rates(ids))
    out = {}
    for school in schools:
        shown = [rates[sid] for sid in sorted(closed.get(school.pk, {})) if sid in rates]
        answered = sum(n for n, _e in shown)
        expected = sum(e for _n, e in shown)
        out[school.pk] = (
            Reading(
                answered / expected,
                answered,
                f"{answered} responses of {expected} expected in {len(shown)} "
                f"survey{'s' if len(shown) != 1 else ''}",
            )
            if expected
            else NO_EVIDENCE
        )
    return out


def shown_rates(survey_ids) -> dict[int, tuple[int, int]]:
    """Per survey whose response rate the results page shows: (responses, expected).

    ``stakeholders.selectors.headline_results``' rule — a rate is shown when the responses
    reach the strictest minimum group of the survey's districts and every answering
    audience has an expected number — built from the same helpers, without the need
    categories readiness does not use (three queries instead of four, and no read of every
    answer of every survey). A test holds the two equal."""
    from stakeholders.models import Response, Survey
    from stakeholders.selectors import (
        DEFAULT_MIN_GROUP,
        _expected,
        _total_expected,
        reaches_minimum,
    )

    ids = list(survey_ids)
    if not ids:
        return {}
    minimums = dict(
        Survey.schools.through.unscoped.filter(survey_id__in=ids)
        .values_list("survey_id")
        .annotate(m=Min("school__district__survey_min_group"))
        .values_list("survey_id", "m")
        .order_by()
    )
    answered: dict[int, dict[str, int]] = {sid: {} for sid in ids}
    for survey_id, audience, n in (
        Response.unscoped.filter(survey_id__in=ids)
        .values_list("survey_id", "audience")
        .annotate(n=Count("pk"))
        .values_list("survey_id", "audience", "n")
        .order_by()
    ):
        answered[survey_id][audience] = n
    invited: dict[int, dict[str, int | None]] = {sid: {} for sid in ids}
    for (survey_id, audience), n in _expected(ids).items():
        invited[survey_id][audience] = n
    out = {}
    for sid in ids:
        n = sum(answered[sid].values())
        expected = _total_expected(answered[sid], invited[sid])
        if expected and reaches_minimum(n, minimums.get(sid, DEFAULT_MIN_GROUP)):
            out[sid] = (n, expected)
    return out


@indicator(
    key="communication_plans",
    pillar=Pillar.COMMUNICATION,
    label="A communication plan with channels and a daily tool",
    unit=YES_NO,
    formula="1 when the school has a communication plan with at least one channel and a tool "
    "used every day, else 0",
    target=1.0,
    weight=1,
    action="Write down how the school keeps its community informed: a mix of traditional "
    "channels and social media, and one or two tools used every day without fail.",
    link=_COMMUNITY,
)
def communication_plans(schools, ctx):
    from stakeholders.models import CommunicationPlan

    plans = dict(
        CommunicationPlan.unscoped.filter(school_id__in=_ids(schools, ctx))
        .exclude(daily_tool="")
        .values_list("school_id")
        .annotate(n=Count("channels"))
        .order_by()
    )
    out = {}
    for school in schools:
        channels = plans.get(school.pk)
        if channels is None:
            detail = "no plan with a daily tool"
        else:
            detail = f"a plan with {channels} channel{'s' if channels != 1 else ''}"
        out[school.pk] = Reading(1.0 if channels else 0.0, 1 if channels else 0, detail)
    return out


# --- public relations --------------------------------------------------------------------

# Story roles other than the school's leaders: the stories others bring.
OTHER_TELLERS = ("students", "teachers", "staff", "families", "community")


def _stories(schools, ctx: Context) -> dict[int, dict]:
    """Per school: stories dated in the last 90 days, those shared somewhere, and those
    involving people other than the leaders (one query)."""
    from stakeholders.models import Story, StoryPerson, StoryShare

    def compute():
        since = ctx.today - timedelta(days=STORY_DAYS - 1)
        return {
            row.pop("school_id"): row
            for row in Story.unscoped.filter(
                school_id__in=_ids(schools, ctx), date__gte=since, date__lte=ctx.today
            )
            .annotate(
                is_shared=Exists(StoryShare.unscoped.filter(story=OuterRef("pk"))),
                by_others=Exists(
                    StoryPerson.unscoped.filter(story=OuterRef("pk"), role__in=OTHER_TELLERS)
                ),
            )
            .values("school_id")
            .annotate(
                total=Count("pk"),
                shared=Count("pk", filter=Q(is_shared=True)),
                others=Count("pk", filter=Q(by_others=True)),
            )
            .order_by()
        }

    return ctx.once("stories", compute)


@indicator(
    key="stories_shared",
    pillar=Pillar.PUBLIC_RELATIONS,
    label="Stories of connection shared in the last 90 days",
    unit=COUNT,
    formula="stories of connection dated in the last 90 days that were shared on at least one "
    "channel (newsletter, social media, local news, board meeting)",
    target=6.0,
    weight=2,
    ceiling=60.0,
    action="Be the first to tell the school's story: share what went well every week or two, "
    "with words, links, pictures and video, on the channels families follow.",
    link=_COMMUNITY,
)
def stories_shared(schools, ctx):
    rows = _stories(schools, ctx)
    out = {}
    for school in schools:
        row = rows.get(school.pk, {})
        shared, total = row.get("shared", 0), row.get("total", 0)
        out[school.pk] = Reading(
            float(shared), shared, f"{shared} of {total} stories of the last 90 days shared"
        )
    return out


@indicator(
    key="stories_by_others",
    pillar=Pillar.PUBLIC_RELATIONS,
    label="Stories that involve students, staff, families or the community",
    unit=SHARE,
    formula="stories of the last 90 days involving students, teachers, other staff, families "
    "or community members ÷ stories of the last 90 days",
    target=0.5,
    weight=1,
    action="Invite students, teachers and families to bring their own stories, and amplify "
    "them rather than telling every story yourself.",
    link=_COMMUNITY,
)
def stories_by_others(schools, ctx):
    rows = _stories(schools, ctx)
    return _shares(
        schools,
        rows,
        "others",
        "total",
        "stories of the last 90 days involve people beyond the leaders",
    )


# --- branding ----------------------------------------------------------------------------


@indicator(
    key="swot_recent",
    pillar=Pillar.BRANDING,
    label="A SWOT analysis this school year",
    unit=YES_NO,
    formula="1 when the school has a SWOT analysis of the current school year, or of the "
    "previous one updated in the last 12 months, else 0",
    target=1.0,
    weight=2,
    action="Each year, sit down with a committee of students, staff and families to name the "
    "school's strengths, weaknesses, opportunities and threats, and build the brand on them.",
    link=_SWOTS,
)
def swot_recent(schools, ctx):
    from initiatives.models import Swot

    year = cohort_year(ctx.today)
    done = set(
        Swot.unscoped.filter(school_id__in=_ids(schools, ctx))
        .filter(
            Q(year=year)
            | Q(year=year - 1, updated_at__date__gte=ctx.year_ago, updated_at__date__lte=ctx.today)
        )
        .values_list("school_id", flat=True)
        .distinct()
    )
    return {
        s.pk: Reading(1.0, 1, "a SWOT analysis this year")
        if s.pk in done
        else Reading(0.0, 0, "no SWOT analysis this year")
        for s in schools
    }


@indicator(
    key="family_sentiment",
    pillar=Pillar.BRANDING,
    label="Families' agreement with sentiment items",
    unit=SHARE,
    formula="mean agreement (1–5 mapped to 0–1) of families' answers to sentiment items or "
    "items tagged branding, surveys answered in the last 12 months; a survey counts only when "
    "its family respondents reach the district's minimum group",
    target=0.75,
    weight=1,
    action="Ask families how they feel about the school, then use the same hashtag and tools "
    "every day to show the culture they should be proud of.",
    link=_SURVEYS,
)
def family_sentiment(schools, ctx):
    return _agreement(schools, ctx, "families", "families")


# --- opportunity -------------------------------------------------------------------------


@indicator(
    key="partnerships_active",
    pillar=Pillar.OPPORTUNITY,
    label="Active partnerships",
    unit=COUNT,
    formula="partnerships of the school marked active that started on or before today",
    target=3.0,
    weight=2,
    ceiling=50.0,
    action="Show alumni and local businesses the innovative work in your classrooms and ask "
    "them to partner: mentoring, internships, equipment or donations.",
    link=_COMMUNITY,
)
def partnerships_active(schools, ctx):
    from stakeholders.models import Partnership

    counts = dict(
        Partnership.unscoped.filter(
            school_id__in=_ids(schools, ctx), active=True, started_on__lte=ctx.today
        )
        .values_list("school_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    out = {}
    for school in schools:
        n = counts.get(school.pk, 0)
        out[school.pk] = Reading(float(n), n, f"{n} active partnership{'s' if n != 1 else ''}")
    return out


@indicator(
    key="external_funding",
    pillar=Pillar.OPPORTUNITY,
    label="Initiative budget funded by grants and donations",
    unit=SHARE,
    formula="budget lines funded by a grant or a donation ÷ all budget lines, of the active "
    "initiatives of the school (any stage)",
    target=0.2,
    weight=1,
    action="Look beyond the general fund: bring partners, grants and donations into the "
    "budget of each initiative.",
    link=_INITIATIVES,
)
def external_funding(schools, ctx):
    from initiatives.models import FundingSource, Initiative

    lines = "initiative__budget_lines__"
    external = Q(**{f"{lines}funding_source__in": [FundingSource.GRANT, FundingSource.DONATION]})
    rows = {
        row.pop("school_id"): row
        for row in Initiative.schools.through.unscoped.filter(
            school_id__in=_ids(schools, ctx),
            initiative__status__in=ACTIVE_INITIATIVE,
            initiative__created_at__date__lte=ctx.today,
        )
        .values("school_id")
        .annotate(
            total=Sum(f"{lines}amount"),
            external=Sum(f"{lines}amount", filter=external),
            lines=Count(f"{lines}pk"),
        )
        .order_by()
    }
    out = {}
    for school in schools:
        row = rows.get(school.pk)
        total = float(row["total"] or 0) if row else 0.0
        if not total:
            out[school.pk] = NO_EVIDENCE
            continue
        outside = float(row["external"] or 0)
        out[school.pk] = Reading(
            outside / total,
            row["lines"],
            f"{numbers.money(outside)} of {numbers.money(total)} from grants and donations",
        )
    return out


@indicator(
    key="initiatives_evaluated",
    pillar=Pillar.OPPORTUNITY,
    label="Initiatives in students' hands that were evaluated",
    unit=SHARE,
    formula="initiatives in rollout or sustaining, or retired in the last 12 months, with a "
    "reflection about them written in the last 12 months ÷ those initiatives",
    target=1.0,
    weight=1,
    action="Look back at every initiative that reached students: is it meeting their needs "
    "and interests? Write the reflection and keep, change or retire it.",
    link=_REFLECTIONS,
)
def initiatives_evaluated(schools, ctx):
    from initiatives.models import Initiative, Reflection, StatusChange

    retired = Exists(
        StatusChange.unscoped.filter(
            initiative_id=OuterRef("initiative_id"),
            to_status="retired",
            at__date__gte=ctx.year_ago,
            at__date__lte=ctx.today,
        )
    )
    evaluated = Exists(
        Reflection.unscoped.filter(
            initiative_id=OuterRef("initiative_id"),
            written_on__gte=ctx.year_ago,
            written_on__lte=ctx.today,
        )
    )
    rows = {
        row.pop("school_id"): row
        for row in Initiative.schools.through.unscoped.filter(
            school_id__in=_ids(schools, ctx), initiative__created_at__date__lte=ctx.today
        )
        .annotate(retired_recently=retired, evaluated=evaluated)
        .filter(
            Q(initiative__status__in=["rollout", "sustaining"])
            | Q(initiative__status="retired", retired_recently=True)
        )
        .values("school_id")
        .annotate(n=Count("initiative_id"), done=Count("initiative_id", filter=Q(evaluated=True)))
        .order_by()
    }
    return _shares(
        schools, rows, "done", "n", "initiatives in students' hands with a reflection in 12 months"
    )
