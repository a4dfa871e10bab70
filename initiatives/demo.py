"""Demo initiatives (called by ``seed_demo``), one in each situation a principal meets:

- Maple Grove: a 1:1 writing initiative in **rollout**, with a closed family and student
  survey, PD sessions linked, devices, budget committed and spent, compliance done and
  sign-offs; a library spaces initiative in **planning** that the listening rule **blocks**
  (its survey is still open, its compliance items are to do);
- Lakeview: a podcasting studio in **pilot** whose listening rule was **overridden**, the
  reason on its record;
- the whole district: a digital citizenship idea;
- Maple's SWOT for this school year and a reflection on the rollout.

The initiatives are created and moved through the services, so the demo obeys the workflow
it shows (listen first, compliance); their history is then dated back (a demo has a past).
The rows around them are written in bulk. PD and equity demo data are seeded first (their
seeds do nothing the second time) so that sessions can be linked and the coverage plan has
devices.
"""

from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from pd.models import PDSession
from schools.models import District, Role, School
from schools.pillars import Pillar
from schools.scoping import outside_scope
from software.models import App
from stakeholders.models import Survey
from stakeholders.services import copy_starter

from . import services
from .models import (
    BudgetLine,
    Category,
    ComplianceItem,
    ComplianceKind,
    ComplianceStatus,
    Connection,
    Decision,
    FundingSource,
    Initiative,
    Milestone,
    Reflection,
    SignOff,
    SignOffRole,
    Stage,
    Status,
    StatusChange,
    Swot,
    current_school_year,
)

ROLLOUT_TITLE = "Writing with feedback: Chromebooks for grades 3–5"
BLOCKED_TITLE = "A flexible library for project work"
OVERRIDE_TITLE = "Student podcasting studio"
IDEA_TITLE = "Digital citizenship in every grade"
OVERRIDE_REASON = (
    "The survey window fell in exam weeks and only 9 students answered. The student council "
    "and the parent association discussed the studio in person on March 4 and asked us to "
    "start the pilot this term; we will survey again after the pilot."
)


def _user(district: District, email_start: str):
    return (
        get_user_model()
        .objects.filter(memberships__district=district, email__startswith=email_start)
        .order_by("pk")
        .first()
    )


def _walk(initiative, steps, by) -> None:
    """Move ``initiative`` along ``steps`` = [(status, days ago, override reason)] through the
    workflow's one door (so the demo obeys the rules it shows), then date its history back:
    the first step is its creation."""
    for status, _days_ago, reason in steps[1:]:
        services.initiative_move(initiative=initiative, to=status, by=by, override_reason=reason)
    rows = list(StatusChange.objects.filter(initiative=initiative).order_by("at", "pk"))
    now = timezone.now()
    for row, (_status, days_ago, _reason) in zip(rows, steps, strict=True):
        row.at = now - timedelta(days=days_ago)
    StatusChange.objects.bulk_update(rows, ["at"])


