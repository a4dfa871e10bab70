"""Reads of the initiatives app. Each figure is one query over a set of initiatives (or one
initiative's rows), so a page costs the same with three initiatives or three hundred.
The pages' whole context comes from here (``initiative_page``, ``initiative_list_page``...); the
views only add their forms. Formulas: docs/initiatives.md."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from equity.inventory.coverage import coverage_summary, rows_for
from equity.permissions import can_read_inventory
from pd.models import Attendance, AttendanceStatus, PDSession
from schools.exports import CsvTable
from schools.models import School
from schools.pagination import ForwardPaginator
from schools.selectors import SCHOOLS_PER_PAGE
from stakeholders.models import Survey
from stakeholders.selectors import headline_results

from .models import (
    ACTIVE,
    BudgetLine,
    Category,
    ComplianceItem,
    FundingSource,
    Initiative,
    InitiativePillar,
    Milestone,
    Reflection,
    SignOff,
    Stage,
    StatusChange,
    Swot,
)
from .permissions import can_edit_initiative, linked_school_ids

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=14, decimal_places=2)


def _money(**stage_filter):
    """The sum of an initiative's budget lines (those in ``stage_filter``), as a subquery:
    a list computes it for the rows of its page only, never grouping the whole district's
    lines before its LIMIT."""
    lines = (
        BudgetLine.unscoped.filter(initiative=OuterRef("pk"), **stage_filter)
        .order_by()
        .values("initiative")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=MONEY), Value(ZERO), output_field=MONEY)


def initiative_rows(initiatives):
    """Initiatives with what a list shows, in two queries: the rows (with the budget sums
    and the next open milestone as subqueries) and their pillars; their schools come per
    page (``with_visible_schools``).

    ``budget_total`` is every line; ``budget_used`` is committed + spent."""
    next_open = Milestone.unscoped.filter(initiative=OuterRef("pk"), done_on__isnull=True).order_by(
        "due_on", "pk"
    )
    return (
        initiatives.select_related("owner")
        .annotate(
            budget_total=_money(),
            budget_used=_money(stage__in=[Stage.COMMITTED, Stage.SPENT]),
            next_milestone=Subquery(next_open.values("title")[:1]),
            next_milestone_due=Subquery(next_open.values("due_on")[:1]),
        )
        .prefetch_related("pillars")
        .order_by("title", "pk")
    )


def with_visible_schools(initiatives) -> list:
    """The initiatives, each with the schools the reader sees by name as ``visible`` (one
    query), but for a whole-district one, which a list names "Whole district": its links to
    every school of the district (1,802 at 1,000,000 students) would be read for two words."""
    rows = list(initiatives)
    by_id = {i.pk: i for i in rows}
    for initiative in rows:
        initiative.visible = []
    if rows:
        partial = Initiative.objects.filter(pk__in=list(by_id), whole_district=False)
        schools = (
            School.objects.filter(initiatives__in=partial)
            .annotate(listed_for=F("initiatives"))
            .order_by("name", "pk")
        )
        for school in schools:
            by_id[school.listed_for].visible.append(school)
    return rows


@dataclass
class BudgetTable:
    """Amounts by a dimension (category or funding source) and stage."""

    rows: list[tuple[str, dict[str, Decimal], Decimal]] = field(default_factory=list)
    by_stage: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.by_stage.values(), ZERO)

    def chart(self) -> dict:
        return {
            "type": "bar",
            "labels": [label for label, _s, _t in self.rows],
            "datasets": [
                {
                    "label": Stage(s).label,
                    "data": [float(amounts[s]) for _l, amounts, _t in self.rows],
                }
                for s in Stage.values
            ],
        }


def budget_by(initiative: Initiative, dimension: str) -> BudgetTable:
    """Sum of amounts by ``dimension`` ("category" or "funding_source") and stage: one
    grouped query. Rows with no money are left out."""
    sums: dict[str, dict[str, Decimal]] = {}
    for row in (
        BudgetLine.unscoped.filter(initiative=initiative)
        .values(dimension, "stage")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        sums.setdefault(row[dimension], {})[row["stage"]] = row["total"]
    return _budget_table(sums, dimension)


def budget_of_lines(lines: list[BudgetLine], dimension: str) -> BudgetTable:
    """``budget_by`` for lines already read (the initiative page lists them all): the same
    table without asking the database again."""
    sums: dict[str, dict[str, Decimal]] = {}
    for line in lines:
        by_stage = sums.setdefault(getattr(line, dimension), {})
        by_stage[line.stage] = by_stage.get(line.stage, ZERO) + line.amount
    return _budget_table(sums, dimension)


def _budget_table(sums: dict[str, dict[str, Decimal]], dimension: str) -> BudgetTable:
    choices = {"category": Category, "funding_source": FundingSource}[dimension]
    table = BudgetTable(by_stage=dict.fromkeys(Stage.values, ZERO))
    for key, label in choices.choices:
        if key not in sums:
            continue
        amounts = {s: sums[key].get(s, ZERO) for s in Stage.values}
        for s, amount in amounts.items():
            table.by_stage[s] += amount
        table.rows.append((label, amounts, sum(amounts.values(), ZERO)))
    return table


def pd_reach(initiative: Initiative) -> dict:
    """The visible PD sessions linked to the initiative, each with its attendees and hours,
    and the distinct people reached across them (two queries)."""
    attended = Q(attendances__status=AttendanceStatus.ATTENDED)
    sessions = list(
        PDSession.objects.filter(initiative=initiative)
        .select_related("facilitator_user", "facilitator_staff")
        .annotate(
            attendees=Count("attendances", filter=attended),
            credited=Coalesce(
                Sum("attendances__hours", filter=attended), Value(ZERO), output_field=MONEY
            ),
        )
        .order_by("-date", "-pk")
    )
    people = 0
    if sessions:
        # Counted over every attendance row of these sessions: a number, never a name.
        people = Attendance.unscoped.filter(
            session__in=[s.pk for s in sessions], status=AttendanceStatus.ATTENDED
        ).aggregate(n=Count("staff", distinct=True))["n"]
    return {
        "sessions": sessions,
        "people": people,
        "attendances": sum(s.attendees for s in sessions),
        "hours": sum((s.credited for s in sessions), ZERO),
    }


def timeline(milestones: list[Milestone], today=None) -> dict:
    """Positions (0–100 %) of milestones and today on a line from the first to the last date."""
    today = today or timezone.localdate()
    if not milestones:
        return {"items": [], "start": None, "end": None, "today": None}
    dates = [m.due_on for m in milestones] + [m.done_on for m in milestones if m.done_on]
    start, end = min([*dates, today]), max([*dates, today])
    span = max((end - start).days, 1)

    def pos(day):
        return round(100 * (day - start).days / span, 1)

    items = [
        {
            "milestone": m,
            "at": pos(m.due_on),
            "state": "done" if m.done else "overdue" if m.overdue(today) else "open",
        }
        for m in milestones
    ]
    return {"items": items, "start": start, "end": end, "today": pos(today)}


# --- the pages ------------------------------------------------------------------------


INITIATIVES_PER_PAGE = 50


def initiative_list_page(*, school: School | None = None, page=None):
    """One page of the initiatives the reader sees (of ``school`` alone when given), as a
    list shows them: never counted, never the district's 4,000 at once."""
    initiatives = Initiative.objects.all()
    if school is not None:
        initiatives = initiatives.filter(schools=school)
    page = ForwardPaginator(initiative_rows(initiatives), INITIATIVES_PER_PAGE).get_page(page)
    page.object_list = with_visible_schools(page.object_list)
    return page


