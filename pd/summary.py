"""The district-wide PD report, summarised: a district admin's reports page reads one row of
figures and an index range of staff lines (pd/report_models.py), counted by a Celery job,
instead of grouping 70,000-130,000 kept rows of a million-student district per request.

- **What is counted.** ``refresh`` runs the report exactly as the page would
  (``selectors.report_scope`` over the district's schools, no school or period chosen, then
  ``selectors.report``: the kept figures of pd.hours, or the direct ones for a district
  never kept) and stores its figures, every Learning Leader's reach and the staff table
  (one ``INSERT … SELECT``). So the summary's numbers are the direct computation's by
  construction; tests/pd/test_summary.py holds them equal after every kind of PD write.
- **When.** Every PD write that changes a report figure calls ``note_changed`` in its
  transaction (pd.hours does it for attendance, sessions and feedback; the needs-poll
  services for polls). After the commit, the first change marks the district's report
  ``stale_since`` and queues ``pd.tasks.refresh_district_report`` through core.queue
  with a ``PD_REPORT_DEBOUNCE_SECONDS`` countdown (60 s); later changes find it marked and
  queue nothing. The refresh clears the mark when it starts (a change from then on queues
  the next), and the nightly ``move_hours_windows`` counts every district after moving
  its window. Changes to the roster (a new or departed person, a school's name) and the
  district's target are not PD writes: they show at the next PD change or the nightly
  count, and the page says "figures as of …".
- **Never counted yet.** The page reads the figures directly (as correct as the summary,
  and as slow as before) and queues the first count: a GET must not spend a minute
  counting, and a report read from a replica must not write figures; the one row it does
  write is the queue mark (like a download's audit row).
- **Consistency.** The refresh holds the district's PD writer lock (pd.hours._lock: FOR
  NO KEY UPDATE on the district row), so every figure it stores is of one moment: each of
  its queries reads its own snapshot, and a check-in committed between two of them would
  be in the month chart and not in the head counts. Writers of that district wait for it
  (1.3-1.9 s at a million students, most of it the report's own queries).
"""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.queue import is_pending, once_per_district_after_commit, send
from schools.models import District, School
from schools.scoping import outside_scope

from .models import Format, NeedTopic, PDSession
from .report_models import DistrictPDReport, DistrictPDStaffRow

# A queued count still not started this long after its countdown, and not held for a
# stopped broker, lost its message (a broker restarted empty): the next change queues again.
LOST_AFTER = timedelta(minutes=15)


def debounce_seconds() -> int:
    return settings.PD_REPORT_DEBOUNCE_SECONDS


def whole_district(access, roles) -> int | None:
    """The one district whose every school, and no other school, the person's PD reports
    cover (a district admin): its report can be read from the summary. None otherwise."""
    if access.unrestricted:
        return None
    whole = access.districts_with_role(*roles)
    if len(whole) != 1:
        return None
    (district_id,) = whole
    direct = access.direct_school_ids_with_role(*roles)
    if any(access.direct_schools[s] != district_id for s in direct):
        return None
    return district_id


# --- noting changes and queueing the count ----------------------------------------------


# The rule's name among core.queue's per-district callbacks (tests find them by it).
PURPOSE = "pd.summary"


def _queue_after_commit(district_id: int) -> None:
    """Run after the commit: mark the district's report stale and queue its count."""
    queue(district_id, first=False)


def note_changed(district_ids) -> None:
    """PD figures of these districts changed in the current transaction: after it commits,
    one debounced count per district (one callback per district and transaction)."""
    once_per_district_after_commit(PURPOSE, district_ids, _queue_after_commit)


def note_schools_changed(school_ids) -> None:
    """``note_changed`` for the districts of these schools (one query)."""
    ids = {s for s in school_ids if s}
    if ids:
        note_changed(set(School.unscoped.filter(pk__in=ids).values_list("district_id", flat=True)))


