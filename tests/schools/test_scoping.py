"""The scoping mechanism itself: fail closed, filter by the user's schools."""

import pytest
from django_scopes import scope

from schools.forms import ScopedFormMixin
from schools.models import District, Membership, Role, School, StaffMember
from schools.permissions import can_edit_school
from schools.scoping import ScopedManager, ScopeError, access_for, activate
from tests.factories import MembershipFactory, SchoolFactory, StaffMemberFactory, UserFactory


@pytest.fixture
def no_scope():
    """Leave the test body's scopes_disabled() for a state with no scope at all."""
    with scope():
        from django_scopes.state import state

        token = state.set({})
        try:
            yield
        finally:
            state.reset(token)


def test_it_refuses_a_query_outside_any_scope(maple, no_scope):
    with pytest.raises(ScopeError):
        list(School.objects.all())
    with pytest.raises(ScopeError):
        StaffMember.objects.filter(school=maple).count()
    with pytest.raises(ScopeError):
        School.objects.get(pk=maple.pk)


def test_it_shows_a_user_only_the_schools_of_their_memberships(principal, maple, cedar, elsewhere):
    StaffMemberFactory(school=maple, full_name="Mine")
    StaffMemberFactory(school=cedar, full_name="Theirs")
    with activate(access_for(principal)):
        assert list(School.objects.all()) == [maple]
        assert list(StaffMember.objects.values_list("full_name", flat=True)) == ["Mine"]
        assert list(District.objects.all()) == [maple.district]
        assert not School.objects.filter(pk=elsewhere.pk).exists()


def test_a_district_wide_membership_sees_every_school_of_its_district(
    district_admin, maple, cedar, elsewhere
):
    with activate(access_for(district_admin)):
        assert set(School.objects.all()) == {maple, cedar}


def test_a_whole_district_is_filtered_by_district_not_by_a_list_of_its_schools(
    district, maple, cedar, elsewhere
):
    """At 1,800 schools an IN list of every school id costs more to plan than the query;
    a district-wide membership filters by the district (the model's own column where it
    has one), and a school membership elsewhere still adds its school."""
    from equity.inventory.models import Assignment, Device
    from tests.factories import DeviceFactory, open_assignment

    mine = [DeviceFactory(school=maple), DeviceFactory(school=cedar)]
    theirs = DeviceFactory(school=elsewhere)
    open_assignment(maple, device=mine[0])
    open_assignment(elsewhere, device=theirs)
    user = UserFactory()
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    with activate(access_for(user)):
        where = str(Device.objects.all().query).split("WHERE")[1]
        assert '"equity_device"."district_id" IN' in where and "school_id" not in where
        assert set(Device.objects.all()) == set(mine)
        assert '"equity_device"."district_id" IN' in str(Assignment.objects.all().query)
        assert [a.device for a in Assignment.objects.all()] == [mine[0]]
        assert set(School.objects.all()) == {maple, cedar}
        assert "school_id" not in str(StaffMember.objects.all().query).split("WHERE")[1]
    MembershipFactory(user=user, school=elsewhere, role=Role.COACH)
    with activate(access_for(user)):
        assert set(Device.objects.all()) == {*mine, theirs}
        assert set(School.objects.all()) == {maple, cedar, elsewhere}


def test_schools_with_a_role_count_district_wide_and_school_roles(
    district, maple, cedar, elsewhere
):
    user = UserFactory()
    MembershipFactory(user=user, school=None, district=district, role=Role.TECH_STAFF)
    MembershipFactory(user=user, school=elsewhere, role=Role.PRINCIPAL)
    access = access_for(user)
    assert access.school_ids_with_role(Role.TECH_STAFF) == {maple.pk, cedar.pk}
    assert access.school_ids_with_role(Role.PRINCIPAL) == {elsewhere.pk}
    assert access.school_ids_with_role(Role.PRINCIPAL, Role.TECH_STAFF) == {
        maple.pk,
        cedar.pk,
        elsewhere.pk,
    }
    assert access.school_ids_with_role(Role.COACH) == frozenset()


def test_a_district_wide_coach_holds_the_role_at_every_school(district, maple, cedar):
    user = UserFactory()
    MembershipFactory(user=user, school=None, district=district, role=Role.COACH)
    access = access_for(user)
    assert access.school_ids == {maple.pk, cedar.pk}
    assert access.roles_at(cedar) == {Role.COACH}
    assert not access.is_district_admin(district)


