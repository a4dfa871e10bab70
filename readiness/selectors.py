"""Reads for the readiness pages: a fixed number of queries whatever the number of schools or
snapshots (the scores themselves are computed by the jobs, never by a page)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F, FloatField, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Lower

from schools import numbers
from schools.models import School
from schools.pillars import Pillar

from .indicators import RATING, REGISTRY, SHARE, YES_NO
from .models import ReadinessRun, RunStatus, Snapshot
from .services import Scores, latest_snapshots

HISTORY_POINTS = 52
TREND_RUNS = 120
# A change smaller than this (score points) is not listed as "what changed".
CHANGE_THRESHOLD = 0.5


def format_value(unit: str, value: float | None) -> str:
    """An indicator's value or target as the page shows it (schools/numbers.py)."""
    if value is None:
        return "no evidence"
    if unit == SHARE:
        return numbers.share(value)
    if unit == RATING:
        return f"{numbers.rating(value)} / 5"
    if unit == YES_NO:
        return "yes" if value >= 1 else "no"
    return numbers.number(value)


@dataclass
class IndicatorRow:
    key: str
    label: str
    formula: str
    action: str
    value: float | None
    value_text: str
    target_text: str
    score: float | None
    weight: float
    evidence: int
    detail: str
    url: str | None

    @property
    def below_target(self) -> bool:
        return self.score is not None and self.score < 100


@dataclass
class PillarRow:
    key: str
    label: str
    score: float | None
    indicators: list[IndicatorRow] = field(default_factory=list)

    @property
    def actions(self) -> list[IndicatorRow]:
        return [i for i in self.indicators if i.below_target]


def _indicator_rows(snapshot: Snapshot, school: School, access) -> dict[str, list[IndicatorRow]]:
    rows: dict[str, list[IndicatorRow]] = {p: [] for p in Pillar.values}
    for item in snapshot.indicators:
        spec = REGISTRY.get(item["key"])
        if spec is None:  # an indicator retired since this snapshot
            continue
        rows.setdefault(item["pillar"], []).append(
            IndicatorRow(
                key=spec.key,
                label=spec.label,
                formula=spec.formula,
                action=spec.action,
                value=item["value"],
                value_text=format_value(spec.unit, item["value"]),
                target_text=format_value(spec.unit, item["target"]),
                score=item["score"],
                weight=item["weight"],
                evidence=item["evidence"],
                detail=item.get("detail", ""),
                url=spec.url_for(school, access),
            )
        )
    for items in rows.values():
        items.sort(key=lambda r: (r.score is None, r.score if r.score is not None else 0, r.key))
    return rows


def pillar_rows(snapshot: Snapshot, school: School, access) -> list[PillarRow]:
    """The seven pillars, weakest first; pillars without evidence last. An indicator
    links to its records only when the reader's ``access`` may open them."""
    indicators = _indicator_rows(snapshot, school, access)
    pillars = [
        PillarRow(
            key=key,
            label=label,
            score=snapshot.pillars.get(key),
            indicators=indicators.get(key, []),
        )
        for key, label in Pillar.choices
    ]
    order = list(Pillar.values)
    pillars.sort(key=lambda p: (p.score is None, p.score or 0, order.index(p.key)))
    return pillars


@dataclass
class Change:
    text: str
    direction: str  # "up", "down" or "new"


def changes(latest: Snapshot, previous: Snapshot | None) -> list[Change]:
    """What moved between two snapshots: overall, pillars, indicators (largest first)."""
    if previous is None:
        return []
    found: list[tuple[float, Change]] = []

    def moved(label: str, old, new, text_old: str, text_new: str, weight: float = 1.0):
        if old is None and new is None:
            return
        if old is None:
            found.append((1e9, Change(f"{label}: now {text_new} (no evidence before)", "new")))
        elif new is None:
            found.append((1e9, Change(f"{label}: no evidence now (was {text_old})", "down")))
        elif abs(new - old) >= CHANGE_THRESHOLD * weight:
            direction = "up" if new > old else "down"
            found.append((abs(new - old), Change(f"{label}: {text_old} → {text_new}", direction)))

    def fmt(v):
        return "—" if v is None else numbers.number(v, 1)

    moved(
        "Overall score",
        previous.overall,
        latest.overall,
        fmt(previous.overall),
        fmt(latest.overall),
    )
    labels = dict(Pillar.choices)
    for key in Pillar.values:
        old, new = previous.pillars.get(key), latest.pillars.get(key)
        moved(labels[key], old, new, fmt(old), fmt(new))
    before = {i["key"]: i for i in previous.indicators}
    for item in latest.indicators:
        spec, old = REGISTRY.get(item["key"]), before.get(item["key"])
        if spec is None or old is None:
            continue
        if old["value"] == item["value"]:
            continue
        moved(
            spec.label,
            old["score"],
            item["score"],
            format_value(spec.unit, old["value"]),
            format_value(spec.unit, item["value"]),
            weight=0.0,
        )
    found.sort(key=lambda pair: -pair[0])
    return [c for _size, c in found]