def queue(district_id: int, *, first: bool = True, now=None) -> bool:
    """Mark the district's report stale and queue its count, unless one is already queued
    (and not lost). With ``first`` (the page), a district never counted gets its row
    (figures empty) and its first count; a PD write (``first=False``) leaves such a district
    alone: nobody reads its summary yet. True when a count was queued."""
    from .tasks import refresh_district_report

    now = now or timezone.now()
    lost = now - timedelta(seconds=debounce_seconds()) - LOST_AFTER
    with outside_scope():
        marked = DistrictPDReport.unscoped.filter(
            Q(stale_since__isnull=True) | Q(stale_since__lt=lost), district_id=district_id
        ).update(stale_since=now)
        if not marked:
            if not first or DistrictPDReport.unscoped.filter(district_id=district_id).exists():
                return False  # already queued
            _, created = DistrictPDReport.unscoped.get_or_create(
                district_id=district_id, defaults={"stale_since": now}
            )
            if not created:
                return False  # another request queued it meanwhile
            # The first count: nothing to wait for.
            send(refresh_district_report.name, [district_id], countdown=0)
            return True
    # Sent, or held (core.PendingTask) while the broker is down: the page says which.
    send(refresh_district_report.name, [district_id], countdown=debounce_seconds())
    return True


def is_held(district_id: int) -> bool:
    """Is the district's count held because the job queue could not be reached?"""
    from .tasks import refresh_district_report

    return is_pending(refresh_district_report, district_id)


# --- the count --------------------------------------------------------------------------


def _today(district: District) -> date:
    return timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(district.time_zone)).date()


def _num(value) -> str | None:
    return None if value is None else str(value)


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def figures_of(report) -> tuple[dict, list]:
    """A report's figures as JSON (numbers as strings, formats and topics by value), and
    every Learning Leader's reach (for the CSV)."""
    from .selectors import LEADERS_SHOWN

    s, reach = report.summary, report.reach

    def leader(row):
        return {**row, "hours": _num(row["hours"])}

    leaders = [leader(row) for row in reach["leaders"]]
    return {
        "summary": {
            "staff": s.staff,
            "teaching": s.teaching,
            "below_target": s.below_target,
            "no_pd": s.no_pd,
            "hours": _num(s.hours),
            "job_embedded_hours": _num(s.job_embedded_hours),
            "ongoing_hours": _num(s.ongoing_hours),
        },
        "months": [[m.isoformat(), _num(h)] for m, h in report.months],
        "mix": [
            {"format": r["format"], "hours": _num(r["hours"]), "sessions": r["sessions"]}
            for r in report.mix
        ],
        "reach": {
            **{k: reach[k] for k in ("leader_sessions", "coach_sessions", "leader_colleagues")},
            "coach_colleagues": reach["coach_colleagues"],
            "coach_hours": _num(reach["coach_hours"]),
            "leaders": leaders[:LEADERS_SHOWN],
            "leaders_total": len(leaders),
        },
        "feedback": [
            {"format": r["format"], "answers": r["answers"], "mean": _num(r["mean"])}
            for r in report.feedback
        ],
        "needs": [{"topic": r["topic"], "answers": r["answers"]} for r in report.needs],
    }, leaders


