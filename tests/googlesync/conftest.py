import pytest

from googlesync import services

from .fake_directory import FakeDirectory


@pytest.fixture
def google(httpserver, settings):
    """The fake Google on loopback, and the settings that point the client at it."""
    fake = FakeDirectory(httpserver)
    settings.GOOGLE_DIRECTORY_API_URL = fake.api_url
    settings.GOOGLE_SYNC_BACKOFF_SECONDS = 0.01
    settings.GOOGLE_SYNC_MAX_RETRIES = 4
    return fake


@pytest.fixture
def connection(google, district, maple, cedar, district_admin):
    conn = services.connection_save(
        district=district,
        by=district_admin,
        key_file=google.key_file(),
        admin_email=google.admin,
        customer_id=google.customer,
        org_unit_root="/",
        default_school=None,
        lost_message="Property of Riverbend. Return to any school office.",
    )
    services.org_unit_map(district=district, path="/Students/Maple", school=maple)
    services.org_unit_map(district=district, path="/Students/Cedar", school=cedar)
    return conn