def schools_in_view() -> list[School]:
    """The schools the reader sees, by name, when they are few enough to link each (the
    list's links to each school's initiatives); none for a district's worth, whose readers
    reach a school's initiatives from the school's page."""
    schools = list(School.objects.order_by("name", "pk")[: SCHOOLS_PER_PAGE + 1])
    return schools if len(schools) <= SCHOOLS_PER_PAGE else []


def latest_swot(school: School) -> Swot | None:
    return Swot.objects.filter(school=school).first()


def swots_of(school: School) -> list[Swot]:
    return list(Swot.objects.filter(school=school))


def reflections_of(school: School) -> list[Reflection]:
    return list(Reflection.objects.filter(school=school).select_related("author", "initiative"))


def budget_export(initiative: Initiative) -> CsvTable:
    """The initiative's budget lines as a CSV download, by category."""
    lines = BudgetLine.objects.filter(initiative=initiative)
    return CsvTable(
        f"initiative-{initiative.pk}-budget.csv",
        ["Category", "Description", "Funding source", "Stage", "Amount"],
        (
            [
                line.get_category_display(),
                line.description,
                line.get_funding_source_display(),
                line.get_stage_display(),
                line.amount,
            ]
            for line in lines
        ),
    )


# Schools listed in the device table of an initiative page; the rest are counted.
DEVICE_ROWS = 25


