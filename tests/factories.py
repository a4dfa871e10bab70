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
