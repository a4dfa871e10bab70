import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from schools.models import Membership, Role

LINK = re.compile(r"https?://\S+/accounts/password/set/\S+/")


def _invite(client, district, **data):
    payload = {
        "email": "new.teacher@maple.example.org",
        "full_name": "Nia Teacher",
        "role": Role.COACH,
        "school": "",
    }
    payload.update(data)
    return client.post(reverse("accounts:invite", args=[district.pk]), payload)


def test_it_invites_a_new_person_who_then_sets_a_password_and_signs_in(
    client, login, district_admin, district, maple, django_capture_on_commit_callbacks
):
    login(district_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _invite(client, district, school=maple.pk, email="Nia@Maple.example.org")
    assert response.status_code == 302
    assert len(callbacks) == 1  # the e-mail is queued only once the transaction commits
    user = User.objects.get(email="nia@maple.example.org")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.school, membership.role, membership.invited_by) == (
        maple,
        Role.COACH,
        district_admin,
    )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nia@maple.example.org"]
    link = LINK.search(message.body).group(0)
    path = link.split("127.0.0.1:8000", 1)[1]

    client.logout()
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a long walk by the river", "new_password2": "a long walk by the river"},
    )
    assert done.status_code == 302
    signed_in = client.post(
        "/accounts/login/",
        {"username": "NIA@maple.example.org", "password": "a long walk by the river"},
    )
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session
    # The link works once.
    client.logout()
    assert not client.get(path, follow=True).context["validlink"]


def test_an_existing_account_gains_the_role_without_a_new_password(
    client, login, district_admin, district, principal, cedar, django_capture_on_commit_callbacks
):
    login(district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, district, email=principal.email, role=Role.TECH_STAFF, school=cedar.pk)
    assert Membership.objects.filter(user=principal, school=cedar, role=Role.TECH_STAFF).exists()
    assert User.objects.filter(email=principal.email).count() == 1
    assert "Sign in as usual" in mail.outbox[0].body


def test_a_role_already_held_is_an_error_and_nothing_is_written(
    client, login, district_admin, district, principal, maple
):
    login(district_admin)
    response = _invite(
        client, district, email=principal.email, role=Role.PRINCIPAL, school=maple.pk
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Membership.objects.filter(user=principal).count() == 1
    assert not mail.outbox


@pytest.mark.parametrize(
    ("role", "school", "field"),
    [(Role.DISTRICT_ADMIN, True, "school"), (Role.PRINCIPAL, False, "school")],
)
def test_role_and_place_must_fit(
    client, login, district_admin, district, maple, role, school, field
):
    login(district_admin)
    response = _invite(client, district, role=role, school=maple.pk if school else "")
    assert field in response.context["form"].errors
    assert not User.objects.filter(email="new.teacher@maple.example.org").exists()


def test_a_school_of_another_district_is_not_a_choice(
    client, login, district_admin, district, elsewhere
):
    login(district_admin)
    response = _invite(client, district, school=elsewhere.pk)
    assert "school" in response.context["form"].errors
    assert not User.objects.filter(email="new.teacher@maple.example.org").exists()


def test_only_a_district_admin_invites(client, login, principal, district):
    login(principal)
    assert _invite(client, district).status_code == 403
    assert not User.objects.filter(email="new.teacher@maple.example.org").exists()


def test_the_admin_removes_a_role_but_not_their_own(
    client, login, district_admin, principal, district
):
    login(district_admin)
    membership = Membership.objects.get(user=principal)
    assert (
        client.post(reverse("accounts:membership_remove", args=[membership.pk])).status_code == 302
    )
    assert not Membership.objects.filter(pk=membership.pk).exists()
    own = Membership.objects.get(user=district_admin)
    client.post(reverse("accounts:membership_remove", args=[own.pk]))
    assert Membership.objects.filter(pk=own.pk).exists()


def test_the_admin_resends_an_invitation(
    client, login, district_admin, principal, django_capture_on_commit_callbacks
):
    login(district_admin)
    membership = Membership.objects.get(user=principal)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:membership_resend", args=[membership.pk]))
    assert mail.outbox[0].to == [principal.email]


def test_the_members_page_lists_the_district(
    client, login, district_admin, principal, tech, outsider, district
):
    content = login(district_admin).get(reverse("accounts:members", args=[district.pk])).content
    assert principal.email.encode() in content and tech.email.encode() in content
    assert outsider.email.encode() not in content
