"""Factories for bulk and incidental data. Named people live in conftest.py."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from schools.models import District, Grade, Membership, Position, Role, School, StaffMember


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district-{n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    code = factory.Sequence(lambda n: f"S{n:04d}")
    lowest_grade = Grade.K
    highest_grade = Grade.G5
    enrollment_pk_2 = 150
    enrollment_3_5 = 150


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)
    district = factory.LazyAttribute(lambda m: m.school.district)
    role = Role.PRINCIPAL


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    school = factory.SubFactory(SchoolFactory)
    full_name = factory.Sequence(lambda n: f"Staff Member {n}")
    email = factory.Sequence(lambda n: f"staff{n}@example.org")
    position = Position.TEACHER


# --- equity factories ---
class DeviceModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "equity.DeviceModel"

    district = factory.SubFactory(DistrictFactory)
    maker = "Acme"
    name = factory.Sequence(lambda n: f"Chromebook {n}")
    kind = "chromebook"
    touchscreen = False
    unit_price = factory.LazyFunction(lambda: Decimal("289.00"))


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "equity.Device"

    school = factory.SubFactory(SchoolFactory)
    district = factory.LazyAttribute(lambda d: d.school.district)
    model = factory.SubFactory(
        DeviceModelFactory, district=factory.SelfAttribute("..school.district")
    )
    maker = factory.LazyAttribute(lambda d: d.model.maker)
    asset_tag = factory.Sequence(lambda n: f"CB-{n:06d}")
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    status = "in_stock"


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "equity.Student"

    school = factory.SubFactory(SchoolFactory)
    district = factory.LazyAttribute(lambda s: s.school.district)
    local_id = factory.Sequence(lambda n: f"{100000 + n}")
    grade = 4
    home_internet = "yes"


# --- end equity factories ---


# --- pd factories ---
from datetime import timedelta  # noqa: E402

from django.utils import timezone  # noqa: E402


class PDSessionFactory(factory.django.DjangoModelFactory):
    """A coach-led session; pass ``schools=[...]`` (default: a new school)."""

    class Meta:
        model = "pd.PDSession"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"PD session {n}")
    date = factory.LazyFunction(lambda: timezone.localdate())
    duration_minutes = 60
    format = "workshop"
    facilitator_user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def schools(obj, create, extracted, **kwargs):
        if create:
            obj.schools.set(extracted or [SchoolFactory()])


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pd.Attendance"

    session = factory.SubFactory(PDSessionFactory)
    staff = factory.SubFactory(StaffMemberFactory)
    status = "attended"
    hours = factory.LazyAttribute(lambda a: a.session.hours if a.status == "attended" else 0)


class LearningLeaderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pd.LearningLeader"

    staff = factory.SubFactory(StaffMemberFactory)
    school = factory.LazyAttribute(lambda ll: ll.staff.school)
    cohort_year = 2025
    why_nominated = "Colleagues trust her and she learns in the open."


class PDNeedsPollFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pd.PDNeedsPoll"

    school = factory.SubFactory(SchoolFactory)
    period = "Spring term"
    opens_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    closes_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))


# --- end pd factories ---


# --- initiatives factories ---
class InitiativeFactory(factory.django.DjangoModelFactory):
    """A school initiative with a written why; pass ``schools=[...]`` (default: a new school).

    Saved through ``services.initiative_start``, so it starts as an idea (or in planning)
    with its history row, as every initiative does."""

    class Meta:
        model = "initiatives.Initiative"
        skip_postgeneration_save = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from initiatives.services import initiative_start

        initiative = model_class(*args, **kwargs)
        initiative_start(initiative=initiative, by=kwargs.get("created_by"))
        return initiative

    district = factory.SubFactory(DistrictFactory)
    title = factory.Sequence(lambda n: f"Initiative {n}")
    why = "Students explain their thinking aloud and get feedback sooner."
    learning_goals = "Every student records one explanation a week."
    success_measures = "Work samples in June; the spring student survey."

    @factory.post_generation
    def schools(obj, create, extracted, **kwargs):
        if not create:
            return
        schools = list(extracted or [SchoolFactory(district=obj.district)])
        if schools[0].district_id != obj.district_id:  # follow the schools' district
            obj.district = schools[0].district
            type(obj)._base_manager.filter(pk=obj.pk).update(district=obj.district)
        obj.schools.set(schools)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.Milestone"

    initiative = factory.SubFactory(InitiativeFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.BudgetLine"

    initiative = factory.SubFactory(InitiativeFactory)
    category = "devices"
    description = factory.Sequence(lambda n: f"Budget line {n}")
    amount = factory.LazyFunction(lambda: Decimal("1000.00"))
    funding_source = "general_fund"
    stage = "planned"


class ComplianceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.ComplianceItem"

    initiative = factory.SubFactory(InitiativeFactory)
    kind = "data_privacy"
    status = "to_do"


# --- end initiatives factories (SwotFactory below) ---


# --- stakeholders factories ---
class SurveyFactory(factory.django.DjangoModelFactory):
    """An open anonymous survey; pass ``schools=[...]`` (default: a new school)."""

    class Meta:
        model = "stakeholders.Survey"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Listening survey {n}")
    purpose = "Before we choose, we listen."
    opens_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
    closes_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=10))
    anonymous = True

    @factory.post_generation
    def schools(obj, create, extracted, **kwargs):
        if create:
            obj.schools.set(extracted or [SchoolFactory()])


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stakeholders.Question"

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = "likert"
    text = factory.Sequence(lambda n: f"Statement {n} about our technology.")
    text_es = factory.Sequence(lambda n: f"Afirmación {n} sobre nuestra tecnología.")
    pillar = "engagement"
    need_category = "time"


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stakeholders.Choice"

    question = factory.SubFactory(QuestionFactory, kind="single")
    position = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Option {n}")
    text_es = factory.Sequence(lambda n: f"Opción {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stakeholders.Invitation"

    survey = factory.SubFactory(SurveyFactory)
    kind = "audience"
    audience = "teachers"


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stakeholders.Response"

    survey = factory.SubFactory(SurveyFactory)
    audience = "teachers"
    submitted_on = factory.LazyFunction(lambda: timezone.localdate())


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stakeholders.Story"

    school = factory.SubFactory(SchoolFactory)
    date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=5))
    title = factory.Sequence(lambda n: f"Story of connection {n}")
    what_happened = "A parent joined a class celebration by video from work."


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "stakeholders.Partnership"

    school = factory.SubFactory(SchoolFactory)
    organisation = factory.Sequence(lambda n: f"Partner {n}")
    kind = "business"
    started_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=100))


# --- end stakeholders factories ---


class SwotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.Swot"

    school = factory.SubFactory(SchoolFactory)
    year = factory.Sequence(lambda n: 2000 + n % 100)
    strengths = "Teachers who share"
    participants = "Student council\nPTA"


class ReflectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "initiatives.Reflection"

    school = factory.SubFactory(SchoolFactory)
    relationships = "Families see class work every week."
    connection = "bridge"
    this_year = "Keep phone calls for hard news."


# --- end initiatives factories ---


# --- equity: device year factories ---
class StationEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "equity.StationEvent"

    school = factory.SubFactory(SchoolFactory)
    kind = "handout"
    name = factory.Sequence(lambda n: f"Handout day {n}")
    day = factory.LazyFunction(lambda: timezone.localdate())
    grades = factory.LazyFunction(list)


class DeviceAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "equity.DeviceAgreement"

    district = factory.SubFactory(DistrictFactory)
    version = factory.Sequence(lambda n: n + 1)
    text = "I will keep the device charged, in its case and away from water."


class PriceListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "equity.PriceListEntry"

    district = factory.SubFactory(DistrictFactory)
    kind = "screen"
    device_model = None
    amount = factory.LazyFunction(lambda: Decimal("45.00"))


def open_assignment(school, *, student=None, device=None, by=None, **student_fields):
    """A device checked out to a student of ``school`` through the real service."""
    from equity.inventory import services

    device = device or DeviceFactory(school=school)
    student = student or StudentFactory(school=school, **student_fields)
    return services.device_check_out(device=device, student=student, by=by)


# --- end equity: device year factories ---


# --- readiness factories ---
class ReadinessSnapshotFactory(factory.django.DjangoModelFactory):
    """A stored snapshot with every pillar at 50 (pass ``pillars``/``overall`` to vary)."""

    class Meta:
        model = "readiness.Snapshot"

    school = factory.SubFactory(SchoolFactory)
    computed_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyAttribute(lambda s: s.computed_at)
    as_of = factory.LazyAttribute(lambda s: s.computed_at.date())
    fingerprint = factory.Sequence(lambda n: f"{n:064d}")
    overall = 50.0
    pillars = factory.LazyFunction(
        lambda: dict.fromkeys(
            [
                "engagement",
                "spaces",
                "professional_learning",
                "communication",
                "public_relations",
                "branding",
                "opportunity",
            ],
            50.0,
        )
    )
    indicators = factory.LazyFunction(list)


# --- end readiness factories ---
