"""Reads of the rostering pages, at a constant number of queries."""

from __future__ import annotations

from core import queue

from .models import RosterRun, RosterSource, RunStatus, SourceKind
from .tasks import run_roster

RECENT = 20


def district_overview(district) -> dict:
    sources = list(RosterSource.objects.filter(district=district))
    have = {s.kind for s in sources}
    runs = list(RosterRun.objects.filter(district=district).select_related("source")[:RECENT])
    return {
        "sources": sources,
        "missing_kinds": [(k, label) for k, label in SourceKind.choices if k not in have],
        "runs": runs,
    }


def recent_runs(source) -> list[RosterRun]:
    return list(RosterRun.objects.filter(source=source).select_related("source")[:RECENT])


def run_view(run: RosterRun) -> dict:
    """The run page's figures: the counts as rows, and what the progress line says."""
    c = run.counts or {}
    rows = [
        ("Schools matched", c.get("schools_matched", 0)),
        ("Schools not matched", len(c.get("schools_unmatched", []))),
        ("New students", c.get("students_created", 0)),
        ("Changed students", c.get("students_updated", 0)),
        ("Unchanged students", c.get("students_unchanged", 0)),
        ("Students who left", c.get("students_left", 0)),
        ("Students at schools not matched", c.get("students_unmatched", 0)),
        ("New staff", c.get("staff_created", 0)),
        ("Changed staff", c.get("staff_updated", 0)),
        ("Staff no longer listed", c.get("staff_left", 0)),
        ("Home connection details to write", c.get("connectivity_changed", 0)),
    ]
    if run.status == RunStatus.QUEUED:
        waiting = "Waiting for a worker"
        if queue.is_pending(run_roster, run.pk):
            waiting = "Pending: the job queue is unreachable; the run starts once it is back"
    else:
        waiting = run.phase or run.get_status_display()
    return {
        "rows": rows,
        "unmatched": c.get("schools_unmatched", []),
        "label": waiting,
        "over_threshold": run.error_count > run.source.error_threshold,
    }
