"""The demo's device year: a handout day half done, a collection day with devices still
out, the agreement, the price list and charges, seeded once."""

import pytest
from django.core.management import call_command

from equity.year import selectors as year_selectors
from equity.year.models import Acceptance, Charge, DeviceAgreement, PriceListEntry, StationEvent
from schools.models import School


@pytest.mark.django_db
def test_the_demo_has_a_half_done_handout_and_a_collection_with_devices_out():
    call_command("seed_demo", allow_production=True)
    counts = (StationEvent.objects.count(), Charge.objects.count(), Acceptance.objects.count())
    call_command("seed_demo", allow_production=True)
    assert (
        StationEvent.objects.count(),
        Charge.objects.count(),
        Acceptance.objects.count(),
    ) == counts

    handout = StationEvent.objects.get(kind="handout")
    progress = year_selectors.handout_progress(handout)
    assert progress["expected"] > 100
    assert 0.4 <= progress["handed"] / progress["expected"] <= 0.6
    assert len(year_selectors.students_without_device(handout, limit=500)) == progress["left"]

    collection = StationEvent.objects.get(kind="collection")
    done = year_selectors.collection_progress(collection)
    assert done["back"] > 0 and done["out"] > 0
    assert all(g["student__homeroom"] for g in year_selectors.not_returned_groups(collection))

    assert DeviceAgreement.objects.count() == 1 and PriceListEntry.objects.exists()
    assert Acceptance.objects.filter(accepted_at__isnull=False, method="signed").exists()
    assert Acceptance.objects.filter(accepted_at__isnull=True).exists()
    signature = Acceptance.objects.filter(method="signed").first().signature
    assert bytes(signature).startswith(b"\x89PNG")
    assert year_selectors.repeat_cases(School.objects.get(code="LVH"))
