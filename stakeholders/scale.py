"""Scale data for stakeholders (``seed_scale``): listening surveys with anonymous answers,
stories of connection, partnerships and a communication plan and log in every school.

Like the demo (stakeholders/demo.py), per school: a closed teacher and staff listening
survey answered by about 70% of the teachers; a closed family survey, linked to the school's
live initiative (its listening rule is met), answered by a few percent of the families; a
closed student survey where the school has grades 6 and up; an open survey for the
initiative being planned. Questions come from the starters. Answers keep the schema's
anonymity: a ``Response`` has only the audience, the language and the day, and its
``Answer`` rows only the values. Then 3–6 stories of the last 12 months with the roles
involved and where they were shared, 2–4 partnerships, a communication plan in most
schools and about one log entry a month.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from schools.models import Grade
from schools.scale import ScaleContext

from .demo import PARTNERS, STORIES, WRITTEN
from .models import (
    Answer,
    Audience,
    Channel,
    Choice,
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
from .starters import FAMILIES, STUDENTS, TEACHERS

SURVEY_FIELDS = [
    "id",
    "title",
    "purpose",
    "opens_on",
    "closes_on",
    "closed_on",
    "anonymous",
    "created_by",
    "created_at",
    "updated_at",
    "title_es",
    "purpose_es",
    "offers_spanish",
    "you_said",
    "you_said_es",
    "you_said_on",
    "initiative",
]
QUESTION_FIELDS = [
    "id",
    "survey",
    "position",
    "kind",
    "text",
    "text_es",
    "required",
    "pillar",
    "need_category",
    "sentiment",
]
TABLES = [
    Survey,
    Survey.schools.through,
    Question,
    Choice,
    Invitation,
    Response,
    Answer,
    Story,
    StoryPerson,
    StoryShare,
    Partnership,
    PartnershipBenefit,
    CommunicationPlan,
    PlanChannelUse,
    CommunicationLogEntry,
]
YOU_SAID = (
    "You told us time was the hardest part, more than devices. New tools now start with "
    "one team, and everyone gets planning time before using them."
)
LOG = [
    (PlanChannel.NEWSLETTER, Audience.FAMILIES, "What we heard from teachers"),
    (PlanChannel.SOCIAL, Audience.COMMUNITY, "Robotics club mentors visit"),
    (PlanChannel.TEXT, Audience.FAMILIES, "Family survey reminder"),
    (PlanChannel.MEETINGS, Audience.FAMILIES, "Family technology night"),
    (PlanChannel.WEBSITE, Audience.COMMUNITY, "Student work of the month"),
    (PlanChannel.EMAIL, Audience.TEACHERS, "PD calendar for next month"),
]
PLAN_CHANNELS = [
    PlanChannel.NEWSLETTER,
    PlanChannel.SOCIAL,
    PlanChannel.TEXT,
    PlanChannel.MEETINGS,
    PlanChannel.WEBSITE,
    PlanChannel.EMAIL,
]
MORE_PARTNERS = [
    (
        "Public Library",
        PartnerKind.NON_PROFIT,
        ["mentoring"],
        None,
        "Homework help and hotspot lending for families.",
        True,
    ),
    (
        "Parent Teacher Association",
        PartnerKind.FAMILY_GROUP,
        ["donation", "equipment"],
        Decimal("1200.00"),
        "Headphones and chargers for every classroom.",
        True,
    ),
]


@transaction.atomic
def build(ctx: ScaleContext) -> None:
    started = time.perf_counter()
    done = 0
    with ctx.fast_load(*TABLES):
        for chunk in ctx.chunks():
            _chunk(ctx, chunk)
            done += len(chunk)
            ctx.progress("stakeholders", done, len(ctx.schools), started)
    ctx.analyze(*TABLES)


def _surveys_of(ctx: ScaleContext, school) -> list[dict]:
    """The surveys of one school: starter, title, dates, audiences -> (expected, answered)."""
    rng = ctx.rng("surveys", school.code)
    today = ctx.today
    teaching = len(school.teaching_staff)
    other = len(school.staff) - teaching
    linked = ctx.shared.get("initiatives", {}).get(school.pk, {})
    families = school.enrollment
    surveys = [
        {
            "starter": TEACHERS,
            "title": TEACHERS.title,
            "opens": 60,
            "closes": 40,
            "audiences": {
                Audience.TEACHERS: (teaching, round(teaching * rng.uniform(0.55, 0.85))),
                Audience.STAFF: (other, round(other * rng.uniform(0.3, 0.7))),
            },
            "you_said": rng.random() < 0.5,
            "initiative": None,
        },
        {
            "starter": FAMILIES,
            "title": "Families: help us plan",
            "opens": 150,
            "closes": 120,
            "audiences": {
                Audience.FAMILIES: (families, max(6, round(families * rng.uniform(0.02, 0.06))))
            },
            "you_said": False,
            "initiative": linked.get("live"),
        },
    ]
    if school.high >= Grade.G6:
        invited = round(school.band(Grade.G6, Grade.G12) * 0.3)
        surveys.append(
            {
                "starter": STUDENTS,
                "title": STUDENTS.title,
                "opens": 90,
                "closes": 70,
                "audiences": {
                    Audience.STUDENTS: (invited, min(150, round(invited * rng.uniform(0.4, 0.7))))
                },
                "you_said": False,
                "initiative": None,
            }
        )
    if linked.get("planned"):
        starter = STUDENTS if school.high >= Grade.G6 else FAMILIES
        audience = Audience.STUDENTS if starter is STUDENTS else Audience.FAMILIES
        surveys.append(
            {
                "starter": starter,
                "title": "What should we try next?",
                "opens": 5,
                "closes": -16,
                "audiences": {audience: (max(10, families // 4), 0)},
                "you_said": False,
                "initiative": linked["planned"],
            }
        )
    for s in surveys:
        s["opens_on"] = today - timedelta(days=s["opens"])
        s["closes_on"] = today - timedelta(days=s["closes"])
    return surveys


def _chunk(ctx: ScaleContext, chunk) -> None:
    now = ctx.stamp(ctx.now)
    today = ctx.today
    plans = [(school, _surveys_of(ctx, school)) for school in chunk]
    flat = [(school, s) for school, surveys in plans for s in surveys]
    survey_ids = iter(ctx.ids(Survey, len(flat)))
    question_ids = iter(ctx.ids(Question, sum(len(s["starter"].questions) for _x, s in flat)))
    choice_ids = iter(
        ctx.ids(Choice, sum(len(q.choices) for _x, s in flat for q in s["starter"].questions))
    )
    response_ids = iter(
        ctx.ids(Response, sum(n for _x, s in flat for _e, n in s["audiences"].values()))
    )
    rows: dict[str, list] = {k: [] for k in ("survey", "link", "q", "c", "inv", "resp", "ans")}
    for school, s in flat:
        rng = ctx.rng("answers", school.code, s["title"])
        pk = next(survey_ids)
        starter = s["starter"]
        said = s["you_said"]
        rows["survey"].append(
            (
                pk,
                s["title"],
                starter.purpose,
                s["opens_on"],
                s["closes_on"],
                None,
                True,
                school.principal_id,
                now,
                now,
                starter.title_es,
                starter.purpose_es,
                True,
                YOU_SAID if said else "",
                "",
                today - timedelta(days=10) if said else None,
                s["initiative"],
            )
        )
        rows["link"].append((pk, school.pk))
        questions = []
        for position, q in enumerate(starter.questions, 1):
            qid = next(question_ids)
            rows["q"].append(
                (
                    qid,
                    pk,
                    position,
                    q.kind,
                    q.text,
                    q.text_es,
                    q.required,
                    q.pillar,
                    q.need,
                    q.sentiment,
                )
            )
            options = []
            for j, (en, es) in enumerate(q.choices, 1):
                cid = next(choice_ids)
                rows["c"].append((cid, qid, j, en, es))
                options.append(cid)
            questions.append((qid, q, options))
        for audience, (expected, answered) in s["audiences"].items():
            rows["inv"].append(
                (
                    pk,
                    InvitationKind.AUDIENCE,
                    audience,
                    expected,
                    "",
                    "",
                    secrets.token_urlsafe(18),
                    None,
                    now,
                )
            )
            closes = min(s["closes_on"], today)
            span = max(0, (closes - s["opens_on"]).days)
            for _ in range(answered):
                rid = next(response_ids)
                rows["resp"].append(
                    (
                        rid,
                        pk,
                        audience,
                        "es" if rng.random() < 0.2 else "en",
                        s["opens_on"] + timedelta(days=rng.randint(0, span)),
                    )
                )
                for qid, q, options in questions:
                    if not q.required and rng.random() < 0.15:
                        continue
                    if q.kind == QuestionKind.LIKERT:
                        value = min(5, max(1, round(rng.gauss(3.6, 1.0))))
                        rows["ans"].append((rid, qid, value, None, ""))
                    elif q.kind == QuestionKind.TEXT:
                        if rng.random() < 0.4:
                            pool = WRITTEN.get(q.need, WRITTEN["support"])
                            rows["ans"].append((rid, qid, None, None, rng.choice(pool)))
                    elif options:
                        k = (
                            1
                            if q.kind == QuestionKind.SINGLE
                            else rng.randint(1, min(2, len(options)))
                        )
                        rows["ans"] += [(rid, qid, None, c, "") for c in rng.sample(options, k=k)]
    ctx.copy(Survey, SURVEY_FIELDS, rows["survey"])
    ctx.copy(Survey.schools.through, ["survey", "school"], rows["link"])
    ctx.copy(Question, QUESTION_FIELDS, rows["q"])
    ctx.copy(Choice, ["id", "question", "position", "text", "text_es"], rows["c"])
    ctx.copy(
        Invitation,
        [
            "survey",
            "kind",
            "audience",
            "expected",
            "name",
            "email",
            "token",
            "used_on",
            "created_at",
        ],
        rows["inv"],
    )
    ctx.copy(Response, ["id", "survey", "audience", "language", "submitted_on"], rows["resp"])
    ctx.copy(Answer, ["response", "question", "likert", "choice", "text"], rows["ans"])
    _community(ctx, chunk)


def _community(ctx: ScaleContext, chunk) -> None:
    now = ctx.stamp(ctx.now)
    today = ctx.today
    counts = {s.pk: ctx.rng("stories", s.code).randint(3, 6) for s in chunk}
    story_ids = iter(ctx.ids(Story, sum(counts.values())))
    partner_counts = {s.pk: ctx.rng("partners", s.code).randint(2, 4) for s in chunk}
    partner_ids = iter(ctx.ids(Partnership, sum(partner_counts.values())))
    rows: dict[str, list] = {
        k: [] for k in ("story", "person", "share", "partner", "benefit", "plan", "channel", "log")
    }
    plans = []
    for school in chunk:
        rng = ctx.rng("community", school.code)
        for _ in range(counts[school.pk]):
            title, text, roles, shares, _ago = rng.choice(STORIES)
            pk = next(story_ids)
            rows["story"].append(
                (
                    pk,
                    school.pk,
                    today - timedelta(days=rng.randint(1, 360)),
                    title,
                    text,
                    school.principal_id,
                    now,
                )
            )
            extra = rng.sample(StoryRole.values, k=rng.randint(0, 2))
            rows["person"] += [(pk, r) for r in sorted(set(roles) | set(extra))]
            rows["share"] += [(pk, c, url) for c, url in shares]
            if rng.random() < 0.3 and Channel.NEWSLETTER not in {c for c, _u in shares}:
                rows["share"].append((pk, Channel.NEWSLETTER, ""))
        for name, kind, benefits, amount, text, active in rng.sample(
            PARTNERS + MORE_PARTNERS, k=partner_counts[school.pk]
        ):
            pk = next(partner_ids)
            rows["partner"].append(
                (
                    pk,
                    school.pk,
                    name,
                    kind,
                    text,
                    amount,
                    "",
                    today - timedelta(days=rng.randint(60, 900)),
                    active,
                    now,
                )
            )
            rows["benefit"] += [(pk, b) for b in benefits]
        if rng.random() < 0.9:
            plans.append((school, rng.sample(PLAN_CHANNELS, k=rng.randint(2, 5)), rng))
        for month in range(rng.randint(8, 14)):
            channel, audience, summary = rng.choice(LOG)
            rows["log"].append(
                (
                    school.pk,
                    today - timedelta(days=month * 26 + rng.randint(0, 20)),
                    channel,
                    audience,
                    summary,
                    "",
                    school.principal_id,
                )
            )
    plan_ids = ctx.ids(CommunicationPlan, len(plans))
    for pk, (school, channels, rng) in zip(plan_ids, plans, strict=True):
        rows["plan"].append(
            (
                pk,
                school.pk,
                rng.choice(["daily", "several_weekly", "weekly"]),
                "School app",
                rng.choice(["Instagram", "", "Facebook"]),
                f"#{school.code}Learns",
                "A weekly newsletter on Fridays.",
                school.principal_id,
                now,
            )
        )
        rows["channel"] += [(pk, c) for c in channels]
    ctx.copy(
        Story,
        ["id", "school", "date", "title", "what_happened", "created_by", "created_at"],
        rows["story"],
    )
    ctx.copy(StoryPerson, ["story", "role"], rows["person"])
    ctx.copy(StoryShare, ["story", "channel", "url"], rows["share"])
    ctx.copy(
        Partnership,
        [
            "id",
            "school",
            "organisation",
            "kind",
            "description",
            "amount",
            "contact",
            "started_on",
            "active",
            "created_at",
        ],
        rows["partner"],
    )
    ctx.copy(PartnershipBenefit, ["partnership", "benefit"], rows["benefit"])
    ctx.copy(
        CommunicationPlan,
        [
            "id",
            "school",
            "cadence",
            "daily_tool",
            "second_daily_tool",
            "hashtag",
            "notes",
            "updated_by",
            "updated_at",
        ],
        rows["plan"],
    )
    ctx.copy(PlanChannelUse, ["plan", "channel"], rows["channel"])
    ctx.copy(
        CommunicationLogEntry,
        ["school", "date", "channel", "audience", "summary", "url", "created_by"],
        rows["log"],
    )
