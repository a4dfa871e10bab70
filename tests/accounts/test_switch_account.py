"""Issue 15, item 1: switching an account on is held to the same rule as switching it off.

A district admin switches on or off only an account whose every role is in their district,
never a superuser's, never their own, and switches one on only if their district switched it
off. An invitation adds a role to an existing account and changes nothing else about it, so
inviting a switched-off superuser or a person of another district is no way to revive them.
"""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from schools.models import Membership, Role
from tests.conftest import PASSWORD
from tests.factories import DistrictFactory, MembershipFactory, SchoolFactory, UserFactory

OFF, ON = "off", "on"
URL = {OFF: "accounts:user_deactivate", ON: "accounts:user_reactivate"}


def invite(admin_client, district, school, email, full_name="Someone Else Entirely"):
    """Give an existing account a role at ``school`` the way an admin does: the invite page."""
    response = admin_client.post(
        reverse("accounts:invite", args=[district.pk]),
        {"email": email, "full_name": full_name, "role": Role.COACH, "school": school.pk},
    )
    assert response.status_code == 302, response.content
    return Membership.objects.get(user__email=email, school=school, role=Role.COACH)


def sign_in(user):
    return Client().post("/accounts/login/", {"username": user.email, "password": PASSWORD})


def state(user) -> dict:
    """Everything about an account that an invitation or a refused switch must not change."""
    user = User.objects.get(pk=user.pk)
    return {
        f: getattr(user, f)
        for f in (
            "email",
            "full_name",
            "password",
            "is_active",
            "is_staff",
            "is_superuser",
            "last_login",
            "switched_off_in_id",
        )
    }


@pytest.fixture
def other_district(elsewhere):
    return elsewhere.district


@pytest.fixture
def other_admin(other_district):
    user = UserFactory(email="admin@hollow.example.org")
    MembershipFactory(user=user, school=None, district=other_district, role=Role.DISTRICT_ADMIN)
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.org", is_staff=True, is_superuser=True)


def _switched(user, active, district=None):
    user.is_active = active
    user.switched_off_in = None if active else district
    user.save()
    return user


def make_target(kind, direction, *, district, maple, elsewhere, district_admin):
    """A membership at Maple of an account of ``kind``, switched on (to be switched off) or
    off (to be switched on). Accounts not of this district reach Maple by invitation."""
    active = direction == OFF
    admin = Client()
    admin.force_login(district_admin)
    if kind == "colleague":  # every role in this district, switched off here
        user = UserFactory(email="teacher@maple.example.org")
        membership = MembershipFactory(user=user, school=maple, role=Role.COACH)
        _switched(user, active, district)
        return membership
    if kind == "of another district":  # roles there, switched off there, invited here
        user = UserFactory(email="person@hollow.example.org")
        MembershipFactory(user=user, school=elsewhere, role=Role.PRINCIPAL)
        _switched(user, active, elsewhere.district)
    elif kind == "superuser":  # switched off by a superuser in the admin, invited here
        user = _switched(
            UserFactory(email="boss@example.org", is_staff=True, is_superuser=True), active
        )
    elif kind == "left another district":  # switched off there, roles there removed since
        user = _switched(UserFactory(email="gone@hollow.example.org"), active, elsewhere.district)
    else:  # pragma: no cover
        raise AssertionError(kind)
    before = state(user)
    membership = invite(admin, district, maple, user.email)
    assert state(user) == before  # the invitation changed nothing about the account
    return membership


KINDS = ["colleague", "of another district", "superuser", "left another district"]
ACTORS = ["district_admin", "principal", "coach", "tech", "outsider", "other_admin", "superuser"]


def expected(actor, kind, direction) -> str:
    """ "done", "refused" (an error on the members page), or the status of the refusal."""
    if actor == "superuser":
        return "done"
    if actor in ("principal", "coach"):  # they see Maple's memberships, but may not act
        return "403"
    if actor in ("tech", "outsider", "other_admin"):  # Maple's memberships are not theirs
        return "404"
    assert actor == "district_admin"
    if kind == "colleague":
        return "done"
    if kind == "left another district" and direction == OFF:
        # Active, and every role is here now: the same rule as for any colleague.
        return "done"
    return "refused"


