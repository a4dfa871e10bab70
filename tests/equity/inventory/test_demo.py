from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from equity.inventory.coverage import school_coverage
from equity.inventory.models import Circumstance, Device, DeviceEvent, DeviceModel, Student
from schools.models import School


@pytest.mark.django_db
def test_the_demo_inventory_tells_a_story_and_is_seeded_once():
    call_command("seed_demo", allow_production=True)
    counts = (Device.objects.count(), Student.objects.count(), DeviceEvent.objects.count())
    call_command("seed_demo", allow_production=True)
    assert (Device.objects.count(), Student.objects.count(), DeviceEvent.objects.count()) == counts

    gaps = {r.school.code: r.gap for r in school_coverage(School.objects.all())}
    assert gaps["MGE"] < 0  # above target
    assert abs(gaps["CRM"]) <= 5  # at target
    assert gaps["LVH"] > 100  # below target
    assert DeviceEvent.objects.filter(circumstance=Circumstance.LEFT_ON_TRANSIT).exists()
    soon = timezone.localdate() + timedelta(days=365)
    assert DeviceModel.objects.filter(
        auto_update_expiration__gte=timezone.localdate(), auto_update_expiration__lt=soon
    ).exists()
    assert Student.objects.filter(home_internet="no").exists()
    assert Student.objects.count() == sum(s.enrollment for s in School.objects.all())
