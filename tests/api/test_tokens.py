"""Personal API tokens: made once, stored hashed, expiring, revocable, read-only refused."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from api.models import ApiToken, digest
from api.services import token_create, token_revoke
from core.models import AuditEvent, Kind
from tests.factories import DeviceFactory, StudentFactory

DEVICES = "/api/v1/devices/"


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_it_stores_only_a_digest_of_the_token(tech):
    row, token = token_create(user=tech, name="desk", read_only=True, days=10)
    assert token.startswith(f"pw_{row.prefix}_")
    assert row.token_hash == digest(token) and token not in row.token_hash
    assert not ApiToken.objects.filter(token_hash=token).exists()


def test_it_authenticates_a_live_token_and_notes_its_use(client, tech):
    row, token = token_create(user=tech, name="desk")
    assert client.get(DEVICES, headers=_auth(token)).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer pw_0123456789_wrong", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b"],
)
def test_it_refuses_a_bad_token_with_401(client, tech, header):
    response = client.get(DEVICES, headers={"Authorization": header})
    assert response.status_code == 401


def test_it_refuses_a_token_with_the_right_prefix_and_a_wrong_secret(client, tech):
    _row, token = token_create(user=tech, name="desk")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get(DEVICES, headers=_auth(forged)).status_code == 401


def test_an_expired_token_answers_401(client, tech):
    row, token = token_create(user=tech, name="desk", days=1)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(DEVICES, headers=_auth(token))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_revoked_token_answers_401(client, tech):
    row, token = token_create(user=tech, name="desk")
    assert client.get(DEVICES, headers=_auth(token)).status_code == 200
    token_revoke(token=row, by=tech)
    response = client.get(DEVICES, headers=_auth(token))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_switched_off_account_loses_its_tokens(client, tech):
    _row, token = token_create(user=tech, name="desk")
    tech.is_active = False
    tech.save()
    assert client.get(DEVICES, headers=_auth(token)).status_code == 401


def test_a_read_only_token_reads_but_never_writes(client, tech, cedar):
    device = DeviceFactory(school=cedar)
    student = StudentFactory(school=cedar)
    _row, token = token_create(user=tech, name="dashboard", read_only=True)
    assert client.get(DEVICES, headers=_auth(token)).status_code == 200
    response = client.post(
        "/api/v1/assignments/",
        {"device": device.pk, "student": student.pk},
        content_type="application/json",
        headers=_auth(token),
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "This token is read-only."
    device.refresh_from_db()
    assert device.status == "in_stock"


def test_every_write_is_audited_with_its_token(client, tech, cedar):
    device = DeviceFactory(school=cedar)
    student = StudentFactory(school=cedar)
    row, token = token_create(user=tech, name="help desk", read_only=False)
    response = client.post(
        "/api/v1/assignments/",
        {"asset_tag": device.asset_tag, "student_id": student.local_id},
        content_type="application/json",
        headers=_auth(token),
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(kind=Kind.API_WRITE)
    assert event.user == tech and event.school_id == cedar.pk
    assert event.object_type == "equity.assignment"
    assert row.shown_prefix in event.detail and "assignment-create" in event.detail


def test_the_rate_limit_counts_per_token(client, tech, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    # THROTTLE_RATES is a class attribute read once at import: put back the configured rate
    # (not this test's 3/minute) so later tests on this worker are not throttled.
    configured = settings.REST_FRAMEWORK
    settings.REST_FRAMEWORK = {
        **configured,
        "DEFAULT_THROTTLE_RATES": {"api": "3/minute"},
    }
    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        _r, first = token_create(user=tech, name="one")
        _r, second = token_create(user=tech, name="two")
        codes = [client.get(DEVICES, headers=_auth(first)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get(DEVICES, headers=_auth(second)).status_code == 200
    finally:
        settings.REST_FRAMEWORK = configured
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


def test_the_command_prints_a_token_once(client, tech):
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_token", tech.email, "--read-only", "--days", "5", stdout=out, stderr=err
    )
    token = out.getvalue().strip()
    row = ApiToken.objects.get(user=tech)
    assert row.read_only and row.matches(token)
    assert 4 <= (row.expires_at - timezone.now()).days <= 5
    assert token not in err.getvalue()
    assert client.get(DEVICES, headers=_auth(token)).status_code == 200


def test_the_command_refuses_an_unknown_person_and_a_bad_length(tech):
    with pytest.raises(CommandError, match="No account"):
        call_command("create_api_token", "nobody@example.org")
    with pytest.raises(CommandError, match="1 to 366 days"):
        call_command("create_api_token", tech.email, "--days", "0")


def test_the_account_page_makes_shows_once_lists_and_revokes(login, tech, principal):
    client = login(tech)
    page = client.post(
        "/accounts/api-tokens/",
        {"new-name": "help desk", "new-access": "write", "new-days": "30"},
    )
    assert page.status_code == 200
    row = ApiToken.objects.get(user=tech)
    assert not row.read_only
    shown = page.context["made"][1]
    assert shown.encode() in page.content and row.matches(shown)
    listing = client.get("/accounts/api-tokens/")
    assert shown.encode() not in listing.content  # shown once
    assert row.shown_prefix.encode() in listing.content
    # Another person's token cannot be revoked from here.
    other, _ = token_create(user=principal, name="theirs")
    client.post("/accounts/api-tokens/", {"revoke": "1", "token": other.pk})
    other.refresh_from_db()
    assert other.revoked_at is None
    client.post("/accounts/api-tokens/", {"revoke": "1", "token": row.pk})
    row.refresh_from_db()
    assert row.revoked_at is not None


def test_the_account_page_shows_field_errors(login, tech):
    page = login(tech).post(
        "/accounts/api-tokens/", {"new-name": "", "new-access": "write", "new-days": "9999"}
    )
    assert page.status_code == 400
    assert set(page.context["form"].errors) == {"name", "days"}
    assert not ApiToken.objects.exists()
