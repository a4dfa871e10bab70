"""Scale data for initiatives (``seed_scale``): per school an initiative in students' hands
(pilot, rollout or sustaining: why, goals, measures, compliance settled, money committed and
spent, sign-offs, milestones) and one being planned (compliance still to do, money planned);
every fifth school also retired one this year and wrote a reflection on it. One district-wide
idea concerns every school. Most schools have this year's SWOT and a reflection.

The ids of each school's live and planned initiative are left in ``ctx.shared["initiatives"]``
so that PD sessions (pd/scale.py) and listening surveys (stakeholders/scale.py) link to them.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from schools.funding import FundingSource
from schools.pillars import Pillar
from schools.scale import ScaleContext

from .models import (
    STANDARD_COMPLIANCE,
    BudgetLine,
    Category,
    ComplianceItem,
    ComplianceStatus,
    Connection,
    Decision,
    Initiative,
    InitiativePillar,
    Milestone,
    Reflection,
    SignOff,
    SignOffRole,
    Stage,
    Status,
    StatusChange,
    Swot,
)

# title, why, learning goals, success measures, pillars, involves devices
IDEAS = [
    (
        "Writing with feedback on Chromebooks",
        "Students write more when they get feedback while they write, not a week later.",
        "Every student drafts, gets feedback on and revises one piece of writing each week.",
        "Writing rubric scores in January and May; the share of students who revise.",
        [Pillar.ENGAGEMENT, Pillar.PROFESSIONAL_LEARNING],
        True,
    ),
    (
        "Student podcasting studio",
        "Students who explain what they learned to a real audience remember it and care about it.",
        "Students plan, record and edit a short episode about their learning and credit sources.",
        "Episodes published; listener feedback from families; the post-pilot survey.",
        [Pillar.ENGAGEMENT, Pillar.PUBLIC_RELATIONS, Pillar.BRANDING],
        False,
    ),
    (
        "Coding and making in every grade",
        "Building something that works teaches persistence and problem solving.",
        "Each class completes one design challenge per term and presents it.",
        "Projects presented; students' confidence in the spring survey.",
        [Pillar.ENGAGEMENT, Pillar.OPPORTUNITY],
        True,
    ),
    (
        "A flexible library for project work",
        "Project work needs space to build, talk and present; rows of tables do not allow it.",
        "Classes use the library for group projects every week.",
        "Library bookings for project work; student voice in the spring survey.",
        [Pillar.SPACES],
        False,
    ),
    (
        "Blended math stations",
        "Small-group teaching reaches more students when others practise on their own level.",
        "Students rotate through teacher, practice and collaboration stations twice a week.",
        "Unit test growth; time each student spends with the teacher.",
        [Pillar.ENGAGEMENT, Pillar.SPACES],
        True,
    ),
    (
        "Digital portfolios for every learner",
        "Students who collect and reflect on their work see their own progress.",
        "Every student keeps a portfolio with three reflected pieces per term.",
        "Portfolios with reflections; family comments at conferences.",
        [Pillar.ENGAGEMENT, Pillar.COMMUNICATION],
        True,
    ),
]
DISTRICT_IDEA = (
    "Digital citizenship in every grade",
    "Students judge what they read and share online every day; every grade should practise it.",
)
MILESTONES = [
    "Listening survey closes",
    "Pilot in two classes",
    "Devices tagged and assigned",
    "Every class started",
    "Mid-year review",
    "Spring survey",
]
LINES = [  # category, description, amount, funding source
    (Category.DEVICES, "Devices for the classes concerned", "34680", FundingSource.TITLE_I),
    (Category.INFRASTRUCTURE, "Wireless access points", "8200", FundingSource.E_RATE),
    (Category.PD, "Substitutes for coaching cycles", "4500", FundingSource.TITLE_IV_A),
    (Category.SOFTWARE, "Licences, year 2", "1800", FundingSource.GENERAL_FUND),
    (Category.SPACES, "Mobile tables and soft seating", "18500", FundingSource.GRANT),
    (Category.OTHER, "Family evening materials", "600", FundingSource.DONATION),
]

INITIATIVE_FIELDS = [
    "id",
    "district",
    "whole_district",
    "title",
    "why",
    "learning_goals",
    "success_measures",
    "owner",
    "status",
    "involves_devices",
    "created_by",
    "created_at",
    "updated_at",
]
TABLES = [
    Initiative,
    Initiative.schools.through,
    InitiativePillar,
    StatusChange,
    Milestone,
    BudgetLine,
    ComplianceItem,
    SignOff,
    Swot,
    Reflection,
]


@transaction.atomic
def build(ctx: ScaleContext) -> None:
    started = time.perf_counter()
    now = ctx.stamp(ctx.now)
    today = ctx.today
    district = ctx.district.pk
    count = 2 * len(ctx.schools) + sum(1 for i in range(len(ctx.schools)) if i % 5 == 0) + 1
    ids = iter(ctx.ids(Initiative, count))
    rows: dict[str, list] = {
        name: []
        for name in (
            "init",
            "link",
            "pillar",
            "status",
            "ms",
            "line",
            "comp",
            "sign",
            "swot",
            "refl",
        )
    }
    linked: dict[int, dict[str, int]] = {}

    def history(pk, steps, by):
        previous = ""
        for status, days, reason in steps:
            rows["status"].append(
                (pk, previous, status, by, ctx.stamp(ctx.now - timedelta(days=days)), reason)
            )
            previous = status

    for n, school in enumerate(ctx.schools):
        rng = ctx.rng("initiatives", school.code)
        by = school.principal_id
        live_status = rng.choice([Status.PILOT, Status.ROLLOUT, Status.ROLLOUT, Status.SUSTAINING])
        picks = rng.sample(IDEAS, k=3)
        plan = []
        live, planned = next(ids), next(ids)
        plan.append((live, picks[0], live_status, 200))
        plan.append((planned, picks[1], rng.choice([Status.IDEA, Status.PLANNING]), 60))
        retired = None
        if n % 5 == 0:
            retired = next(ids)
            plan.append((retired, picks[2], Status.RETIRED, 330))
        linked[school.pk] = {"live": live, "planned": planned}
        for pk, (title, why, goals, measures, pillars, devices), status, age in plan:
            written = status != Status.IDEA or rng.random() < 0.5
            created = ctx.stamp(ctx.now - timedelta(days=age))
            rows["init"].append(
                (
                    pk,
                    district,
                    False,
                    title,
                    why,
                    goals if written else "",
                    measures if written else "",
                    by,
                    status,
                    devices,
                    by,
                    created,
                    now,
                )
            )
            rows["link"].append((pk, school.pk))
            rows["pillar"] += [(pk, p) for p in pillars]
            path = [Status.IDEA, Status.PLANNING, Status.PILOT, Status.ROLLOUT, Status.SUSTAINING]
            if status == Status.RETIRED:
                steps = [
                    (Status.IDEA, age, ""),
                    (Status.PLANNING, age - 30, ""),
                    (Status.PILOT, age - 90, ""),
                    (Status.RETIRED, rng.randint(20, 120), ""),
                ]
            else:
                reached = path[: path.index(status) + 1]
                gap = age // len(reached)
                steps = [(s, age - i * gap, "") for i, s in enumerate(reached)]
            history(pk, steps, by)
            settled = status in (Status.PILOT, Status.ROLLOUT, Status.SUSTAINING, Status.RETIRED)
            for kind in STANDARD_COMPLIANCE:
                rows["comp"].append(
                    (
                        pk,
                        kind,
                        "",
                        ComplianceStatus.DONE
                        if settled
                        else rng.choice([ComplianceStatus.TO_DO, ComplianceStatus.IN_PROGRESS]),
                        "",
                        f"https://docs.example.org/{school.code.lower()}/{kind}.pdf"
                        if settled
                        else "",
                        by,
                        now,
                    )
                )
            for j, title_ms in enumerate(MILESTONES[: rng.randint(3, 6)]):
                due = today + timedelta(days=-age // 2 + j * 40)
                done = due if settled and due < today else None
                rows["ms"].append(
                    (pk, title_ms, due, rng.choice(["Principal", "Coach", "Tech staff"]), done)
                )
            for category, text, amount, source in rng.sample(LINES, k=rng.randint(2, 4)):
                stage = rng.choice([Stage.COMMITTED, Stage.SPENT]) if settled else Stage.PLANNED
                value = (Decimal(amount) * Decimal(rng.randint(60, 140)) / 100).quantize(
                    Decimal("1")
                )
                rows["line"].append((pk, category, text, value, source, stage, now))
            if settled:
                rows["sign"].append(
                    (
                        pk,
                        SignOffRole.PRINCIPAL,
                        "Principal",
                        Decision.APPROVED,
                        today - timedelta(days=age - 20),
                        "",
                        by,
                    )
                )
                rows["sign"].append(
                    (
                        pk,
                        SignOffRole.DISTRICT_LEADER,
                        "District office",
                        Decision.CONDITIONS if rng.random() < 0.3 else Decision.APPROVED,
                        today - timedelta(days=age - 25),
                        "",
                        by,
                    )
                )
        if rng.random() < 0.85:
            rows["swot"].append(
                (
                    school.pk,
                    ctx.school_year,
                    "Teachers who try things and share them\nFamilies who come to events",
                    "Little time to plan together",
                    "Title I and E-Rate funds",
                    "Budget cuts next year",
                    "Principal\nTwo teachers\nTwo parents\nThree students",
                    by,
                    now,
                )
            )
        about = retired if retired and rng.random() < 0.8 else live
        if rng.random() < 0.7 or about == retired:
            rows["refl"].append(
                (
                    school.pk,
                    about,
                    ctx.weekday_back(rng.randint(3, 60)),
                    "Teachers talk with students about their work more than before.",
                    rng.choice(Connection.values),
                    "What students and families told us.",
                    "Keep a device-free block every day; invite families in.",
                    by,
                    now,
                )
            )

    idea = next(ids)
    rows["init"].append(
        (
            idea,
            district,
            True,
            DISTRICT_IDEA[0],
            DISTRICT_IDEA[1],
            "",
            "",
            ctx.admin_id,
            Status.IDEA,
            False,
            ctx.admin_id,
            now,
            now,
        )
    )
    rows["link"] += [(idea, s.pk) for s in ctx.schools]
    rows["comp"] += [
        (idea, k, "", ComplianceStatus.TO_DO, "", "", ctx.admin_id, now)
        for k in STANDARD_COMPLIANCE
    ]
    history(idea, [(Status.IDEA, 10, "")], ctx.admin_id)

    ctx.copy(Initiative, INITIATIVE_FIELDS, rows["init"])
    ctx.copy(Initiative.schools.through, ["initiative", "school"], rows["link"])
    ctx.copy(InitiativePillar, ["initiative", "pillar"], rows["pillar"])
    ctx.copy(
        StatusChange,
        ["initiative", "from_status", "to_status", "by", "at", "override_reason"],
        rows["status"],
    )
    ctx.copy(Milestone, ["initiative", "title", "due_on", "owner", "done_on"], rows["ms"])
    ctx.copy(
        BudgetLine,
        [
            "initiative",
            "category",
            "description",
            "amount",
            "funding_source",
            "stage",
            "updated_at",
        ],
        rows["line"],
    )
    ctx.copy(
        ComplianceItem,
        [
            "initiative",
            "kind",
            "detail",
            "status",
            "waiver_reason",
            "evidence_url",
            "updated_by",
            "updated_at",
        ],
        rows["comp"],
    )
    ctx.copy(
        SignOff,
        ["initiative", "role", "name", "decision", "decided_on", "comment", "recorded_by"],
        rows["sign"],
    )
    ctx.copy(
        Swot,
        [
            "school",
            "year",
            "strengths",
            "weaknesses",
            "opportunities",
            "threats",
            "participants",
            "created_by",
            "updated_at",
        ],
        rows["swot"],
    )
    ctx.copy(
        Reflection,
        [
            "school",
            "initiative",
            "written_on",
            "relationships",
            "connection",
            "connection_evidence",
            "this_year",
            "author",
            "created_at",
        ],
        rows["refl"],
    )
    ctx.shared["initiatives"] = linked
    ctx.analyze(*TABLES)
    ctx.progress("initiatives", len(ctx.schools), len(ctx.schools), started)
