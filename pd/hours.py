"""PD hours per staff member, kept: the figures the reports read instead of summing every
attendance row of the district on each request.

``StaffHours`` holds, per staff member, the attended hours, sessions, job-embedded and
ongoing-series hours of the 365 days of their district's ``HoursWindow`` (to ``until``).
Two things keep it right:

- every write that changes what a person was credited (logging a session, adding
  attendees, editing attendance, a check-in, a session's new date, length or kind, the
  admin's edits and deletes) calls ``staff_changed`` or ``sessions_changed`` in its own
  transaction, which recomputes those people's rows for the window (a few grouped rows);
- each night ``pd.tasks.move_hours_windows`` moves every district's window to its today
  (``keep_window``: one grouped insert for the district), which is also the backfill
  (migration 0007 and ``manage.py keep_pd_hours``).

The rule for a row is ``pd.selectors.staff_hours``' rule; tests/pd/test_kept_hours.py holds
them equal after every kind of write.

Per session, two tallies are kept the same way for the report's other figures:
``SessionTally`` (attended people and hours per attendee school: the month chart, the
format mix, Learning Leaders' hours) and ``FeedbackTally`` (answers and the sum of their
ratings: feedback by format). A write of attendance calls ``sessions_tallied``, a feedback
answer ``feedback_tallied``, and ``keep_window`` counts the district's tallies whole each
night (``tally_district``). tests/pd/test_tallies.py holds every report figure read from
them equal to the direct computation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from schools.models import District, StaffMember

from .models import (
    Attendance,
    AttendanceStatus,
    Feedback,
    FeedbackTally,
    HoursWindow,
    LeaderReach,
    PDSession,
    SessionTally,
    StaffHours,
)
from .summary import note_changed

WINDOW_DAYS = 365
BATCH = 5000


def _one_writer(district_ids: Iterable[int | None]) -> None:
    """Take the districts' writer lock (``_lock``) for a write of PD figures, and note the
    change: after the commit, the districts' report summary is counted again
    (pd/summary.py, debounced). Call it inside a transaction (the write's own)."""
    ids = {d for d in district_ids if d is not None}
    _lock(ids)
    note_changed(ids)


def _lock(district_ids: Iterable[int | None]) -> None:
    """Wait until no other transaction rewrites these districts' kept PD figures. Every
    writer deletes rows and counts them again: two check-ins at one session at once would
    each miss the other's attendance in their count, and the second insert would break the
    one-tally-per-session-and-school rule (an error, the check-in lost). The districts' rows
    are locked in id order, FOR NO KEY UPDATE (rows that refer to a district can still be
    written meanwhile). Call it inside a transaction (the write's own)."""
    ids = sorted({d for d in district_ids if d is not None})
    if ids:
        list(
            District.unscoped.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _districts_of_sessions(ids: list[int]) -> set[int | None]:
    return set(
        PDSession.schools.through.unscoped.filter(pdsession_id__in=ids).values_list(
            "school__district_id", flat=True
        )
    ) | set(
        Attendance.unscoped.filter(session_id__in=ids).values_list(
            "staff__school__district_id", flat=True
        )
    )


def window_since(until: date) -> date:
    return until - timedelta(days=WINDOW_DAYS - 1)


def _tallies(people: Q, until: date):
    """Attended rows of ``people`` in the window to ``until``, summed per staff member."""
    return (
        Attendance.unscoped.filter(
            people,
            status=AttendanceStatus.ATTENDED,
            session__date__gte=window_since(until),
            session__date__lte=until,
        )
        .values("staff_id")
        .annotate(
            total=Sum("hours"),
            count=Count("pk"),
            job_embedded=Sum("hours", filter=Q(session__job_embedded=True)),
            ongoing=Sum("hours", filter=Q(session__ongoing_series=True)),
        )
        .order_by()
    )


def _write(tallies) -> None:
    rows = (
        StaffHours(
            staff_id=t["staff_id"],
            hours=t["total"] or 0,
            sessions=t["count"],
            job_embedded_hours=t["job_embedded"] or 0,
            ongoing_hours=t["ongoing"] or 0,
        )
        for t in tallies.iterator(chunk_size=BATCH)
    )
    StaffHours.unscoped.bulk_create(rows, batch_size=BATCH)


def _write_reach(people: Q, until: date) -> None:
    """``people``'s attended sessions and hours in the window, per leader (LeaderReach)."""
    rows = (
        Attendance.unscoped.filter(
            people,
            status=AttendanceStatus.ATTENDED,
            session__date__gte=window_since(until),
            session__date__lte=until,
        )
        .values("staff_id", "staff__school_id", "session__facilitator_staff_id")
        .annotate(count=Count("pk"), total=Sum("hours"))
        .order_by()
    )
    LeaderReach.unscoped.bulk_create(
        (
            LeaderReach(
                staff_id=r["staff_id"],
                school_id=r["staff__school_id"],
                leader_id=r["session__facilitator_staff_id"],
                sessions=r["count"],
                hours=r["total"] or 0,
            )
            for r in rows.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )


@transaction.atomic
def keep_window(*, district_id: int, until: date, now=None) -> HoursWindow:
    """Every staff member of the district counted again over the 365 days to ``until``
    (the caller counts the report summary after it: pd.tasks.move_hours_windows)."""
    _lock([district_id])
    people = Q(staff__school__district_id=district_id)
    StaffHours.unscoped.filter(people).delete()
    _write(_tallies(people, until))
    LeaderReach.unscoped.filter(people).delete()
    _write_reach(people, until)
    tally_district(district_id)
    window, _ = HoursWindow.unscoped.update_or_create(
        district_id=district_id, defaults={"until": until, "refreshed_at": now or timezone.now()}
    )
    return window


@transaction.atomic
def staff_changed(staff_ids: Iterable[int]) -> None:
    """Count these people again over their district's window (call it inside the write's
    transaction, after the write)."""
    ids = set(staff_ids)
    if not ids:
        return
    by_district = defaultdict(set)
    for pk, district_id in StaffMember.unscoped.filter(pk__in=ids).values_list(
        "pk", "school__district_id"
    ):
        by_district[district_id].add(pk)
    _one_writer(by_district)
    windows = dict(
        HoursWindow.unscoped.filter(district_id__in=by_district).values_list("district_id", "until")
    )
    StaffHours.unscoped.filter(staff_id__in=ids).delete()
    LeaderReach.unscoped.filter(staff_id__in=ids).delete()
    for district_id, people in by_district.items():
        if district_id in windows:  # a district never counted is read directly
            _write(_tallies(Q(staff_id__in=people), windows[district_id]))
            _write_reach(Q(staff_id__in=people), windows[district_id])


def sessions_changed(session_ids: Iterable[int]) -> None:
    """Count again everyone recorded at these sessions (a new date, length, kind or
    facilitator), and the sessions' tallies."""
    ids = list(session_ids)
    staff_changed(Attendance.unscoped.filter(session_id__in=ids).values_list("staff_id", flat=True))
    sessions_tallied(ids)


def kept_window(district_ids: Iterable[int]) -> HoursWindow | None:
    """The window every one of these districts is kept for, if they share one (one query)."""
    ids = set(district_ids)
    windows = list(HoursWindow.unscoped.filter(district_id__in=ids))
    if not ids or len(windows) != len(ids) or len({w.until for w in windows}) != 1:
        return None
    return min(windows, key=lambda w: w.refreshed_at)


# --- per-session tallies ---------------------------------------------------------------


def _write_session_tallies(attendances) -> None:
    rows = (
        attendances.filter(status=AttendanceStatus.ATTENDED)
        .values("session_id", "staff__school_id")
        .annotate(attended=Count("pk"), total=Sum("hours"))
        .order_by()
    )
    SessionTally.unscoped.bulk_create(
        (
            SessionTally(
                session_id=r["session_id"],
                school_id=r["staff__school_id"],
                attended=r["attended"],
                hours=r["total"] or 0,
            )
            for r in rows.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )


def _write_feedback_tallies(feedback) -> None:
    rows = (
        feedback.values("session_id")
        .annotate(answers=Count("pk"), rating_sum=Sum("rating"))
        .order_by()
    )
    FeedbackTally.unscoped.bulk_create(
        (
            FeedbackTally(
                session_id=r["session_id"], answers=r["answers"], rating_sum=r["rating_sum"]
            )
            for r in rows.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )


@transaction.atomic
def sessions_tallied(session_ids: Iterable[int]) -> None:
    """Count these sessions' attendance again (call it inside the write's transaction,
    after the write): a few grouped rows per session."""
    ids = list(set(session_ids))
    if not ids:
        return
    _one_writer(_districts_of_sessions(ids))
    SessionTally.unscoped.filter(session_id__in=ids).delete()
    _write_session_tallies(Attendance.unscoped.filter(session_id__in=ids))


@transaction.atomic
def feedback_tallied(session_ids: Iterable[int]) -> None:
    """Count these sessions' feedback again (inside the write's transaction, after it)."""
    ids = list(set(session_ids))
    if not ids:
        return
    _one_writer(_districts_of_sessions(ids))
    FeedbackTally.unscoped.filter(session_id__in=ids).delete()
    _write_feedback_tallies(Feedback.unscoped.filter(session_id__in=ids))


def tally_district(district_id: int) -> None:
    """Every tally of the district counted again: attendance by its attendees' schools,
    feedback of the sessions held at its schools."""
    SessionTally.unscoped.filter(school__district_id=district_id).delete()
    _write_session_tallies(Attendance.unscoped.filter(staff__school__district_id=district_id))
    sessions = PDSession.schools.through.unscoped.filter(school__district_id=district_id).values(
        "pdsession_id"
    )
    FeedbackTally.unscoped.filter(session_id__in=sessions).delete()
    _write_feedback_tallies(Feedback.unscoped.filter(session_id__in=sessions))