@pytest.mark.django_db
@pytest.mark.parametrize("direction", [OFF, ON])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("actor", ACTORS)
def test_it_switches_an_account_only_under_the_one_rule(
    request, actor, kind, direction, district, maple, elsewhere, district_admin
):
    for name in ("principal", "coach", "tech", "outsider"):
        request.getfixturevalue(name)
    membership = make_target(
        kind,
        direction,
        district=district,
        maple=maple,
        elsewhere=elsewhere,
        district_admin=district_admin,
    )
    target = membership.user
    before = state(target)
    client = Client()
    client.force_login(request.getfixturevalue(actor))

    response = client.post(reverse(URL[direction], args=[membership.pk]), follow=True)

    after = state(target)
    outcome = expected(actor, kind, direction)
    if outcome == "done":
        assert response.status_code == 200
        assert after["is_active"] is (direction == ON)
        assert {k: v for k, v in after.items() if k not in ("is_active", "switched_off_in_id")} == {
            k: v for k, v in before.items() if k not in ("is_active", "switched_off_in_id")
        }
    else:
        assert after == before
        if outcome == "refused":
            assert response.status_code == 200
            errors = [m for m in response.context["messages"] if m.level_tag == "error"]
            assert len(errors) == 1, errors
        else:
            assert response.status_code == int(outcome)


@pytest.mark.django_db
def test_a_district_admin_switches_a_colleague_off_and_on_and_the_sign_in_follows(
    district, district_admin, principal, login
):
    membership = Membership.objects.get(user=principal)
    admin = login(district_admin)
    admin.post(reverse(URL[OFF], args=[membership.pk]))
    principal.refresh_from_db()
    assert not principal.is_active and principal.switched_off_in == district
    assert sign_in(principal).status_code == 200  # refused, like a wrong password

    admin.post(reverse(URL[ON], args=[membership.pk]))
    principal.refresh_from_db()
    assert principal.is_active and principal.switched_off_in is None
    assert sign_in(principal).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("direction", [OFF, ON])
def test_nobody_switches_their_own_account(district, district_admin, superuser, login, direction):
    own = Membership.objects.get(user=district_admin)
    login(district_admin).post(reverse(URL[direction], args=[own.pk]))
    district_admin.refresh_from_db()
    assert district_admin.is_active
    MembershipFactory(user=superuser, school=None, district=district, role=Role.DISTRICT_ADMIN)
    root = Client()
    root.force_login(superuser)
    root.post(reverse(URL[OFF], args=[Membership.objects.get(user=superuser).pk]))
    superuser.refresh_from_db()
    assert superuser.is_active


@pytest.mark.django_db
def test_the_members_page_offers_the_switch_only_where_the_rule_allows(
    district, maple, elsewhere, district_admin, principal, login
):
    shared = make_target(
        "of another district",
        ON,
        district=district,
        maple=maple,
        elsewhere=elsewhere,
        district_admin=district_admin,
    )
    boss = make_target(
        "superuser", ON, district=district, maple=maple, elsewhere=elsewhere,
        district_admin=district_admin,
    )  # fmt: skip
    colleague = make_target(
        "colleague", ON, district=district, maple=maple, elsewhere=elsewhere,
        district_admin=district_admin,
    )  # fmt: skip
    page = login(district_admin).get(reverse("accounts:members", args=[district.pk]))
    html = page.content.decode()
    own = Membership.objects.get(user=district_admin)
    principal_membership = Membership.objects.get(user=principal)
    assert reverse(URL[ON], args=[colleague.pk]) in html
    assert reverse(URL[OFF], args=[principal_membership.pk]) in html
    for m in (shared, boss, own):
        for direction in (ON, OFF):
            assert reverse(URL[direction], args=[m.pk]) not in html
    # The page still shows who is switched off.
    assert html.count("Switched off") == 3


