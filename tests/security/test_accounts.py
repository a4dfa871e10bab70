"""Issue 9, accounts: lockout, identical answers, password rules, sessions, two-factor."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import middleware
from accounts.models import User, UserSession
from schools.models import Role
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory, UserFactory

LOGIN = "/accounts/login/"
LOCKED = "Sign-in is paused"


def attempt(email, password, ip="10.0.0.1", client=None):
    client = client or Client()
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def without_token(html) -> str:
    html = html.decode() if isinstance(html, bytes) else html
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'nonce="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


# --- lockout -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_account_is_locked_after_five_failures_from_any_address(principal, settings):
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(principal.email, "wrong password!", ip=f"10.0.1.{i}").status_code == 200
    # The fifth failure pauses sign-in.
    assert attempt(principal.email, "wrong password!", ip="10.0.1.99").status_code == 429
    # Even the right password, from a fresh address, is refused during the cool-off.
    locked = attempt(principal.email, PASSWORD, ip="10.0.9.9")
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert "_auth_user_id" not in locked.wsgi_request.session
    # Case does not make a new account name.
    assert attempt(principal.email.upper(), PASSWORD, ip="10.0.9.8").status_code == 429
    # Another account is not affected.
    assert attempt("coach-other@example.org", "x", ip="10.0.9.7").status_code == 200


@pytest.mark.django_db
def test_an_address_is_locked_after_five_failures_across_accounts(principal, coach, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        attempt(f"guess{i}@maple.example.org", "wrong password!", ip="10.0.2.1")
    locked = attempt(coach.email, PASSWORD, ip="10.0.2.1")
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    # The same person from another address signs in.
    assert attempt(coach.email, PASSWORD, ip="10.0.2.2").status_code == 302


@pytest.mark.django_db
def test_unknown_and_known_accounts_lock_and_answer_alike(principal, settings):
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        known = attempt(principal.email, "wrong password!", ip=f"10.0.3.{i}")
        unknown = attempt("nobody@maple.example.org", "wrong password!", ip=f"10.0.4.{i}")
        assert known.status_code == unknown.status_code == 200
        assert without_token(known.content.decode()).replace(principal.email, "X") == without_token(
            unknown.content.decode()
        ).replace("nobody@maple.example.org", "X")
    known = attempt(principal.email, "wrong password!", ip="10.0.3.99")
    unknown = attempt("nobody@maple.example.org", "wrong password!", ip="10.0.4.99")
    assert known.status_code == unknown.status_code == 429
    assert without_token(known.content) == without_token(unknown.content)


@pytest.mark.django_db
def test_success_resets_the_count_and_the_cool_off_ends(principal, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        attempt(principal.email, "wrong password!")
    assert attempt(principal.email, PASSWORD).status_code == 302
    for _ in range(limit - 1):
        attempt(principal.email, "wrong password!")
    assert attempt(principal.email, PASSWORD).status_code == 302  # not locked: count was reset

    for _ in range(limit):
        attempt(principal.email, "wrong password!", ip="10.0.5.1")
    assert attempt(principal.email, PASSWORD, ip="10.0.5.2").status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert attempt(principal.email, PASSWORD, ip="10.0.5.2").status_code == 302


@pytest.mark.django_db
def test_password_reset_answers_alike_for_known_and_unknown_addresses(
    principal, django_capture_on_commit_callbacks
):
    url = reverse("accounts:password_reset")
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail is queued
        known = Client().post(url, {"email": principal.email})
        unknown = Client().post(url, {"email": "nobody@maple.example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    page_known = without_token(Client().get(known.url).content)
    assert page_known == without_token(Client().get(unknown.url).content)
    assert [m.to for m in mail.outbox] == [[principal.email]]


# --- password rules ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short pass", "password_too_short"),  # under 12
        ("password1234", "password_too_common"),
        ("ann.rivers.maple", "password_too_similar"),
        ("123456789012345", "password_entirely_numeric"),
        ("x" * 129, "password_too_long"),
    ],
)
def test_passwords_are_refused_for_length_commonness_and_similarity(password, code):
    user = User(email="ann.rivers@maple.example.org", full_name="Ann Rivers")
    with pytest.raises(ValidationError) as exc:
        validate_password(password, user)
    assert code in [e.code for e in exc.value.error_list]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    [
        "plain lowercase words only",  # no composition rules
        "ünïcödé pässphrase ✓ ok",
        "a" + "long passphrase " * 7,  # 113 characters
    ],
)
def test_long_passphrases_without_composition_are_accepted(password):
    user = User(email="ann.rivers@maple.example.org", full_name="Ann Rivers")
    validate_password(password, user)


# --- sessions ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_session_cookie_is_http_only(principal):
    response = attempt(principal.email, PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.django_db
def test_an_idle_session_is_signed_out(principal, settings):
    client = Client()
    client.force_login(principal)
    assert client.get("/").status_code == 200
    session = client.session
    session[middleware.LAST_SEEN] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_an_active_session_is_touched_at_most_once_a_minute(principal, settings):
    client = Client()
    client.force_login(principal)
    before = client.session[middleware.LAST_SEEN]
    client.get("/")
    assert client.session[middleware.LAST_SEEN] == before
    session = client.session
    session[middleware.LAST_SEEN] = before - settings.SESSION_IDLE_TIMEOUT + 60
    session.save()
    assert client.get("/").status_code == 200  # still inside the timeout
    assert client.session[middleware.LAST_SEEN] >= before


@pytest.mark.django_db
def test_deactivating_a_user_ends_every_open_session(principal, coach):
    laptop, phone, other = Client(), Client(), Client()
    assert attempt(principal.email, PASSWORD, client=laptop).status_code == 302
    phone.force_login(principal)
    other.force_login(coach)
    assert UserSession.objects.filter(user=principal).count() == 2
    assert laptop.get("/").status_code == phone.get("/").status_code == 200

    principal.is_active = False
    principal.save()

    assert not UserSession.objects.filter(user=principal).exists()
    assert Session.objects.count() == 1  # the coach's
    assert laptop.get("/").status_code == phone.get("/").status_code == 302
    assert other.get("/").status_code == 200


@pytest.mark.django_db
def test_signing_out_forgets_the_session_index(principal):
    client = Client()
    client.force_login(principal)
    assert UserSession.objects.filter(user=principal).count() == 1
    client.post(reverse("accounts:logout"))
    assert not UserSession.objects.filter(user=principal).exists()


# --- two-factor --------------------------------------------------------------------------


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def set_up_two_factor(client) -> list[str]:
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("accounts:two_factor_setup"), {"token": code_for(device)})
    assert response.status_code == 302
    codes = client.get(response.url).context["codes"]
    assert len(codes) == 10
    return codes


@pytest.mark.django_db
def test_a_wrong_setup_code_turns_nothing_on(principal, login):
    client = login(principal)
    page = client.get(reverse("accounts:two_factor_setup"))
    assert page.status_code == 200 and page.context["qr"].startswith("data:image/svg+xml")
    response = client.post(reverse("accounts:two_factor_setup"), {"token": "000000"})
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert not StaticToken.objects.exists()


@pytest.mark.django_db
def test_optional_two_factor_then_asks_for_a_code_at_each_sign_in(coach):
    client = Client()
    attempt(coach.email, PASSWORD, client=client)
    codes = set_up_two_factor(client)
    client.post(reverse("accounts:logout"))

    assert attempt(coach.email, PASSWORD, client=client).status_code == 302
    response = client.get("/pd/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two_factor_verify"))
    wrong = client.post(reverse("accounts:two_factor_verify"), {"token": "123456"})
    assert wrong.status_code == 400
    # Right after a wrong code every device waits (django-otp doubles the wait each time).
    assert (
        client.post(reverse("accounts:two_factor_verify"), {"token": codes[0]}).status_code == 400
    )
    for device in devices_for_user(coach):
        device.throttle_reset()  # as if the wait had passed
    # A recovery code works once.
    ok = client.post(reverse("accounts:two_factor_verify"), {"token": codes[0], "next": "/pd/"})
    assert ok.status_code == 302 and ok.url == "/pd/"
    assert client.get("/").status_code == 200
    assert StaticToken.objects.filter(token=codes[0]).count() == 0
    # Optional, so it may be turned off.
    client.post(reverse("accounts:two_factor"), {"action": "off"})
    assert not TOTPDevice.objects.filter(user=coach).exists()


@pytest.mark.django_db
def test_a_district_requirement_sends_student_record_roles_to_set_up_first(
    district, principal, coach, tech, district_admin
):
    district.require_two_factor = True
    district.save()
    for user in (principal, tech, district_admin):
        client = Client()
        client.force_login(user)
        for path in ("/", "/schools/", reverse("accounts:password_change")):
            response = client.get(path)
            assert response.status_code == 302, (user, path)
            assert response.url.startswith(reverse("accounts:two_factor_setup"))
        assert client.post("/schools/").status_code == 302
    # A coach sees no student records and is not asked.
    client = Client()
    client.force_login(coach)
    assert client.get("/").status_code == 200

    client = Client()
    client.force_login(principal)
    set_up_two_factor(client)
    assert client.get("/").status_code == 200
    # Required: it cannot be turned off.
    client.post(reverse("accounts:two_factor"), {"action": "off"})
    assert TOTPDevice.objects.filter(user=principal, confirmed=True).exists()


@pytest.mark.django_db
def test_a_requirement_turned_on_reaches_sessions_already_open(district, principal):
    client = Client()
    client.force_login(principal)
    assert client.get("/").status_code == 200
    district.require_two_factor = True
    district.save()
    session = client.session
    session[middleware.TWO_FACTOR_CHECKED] = int(time.time()) - middleware.RECHECK_EVERY
    session.save()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_the_superuser_admin_respects_the_requirement(district):
    admin = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    district.require_two_factor = True
    district.save()
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:two_factor_setup"))


@pytest.mark.django_db
def test_the_requirement_is_a_district_setting(district, district_admin, login):
    client = login(district_admin)
    data = {
        "name": district.name,
        "device_planning_ratio": "1.10",
        "pd_hour_target": "20.0",
        "survey_min_group": "5",
        "time_zone": district.time_zone,
        "date_order": district.date_order,
        "require_two_factor": "on",
    }
    response = client.post(reverse("schools:district_settings", args=[district.pk]), data)
    assert response.status_code == 302
    district.refresh_from_db()
    assert district.require_two_factor
    # The admin who turned it on is asked to set it up on their next page.
    session = client.session
    session[middleware.TWO_FACTOR_CHECKED] = 0
    session.save()
    assert client.get("/").url.startswith(reverse("accounts:two_factor_setup"))


@pytest.mark.django_db
def test_a_membership_in_another_district_does_not_impose_the_requirement(
    district, elsewhere, coach
):
    district.require_two_factor = True
    district.save()
    principal_elsewhere = UserFactory(email="p@hollow.example.org")
    MembershipFactory(
        user=principal_elsewhere, school=elsewhere, district=elsewhere.district, role=Role.PRINCIPAL
    )
    client = Client()
    client.force_login(principal_elsewhere)
    assert client.get("/").status_code == 200


# --- switching an account off from the members page ---------------------------------------


@pytest.mark.django_db
def test_a_district_admin_switches_an_account_off_and_its_sessions_end(
    district_admin, principal, login
):
    from schools.models import Membership

    session = Client()
    session.force_login(principal)
    membership = Membership.objects.get(user=principal)
    admin = login(district_admin)
    response = admin.post(reverse("accounts:user_deactivate", args=[membership.pk]), follow=True)
    assert "switched off and signed out everywhere" in response.content.decode()
    principal.refresh_from_db()
    assert not principal.is_active
    assert session.get("/").status_code == 302
    assert attempt(principal.email, PASSWORD).status_code == 200  # the usual wrong answer
    admin.post(reverse("accounts:user_reactivate", args=[membership.pk]))
    principal.refresh_from_db()
    assert principal.is_active
    assert attempt(principal.email, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_an_account_with_roles_in_another_district_is_not_switched_off_here(
    district_admin, principal, elsewhere, login
):
    from schools.models import Membership

    MembershipFactory(
        user=principal, school=elsewhere, district=elsewhere.district, role=Role.PRINCIPAL
    )
    membership = Membership.objects.get(
        user=principal, district=district_admin.memberships.get().district
    )
    response = login(district_admin).post(
        reverse("accounts:user_deactivate", args=[membership.pk]), follow=True
    )
    assert "another district" in response.content.decode()
    principal.refresh_from_db()
    assert principal.is_active


@pytest.mark.django_db
def test_an_admin_cannot_switch_off_their_own_account(district_admin, login):
    from schools.models import Membership

    membership = Membership.objects.get(user=district_admin)
    login(district_admin).post(reverse("accounts:user_deactivate", args=[membership.pk]))
    district_admin.refresh_from_db()
    assert district_admin.is_active


@pytest.mark.django_db
def test_an_inactive_account_gets_the_same_answer_as_an_unknown_one(principal):
    principal.is_active = False
    principal.save()
    inactive = attempt(principal.email, PASSWORD, ip="10.0.6.1")
    unknown = attempt("nobody@maple.example.org", PASSWORD, ip="10.0.6.2")
    assert inactive.status_code == unknown.status_code == 200
    assert without_token(inactive.content).replace(principal.email, "X") == without_token(
        unknown.content
    ).replace("nobody@maple.example.org", "X")


@pytest.mark.django_db
def test_the_code_page_brings_the_person_back_where_they_were_going(coach):
    client = Client()
    attempt(coach.email, PASSWORD, client=client)
    codes = set_up_two_factor(client)
    client.post(reverse("accounts:logout"))
    attempt(coach.email, PASSWORD, client=client)
    response = client.get("/pd/sessions/?q=a&page=2")
    assert (
        response.url
        == reverse("accounts:two_factor_verify") + "?next=%2Fpd%2Fsessions%2F%3Fq%3Da%26page%3D2"
    )
    page = client.get(response.url)
    assert page.context["next"] == "/pd/sessions/?q=a&page=2"
    # An address on another site is not followed.
    ok = client.post(
        reverse("accounts:two_factor_verify"), {"token": codes[1], "next": "https://evil.example/"}
    )
    assert ok.url == "/"