def last_run_for_school(school: School) -> ReadinessRun | None:
    """The newest run that covered the school (its own, or its district's)."""
    return (
        ReadinessRun.objects.filter(district_id=school.district_id)
        .filter(Q(school__isnull=True) | Q(school=school))
        .order_by("-created_at", "-pk")
        .first()
    )


def school_dashboard(school: School, access) -> dict:
    """Everything the principal page shows (three queries); links as ``access`` allows."""
    recent = list(Snapshot.objects.filter(school=school).order_by("-computed_at", "-pk")[:2])
    latest = recent[0] if recent else None
    previous = recent[1] if len(recent) > 1 else None
    history = list(
        Snapshot.objects.filter(school=school)
        .order_by("-computed_at", "-pk")
        .values_list("computed_at", "overall")[:HISTORY_POINTS]
    )[::-1]
    pillars = pillar_rows(latest, school, access) if latest else []
    by_key = {p.key: p for p in pillars}
    labels = dict(Pillar.choices)
    return {
        "latest": latest,
        "previous": previous,
        "pillars": pillars,
        "changes": changes(latest, previous) if latest else [],
        "history": history,
        "run": last_run_for_school(school),
        "radar": {
            "labels": [labels[k] for k in Pillar.values],
            "keys": list(Pillar.values),
            "scores": [by_key[k].score if k in by_key else None for k in Pillar.values],
        },
        "trend": {
            "labels": [at.date().isoformat() for at, _o in history],
            "overall": [o for _at, o in history],
        },
    }


SORTS = {"name", "need", "overall", *Pillar.values}


@dataclass
class SchoolRow:
    school: School
    snapshot: Snapshot | Scores | None

    @property
    def overall(self):
        return self.snapshot.overall if self.snapshot else None

    def cells(self) -> list[tuple[str, float | None]]:
        pillars = self.snapshot.pillars if self.snapshot else {}
        return [(k, pillars.get(k)) for k in Pillar.values]


def district_dashboard(
    district, schools, *, sort: str = "overall", descending: bool = False, need_min=None
) -> dict:
    """The heat map of every school × pillar, the district trend and the last run.

    ``rows`` is the schools in the chosen order as a query (sorted by the database on each
    school's latest snapshot, no evidence last in both directions); the caller draws one
    page of it with ``index_rows``, so the page reads the scores of that page only."""
    if need_min is not None:
        schools = schools.filter(economically_disadvantaged_pct__gte=need_min)
    sort = sort if sort in SORTS else "overall"
    latest = Snapshot.unscoped.filter(school=OuterRef("pk")).order_by("-computed_at", "-pk")
    if sort == "name":
        value = Lower("name")
    elif sort == "need":
        value = F("economically_disadvantaged_pct")
    elif sort == "overall":
        value = Subquery(latest.values("overall")[:1])
    else:
        pillar = Cast(KeyTextTransform(sort, "pillars"), FloatField())
        value = Subquery(latest.annotate(value=pillar).values("value")[:1])
    order = (
        F("sort_value").desc(nulls_last=True)
        if descending
        else F("sort_value").asc(nulls_last=True)
    )
    rows = (
        schools.only("pk", "name", "economically_disadvantaged_pct")
        .annotate(sort_value=value)
        .order_by(order, Lower("name"), "pk")
    )
    runs = list(
        ReadinessRun.objects.filter(district=district, status=RunStatus.DONE)
        .exclude(summary={})
        .order_by("-created_at", "-pk")
        .values_list("as_of", "finished_at", "summary")[:TREND_RUNS]
    )
    by_day: dict = {}
    for as_of, finished_at, summary in reversed(runs):
        day = as_of or finished_at.date()
        by_day[day] = summary  # the last run of a day wins
    days = sorted(by_day)
    return {
        "rows": rows,
        "sort": sort,
        "descending": descending,
        "trend": {
            "labels": [d.isoformat() for d in days],
            "overall": [by_day[d].get("overall") for d in days],
        },
        "trend_rows": [(d, by_day[d]) for d in days],
        "run": ReadinessRun.objects.filter(district=district, school__isnull=True)
        .order_by("-created_at", "-pk")
        .first(),
    }


def index_rows(schools) -> list[SchoolRow]:
    """Rows of these schools (one page of them, in the caller's order) with their scores."""
    schools = list(schools)
    latest = latest_snapshots([s.pk for s in schools], scores_only=True)
    return [SchoolRow(s, latest.get(s.pk)) for s in schools]