def test_memberships_are_seen_with_their_school(principal, tech, district_admin, maple):
    with activate(access_for(principal)):
        emails = set(Membership.objects.values_list("user__email", flat=True))
    # Maple's principal, and the district-wide admin; not Cedar's tech staff.
    assert emails == {principal.email, district_admin.email}


def test_an_inactive_or_anonymous_user_sees_nothing(principal, maple):
    from django.contrib.auth.models import AnonymousUser

    principal.is_active = False
    for user in (principal, AnonymousUser()):
        with activate(access_for(user)):
            assert not School.objects.exists()


def test_a_superuser_sees_everything(maple, elsewhere):
    root = UserFactory(is_superuser=True, is_staff=True)
    with activate(access_for(root)):
        assert set(School.objects.all()) == {maple, elsewhere}


def test_access_costs_two_queries_whatever_the_number_of_schools(
    django_assert_num_queries, district, maple
):
    user = UserFactory()
    MembershipFactory(user=user, school=maple, role=Role.PRINCIPAL)
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    SchoolFactory.create_batch(3, district=district)
    with django_assert_num_queries(2):
        small = access_for(user)
    assert len(small.school_ids) == 4
    SchoolFactory.create_batch(40, district=district)
    with django_assert_num_queries(2):
        large = access_for(user)
    assert len(large.school_ids) == 44


def test_a_district_admin_is_not_listed_school_by_school(
    django_assert_num_queries, district, maple
):
    """The district admin's access, scope and capability filters name the district: the
    request reads one row per membership, never the district's schools."""
    from schools.permissions import schools_q

    user = UserFactory()
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    SchoolFactory.create_batch(40, district=district)
    with django_assert_num_queries(1):
        access = access_for(user)
        assert access.scope_kwargs()["whole_district"] == (district.pk,)
        assert access.roles_at(maple) == {Role.DISTRICT_ADMIN}
        assert can_edit_school.in_district(access, district)
        q = schools_q(access, can_edit_school)
    assert set(School.objects.filter(q)) == set(School.objects.filter(district=district))
    with django_assert_num_queries(1):  # listed when asked, once
        assert len(access.school_ids) == 41 and maple.pk in access.school_ids
        assert access.roles_at(maple.pk) == {Role.DISTRICT_ADMIN}


def test_a_multivalued_path_filters_without_duplicates(maple, cedar, district, principal):
    """A district reached through its schools (a many-valued path) appears once."""
    manager = ScopedManager("schools")
    manager.model = District
    with activate(access_for(UserFactory())):  # no membership: nothing
        assert list(manager.get_queryset()) == []
    user = UserFactory()
    MembershipFactory(user=user, school=maple, role=Role.COACH)
    MembershipFactory(user=user, school=cedar, role=Role.COACH)
    with activate(access_for(user)):
        assert list(manager.get_queryset()) == [district]


def test_a_form_only_accepts_choices_in_scope(principal, maple, elsewhere):
    from django import forms

    class PickSchool(ScopedFormMixin, forms.Form):
        school = forms.ModelChoiceField(queryset=School.objects.all())

    with activate(access_for(principal)):
        assert PickSchool(data={"school": maple.pk}).is_valid()
        form = PickSchool(data={"school": elsewhere.pk})
        assert not form.is_valid()
        assert "school" in form.errors


def test_a_form_class_built_inside_one_users_scope_serves_the_next_user(
    principal, district_admin, maple, cedar
):
    """Form classes are often first imported during a request: no scope may stick to them."""
    from django import forms

    with activate(access_for(principal)):

        class PickSchool(ScopedFormMixin, forms.Form):
            school = forms.ModelChoiceField(queryset=School.objects.all())

    with activate(access_for(district_admin)):
        assert PickSchool(data={"school": cedar.pk}).is_valid()
    with activate(access_for(principal)):
        assert not PickSchool(data={"school": cedar.pk}).is_valid()


def test_related_managers_keep_their_models_scope(principal, maple, cedar, district):
    """Related managers are built from the manager class without arguments."""
    from tests.factories import DeviceFactory

    device = DeviceFactory(school=maple)
    DeviceFactory(school=cedar)
    with activate(access_for(principal)):
        assert list(district.schools.all()) == [maple]  # School's path is "pk"
        assert list(maple.devices.all()) == [device]
        assert list(device.events.all()) == []  # DeviceEvent's path is "device__school"
        assert list(district.memberships.values_list("user", flat=True)) == [principal.pk]