@pytest.mark.django_db
def test_the_members_page_costs_the_same_queries_whatever_the_number_of_people(
    district, maple, district_admin, login, django_assert_max_num_queries
):
    client = login(district_admin)
    url = reverse("accounts:members", args=[district.pk])
    client.get(url)
    for _ in range(3):
        MembershipFactory(user=UserFactory(), school=maple, role=Role.COACH)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    other = SchoolFactory(district=district)
    for _ in range(30):
        MembershipFactory(user=UserFactory(), school=other, role=Role.COACH)
    MembershipFactory(user=UserFactory(), school=None, district=DistrictFactory(), role=Role.COACH)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# --- inviting an existing account changes nothing about it -------------------------------


def _no_password_yet(elsewhere):
    user = UserFactory(email="new@maple.example.org")
    user.set_unusable_password()
    user.save()
    return user


EXISTING = {
    "a switched-off superuser": lambda elsewhere: _switched(
        UserFactory(email="boss@example.org", is_staff=True, is_superuser=True), False
    ),
    "a switched-off person of another district": lambda elsewhere: _switched(
        MembershipFactory(school=elsewhere, user__email="p@hollow.example.org").user,
        False,
        elsewhere.district,
    ),
    "an active person of another district": lambda elsewhere: (
        MembershipFactory(school=elsewhere, user__email="q@hollow.example.org").user
    ),
    "an account with no role left": lambda elsewhere: _switched(
        UserFactory(email="gone@example.org"), False, elsewhere.district
    ),
    "an invited account without a password yet": _no_password_yet,
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(EXISTING))
def test_an_invitation_never_changes_the_account_it_names(
    kind, district, maple, elsewhere, district_admin, login
):
    user = EXISTING[kind](elsewhere)
    before = state(user)
    invite(login(district_admin), district, maple, user.email, full_name="A New Name")
    assert state(user) == before
    assert Membership.objects.filter(user=user, school=maple).count() == 1


@pytest.mark.django_db
def test_a_switched_off_account_is_told_so_and_gets_no_password_link(
    district, maple, district_admin, login, django_capture_on_commit_callbacks, mailoutbox
):
    user = _switched(UserFactory(email="boss@example.org", is_superuser=True), False)
    user.set_unusable_password()
    user.save()
    client = login(district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:invite", args=[district.pk]),
            {"email": user.email, "full_name": "X", "role": Role.COACH, "school": maple.pk},
            follow=True,
        )
    assert "invitation does not switch it on" in response.content.decode()
    body = mailoutbox[0].body
    assert "switched off" in body and "/accounts/password/set/" not in body
    assert not User.objects.get(pk=user.pk).is_active


# --- the Django admin follows the same rule ------------------------------------------------


def _admin_change(client, user, **changes):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return client.post(reverse("admin:accounts_user_change", args=[user.pk]), data)


@pytest.mark.django_db
def test_a_superuser_switches_an_account_off_in_the_admin_and_only_a_superuser_switches_it_on(
    district, district_admin, principal, superuser, login
):
    root = Client()
    root.force_login(superuser)
    assert _admin_change(root, principal, is_active="").status_code == 302
    principal.refresh_from_db()
    assert not principal.is_active and principal.switched_off_in is None
    # The principal's district admin cannot undo a superuser's decision.
    membership = Membership.objects.get(user=principal)
    response = login(district_admin).post(reverse(URL[ON], args=[membership.pk]), follow=True)
    assert "only a site superuser" in response.content.decode()
    principal.refresh_from_db()
    assert not principal.is_active
    assert _admin_change(root, principal, is_active="on").status_code == 302
    principal.refresh_from_db()
    assert principal.is_active


@pytest.mark.django_db
def test_a_superuser_does_not_switch_their_own_account_off_in_the_admin(superuser):
    root = Client()
    root.force_login(superuser)
    response = _admin_change(root, superuser, is_active="")
    assert response.status_code == 200
    assert "your own account" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.is_active
