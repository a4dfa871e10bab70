"""Scale data for professional learning (``seed_scale``): a year of PD in every school.

Like the demo term (pd/demo.py), over 12 months: per school a Learning Leader cohort of
three, about one session for every two teaching staff (8 to 40) of every format, mostly on
weekdays outside July, led by the school's coach login where it has one and otherwise by a
Learning Leader; attendance of 6–18 teaching staff per session (mostly attended, some
excused, absent or partial hours; a tenth of the staff have had no PD); feedback from about
half the attendees (40% anonymous); a needs poll per school with its answers. A fifth of the
sessions prepare people for the school's live initiative.
"""

from __future__ import annotations

import secrets
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from schools.scale import ScaleContext

from . import summary
from .demo import SESSIONS, WHY_LEADER, WILL_APPLY
from .hours import keep_window
from .models import (
    Attendance,
    AttendanceStatus,
    DistrictPDStaffRow,
    Feedback,
    FeedbackTally,
    Format,
    LeaderReach,
    LearningLeader,
    NeedTopic,
    PDNeedsChoice,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
    SessionPillar,
    SessionTally,
    StaffHours,
)

SESSION_FIELDS = [
    "id",
    "title",
    "date",
    "start_time",
    "duration_minutes",
    "format",
    "job_embedded",
    "ongoing_series",
    "objective",
    "pedagogical_why",
    "tools_covered",
    "facilitator_user",
    "facilitator_staff",
    "materials_url",
    "notes",
    "initiative",
    "allow_named_feedback",
    "checkin_token",
    "checkin_mode",
    "feedback_token",
    "feedback_requested_at",
    "created_by",
    "created_at",
    "updated_at",
]
TABLES = [
    PDSession,
    PDSession.schools.through,
    SessionPillar,
    Attendance,
    Feedback,
    LearningLeader,
    PDNeedsPoll,
    PDNeedsResponse,
    PDNeedsChoice,
]
LEADER_LED = (2, 7)  # the PLC sessions of SESSIONS, as in the demo


def sessions_for(teaching: int) -> int:
    return max(8, min(40, round(teaching * 0.5)))


