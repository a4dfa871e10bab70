from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from schools.models import Grade, Membership, Role, School, device_target
from tests.factories import MembershipFactory, SchoolFactory, UserFactory


@pytest.mark.parametrize(
    ("enrollment", "ratio", "target"),
    [
        (100, "1.10", 110),  # exact: a float would give 110.00000000000001 and round up to 111
        (101, "1.10", 112),  # 111.1 rounds up
        (1, "1.10", 2),
        (10, "1.10", 11),
        (0, "1.10", 0),
        (333, "1.00", 333),
        (7, "1.25", 9),
        (1_000_000, "1.10", 1_100_000),
    ],
)
def test_device_target_rounds_up(enrollment, ratio, target):
    assert device_target(enrollment, Decimal(ratio)) == target


def test_a_school_sums_its_grade_bands(maple):
    maple.enrollment_pk_2, maple.enrollment_3_5 = 120, 95
    assert maple.enrollment == 215
    assert maple.device_target() == 237  # ceil(1.10 × 215)
    annotated = School.objects.with_enrollment().get(pk=maple.pk)
    assert annotated.total_enrollment == 300  # the factory's 150 + 150 in the database


def test_enrollment_outside_the_grade_span_is_refused(district):
    school = School(
        district=district,
        name="K-5",
        code="K5",
        lowest_grade=Grade.K,
        highest_grade=Grade.G5,
        enrollment_9_12=40,
    )
    with pytest.raises(ValidationError) as exc:
        school.full_clean()
    assert "enrollment_9_12" in exc.value.message_dict


def test_grade_span_cannot_run_backwards(district):
    school = School(district=district, name="X", code="X", lowest_grade=8, highest_grade=6)
    with pytest.raises(ValidationError) as exc:
        school.full_clean()
    assert "highest_grade" in exc.value.message_dict


def test_school_codes_are_unique_within_a_district(maple):
    SchoolFactory(code=maple.code)  # another district: fine
    with pytest.raises(IntegrityError):
        SchoolFactory(district=maple.district, code=maple.code)


def test_a_district_admin_membership_has_no_school(maple):
    membership = Membership(
        user=UserFactory(), district=maple.district, school=maple, role=Role.DISTRICT_ADMIN
    )
    with pytest.raises(ValidationError):
        membership.full_clean()


def test_a_role_is_held_once_per_place(principal, maple):
    with pytest.raises(ValidationError):
        Membership(
            user=principal, district=maple.district, school=maple, role=Role.PRINCIPAL
        ).full_clean()
    MembershipFactory(user=principal, school=maple, role=Role.COACH)  # another role: fine
