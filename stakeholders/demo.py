"""Listening surveys, stories, partnerships and a communication plan for the demo district
(called by ``seed_demo``).

Each school gets a closed teacher listening survey with enough answers to show results (with
a "you said, we did" note at the elementary school; at the middle school only three other
staff answered, which shows the complementary hiding of audience figures), a closed family
survey with too few answers to show anything, a closed student survey at the middle and high
school, stories of connection (one older than 90
days), three partnerships (two active, one with a donation), a communication plan and a
short communication log.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from schools.models import District, School, StaffMember
from schools.scoping import outside_scope

from .models import (
    Answer,
    Audience,
    Benefit,
    Channel,
    CommunicationLogEntry,
    CommunicationPlan,
    Invitation,
    InvitationKind,
    PartnerKind,
    Partnership,
    PartnershipBenefit,
    PlanChannel,
    PlanChannelUse,
    Question,
    QuestionKind,
    Response,
    Story,
    StoryPerson,
    StoryRole,
    StoryShare,
    Survey,
)
from .services import copy_starter
from .starters import FAMILIES, STUDENTS, TEACHERS

FAMILY_ANSWERS = 3  # fewer than the default minimum of 5: the results page hides them
# The middle and high school also asked their students (readiness reads their engagement
# items as student voice); (students invited, students who answered).
STUDENT_SURVEYS = {"CRM": (60, 41), "LVH": (80, 47)}

WRITTEN = {
    "time": [
        "Give us planning time with the new tool before students use it.",
        "A shared bank of ready lessons would save me hours.",
        "Fewer logins. Every extra password costs minutes of class.",
        "Let us try it with one class first instead of all at once.",
        "If it replaces something we already do, great. If it adds to it, no.",
        "Time to watch a colleague use it in a real lesson.",
    ],
    "support": [
        "Someone in the building who can fix a cart in the middle of a lesson.",
        "I worry the Wi-Fi upstairs will not keep up with thirty devices.",
        "A clear plan for what happens when a device breaks.",
        "Students who forget chargers: we need spares in every room.",
        "My worry is screen time for the youngest ones.",
        "That it becomes one more thing we are judged on.",
    ],
}

STORIES = [
    (
        "A grandmother joins the reading celebration from abroad",
        "A second grader's grandmother watched her read aloud on a video call from "
        "another country, and the class waved goodbye together.",
        [StoryRole.STUDENTS, StoryRole.FAMILIES, StoryRole.TEACHERS],
        [(Channel.NEWSLETTER, ""), (Channel.SOCIAL, "https://example.org/posts/reading-day")],
        12,
    ),
    (
        "Engineers mentor the robotics club online",
        "Two engineers from a local firm now meet the robotics club every other week by "
        "video and review the students' designs.",
        [StoryRole.STUDENTS, StoryRole.COMMUNITY, StoryRole.TEACHERS],
        [(Channel.LOCAL_NEWS, "https://example.org/news/robotics-mentors")],
        40,
    ),
    (
        "Parent conferences from the workplace",
        "Families who could not leave work met teachers by video during lunch; attendance "
        "at conferences rose and several parents wrote to say thank you.",
        [StoryRole.FAMILIES, StoryRole.TEACHERS, StoryRole.LEADERS],
        [(Channel.BOARD, "")],
        130,
    ),
]

PARTNERS = [
    (
        "Riverbend Credit Union",
        PartnerKind.BUSINESS,
        [Benefit.DONATION, Benefit.MENTORING],
        Decimal("2500.00"),
        "A yearly donation for the device repair fund and volunteers for a money-skills club.",
        True,
    ),
    (
        "Alumni Association",
        PartnerKind.ALUMNI,
        [Benefit.MENTORING, Benefit.INTERNSHIPS],
        None,
        "Former students mentor seniors and host summer placements.",
        True,
    ),
    (
        "State University School of Education",
        PartnerKind.UNIVERSITY,
        [Benefit.GRANT],
        Decimal("8000.00"),
        "A research grant for a blended-learning pilot, finished last year.",
        False,
    ),
]

DEMO_CHANNELS = (PlanChannel.NEWSLETTER, PlanChannel.SOCIAL, PlanChannel.TEXT, PlanChannel.MEETINGS)
HASHTAGS = {"MGE": "#MapleGrows", "CRM": "#CedarRidgeRises", "LVH": "#LakeviewLeads"}


def _teachers(school: School) -> int:
    return StaffMember.objects.filter(school=school).teaching().count()


def _survey(school, starter, title, opens, closes, by=None) -> Survey:
    survey = Survey.objects.create(
        title=title,
        title_es=starter.title_es,
        purpose=starter.purpose,
        purpose_es=starter.purpose_es,
        opens_on=opens,
        closes_on=closes,
        anonymous=True,
        created_by=by,
    )
    survey.schools.set([school])
    copy_starter(survey, starter.key)
    return survey


def _answers(rng, survey, audience_sizes: dict[str, int], day, *, lean: dict[str, int]) -> None:
    """Random but plausible answers: each need category leans to a mean (``lean``)."""
    questions = list(Question.objects.filter(survey=survey).prefetch_related("choices"))
    responses = Response.objects.bulk_create(
        Response(
            survey=survey,
            audience=audience,
            language="es" if rng.random() < 0.2 else "en",
            submitted_on=day - timedelta(days=rng.randint(0, 9)),
        )
        for audience, n in audience_sizes.items()
        for _ in range(n)
    )
    rows = []
    for response in responses:
        for q in questions:
            if not q.required and rng.random() < 0.15:
                continue
            if q.kind == QuestionKind.LIKERT:
                centre = lean.get(q.need_category, 3)
                value = min(5, max(1, round(rng.gauss(centre, 0.9))))
                rows.append(Answer(response=response, question=q, likert=value))
            elif q.kind == QuestionKind.TEXT:
                if rng.random() < 0.5:
                    pool = WRITTEN.get(q.need_category, WRITTEN["support"])
                    rows.append(Answer(response=response, question=q, text=rng.choice(pool)))
            else:
                options = list(q.choices.all())
                k = 1 if q.kind == QuestionKind.SINGLE else rng.randint(1, 2)
                rows.extend(
                    Answer(response=response, question=q, choice=c)
                    for c in rng.sample(options, k=k)
                )
    Answer.objects.bulk_create(rows)


def seed(district: District, schools: dict[str, School]) -> None:
    with outside_scope(), transaction.atomic():
        if Survey.objects.filter(schools__district=district).exists():
            return
        rng = random.Random(5)
        today = timezone.localdate()
        for code, school in sorted(schools.items()):
            teachers = _teachers(school)
            listening = _survey(
                school,
                TEACHERS,
                "Before we choose: what do you need?",
                today - timedelta(days=45),
                today - timedelta(days=25),
            )
            answered = max(8, round(teachers * 0.7))
            Invitation.objects.bulk_create(
                [
                    Invitation(
                        survey=listening,
                        kind=InvitationKind.AUDIENCE,
                        audience=Audience.TEACHERS,
                        expected=teachers,
                    ),
                    Invitation(
                        survey=listening,
                        kind=InvitationKind.AUDIENCE,
                        audience=Audience.STAFF,
                        expected=12,
                    ),
                ]
            )
            _answers(
                rng,
                listening,
                {Audience.TEACHERS: answered, Audience.STAFF: 3 if code == "CRM" else 7},
                today - timedelta(days=30),
                lean={"time": 2, "training": 3, "support": 3, "devices": 4},
            )
            if code == "MGE":
                listening.you_said = (
                    "You told us time was the hardest part, more than devices. So the new "
                    "tools start with one grade team in January, every teacher gets two "
                    "planning afternoons before using them, and nothing new arrives without "
                    "something old being retired."
                )
                listening.you_said_es = (
                    "Nos dijeron que el tiempo era lo más difícil, más que los dispositivos. "
                    "Por eso las herramientas nuevas empiezan con un solo equipo de grado en "
                    "enero, cada docente tendrá dos tardes de planificación antes de usarlas y "
                    "no llegará nada nuevo sin retirar algo viejo."
                )
                listening.you_said_on = today - timedelta(days=10)
                listening.save(update_fields=["you_said", "you_said_es", "you_said_on"])

            families = _survey(
                school,
                FAMILIES,
                "Families: help us plan",
                today - timedelta(days=40),
                today - timedelta(days=20),
            )
            Invitation.objects.create(
                survey=families,
                kind=InvitationKind.AUDIENCE,
                audience=Audience.FAMILIES,
                expected=school.enrollment,
            )
            _answers(
                rng,
                families,
                {Audience.FAMILIES: FAMILY_ANSWERS},
                today - timedelta(days=25),
                lean={"connectivity": 3, "communication": 4},
            )
            if code in STUDENT_SURVEYS:
                invited, replied = STUDENT_SURVEYS[code]
                students = _survey(
                    school,
                    STUDENTS,
                    "Tell us how you learn best",
                    today - timedelta(days=35),
                    today - timedelta(days=21),
                )
                Invitation.objects.create(
                    survey=students,
                    kind=InvitationKind.AUDIENCE,
                    audience=Audience.STUDENTS,
                    expected=invited,
                )
                _answers(
                    rng,
                    students,
                    {Audience.STUDENTS: replied},
                    today - timedelta(days=24),
                    lean={"": 4, "devices": 3, "connectivity": 3, "support": 4},
                )
            _community(rng, code, school, today)


def _community(rng, code: str, school: School, today) -> None:
    stories = Story.objects.bulk_create(
        Story(school=school, date=today - timedelta(days=ago), title=title, what_happened=text)
        for title, text, _roles, _shares, ago in STORIES
    )
    StoryPerson.objects.bulk_create(
        StoryPerson(story=story, role=role)
        for story, spec in zip(stories, STORIES, strict=True)
        for role in spec[2]
    )
    StoryShare.objects.bulk_create(
        StoryShare(story=story, channel=channel, url=url)
        for story, spec in zip(stories, STORIES, strict=True)
        for channel, url in spec[3]
    )
    partners = Partnership.objects.bulk_create(
        Partnership(
            school=school,
            organisation=name,
            kind=kind,
            amount=amount,
            description=text,
            started_on=today - timedelta(days=rng.randint(200, 900)),
            active=active,
        )
        for name, kind, _benefits, amount, text, active in PARTNERS
    )
    PartnershipBenefit.objects.bulk_create(
        PartnershipBenefit(partnership=p, benefit=b)
        for p, spec in zip(partners, PARTNERS, strict=True)
        for b in spec[2]
    )
    plan = CommunicationPlan.objects.create(
        school=school,
        cadence="daily",
        daily_tool="School app",
        second_daily_tool="Instagram",
        hashtag=HASHTAGS.get(code, ""),
        notes="A weekly newsletter on Fridays; a short post with a photo every school day.",
    )
    PlanChannelUse.objects.bulk_create(PlanChannelUse(plan=plan, channel=c) for c in DEMO_CHANNELS)
    CommunicationLogEntry.objects.bulk_create(
        CommunicationLogEntry(
            school=school,
            date=today - timedelta(days=ago),
            channel=channel,
            audience=audience,
            summary=summary,
        )
        for ago, channel, audience, summary in [
            (3, PlanChannel.NEWSLETTER, Audience.FAMILIES, "What we heard from teachers"),
            (9, PlanChannel.SOCIAL, Audience.COMMUNITY, "Robotics club mentors visit"),
            (16, PlanChannel.TEXT, Audience.FAMILIES, "Family survey reminder"),
            (30, PlanChannel.MEETINGS, Audience.FAMILIES, "Family technology night"),
        ]
    )
