"""Demo register (called by ``seed_demo``): apps in each state a district meets.

- Google Workspace for Education: approved, agreement signed, accessibility reviewed
  (initiatives/demo.py cites it for Maple Grove's writing initiative).
- Seesaw: approved with conditions; its agreement expires within 60 days (the reminder).
- Book Creator: approved, but its agreement has expired (not cleared for classrooms).
- Kahoot!: requested by a Maple Grove teacher, two of four review steps passed.
- GoGuardian Beacon: denied, with the reason.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from schools.models import District, School, StaffMember
from schools.scoping import outside_scope

from .models import App, AppRequest, Decision, DpaStatus, Outcome, RequestNote, RequestStatus
from .services import ensure_steps

STANDARD = "Student Data Privacy Consortium National DPA v2"


def seed(district: District, schools: dict[str, School]) -> None:
    with outside_scope():
        if App.objects.filter(district=district).exists():
            return
        today = timezone.localdate()
        now = timezone.now()
        admin = get_user_model().objects.filter(email__startswith="admin@").first()
        docs = "https://docs.example.org/riverbend"
        common = {"district": district, "decided_by": admin, "decided_at": now}
        _, _, _, kahoot, _ = App.objects.bulk_create(
            [
                App(
                    **common,
                    name="Google Workspace for Education",
                    vendor="Google",
                    website="https://edu.google.com/",
                    purpose="Shared documents, slides and classroom assignments.",
                    grades="3–12",
                    subjects="All",
                    data_collected=["name", "email", "work", "usage"],
                    district_sign_in=True,
                    dpa_status=DpaStatus.SIGNED,
                    dpa_signed_on=today - timedelta(days=300),
                    dpa_expires_on=today + timedelta(days=800),
                    dpa_url=f"{docs}/dpa-google-workspace.pdf",
                    dpa_standard=STANDARD,
                    accessibility_url=f"{docs}/acr-google-workspace.pdf",
                    wcag_level="AA",
                    decision=Decision.APPROVED,
                    decision_reason="Signed the national DPA; used district-wide for writing.",
                ),
                App(
                    **common,
                    name="Seesaw",
                    vendor="Seesaw Learning",
                    website="https://seesaw.com/",
                    purpose="Student portfolios and family messages in the early grades.",
                    grades="PK–2",
                    data_collected=["name", "work", "audio_video"],
                    coppa_consent=True,
                    dpa_status=DpaStatus.SIGNED,
                    dpa_signed_on=today - timedelta(days=700),
                    dpa_expires_on=today + timedelta(days=40),
                    dpa_url=f"{docs}/dpa-seesaw.pdf",
                    dpa_standard=STANDARD,
                    accessibility_url=f"{docs}/acr-seesaw.pdf",
                    wcag_level="A",
                    decision=Decision.APPROVED_WITH_CONDITIONS,
                    conditions="Family sharing stays off for students whose families opted out.",
                    decision_reason="Portfolios serve the K–2 reading goals.",
                ),
                App(
                    **common,
                    name="Book Creator",
                    vendor="Tools for Schools",
                    purpose="Students write and illustrate their own books.",
                    grades="K–8",
                    data_collected=["name", "work"],
                    dpa_status=DpaStatus.SIGNED,
                    dpa_signed_on=today - timedelta(days=800),
                    dpa_expires_on=today - timedelta(days=20),
                    dpa_url=f"{docs}/dpa-book-creator.pdf",
                    decision=Decision.APPROVED,
                    decision_reason="Approved for the writing initiative in 2024.",
                ),
                App(
                    district=district,
                    name="Kahoot!",
                    vendor="Kahoot ASA",
                    website="https://kahoot.com/",
                    purpose="Quick quizzes to check understanding.",
                    data_collected=["usage"],
                    dpa_status=DpaStatus.REQUESTED,
                ),
                App(
                    **common,
                    name="GoGuardian Beacon",
                    vendor="GoGuardian",
                    data_collected=["usage", "special_ed"],
                    decision=Decision.DENIED,
                    decision_reason="Reads students' browsing for health signals; the district "
                    "will not send that data to a vendor.",
                ),
            ]
        )
        steps = ensure_steps(district)
        maple = schools["MGE"]
        teacher = StaffMember.objects.filter(school=maple).order_by("pk").first()
        request = AppRequest.objects.create(
            district=district,
            app=kahoot,
            school=maple,
            requester_name=teacher.full_name,
            requester_email=teacher.email,
            why="Grade 4 math: a two-minute check at the end of each lesson shows who needs "
            "another example tomorrow.",
            status=RequestStatus.IN_REVIEW,
            created_at=now - timedelta(days=9),
        )
        RequestNote.objects.bulk_create(
            [
                RequestNote(
                    request=request,
                    step=step,
                    outcome=Outcome.PASSED,
                    text=text,
                    author=admin,
                    author_name=admin.full_name if admin else "",
                    created_at=now - timedelta(days=days),
                )
                for step, text, days in [
                    (steps[1], "ACR on file; meets WCAG 2.1 AA.", 6),
                    (steps[2], "Serves the grade 4 exit-ticket routine.", 4),
                ]
            ]
        )
