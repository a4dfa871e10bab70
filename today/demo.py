"""Demo data for the home pages: something for each role to act on this week.

The other apps seed a district at rest; this adds what is due, slipping or failed, with
dates relative to today, so every section of each demo person's home shows items (the
browser test signs in as each of them). Runs once per district."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from equity.imports.models import ImportJob
from equity.inventory import services as inventory
from equity.inventory.models import Circumstance, Device, DeviceStatus
from initiatives.models import Initiative, Milestone
from pd.models import (
    LearningLeader,
    NeedTopic,
    PDNeedsChoice,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
)
from readiness.models import ReadinessRun, RunKind, RunStatus
from schools.models import Membership, Role
from schools.scoping import outside_scope

MARK = "Demo: the worker stopped while computing"
INVITED = [("amara.diallo", "Amara Diallo", "LVH"), ("kevin.brandt", "Kevin Brandt", "MGE")]
LOSSES = [
    ("CRM", Circumstance.LEFT_ON_TRANSIT, "Route 9 bus", False),
    ("CRM", Circumstance.STOLEN, "Parking lot", True),
    ("LVH", Circumstance.LEFT_ON_TRANSIT, "Light rail, Blue line", False),
]


def seed(district, schools) -> None:
    with outside_scope():
        if ReadinessRun.objects.filter(district=district, error=MARK).exists():
            return
        today = timezone.localdate()
        _principal(schools, today)
        _coach(schools, today)
        _tech(schools)
        _admin(district, schools)


def _principal(schools, today) -> None:
    initiative = (
        Initiative.objects.filter(schools=schools["MGE"]).order_by("pk").first()
        if "MGE" in schools
        else None
    )
    if initiative is None:
        return
    Milestone.objects.bulk_create(
        [
            Milestone(
                initiative=initiative,
                title="Order headphones for the listening stations",
                due_on=today - timedelta(days=5),
                owner="Library",
            ),
            Milestone(
                initiative=initiative,
                title="Share the pilot's first work samples with families",
                due_on=today + timedelta(days=9),
                owner="Grade 4 team",
            ),
        ]
    )


def _coach(schools, today) -> None:
    if "MGE" not in schools or "CRM" not in schools:
        return
    leader = LearningLeader.objects.filter(school=schools["MGE"]).select_related("staff").first()
    if leader is None:
        return
    session = PDSession.objects.create(
        title="Feedback that moves learning: a walk through student work",
        date=today + timedelta(days=2),
        duration_minutes=45,
        job_embedded=True,
        facilitator_staff=leader.staff,
        objective="Read three work samples together and agree one next step per student.",
    )
    session.schools.set([schools["MGE"]])
    # A needs poll that closed at Cedar Ridge last week: its answers wait for a session.
    poll = PDNeedsPoll.objects.create(
        school=schools["CRM"],
        period="Winter check-in",
        opens_on=today - timedelta(days=21),
        closes_on=today - timedelta(days=2),
    )
    answers = PDNeedsResponse.objects.bulk_create(
        PDNeedsResponse(poll=poll, submitted_on=poll.closes_on) for _ in range(9)
    )
    topics = [NeedTopic.values[i % len(NeedTopic.values)] for i in range(len(answers))]
    PDNeedsChoice.objects.bulk_create(
        PDNeedsChoice(response=a, topic=t) for a, t in zip(answers, topics, strict=True)
    )


def _tech(schools) -> None:
    for code, circumstance, place, stolen in LOSSES:
        if code not in schools:
            continue
        device = (
            Device.objects.filter(school=schools[code], status=DeviceStatus.IN_STOCK)
            .order_by("-asset_tag")
            .first()
        )
        if device is not None:
            inventory.device_report_missing(
                device=device, by=None, circumstance=circumstance, place=place, stolen=stolen
            )


def _admin(district, schools) -> None:
    now = timezone.now()
    ReadinessRun.objects.create(
        district=district,
        kind=RunKind.NIGHTLY,
        status=RunStatus.FAILED,
        created_at=now - timedelta(days=1, hours=3),
        started_at=now - timedelta(days=1, hours=3),
        finished_at=now - timedelta(days=1, hours=3),
        attempts=3,
        error=MARK,
    )
    if "LVH" in schools:
        ImportJob.objects.create(
            school=schools["LVH"],
            kind=ImportJob.Kind.STUDENTS,
            status=ImportJob.Status.FAILED,
            filename="lakeview-students.csv",
            summary="Not imported: 4 rows had a grade the school does not teach",
            finished_at=now - timedelta(days=2),
        )
    User = get_user_model()
    domain = "riverbend.example.org"
    for local, name, code in INVITED:
        if code not in schools:
            continue
        user = User.objects.filter(email=f"{local}@{domain}").first() or User.objects.create_user(
            email=f"{local}@{domain}", full_name=name
        )
        Membership.objects.get_or_create(
            user=user, district=district, school=schools[code], role=Role.COACH
        )