@transaction.atomic
def build(ctx: ScaleContext) -> None:
    started = time.perf_counter()
    now = ctx.stamp(ctx.now)
    initiatives = ctx.shared.get("initiatives", {})
    done = 0
    with ctx.fast_load(*TABLES):
        for chunk in ctx.chunks():
            plans = [(s, s.teaching_staff) for s in chunk]
            session_ids = iter(ctx.ids(PDSession, sum(sessions_for(len(t)) for _s, t in plans)))
            poll_ids = iter(ctx.ids(PDNeedsPoll, len(plans)))
            rows: dict[str, list] = {
                k: []
                for k in (
                    "session",
                    "link",
                    "pillar",
                    "att",
                    "fb",
                    "leader",
                    "poll",
                    "resp",
                    "choice",
                )
            }
            responses = []
            for school, teaching in plans:
                rng = ctx.rng("pd", school.code)
                reachable = teaching[len(teaching) // 10 :]  # a tenth have had no PD yet
                cohort = rng.sample(reachable, k=min(3, len(reachable)))
                for i, staff in enumerate(cohort):
                    rows["leader"].append(
                        (
                            staff,
                            school.pk,
                            ctx.school_year,
                            None,
                            WHY_LEADER[i % len(WHY_LEADER)],
                            now,
                        )
                    )
                live = initiatives.get(school.pk, {}).get("live")
                for n in range(sessions_for(len(teaching))):
                    pk = next(session_ids)
                    spec = n % len(SESSIONS)
                    title, fmt, minutes, embedded, ongoing, tools, objective, why, tags = SESSIONS[
                        spec
                    ]
                    day = ctx.weekday_back(rng.randint(1, 364))
                    if day.month == 7:
                        day = ctx.weekday_back((ctx.today - day).days + 31)
                    coach = school.coach_id if spec not in LEADER_LED or not cohort else None
                    leader = None if coach or not cohort else rng.choice(cohort)
                    if coach is None and leader is None:
                        coach = ctx.admin_id  # a school without staff: the district leads
                    rows["session"].append(
                        (
                            pk,
                            title,
                            day,
                            clock(8, 30) if fmt == Format.CONFERENCE else clock(15, 30),
                            minutes,
                            fmt,
                            embedded,
                            ongoing,
                            objective,
                            why,
                            tools,
                            coach,
                            leader,
                            "",
                            "",
                            live if live and rng.random() < 0.2 else None,
                            True,
                            secrets.token_urlsafe(24),
                            "auto",
                            secrets.token_urlsafe(24),
                            None,
                            school.coach_id,
                            ctx.at(day, 12),
                            now,
                        )
                    )
                    rows["link"].append((pk, school.pk))
                    rows["pillar"] += [(pk, p) for p in tags]
                    hours_full = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
                    group = rng.sample(reachable, k=min(len(reachable), rng.randint(6, 18)))
                    for person in group:
                        roll = rng.random()
                        if roll < 0.08:
                            status, hours = AttendanceStatus.EXCUSED, Decimal(0)
                        elif roll < 0.14:
                            status, hours = AttendanceStatus.ABSENT, Decimal(0)
                        else:
                            status = AttendanceStatus.ATTENDED
                            hours = (
                                hours_full
                                if rng.random() > 0.1
                                else (hours_full / 2).quantize(Decimal("0.01"))
                            )
                        rows["att"].append((pk, person, status, hours, None, None, now))
                        if status == AttendanceStatus.ATTENDED and rng.random() < 0.55:
                            rows["fb"].append(
                                (
                                    pk,
                                    None if rng.random() < 0.4 else person,
                                    rng.choices([5, 4, 3, 2], weights=[5, 6, 2, 1])[0],
                                    rng.choice(WILL_APPLY),
                                    day + timedelta(days=rng.randint(0, 3)),
                                )
                            )
                poll = next(poll_ids)
                rows["poll"].append(
                    (
                        poll,
                        school.pk,
                        f"Needs for next term ({date_format(ctx.today, 'YEAR_MONTH_FORMAT')})",
                        ctx.today - timedelta(days=21),
                        ctx.today + timedelta(days=14),
                        secrets.token_urlsafe(24),
                        school.coach_id,
                        now,
                    )
                )
                topics = NeedTopic.values
                weights = [len(topics) - i + rng.randint(0, 4) for i in range(len(topics))]
                for _ in range(rng.randint(15, 30)):
                    responses.append(
                        (
                            poll,
                            rng.choice(["", "", "", "Time to plan with my team", "Math apps"]),
                            ctx.today - timedelta(days=rng.randint(0, 20)),
                            {rng.choices(topics, weights=weights)[0] for _ in range(3)},
                        )
                    )
            response_ids = ctx.ids(PDNeedsResponse, len(responses))
            for pk, (poll, other, day, picks) in zip(response_ids, responses, strict=True):
                rows["resp"].append((pk, poll, other, day))
                rows["choice"] += [(pk, t) for t in sorted(picks)]
            ctx.copy(PDSession, SESSION_FIELDS, rows["session"])
            ctx.copy(PDSession.schools.through, ["pdsession", "school"], rows["link"])
            ctx.copy(SessionPillar, ["session", "pillar"], rows["pillar"])
            ctx.copy(
                LearningLeader,
                ["staff", "school", "cohort_year", "nominated_by", "why_nominated", "created_at"],
                rows["leader"],
            )
            ctx.copy(
                Attendance,
                [
                    "session",
                    "staff",
                    "status",
                    "hours",
                    "checked_in_at",
                    "feedback_requested_at",
                    "updated_at",
                ],
                rows["att"],
            )
            ctx.copy(
                Feedback, ["session", "staff", "rating", "will_apply", "submitted_on"], rows["fb"]
            )
            ctx.copy(
                PDNeedsPoll,
                [
                    "id",
                    "school",
                    "period",
                    "opens_on",
                    "closes_on",
                    "token",
                    "created_by",
                    "created_at",
                ],
                rows["poll"],
            )
            ctx.copy(PDNeedsResponse, ["id", "poll", "other", "submitted_on"], rows["resp"])
            ctx.copy(PDNeedsChoice, ["response", "topic"], rows["choice"])
            done += len(chunk)
            ctx.progress("pd", done, len(ctx.schools), started, PDSession, Attendance)
    # The reports read the hours and tallies kept (pd.hours), counted once the rows are in,
    # and after ANALYZE: planned over tables the statistics still call empty, the grouped
    # counts of a million-student district ran as nested loops for many minutes.
    ctx.analyze(*TABLES)
    keep_window(district_id=ctx.district.pk, until=timezone.localdate())
    ctx.analyze(StaffHours, LeaderReach, SessionTally, FeedbackTally)
    # The district admin's report reads its summary (pd/summary.py), counted over them.
    summary.refresh(ctx.district.pk)
    ctx.analyze(DistrictPDStaffRow)