@transaction.atomic
def seed(district: District, schools: dict[str, School]) -> None:
    with outside_scope():
        if Initiative.objects.filter(district=district).exists():
            return
        if "MGE" not in schools or "LVH" not in schools:
            return
        # Linked below; each does nothing when already seeded. Stakeholders goes first so
        # that its own "already seeded" check does not see the surveys created here.
        for app in ("pd", "equity", "stakeholders"):
            importlib.import_module(f"{app}.demo").seed(district, schools)
        today = timezone.localdate()
        maple, lakeview = schools["MGE"], schools["LVH"]
        principal = _user(district, "principal@")
        lakeview_principal = _user(district, "principal.lakeview@") or principal
        admin = (
            get_user_model()
            .objects.filter(memberships__district=district, memberships__role=Role.DISTRICT_ADMIN)
            .order_by("pk")
            .first()
        )

        # Created and moved through the services, as a principal would (history dated back
        # below); the rows around them are written in bulk.
        rollout = services.initiative_create(
            schools=[maple],
            data={
                "title": ROLLOUT_TITLE,
                "why": "Students in grades 3–5 write more when they get feedback while they "
                "write, not a week later. Shared documents let teachers comment during the "
                "lesson and let students revise together.",
                "learning_goals": "Every student drafts, gets feedback on and revises one "
                "piece of writing each week. Students give each other kind, specific "
                "feedback.",
                "success_measures": "Writing rubric scores in January and May; the share of "
                "students who revise after feedback; the spring student survey.",
                "owner": principal,
                "involves_devices": True,
            },
            pillars=[Pillar.ENGAGEMENT, Pillar.SPACES, Pillar.PROFESSIONAL_LEARNING],
            by=principal,
        )
        blocked = services.initiative_create(
            schools=[maple],
            data={
                "title": BLOCKED_TITLE,
                "why": "Project work needs space to build, talk and present; our library is "
                "rows of tables. Flexible furniture would let classes work in groups.",
                "learning_goals": "",
                "success_measures": "Library bookings for project work; student voice in the "
                "spring survey.",
                "owner": principal,
            },
            pillars=[Pillar.SPACES],
            by=principal,
        )
        override = services.initiative_create(
            schools=[lakeview],
            data={
                "title": OVERRIDE_TITLE,
                "why": "Students who explain what they learned to a real audience remember it "
                "and care about it. A small studio lets classes publish a weekly episode.",
                "learning_goals": "Students plan, record and edit a five-minute episode about "
                "their learning; they credit sources and ask guests for consent.",
                "success_measures": "Episodes published; listener feedback from families; "
                "the post-pilot survey.",
                "owner": lakeview_principal,
            },
            pillars=[Pillar.ENGAGEMENT, Pillar.PUBLIC_RELATIONS, Pillar.BRANDING],
            by=lakeview_principal,
        )
        idea = services.initiative_create(
            schools=[],
            whole_district=district,
            data={
                "title": IDEA_TITLE,
                "why": "Students judge what they read and share online every day; every grade "
                "should practise it, not only the middle school.",
                "owner": admin,
            },
            pillars=[Pillar.OPPORTUNITY, Pillar.ENGAGEMENT],
            by=admin,
        )

        surveys = Survey.objects.bulk_create(
            [
                Survey(
                    initiative=rollout,
                    title="Families and students: writing on Chromebooks",
                    opens_on=today - timedelta(days=160),
                    closes_on=today - timedelta(days=135),
                    created_by=principal,
                ),
                Survey(
                    initiative=blocked,
                    title="What should our library be for?",
                    opens_on=today - timedelta(days=5),
                    closes_on=today + timedelta(days=16),
                    created_by=principal,
                ),
                Survey(
                    initiative=override,
                    title="Would you listen to a student podcast?",
                    opens_on=today - timedelta(days=40),
                    closes_on=today + timedelta(days=30),
                    created_by=lakeview_principal,
                ),
            ]
        )
        Survey.schools.through.unscoped.bulk_create(
            Survey.schools.through(survey_id=s.pk, school_id=school.pk)
            for s, school in zip(surveys, [maple, maple, lakeview], strict=True)
        )
        for survey in surveys:  # respondents of the open ones see real questions
            copy_starter(survey, "students_before")

        # Every initiative starts with the standard items to do; here is how far each got.
        standard = {
            (c.initiative_id, c.kind): c
            for c in ComplianceItem.objects.filter(
                initiative__in=[rollout, blocked, override, idea]
            )
        }

        def item(initiative, kind, status, evidence="", reason="", detail=""):
            settled = standard[initiative.pk, kind]
            settled.status, settled.evidence_url = status, evidence
            settled.waiver_reason, settled.detail = reason, detail
            settled.updated_by = principal
            return settled

        # The writing initiative's privacy item cites the app in the district's register.
        workspace = App.objects.filter(
            district=district, name="Google Workspace for Education"
        ).first()
        standard[rollout.pk, ComplianceKind.DATA_PRIVACY].app = workspace
        ComplianceItem.objects.bulk_update(
            [
                item(
                    rollout,
                    ComplianceKind.DATA_PRIVACY,
                    ComplianceStatus.DONE,
                    "https://docs.example.org/riverbend/dpa-google-workspace.pdf",
                    detail="Google Workspace for Education",
                ),
                item(
                    rollout,
                    ComplianceKind.ACCESSIBILITY,
                    ComplianceStatus.DONE,
                    "https://docs.example.org/riverbend/accessibility-review-docs.pdf",
                ),
                item(
                    rollout,
                    ComplianceKind.PARENT_NOTICE,
                    ComplianceStatus.DONE,
                    "https://docs.example.org/riverbend/letter-home-grade-3-5.pdf",
                ),
                item(
                    blocked,
                    ComplianceKind.DATA_PRIVACY,
                    ComplianceStatus.WAIVED,
                    reason="No student data: furniture only, no software or accounts.",
                ),
                item(
                    blocked,
                    ComplianceKind.ACCESSIBILITY,
                    ComplianceStatus.IN_PROGRESS,
                    detail="Wheelchair routes between tables",
                ),
                item(blocked, ComplianceKind.PARENT_NOTICE, ComplianceStatus.TO_DO),
                item(
                    override,
                    ComplianceKind.DATA_PRIVACY,
                    ComplianceStatus.DONE,
                    "https://docs.example.org/riverbend/podcast-host-dpa.pdf",
                    detail="Podcast hosting service",
                ),
                item(
                    override,
                    ComplianceKind.ACCESSIBILITY,
                    ComplianceStatus.DONE,
                    "https://docs.example.org/riverbend/transcripts-plan.pdf",
                ),
                item(
                    override,
                    ComplianceKind.PARENT_NOTICE,
                    ComplianceStatus.DONE,
                    "https://docs.example.org/riverbend/recording-consent-form.pdf",
                ),
                item(idea, ComplianceKind.DATA_PRIVACY, ComplianceStatus.TO_DO),
                item(idea, ComplianceKind.ACCESSIBILITY, ComplianceStatus.TO_DO),
                item(idea, ComplianceKind.PARENT_NOTICE, ComplianceStatus.TO_DO),
            ],
            ["status", "evidence_url", "waiver_reason", "detail", "updated_by", "app"],
        )

        # The moves, now that surveys have closed (or not) and compliance is settled.
        _walk(
            rollout,
            [
                (Status.IDEA, 200, ""),
                (Status.PLANNING, 180, ""),
                (Status.PILOT, 120, ""),
                (Status.ROLLOUT, 40, ""),
            ],
            principal,
        )
        _walk(blocked, [(Status.IDEA, 60, ""), (Status.PLANNING, 45, "")], principal)
        _walk(
            override,
            [
                (Status.IDEA, 150, ""),
                (Status.PLANNING, 110, ""),
                (Status.PILOT, 20, OVERRIDE_REASON),
            ],
            lakeview_principal,
        )
        _walk(idea, [(Status.IDEA, 10, "")], admin)

        def line(initiative, category, text, amount, source, stage):
            return BudgetLine(
                initiative=initiative,
                category=category,
                description=text,
                amount=Decimal(amount),
                funding_source=source,
                stage=stage,
            )

        BudgetLine.objects.bulk_create(
            [
                line(
                    rollout,
                    Category.DEVICES,
                    "120 Chromebooks for grades 3–5",
                    "34680",
                    FundingSource.TITLE_I,
                    Stage.SPENT,
                ),
                line(
                    rollout,
                    Category.DEVICES,
                    "Charging carts (4)",
                    "6400",
                    FundingSource.GENERAL_FUND,
                    Stage.SPENT,
                ),
                line(
                    rollout,
                    Category.INFRASTRUCTURE,
                    "Wireless access points, east wing",
                    "8200",
                    FundingSource.E_RATE,
                    Stage.COMMITTED,
                ),
                line(
                    rollout,
                    Category.PD,
                    "Substitutes for coaching cycles",
                    "4500",
                    FundingSource.TITLE_IV_A,
                    Stage.COMMITTED,
                ),
                line(
                    rollout,
                    Category.SOFTWARE,
                    "Writing feedback add-on, year 2",
                    "1800",
                    FundingSource.GENERAL_FUND,
                    Stage.PLANNED,
                ),
                line(
                    blocked,
                    Category.SPACES,
                    "Mobile tables and soft seating",
                    "18500",
                    FundingSource.GRANT,
                    Stage.PLANNED,
                ),
                line(
                    blocked,
                    Category.SPACES,
                    "Writable walls",
                    "3200",
                    FundingSource.DONATION,
                    Stage.PLANNED,
                ),
                line(
                    override,
                    Category.DEVICES,
                    "Microphones, interface and headphones",
                    "2900",
                    FundingSource.GRANT,
                    Stage.SPENT,
                ),
                line(
                    override,
                    Category.SPACES,
                    "Sound panels for the studio room",
                    "1600",
                    FundingSource.DONATION,
                    Stage.COMMITTED,
                ),
            ]
        )

        def ms(initiative, title, days, owner, done_days=None):
            return Milestone(
                initiative=initiative,
                title=title,
                due_on=today + timedelta(days=days),
                owner=owner,
                done_on=None if done_days is None else today + timedelta(days=done_days),
            )

        Milestone.objects.bulk_create(
            [
                ms(rollout, "Family survey closes", -135, "Principal", -135),
                ms(rollout, "Pilot in two grade 4 classes", -110, "Grade 4 team", -108),
                ms(rollout, "Devices tagged and assigned", -45, "Tech staff", -47),
                ms(rollout, "All grade 3–5 classes writing weekly", 20, "Coach"),
                ms(rollout, "Mid-year writing rubric review", 60, "Grade teams"),
                ms(rollout, "Spring student survey", 140, "Principal"),
                ms(blocked, "Library survey closes", 16, "Librarian"),
                ms(blocked, "Furniture trial with two classes", 45, "Librarian"),
                ms(override, "First episode published", -5, "Media teacher", -6),
                ms(override, "Post-pilot survey", 35, "Principal"),
            ]
        )
        SignOff.objects.bulk_create(
            [
                SignOff(
                    initiative=rollout,
                    role=SignOffRole.PRINCIPAL,
                    name=principal.full_name if principal else "Principal",
                    decision=Decision.APPROVED,
                    decided_on=today - timedelta(days=125),
                    recorded_by=principal,
                ),
                SignOff(
                    initiative=rollout,
                    role=SignOffRole.DISTRICT_LEADER,
                    name=admin.full_name if admin else "District office",
                    decision=Decision.APPROVED,
                    decided_on=today - timedelta(days=118),
                    comment="Title I funds confirmed for devices.",
                    recorded_by=principal,
                ),
                SignOff(
                    initiative=rollout,
                    role=SignOffRole.BOARD,
                    name="Board meeting of " + date_format(today - timedelta(days=60)),
                    decision=Decision.CONDITIONS,
                    decided_on=today - timedelta(days=60),
                    comment="Report writing results to the board in June.",
                    recorded_by=principal,
                ),
                SignOff(
                    initiative=override,
                    role=SignOffRole.PRINCIPAL,
                    name=lakeview_principal.full_name if lakeview_principal else "Principal",
                    decision=Decision.APPROVED,
                    decided_on=today - timedelta(days=21),
                    comment="Pilot only; the full rollout waits for the survey.",
                    recorded_by=lakeview_principal,
                ),
            ]
        )

        # PD: the sessions of Maple's term on feedback and collaborative writing serve the
        # rollout.
        sessions = list(
            PDSession.objects.filter(
                schools=maple,
                title__in=[
                    "Formative checks with quick polls",
                    "Modelled lesson: collaborative slides",
                    "Coaching cycle: student voice in science",
                ],
            )
        )
        for s in sessions:
            s.initiative = rollout
        PDSession.objects.bulk_update(sessions, ["initiative"])

        Swot.objects.bulk_create(
            [
                Swot(
                    school=maple,
                    year=current_school_year(today),
                    strengths="Teachers who try things and share them\nA coach in the building"
                    "\nFamilies who come to school events",
                    weaknesses="Devices too old for the writing tools\nLittle time to plan "
                    "together",
                    opportunities="Title I and E-Rate funds\nA local library partnership",
                    threats="Budget cuts next year\nScreen-time worries among parents",
                    participants="Principal\nTwo teachers\nLibrarian\nTwo parents (PTA)\n"
                    "Three grade 5 students",
                    created_by=principal,
                )
            ]
        )
        Reflection.objects.bulk_create(
            [
                Reflection(
                    school=maple,
                    initiative=rollout,
                    written_on=today - timedelta(days=7),
                    relationships="Teachers talk with students about their drafts more than "
                    "before; comments lead to short conferences at the table.",
                    connection=Connection.MIXED,
                    connection_evidence="Students say feedback feels personal; two families "
                    "told us homework on screens keeps them out of it.",
                    this_year="Invite families to a writing showcase; print a paper portfolio "
                    "each term; keep a device-free reading block every day.",
                    author=principal,
                )
            ]
        )
