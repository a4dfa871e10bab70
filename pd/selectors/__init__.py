"""Reads of the PD app. The pages read through here and the views render what comes back:
the session list and calendar, a session's page, the attendee roster, Learning Leaders and
needs polls; the reports page and its CSV files come from ``pd.selectors.reports`` and are
named here too, so ``pd.selectors`` is the one place to look. Formulas: docs/pd.md."""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber

from schools.models import School, StaffMember
from schools.scoping import outside_scope
from schools.web import absolute_url

from ..models import (
    Attendance,
    AttendanceStatus,
    Feedback,
    LearningLeader,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
    PDSessionChange,
    SessionPillar,
)
from .reports import (
    LEADERS_SHOWN,
    REPORT_EXPORTS,
    REPORT_SHOWS,
    HoursSummary,
    Period,
    Report,
    ReportScope,
    feedback_by_format,
    format_mix,
    hours_by_month,
    hours_export,
    hours_summary,
    kept_leader_reach,
    leader_reach,
    needs_ranked,
    period_target,
    polls_in,
    report,
    report_export,
    report_rows,
    report_scope,
    staff_hours,
    tallied_feedback_by_format,
    tallied_format_mix,
    tallied_hours_by_month,
)

__all__ = [
    # the reports page (pd.selectors.reports)
    "LEADERS_SHOWN",
    "REPORT_EXPORTS",
    "REPORT_SHOWS",
    "HoursSummary",
    "Period",
    "Report",
    "ReportScope",
    "feedback_by_format",
    "format_mix",
    "hours_by_month",
    "hours_summary",
    "kept_leader_reach",
    "leader_reach",
    "needs_ranked",
    "period_target",
    "polls_in",
    "report",
    "hours_export",
    "report_export",
    "report_rows",
    "report_scope",
    "staff_hours",
    "tallied_feedback_by_format",
    "tallied_format_mix",
    "tallied_hours_by_month",
    # sessions, the roster, leaders and polls (here)
    "SESSION_CHANGES_SHOWN",
    "SessionPage",
    "attendee_roster",
    "feedback_summary",
    "last_format",
    "leaders_of",
    "month_grid",
    "poll_results",
    "polls_of",
    "roster",
    "same_sessions",
    "session_attendance",
    "session_page",
    "session_school_names",
    "session_schools",
    "sessions_list",
    "with_attended",
]

# --- sessions -------------------------------------------------------------------------


def sessions_list(sessions):
    """Sessions with what the list shows, newest first, in a fixed number of queries.

    No attendance here: counting every session's attendances to show a page of them reads
    a district's 335,000 rows; ``with_attended`` counts those of the page."""
    return (
        sessions.select_related("facilitator_user", "facilitator_staff")
        .prefetch_related(
            Prefetch("schools", queryset=School.objects.order_by("name")),
            Prefetch("pillars", queryset=SessionPillar.objects.all()),
        )
        .order_by("-date", "-start_time", "-pk")
    )


def with_attended(sessions) -> list[PDSession]:
    """``sessions`` as a list, each with ``attended``: its people marked attended, at every
    school of the session (one query over these sessions' rows alone)."""
    sessions = list(sessions)
    counts = dict(
        # Narrowed by sessions loaded through the scope: the count is the session's own.
        Attendance.unscoped.filter(
            session__in=[s.pk for s in sessions], status=AttendanceStatus.ATTENDED
        )
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )
    for session in sessions:
        session.attended = counts.get(session.pk, 0)
    return sessions


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
    return with_attended(sessions_list(matches)[:5])


# Sessions a calendar day lists; the rest of a busy day is a link to that day's list. A
# district's month can hold two thousand sessions: a grid of every one is a page of links
# nobody reads, and its cost grows with the district.
DAY_SESSIONS = 3


class CalendarDay(NamedTuple):
    day: date
    sessions: list[PDSession]  # the first DAY_SESSIONS, by start time
    more: int  # the day's other sessions, listed on the session list


