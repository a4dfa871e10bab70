from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD


def test_it_signs_in_with_the_email_in_any_case_and_lands_home(client, principal):
    response = client.post(
        reverse("accounts:login"), {"username": "Principal@Maple.example.org", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("today:home")


def test_a_wrong_password_says_so(client, principal):
    response = client.post(
        reverse("accounts:login"), {"username": principal.email, "password": "not it at all"}
    )
    assert response.status_code == 200
    assert b"correct e-mail address and password" in response.content


def test_sign_out_is_a_post(client, login, principal):
    login(principal)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("today:home")).status_code == 302


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(
    client, principal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail is queued
        known = client.post(reverse("accounts:password_reset"), {"email": principal.email})
        unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [principal.email]


def test_password_change_refuses_a_short_password(client, login, principal):
    login(principal)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
