"""A term of professional learning for the demo district (called by ``seed_demo``).

Sessions of every format over the last four months in each school (and one across two
schools), attendance that is mostly "attended" with some excused, absent and partial hours,
feedback (some anonymous), a needs poll per school with answers, a Learning Leader cohort
of three in each school who lead some sessions, and a few staff who have had no PD yet.
"""

from __future__ import annotations

import random
from datetime import time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from schools.models import TEACHING_POSITIONS, District, Role, School, StaffMember
from schools.pillars import Pillar
from schools.scoping import outside_scope

from .models import (
    Attendance,
    AttendanceStatus,
    Feedback,
    Format,
    LearningLeader,
    NeedTopic,
    PDNeedsChoice,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
    SessionPillar,
)

TERM_DAYS = 120
NO_PD_PER_SCHOOL = 4

# title, format, minutes, job-embedded, ongoing series, tools, objective, why, pillars
SESSIONS = [
    (
        "Formative checks with quick polls",
        Format.WORKSHOP,
        90,
        False,
        False,
        "Google Forms, Plickers",
        "Run a two-minute check for understanding and regroup students from it.",
        "Teachers see who needs what before the lesson moves on.",
        [Pillar.ENGAGEMENT, Pillar.PROFESSIONAL_LEARNING],
    ),
    (
        "Coaching cycle: student voice in science",
        Format.COACHING_CYCLE,
        60,
        True,
        True,
        "Flip, Padlet",
        "Plan, teach and reflect on a lesson where students explain their thinking.",
        "Explaining aloud deepens understanding and shows misconceptions.",
        [Pillar.ENGAGEMENT],
    ),
    (
        "Grade-team PLC: reading data",
        Format.PLC,
        45,
        True,
        True,
        "District reading dashboard",
        "Choose one reading skill to reteach from last week's data.",
        "Small, frequent adjustments beat a yearly test review.",
        [Pillar.PROFESSIONAL_LEARNING],
    ),
    (
        "Modelled lesson: collaborative slides",
        Format.MODELLING,
        50,
        True,
        False,
        "Google Slides",
        "Watch a lesson where groups build one deck together, then debrief.",
        "Seeing it with our own students makes it real.",
        [Pillar.ENGAGEMENT, Pillar.SPACES],
    ),
    (
        "Online course: accessibility basics",
        Format.ONLINE_COURSE,
        180,
        False,
        True,
        "Immersive Reader, captions",
        "Make one unit's materials usable by every student.",
        "Access first: every learner reaches the same goal.",
        [Pillar.OPPORTUNITY],
    ),
    (
        "Regional edtech conference",
        Format.CONFERENCE,
        360,
        False,
        False,
        "",
        "Bring back one idea to try and share with the team.",
        "Seeing other schools' practice widens what we think is possible.",
        [Pillar.PROFESSIONAL_LEARNING, Pillar.COMMUNICATION],
    ),
    (
        "Telling our story: sharing class work with families",
        Format.WORKSHOP,
        60,
        False,
        False,
        "School blog, Seesaw",
        "Post one piece of student work with a note on what was learned.",
        "Families who see learning trust and support it.",
        [Pillar.COMMUNICATION, Pillar.PUBLIC_RELATIONS, Pillar.BRANDING],
    ),
    (
        "Learning Leader share: what worked this month",
        Format.PLC,
        40,
        True,
        True,
        "",
        "Colleagues show one thing they tried and what students did.",
        "Ideas spread fastest from a trusted colleague next door.",
        [Pillar.PROFESSIONAL_LEARNING],
    ),
]
WHY_LEADER = [
    "Colleagues go to her first with a problem; she listens and tries things in the open.",
    "Leads the grade team with patience and is keen to learn alongside students.",
    "Trusted by new teachers; not a tech expert, but always willing to try and share.",
    "Brings people together and speaks up for what students need.",
]
WILL_APPLY = [
    "Exit tickets on Fridays to regroup for Monday.",
    "Let students record their explanation instead of writing it.",
    "Caption every video I post.",
    "Try the reading data routine with my team.",
    "Share one student project with families each week.",
    "",
]


def _teaching(school: School) -> list[StaffMember]:
    return list(
        StaffMember.objects.filter(
            school=school, active=True, position__in=TEACHING_POSITIONS
        ).order_by("pk")
    )


