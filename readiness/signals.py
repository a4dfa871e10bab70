"""Evidence changed → queue one delayed readiness run of the district (debounced).

The domain apps never import readiness; they announce each write that changes evidence
with ``schools.signals.evidence_changed`` (a service, an importer, a task, a command, an
admin save), and readiness listens to that signal alone: no model's save or delete is
watched. ``services.note_change`` does the debouncing: one callback per district and
transaction, and one waiting run per district.
"""

from __future__ import annotations

from schools.models import School
from schools.signals import evidence_changed

from .services import note_change


def districts_of_schools(school_ids) -> set[int]:
    """The districts of these schools: one query per announce, not remembered, since a
    deleted school's id may come back for another district (SQLite reuses ids)."""
    ids = [s for s in school_ids if s]
    if not ids:
        return set()
    return set(School.unscoped.filter(pk__in=ids).values_list("district_id", flat=True))


def _evidence_changed(sender, district_ids=(), school_ids=(), **kwargs):
    note_change({*district_ids, *districts_of_schools(list(school_ids))})


def connect() -> None:
    evidence_changed.connect(
        _evidence_changed, dispatch_uid="readiness:evidence_changed", weak=False
    )