def device_plan(access, initiative: Initiative, schools: list[School]) -> dict | None:
    """The coverage of the initiative's schools that the reader may read (tech staff, a
    principal, a district admin: equity's rule), largest gaps first; None for an initiative
    that puts no devices in students' hands."""
    if not initiative.involves_devices:
        return None
    # Each school carries its district: no list of a district's 1,800 schools is read.
    ids = [s.pk for s in schools if can_read_inventory(access, s)]
    if not ids:
        return {"rows": [], "hidden": True}
    # A whole-district initiative concerns every school: the figures come from the cached
    # summary (equity.inventory.coverage), and the table lists the schools with the largest gaps.
    summary = coverage_summary(School.objects.filter(pk__in=ids))
    shown = summary.order[:DEVICE_ROWS]
    return {
        "rows": rows_for(summary, shown),
        "total": summary.totals,
        "hidden": False,
        "more": len(summary) - len(shown),
    }


@dataclass
class InitiativePage:
    """Everything the initiative page and its board summary show, in a fixed number of
    queries whatever the number of milestones, lines, surveys, sessions or schools."""

    initiative: Initiative
    schools: list[School]
    hidden_schools: int
    editable: bool
    pillars: list[InitiativePillar]
    history: list[StatusChange]
    surveys: list[tuple[Survey, bool, dict | None]]
    listened: bool
    compliance: list[ComplianceItem]
    open_compliance: list[ComplianceItem]
    milestones: list[Milestone]
    timeline: dict
    lines: list[BudgetLine]
    by_category: BudgetTable
    by_source: BudgetTable
    category_chart: dict
    source_chart: dict
    sign_offs: list[SignOff]
    reflections: list[Reflection]
    pd: dict
    devices: dict | None

    @property
    def active(self) -> bool:
        return self.initiative.status in ACTIVE

    @property
    def upcoming(self) -> list[Milestone]:
        """The next five open milestones (the board summary)."""
        return [m for m in self.milestones if not m.done][:5]

    def context(self) -> dict:
        """The page as a template context (each field a name, plus the summary's two)."""
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "active": self.active,
            "upcoming": self.upcoming,
        }


def initiative_page(initiative: Initiative, access) -> InitiativePage:
    """The initiative page as ``access`` sees it: only the schools, surveys, sessions and
    device figures the reader may see; every compliance item and history row."""
    school_ids = linked_school_ids(initiative)
    schools = list(School.objects.filter(pk__in=school_ids).order_by("name"))
    compliance = list(ComplianceItem.objects.filter(initiative=initiative).select_related("app"))
    milestones = list(Milestone.objects.filter(initiative=initiative))
    surveys = list(Survey.objects.filter(initiative=initiative).order_by("-closes_on", "pk"))
    heard = headline_results(surveys)
    today = timezone.localdate()
    # Every line of the initiative (it is loaded, so its lines are the reader's): the page
    # lists them, and both budget tables are summed from them here.
    lines = list(BudgetLine.unscoped.filter(initiative=initiative))
    by_category = budget_of_lines(lines, "category")
    by_source = budget_of_lines(lines, "funding_source")
    return InitiativePage(
        initiative=initiative,
        schools=schools,
        hidden_schools=len(school_ids) - len(schools),
        editable=can_edit_initiative(access, initiative, school_ids),
        pillars=list(InitiativePillar.objects.filter(initiative=initiative)),
        history=list(StatusChange.objects.filter(initiative=initiative).select_related("by")),
        surveys=[(s, s.is_closed(today), heard.get(s.pk)) for s in surveys],
        listened=initiative.has_closed_survey(today),
        compliance=compliance,
        open_compliance=[c for c in compliance if not c.settled],
        milestones=milestones,
        timeline=timeline(milestones, today),
        lines=lines,
        by_category=by_category,
        by_source=by_source,
        category_chart=by_category.chart(),
        source_chart={
            "type": "doughnut",
            "labels": [label for label, _a, _t in by_source.rows],
            "datasets": [{"label": "Dollars", "data": [float(t) for _l, _a, t in by_source.rows]}],
        },
        sign_offs=list(SignOff.objects.filter(initiative=initiative).select_related()),
        reflections=list(
            Reflection.objects.filter(initiative=initiative).select_related("author", "school")
        ),
        pd=pd_reach(initiative),
        devices=device_plan(access, initiative, schools),
    )