def month_grid(year: int, month: int, sessions, *, per_day: int = DAY_SESSIONS) -> list[list]:
    """Weeks (Monday first) of the month, each a ``CalendarDay``: the first ``per_day``
    sessions of the day and how many more it has (two queries, whatever the month holds)."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    in_view = sessions.filter(date__gte=first, date__lte=last)
    order = [F("start_time").asc(nulls_last=True), F("pk").asc()]
    shown = in_view.annotate(
        place=Window(RowNumber(), partition_by=[F("date")], order_by=order)
    ).filter(place__lte=per_day)
    by_day: dict[date, list[PDSession]] = defaultdict(list)
    for s in shown.order_by("date", *order):
        by_day[s.date].append(s)
    per_day_counts = in_view.order_by().values("date").annotate(n=Count("pk"))
    counts = dict(per_day_counts.values_list("date", "n"))
    return [
        [CalendarDay(d, by_day.get(d, []), counts.get(d, 0) - len(by_day.get(d, []))) for d in week]
        for week in weeks
    ]


def feedback_summary(session: PDSession) -> dict:
    """Count, mean and distribution of a session's ratings, and the answers (two queries)."""
    answers = list(
        Feedback.unscoped.filter(session=session).select_related("staff").order_by("-pk")
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


def session_schools(session: PDSession) -> list[School]:
    """The session's schools that the reader sees, by name."""
    return list(School.objects.filter(pd_sessions=session).order_by("name"))


def session_school_names(session: PDSession) -> list[str]:
    """Every school of the session, by name: the public pages (check-in, feedback) name
    them to a visitor who has no account and so no scope."""
    with outside_scope():
        return [s.name for s in School.objects.filter(pd_sessions=session).order_by("name")]


@dataclass
class SessionPage:
    """What a session's page shows besides its forms (a fixed number of queries)."""

    session: PDSession
    schools: list[School]
    pillars: list[SessionPillar]
    rows: list[Attendance]
    attended: int
    checked_in: int
    feedback: dict
    changes: list[PDSessionChange]
    checkin_url: str
    feedback_url: str
    checkin_open: bool
    checkin_window: object

    def context(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "rows"}


# The change log a session's page shows, newest first.
SESSION_CHANGES_SHOWN = 50


def session_page(session: PDSession, schools: list[School]) -> SessionPage:
    """The session's page: attendance as the reader may see it, feedback, the change log,
    the check-in and feedback links."""
    rows = list(session_attendance(session))
    return SessionPage(
        session=session,
        schools=schools,
        pillars=list(SessionPillar.objects.filter(session=session)),
        rows=rows,
        attended=sum(1 for a in rows if a.status == AttendanceStatus.ATTENDED),
        checked_in=sum(1 for a in rows if a.checked_in_at),
        feedback=feedback_summary(session),
        changes=list(
            PDSessionChange.objects.filter(session=session).select_related("changed_by")[
                :SESSION_CHANGES_SHOWN
            ]
        ),
        checkin_url=absolute_url(session.checkin_path()),
        feedback_url=absolute_url(session.feedback_path()),
        checkin_open=session.checkin_open(),
        checkin_window=session.checkin_window(),
    )


def session_attendance(session: PDSession):
    """The attendance rows the user may see (scoped by the attendee's school)."""
    return (
        Attendance.objects.filter(session=session)
        .select_related("staff", "staff__school")
        .order_by("staff__full_name")
    )


def attendee_roster(school_ids, *, among) -> tuple[list[StaffMember], int]:
    """The active staff of those of ``school_ids`` that are among the schools ``among`` (the
    schools the person logs PD for, as they see them), and how many schools that is."""
    ids = list(among.filter(pk__in=school_ids).values_list("pk", flat=True))
    return (list(roster(ids)) if ids else []), len(ids)


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


def polls_of(school: School):
    """The school's needs polls, each with its number of answers."""
    return PDNeedsPoll.objects.filter(school=school).annotate(answers=Count("responses"))


def poll_results(poll: PDNeedsPoll) -> dict:
    responses = PDNeedsResponse.unscoped.filter(poll=poll)
    return {
        "responses": responses.count(),
        "ranked": needs_ranked(PDNeedsPoll.unscoped.filter(pk=poll.pk)),
        "other": list(responses.exclude(other="").values_list("other", flat=True)[:200]),
    }


def last_format(user) -> str | None:
    return (
        PDSession.unscoped.filter(created_by=user)
        .order_by("-created_at", "-pk")
        .values_list("format", flat=True)
        .first()
    )