def _staff_rows(district_id: int, rows, people) -> None:
    """The staff table, written by the database: an ``INSERT … SELECT`` of the report's
    ``rows`` that rewrites only the lines that changed (``ON CONFLICT … DO UPDATE … WHERE``
    a value differs: a count after one check-in rewrites a few rows, not 70,000 with their
    indexes), then the lines of people no longer among the district's active ``people``
    deleted."""
    names = [
        ("staff_id", "pk"),
        ("district_id", "school__district_id"),
        ("school_id", "school_id"),
        ("school_name", "school__name"),
        ("school_code", "school__code"),
        ("full_name", "full_name"),
        ("email", "email"),
        ("position", "position"),
        ("hours", "hours"),
        ("sessions", "sessions"),
        ("job_embedded_hours", "job_embedded_hours"),
        ("ongoing_hours", "ongoing_hours"),
        ("target", "target"),
        ("below_target", "below_target"),
    ]
    select, params = rows.order_by().values_list(*(n for _, n in names)).query.sql_with_params()
    qn = connection.ops.quote_name
    table = qn(DistrictPDStaffRow._meta.db_table)
    columns = [qn(c) for c, _ in names]
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{table}.{c} {differs} excluded.{c}" for c in columns[1:])
    update = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) {select} "  # noqa: S608
            f"ON CONFLICT ({columns[0]}) DO UPDATE SET {update} WHERE {changed}",
            params,
        )
    DistrictPDStaffRow.unscoped.filter(district_id=district_id).exclude(
        staff_id__in=people.values("pk")
    ).delete()


def refresh(district_id: int, *, now=None) -> DistrictPDReport | None:
    """Count the district's report again (the task, the nightly run, the backfill)."""
    from . import hours
    from .selectors import report, report_scope

    with outside_scope():
        # Started: a change committed from now on queues the next count.
        DistrictPDReport.unscoped.filter(district_id=district_id).update(stale_since=None)
        with transaction.atomic():
            hours._lock([district_id])
            district = District.unscoped.filter(pk=district_id).first()
            if district is None:
                return None
            schools = School.unscoped.filter(district_id=district_id)
            links = PDSession.schools.through.unscoped.filter(school__district_id=district_id)
            scope = report_scope(
                schools=schools,
                sessions=PDSession.objects.filter(pk__in=links.values("pdsession_id")),
                today=_today(district),
            )
            figures, leaders = figures_of(report(scope))
            _staff_rows(district_id, scope.staff_hours(), scope.staff.active())
            summary, _ = DistrictPDReport.unscoped.update_or_create(
                district_id=district_id,
                defaults={
                    "since": scope.period.since,
                    "until": scope.period.until,
                    "refreshed_at": now or timezone.now(),
                    "figures": figures,
                    "leaders": leaders,
                },
            )
    return summary


# --- reading it -------------------------------------------------------------------------


def _formats() -> dict:
    return dict(Format.choices)


def months(summary: DistrictPDReport) -> list[tuple[date, Decimal]]:
    return [(date.fromisoformat(m), Decimal(h)) for m, h in summary.figures["months"]]


def mix(summary: DistrictPDReport) -> list[dict]:
    labels = _formats()
    return [
        {**r, "label": labels.get(r["format"], r["format"]), "hours": Decimal(r["hours"])}
        for r in summary.figures["mix"]
    ]


def _leader_rows(rows) -> list[dict]:
    return [{**r, "hours": _dec(r["hours"])} for r in rows]


def reach(summary: DistrictPDReport, *, every_leader: bool = False) -> dict:
    kept = summary.figures["reach"]
    return {
        **kept,
        "coach_hours": _dec(kept["coach_hours"]),
        "leaders": _leader_rows(summary.leaders if every_leader else kept["leaders"]),
    }


def feedback(summary: DistrictPDReport) -> list[dict]:
    labels = _formats()
    return [
        {**r, "label": labels.get(r["format"], r["format"]), "mean": Decimal(r["mean"])}
        for r in summary.figures["feedback"]
    ]


def needs(summary: DistrictPDReport) -> list[dict]:
    labels = dict(NeedTopic.choices)
    return [{**r, "label": labels.get(r["topic"], r["topic"])} for r in summary.figures["needs"]]


def hours_summary_fields(summary: DistrictPDReport) -> dict:
    figures = dict(summary.figures["summary"])
    for name in ("hours", "job_embedded_hours", "ongoing_hours"):
        figures[name] = Decimal(figures[name])
    return figures


def staff_rows(summary: DistrictPDReport):
    return DistrictPDStaffRow.objects.filter(district_id=summary.district_id)
