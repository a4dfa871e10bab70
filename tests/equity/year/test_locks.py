"""The device year's services that lock rows, called directly without pytest-django's
wrapping transaction: on PostgreSQL (CI) a lock outside ``transaction.atomic`` raises, and
the ``row_locks`` fixture refuses one on any database (tests/test_row_locks.py lists these)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from equity.inventory import services
from equity.year import services as year_services
from equity.year.models import Acceptance, AcceptanceMethod, Charge, ChargeStatus, PriceListEntry
from tests.factories import DeviceAgreementFactory, DeviceFactory, StudentFactory

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_it_accepts_an_agreement_signed_or_by_link(row_locks, cedar, tech):
    DeviceAgreementFactory(district=cedar.district)
    signed = services.device_check_out(
        device=DeviceFactory(school=cedar), student=StudentFactory(school=cedar), by=tech
    )
    by_link = services.device_check_out(
        device=DeviceFactory(school=cedar), student=StudentFactory(school=cedar), by=tech
    )

    year_services.accept_signed(assignment=signed, signature=PNG, signer="student")
    with pytest.raises(ValidationError):
        year_services.accept_signed(assignment=signed, signature=PNG, signer="student")
    token = year_services.acceptance_for(by_link).token
    year_services.accept_by_link(token=token, signer="family")
    year_services.accept_by_link(token=token, signer="family")  # a second click changes nothing

    rows = Acceptance.objects.order_by("pk").values_list("method", "signer")
    assert list(rows) == [(AcceptanceMethod.SIGNED, "student"), (AcceptanceMethod.LINK, "family")]
    row_locks.assert_taken("equity.year.services:accept_signed")
    row_locks.assert_taken("equity.year.services:accept_by_link")


def test_it_sets_a_price_and_resolves_a_charge(row_locks, cedar, tech):
    year_services.set_price(district=cedar.district, kind="screen", amount=Decimal("40"))
    year_services.set_price(district=cedar.district, kind="screen", amount=Decimal("45"))
    assert list(PriceListEntry.objects.values_list("amount", flat=True)) == [Decimal("45")]
    device = DeviceFactory(school=cedar)
    student = StudentFactory(school=cedar)
    charge = year_services.charge_assess(device=device, student=student, kind="screen", by=tech)

    year_services.charge_resolve(charge=charge, status=ChargeStatus.PAID, by=tech, note="Cash")
    with pytest.raises(ValidationError):
        year_services.charge_resolve(charge=charge, status=ChargeStatus.WAIVED, by=tech)

    charge = Charge.objects.get()
    assert (charge.amount, charge.status, charge.resolution_note) == (
        Decimal("45"),
        ChargeStatus.PAID,
        "Cash",
    )
    row_locks.assert_taken("equity.year.services:set_price")
    row_locks.assert_taken("equity.year.services:charge_resolve")