@transaction.atomic
def seed(district: District, schools: dict[str, School]) -> None:
    with outside_scope():
        if PDSession.objects.filter(schools__district=district).exists():
            return
        rng = random.Random(4)  # the same term on every fresh database
        today = timezone.localdate()
        coach = (
            get_user_model()
            .objects.filter(memberships__district=district, memberships__role=Role.COACH)
            .order_by("pk")
            .first()
        )
        sessions, links, pillars, pools = [], [], [], []
        leaders: dict[int, list[StaffMember]] = {}
        for _code, school in sorted(schools.items()):
            staff = _teaching(school)
            reachable = staff[NO_PD_PER_SCHOOL:]  # the first few stay without PD, on purpose
            cohort = rng.sample(reachable, k=min(3, len(reachable)))
            leaders[school.pk] = cohort
            LearningLeader.objects.bulk_create(
                LearningLeader(
                    staff=s,
                    school=school,
                    cohort_year=today.year if today.month >= 7 else today.year - 1,
                    why_nominated=WHY_LEADER[i % len(WHY_LEADER)],
                )
                for i, s in enumerate(cohort)
            )
            for n in range(12):
                spec = SESSIONS[n % len(SESSIONS)]
                title, fmt, minutes, embedded, ongoing, tools, objective, why, tags = spec
                led_by_leader = n % len(SESSIONS) in (2, 7) or coach is None
                day = today - timedelta(days=rng.randint(1, TERM_DAYS))
                while day.weekday() >= 5:
                    day -= timedelta(days=1)
                sessions.append(
                    PDSession(
                        title=title,
                        date=day,
                        start_time=time(15, 30) if fmt != Format.CONFERENCE else time(8, 30),
                        duration_minutes=minutes,
                        format=fmt,
                        job_embedded=embedded,
                        ongoing_series=ongoing,
                        objective=objective,
                        pedagogical_why=why,
                        tools_covered=tools,
                        facilitator_user=None if led_by_leader else coach,
                        facilitator_staff=rng.choice(cohort) if led_by_leader else None,
                        created_by=coach,
                    )
                )
                links.append([school])
                pillars.append(tags)
                pools.append(reachable)
        if "MGE" in schools and "CRM" in schools:
            both = [schools["MGE"], schools["CRM"]]
            day = today - timedelta(days=30)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            sessions.append(
                PDSession(
                    title="Cross-school day: digital citizenship",
                    date=day,
                    start_time=time(9, 0),
                    duration_minutes=240,
                    format=Format.WORKSHOP,
                    objective="Plan a digital citizenship unit with a partner school.",
                    pedagogical_why="Students need to judge what they read and share online.",
                    tools_covered="Common Sense Education",
                    facilitator_user=coach,
                    facilitator_staff=None if coach else leaders[both[0].pk][0],
                    created_by=coach,
                )
            )
            links.append(both)
            pillars.append([Pillar.OPPORTUNITY, Pillar.ENGAGEMENT])
            pools.append([s for school in both for s in _teaching(school)[NO_PD_PER_SCHOOL:]])
        PDSession.objects.bulk_create(sessions)
        PDSession.schools.through.unscoped.bulk_create(
            PDSession.schools.through(pdsession_id=s.pk, school_id=school.pk)
            for s, schools_of in zip(sessions, links, strict=True)
            for school in schools_of
        )
        SessionPillar.objects.bulk_create(
            SessionPillar(session=s, pillar=p)
            for s, tags in zip(sessions, pillars, strict=True)
            for p in tags
        )
        attendances, feedback = [], []
        for s, pool in zip(sessions, pools, strict=True):
            group = rng.sample(pool, k=min(len(pool), rng.randint(6, 18)))
            for person in group:
                roll = rng.random()
                if roll < 0.08:
                    status, hours = AttendanceStatus.EXCUSED, Decimal(0)
                elif roll < 0.14:
                    status, hours = AttendanceStatus.ABSENT, Decimal(0)
                else:
                    status = AttendanceStatus.ATTENDED
                    hours = (
                        s.hours if rng.random() > 0.1 else (s.hours / 2).quantize(Decimal("0.01"))
                    )
                attendances.append(Attendance(session=s, staff=person, status=status, hours=hours))
                if status == AttendanceStatus.ATTENDED and rng.random() < 0.55:
                    anonymous = rng.random() < 0.4
                    feedback.append(
                        Feedback(
                            session=s,
                            staff=None if anonymous else person,
                            rating=rng.choices([5, 4, 3, 2], weights=[5, 6, 2, 1])[0],
                            will_apply=rng.choice(WILL_APPLY),
                            submitted_on=s.date + timedelta(days=rng.randint(0, 3)),
                        )
                    )
        Attendance.objects.bulk_create(attendances)
        Feedback.objects.bulk_create(feedback)
        _seed_polls(rng, schools, today, coach)


def _seed_polls(rng, schools: dict[str, School], today, coach) -> None:
    polls = PDNeedsPoll.objects.bulk_create(
        PDNeedsPoll(
            school=school,
            period=f"Needs for next term ({date_format(today, 'YEAR_MONTH_FORMAT')})",
            opens_on=today - timedelta(days=21),
            closes_on=today + timedelta(days=14),
            created_by=coach,
        )
        for _code, school in sorted(schools.items())
    )
    topics = NeedTopic.values
    weights = [len(topics) - i + rng.randint(0, 4) for i in range(len(topics))]
    responses, picks = [], []
    for poll in polls:
        for _ in range(rng.randint(15, 30)):
            responses.append(
                PDNeedsResponse(
                    poll=poll,
                    other=rng.choice(["", "", "", "Time to plan with my team", "Math apps"]),
                    submitted_on=today - timedelta(days=rng.randint(0, 20)),
                )
            )
            picks.append({rng.choices(topics, weights=weights)[0] for _ in range(3)})
    PDNeedsResponse.objects.bulk_create(responses)
    PDNeedsChoice.objects.bulk_create(
        PDNeedsChoice(response=r, topic=t)
        for r, chosen in zip(responses, picks, strict=True)
        for t in chosen
    )
