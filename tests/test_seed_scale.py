"""seed_scale: the district it builds keeps the contract (docs/scale.md) and the model rules
that COPY bypasses. Small N on SQLite here; the same code path writes with COPY on
PostgreSQL (run this file with DATABASE_URL=postgres://... to check it there)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.urls import reverse

from accounts.models import User
from equity.inventory.models import (
    Assignment,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceModel,
    DeviceStatus,
    EventKind,
    HomeInternet,
    Student,
)
from initiatives.models import (
    BudgetLine,
    ComplianceItem,
    Initiative,
    Milestone,
    Reflection,
    SignOff,
    StatusChange,
    Swot,
)
from pd.models import (
    Attendance,
    Feedback,
    LearningLeader,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
)
from readiness.models import Snapshot
from schools.models import GRADE_BANDS, District, Membership, Role, School, StaffMember
from schools.pillars import Pillar
from schools.scale import DEFAULT_PASSWORD, default_school_count, plan_schools
from stakeholders.models import (
    Answer,
    Choice,
    CommunicationLogEntry,
    CommunicationPlan,
    Invitation,
    Partnership,
    Question,
    Response,
    Story,
    Survey,
)

STUDENTS = 600


def seed(**options):
    call_command("seed_scale", students=STUDENTS, schools=3, **options)
    return District.objects.get(name=options.get("district", "Scale District"))


@pytest.fixture
def seeded(db, capsys):
    district = seed()
    return district, capsys.readouterr().out


def test_default_school_count_follows_the_contract():
    assert default_school_count(1_000_000) == 1802
    # The benchmark's small district has as many schools as logins: 50 schools of 20.
    assert default_school_count(1_000) == 50
    assert default_school_count(600) == 30
    assert default_school_count(40_000) == 72
    assert default_school_count(10) == 2


@pytest.mark.django_db
def test_without_schools_it_uses_the_default_rule():
    call_command("seed_scale", students=1_000, no_readiness=True)
    assert School.objects.count() == default_school_count(1_000) == 50
    assert not Snapshot.objects.exists()  # --no-readiness


def test_school_plans_add_up_and_mix_kinds():
    import random

    plans = plan_schools(100_000, 180, random.Random(1))
    assert sum(sum(p["grades"].values()) for p in plans) == 100_000
    kinds = Counter(p["kind"] for p in plans)
    assert kinds["elementary"] > kinds["middle"] > 0 and kinds["high"] > 0
    assert {p["kind"] for p in plans[:10]} == {"elementary", "middle", "high"}
    sizes = sorted(sum(p["grades"].values()) for p in plans)
    assert sizes[0] * 1.5 < sizes[-1]


def test_schools_codes_bands_and_students_agree(seeded):
    district, out = seeded
    schools = list(School.objects.filter(district=district).order_by("code"))
    assert [s.code for s in schools] == ["S0001", "S0002", "S0003"]
    assert {(s.lowest_grade, s.highest_grade) for s in schools} == {(-1, 5), (6, 8), (9, 12)}
    assert sum(s.enrollment for s in schools) == Student.objects.count() == STUDENTS
    for school in schools:
        grades = Counter(Student.objects.filter(school=school).values_list("grade", flat=True))
        assert min(grades) == school.lowest_grade and max(grades) == school.highest_grade
        for name, _label, low, high in GRADE_BANDS:
            in_band = sum(n for g, n in grades.items() if low <= g <= high)
            assert getattr(school, name) == in_band
    assert "equity_deviceevent" in out and "readiness:" in out  # progress per table


def test_proportions_are_realistic(seeded):
    students = Student.objects.count()
    devices = Device.objects.count()
    assert 1.03 <= devices / students <= 1.07
    assert 1 / 16 <= StaffMember.objects.count() / students <= 1 / 12
    hotspots = Device.objects.filter(model__kind=DeviceKind.HOTSPOT).count()
    assert 0.02 <= hotspots / devices <= 0.05
    status = Counter(Device.objects.values_list("status", flat=True))
    assert status[DeviceStatus.ASSIGNED] / devices > 0.8
    assert status[DeviceStatus.IN_STOCK] > 0 and status[DeviceStatus.IN_REPAIR] > 0
    assert status[DeviceStatus.LOST] + status[DeviceStatus.STOLEN] + status[DeviceStatus.RETIRED]
    assert DeviceModel.objects.filter(touchscreen=True).exists()
    assert 2.5 <= DeviceEvent.objects.count() / devices <= 7
    kinds = set(DeviceEvent.objects.values_list("kind", flat=True))
    assert {EventKind.CREATED, EventKind.CHECK_OUT, EventKind.CHECK_IN, EventKind.REPAIR_SENT,
            EventKind.REPAIR_RETURNED, EventKind.RETIRED} <= kinds  # fmt: skip
    flags = Student.objects.aggregate(
        touch=Count("pk", filter=Q(needs_touch=True)),
        offline=Count("pk", filter=Q(home_internet=HomeInternet.NO)),
        waiver=Count("pk", filter=Q(fee_waiver=True)),
        inactive=Count("pk", filter=Q(active=False)),
        homeroom=Count("pk", filter=~Q(homeroom="")),
    )
    assert flags["homeroom"] == students
    assert all(flags[k] > 0 for k in ("touch", "offline", "waiver", "inactive"))
    for model in (PDSession, Attendance, Feedback, LearningLeader, PDNeedsPoll, PDNeedsResponse,
                  Survey, Response, Answer, Story, Partnership, CommunicationPlan,
                  CommunicationLogEntry, Initiative, Milestone, BudgetLine, ComplianceItem,
                  SignOff, StatusChange, Swot, Reflection):  # fmt: skip
        assert model._base_manager.exists(), model


def test_unique_rules_hold(seeded):
    assert not (
        Device.objects.values("district", "asset_tag").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not (
        Device.objects.values("district", "maker", "serial_number")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    open_ = Assignment.objects.filter(checked_in_at__isnull=True)
    assert not open_.values("device").annotate(n=Count("pk")).filter(n__gt=1)
    assert not open_.values("student", "is_hotspot").annotate(n=Count("pk")).filter(n__gt=1)
    # An open assignment exactly for each assigned device, to an active student of its school.
    assert open_.count() == Device.objects.filter(status=DeviceStatus.ASSIGNED).count()
    assert not open_.exclude(device__status=DeviceStatus.ASSIGNED).exists()
    assert not open_.filter(student__active=False).exists()
    assert not open_.exclude(student__school=F("device__school")).exists()
    hotspot = open_.filter(is_hotspot=True)
    assert hotspot.exists()
    assert not hotspot.exclude(device__model__kind=DeviceKind.HOTSPOT).exists()
    assert not hotspot.exclude(student__home_internet=HomeInternet.NO).exists()
    assert not Device.objects.exclude(maker=F("model__maker")).exists()
    assert not Student.objects.values("local_id").annotate(n=Count("pk")).filter(n__gt=1)
    # Anonymity: responses keep only the audience, the language and the day.
    assert {f.name for f in Response._meta.concrete_fields} == {
        "id", "survey", "audience", "language", "submitted_on"
    }  # fmt: skip


SAMPLED = [
    District, School, StaffMember, Membership, User, DeviceModel, Student, Device, Assignment,
    DeviceEvent, PDSession, Attendance, Feedback, LearningLeader, PDNeedsPoll, Survey, Choice,
    Invitation, Response, Answer, Story, Partnership, CommunicationPlan, CommunicationLogEntry,
    Initiative, Milestone, BudgetLine, ComplianceItem, SignOff, StatusChange, Swot, Reflection,
]  # fmt: skip


def test_sampled_rows_pass_full_clean(seeded):
    for model in SAMPLED:
        rows = list(model._base_manager.order_by("?")[:25])
        assert rows, model
        for row in rows:
            row.full_clean()
    # A question of an answered survey refuses any edit by design (its clean says so), so the
    # questions checked are those of the open surveys nobody has answered yet.
    unanswered = Question.objects.filter(survey__responses__isnull=True)
    assert unanswered.exists()
    for question in unanswered[:25]:
        question.full_clean()


def test_logins_have_the_right_roles_and_sign_in(seeded, client):
    district, out = seeded
    admin = User.objects.get(email="admin@scale.test")
    assert Membership.objects.filter(user=admin, school=None, role=Role.DISTRICT_ADMIN).exists()
    for school in School.objects.filter(district=district):
        code = school.code.lower()
        for prefix, role in (("principal", Role.PRINCIPAL), ("coach", Role.COACH),
                             ("tech", Role.TECH_STAFF)):  # fmt: skip
            user = User.objects.get(email=f"{prefix}.{code}@scale.test")
            assert list(user.memberships.values_list("school", "role")) == [(school.pk, role)]
    assert User.objects.count() == 1 + 3 * 3
    assert len({u.password for u in User.objects.all()}) == 1  # one hash, computed once
    response = client.post(
        "/accounts/login/", {"username": "tech.s0002@scale.test", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/"
    assert "principal.s0001@scale.test" in out and DEFAULT_PASSWORD in out


@pytest.mark.django_db
def test_it_refuses_a_district_that_exists():
    seed(no_readiness=True)
    counts = (School.objects.count(), Student.objects.count(), Device.objects.count())
    with pytest.raises(CommandError, match="exists already"):
        seed(no_readiness=True)
    assert (School.objects.count(), Student.objects.count(), Device.objects.count()) == counts
    # Another name builds another district; its logins cannot take the same addresses.
    other = seed(no_readiness=True, district="Second District")
    assert other.schools.count() == 3
    admin = User.objects.get(email="admin@second-district.scale.test")
    assert admin.memberships.get().district == other


def test_every_pillar_of_every_school_has_a_score(seeded):
    district, _out = seeded
    for school in School.objects.filter(district=district):
        snapshot = Snapshot.objects.filter(school=school).latest("computed_at")
        assert snapshot.overall is not None
        assert all(snapshot.pillars.get(p) is not None for p in Pillar.values), snapshot.pillars


def test_the_principal_opens_the_pages(seeded, client):
    district, _out = seeded
    school = School.objects.get(district=district, code="S0001")
    response = client.post(
        "/accounts/login/",
        {"username": "principal.s0001@scale.test", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    survey = Survey.objects.filter(schools=school, responses__isnull=False).distinct().first()
    initiative = Initiative.objects.filter(schools=school, whole_district=False).first()
    urls = [
        reverse("equity:inventory"),
        reverse("equity:inventory") + "?status=assigned",
        reverse("equity:coverage", args=[school.pk]),
        reverse("pd:reports"),
        reverse("stakeholders:survey_results", args=[survey.pk]),
        reverse("initiatives:detail", args=[initiative.pk]),
        reverse("readiness:school", args=[school.pk]),
        reverse("readiness:index"),
        reverse("schools:school_detail", args=[school.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("equity:inventory")).content.decode()
    assert "S0001-0" in page  # the principal's own devices are listed


def test_the_google_reports_tally_is_counted_after_the_seed(seeded):
    """The seeded inventory is counted by expiration (googlesync/scale.py), so the reports
    show the district's replacements from the first view, equal to the direct count."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.googlesync.test_aue_tally import assert_kept_equals_direct, direct

    district, _out = seeded
    today = timezone.localdate()
    later = today + timedelta(days=4 * 365)
    assert direct(district, today) or direct(district, later)
    assert_kept_equals_direct(district, today, later)
