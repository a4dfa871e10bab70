"""The district's device catalog: read by inventory readers, extended by tech staff and
district admins."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from equity.inventory.models import DeviceModel
from schools.models import Role
from tests.factories import DeviceModelFactory, MembershipFactory, SchoolFactory

DATA = {
    "maker": "Acme",
    "name": "Chromebook 14",
    "kind": "chromebook",
    "touchscreen": "on",
    "unit_price": "329.00",
    "auto_update_expiration": "2031-06-01",
}


def list_url(district):
    return reverse("equity:device_models", args=[district.pk])


def add_url(district):
    return reverse("equity:device_model_add", args=[district.pk])


def test_the_tech_staff_adds_a_model_to_the_catalog(login, tech, district):
    client = login(tech)
    response = client.post(add_url(district), DATA, follow=True)
    assert response.redirect_chain == [(list_url(district), 302)]
    model = DeviceModel.objects.get()
    assert (model.district, model.touchscreen, model.unit_price) == (
        district,
        True,
        Decimal("329.00"),
    )
    assert model.auto_update_expiration == date(2031, 6, 1)
    assert b"Acme Chromebook 14" in response.content


def test_the_district_admin_adds_a_model(login, district_admin, district):
    login(district_admin).post(add_url(district), DATA)
    assert DeviceModel.objects.filter(district=district).count() == 1


def test_a_model_already_in_the_catalog_is_an_error_on_its_name(login, tech, district):
    DeviceModelFactory(district=district, maker="ACME", name="chromebook 14")
    response = login(tech).post(add_url(district), DATA)
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "Acme Chromebook 14 is already in the catalog."
    ]
    assert DeviceModel.objects.count() == 1


def test_the_same_model_may_be_in_another_districts_catalog(login, tech, district, elsewhere):
    DeviceModelFactory(district=elsewhere.district, maker="Acme", name="Chromebook 14")
    login(tech).post(add_url(district), DATA)
    assert DeviceModel.objects.count() == 2


def test_the_catalog_lists_the_districts_models_only(login, principal, district, elsewhere):
    DeviceModelFactory(district=district, name="Ours", unit_price=None)
    DeviceModelFactory(district=elsewhere.district, name="Theirs")
    response = login(principal).get(list_url(district))
    assert response.status_code == 200
    assert [m.name for m in response.context["models"]] == ["Ours"]
    assert b"not set" in response.content  # an unknown price says so
    assert add_url(district).encode() not in response.content  # principals do not add


def test_principals_and_coaches_do_not_add_models(login, principal, coach, district):
    assert login(principal).get(add_url(district)).status_code == 403
    assert login(principal).post(add_url(district), DATA).status_code == 403
    assert login(coach).get(list_url(district)).status_code == 403
    assert not DeviceModel.objects.exists()


def test_tech_staff_of_another_district_do_not_add_here(login, tech, district, elsewhere):
    # Tech staff in their own district, principal (a reader, not a writer) in this one.
    other = SchoolFactory()
    MembershipFactory(user=tech, school=other, role=Role.TECH_STAFF)
    MembershipFactory(user=tech, school=elsewhere, role=Role.PRINCIPAL)
    client = login(tech)
    assert client.get(list_url(elsewhere.district)).status_code == 200
    assert client.get(add_url(elsewhere.district)).status_code == 403


@pytest.mark.parametrize("name", ["equity:device_models", "equity:device_model_add"])
def test_another_districts_catalog_is_not_found(login, tech, elsewhere, name):
    assert login(tech).get(reverse(name, args=[elsewhere.district_id])).status_code == 404
