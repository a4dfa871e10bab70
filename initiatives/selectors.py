"""Reads of the initiatives app. Each figure is one query over a set of initiatives (or one
initiative's rows), so a page costs the same with three initiatives or three hundred.
Formulas: docs/initiatives.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from pd.models import Attendance, AttendanceStatus, PDSession
from schools.models import School

from .models import BudgetLine, Category, FundingSource, Initiative, Milestone, Stage

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=14, decimal_places=2)


def _money(stage_filter: Q | None = None):
    return Coalesce(
        Sum("budget_lines__amount", filter=stage_filter), Value(ZERO), output_field=MONEY
    )


def initiative_rows(initiatives):
    """Initiatives with what a list shows, in three queries: the rows (with the budget sums
    and the next open milestone as subqueries), their visible schools, their pillars.

    ``budget_total`` is every line; ``budget_used`` is committed + spent."""
    next_open = Milestone._base_manager.filter(
        initiative=OuterRef("pk"), done_on__isnull=True
    ).order_by("due_on", "pk")
    return (
        initiatives.select_related("owner")
        .annotate(
            budget_total=_money(),
            budget_used=_money(Q(budget_lines__stage__in=[Stage.COMMITTED, Stage.SPENT])),
            next_milestone=Subquery(next_open.values("title")[:1]),
            next_milestone_due=Subquery(next_open.values("due_on")[:1]),
        )
        .prefetch_related(
            Prefetch("schools", queryset=School.objects.order_by("name"), to_attr="visible"),
            "pillars",
        )
        .order_by("title", "pk")
    )


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
    choices = {"category": Category, "funding_source": FundingSource}[dimension]
    sums: dict[str, dict[str, Decimal]] = {}
    for row in (
        BudgetLine._base_manager.filter(initiative=initiative)
        .values(dimension, "stage")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        sums.setdefault(row[dimension], {})[row["stage"]] = row["total"]
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
        people = Attendance._base_manager.filter(
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
