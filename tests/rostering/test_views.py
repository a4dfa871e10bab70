"""The roster pages: a source's settings (the secret never shown), a preview from an
upload, the run page, applying a preview, and who may use them."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.sealing import unseal
from equity.inventory.models import Student
from rostering.models import SECRET_PURPOSE, RosterRun, RosterSource, RunStatus, SourceKind

from .roster_data import base_roster, bundle
from .servers import CLIENT, serve_oneroster


def test_it_keeps_the_secret_encrypted_and_never_shows_it(login, district_admin, district):
    client = login(district_admin)
    response = client.post(
        reverse("rostering:source_add", args=[district.pk]),
        {
            "kind": "oneroster-api",
            "base_url": "https://sis.example.org/ims/oneroster/v1p1",
            "token_url": "https://sis.example.org/oauth/token",
            "client_id": "pw",
            "client_secret": "very-secret-value",
            "student_key": "sourcedId",
            "error_threshold": 0,
        },
    )
    source = RosterSource.objects.get()
    assert response.status_code == 302
    assert "very-secret-value" not in source.client_secret_sealed
    assert unseal(source.client_secret_sealed, purpose=SECRET_PURPOSE) == "very-secret-value"
    page = client.get(source.get_absolute_url()).content.decode()
    assert "very-secret-value" not in page and "set (never shown again)" in page
    # Saving without a secret keeps the stored one.
    client.post(source.get_absolute_url(), {
        "base_url": source.base_url, "token_url": source.token_url, "client_id": "pw2",
        "client_secret": "", "student_key": "sourcedId", "error_threshold": 0})  # fmt: skip
    source.refresh_from_db()
    assert (
        source.client_id == "pw2"
        and unseal(source.client_secret_sealed, purpose=SECRET_PURPOSE) == "very-secret-value"
    )


def test_an_api_source_needs_its_secret(login, district_admin, district):
    response = login(district_admin).post(
        reverse("rostering:source_add", args=[district.pk]),
        {"kind": "edfi", "base_url": "https://e.example.org/data/v3/ed-fi",
         "token_url": "https://e.example.org/oauth/token", "client_id": "pw",
         "student_key": "sourcedId", "error_threshold": 0},
    )  # fmt: skip
    assert response.status_code == 200
    assert "needs its client secret" in response.content.decode()
    assert not RosterSource.objects.exists()


def test_an_upload_previews_then_apply_asks_for_it_again(
    login, district_admin, csv_source, roster, maple, cedar
):
    client = login(district_admin)
    upload = SimpleUploadedFile("roster.zip", bundle(roster), "application/zip")
    response = client.post(
        reverse("rostering:source_run", args=[csv_source.pk]), {"bundle": upload}
    )
    run = RosterRun.objects.get()
    assert response.url == run.get_absolute_url()
    assert run.status == RunStatus.PREVIEWED and run.counts["students_created"] == 5
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Oak Ridge High, Campus (OAK)" in page and "Apply this roster" in page
    assert not Student.objects.exists()
    client.post(reverse("rostering:run_apply", args=[run.pk]))
    csv_source.refresh_from_db()
    assert csv_source.approved_at and not Student.objects.exists()
    upload = SimpleUploadedFile("roster.zip", bundle(roster), "application/zip")
    client.post(
        reverse("rostering:source_run", args=[csv_source.pk]), {"bundle": upload, "apply": "on"}
    )
    assert Student.objects.count() == 5
    assert RosterRun.objects.filter(status=RunStatus.APPLIED).count() == 1


def test_an_api_preview_applies_through_the_task(
    login, district_admin, district, httpserver, maple, cedar, django_capture_on_commit_callbacks
):
    source = RosterSource(
        district=district, kind=SourceKind.ONEROSTER_API, student_key="identifier",
        base_url=httpserver.url_for("/ims/oneroster/v1p1"),
        token_url=httpserver.url_for("/oauth/token"), client_id=CLIENT[0],
    )  # fmt: skip
    source.set_secret(CLIENT[1])
    source.save()
    serve_oneroster(httpserver, base_roster())
    client = login(district_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("rostering:source_run", args=[source.pk]))
    preview = RosterRun.objects.get()
    assert preview.status == RunStatus.PREVIEWED and not Student.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("rostering:run_apply", args=[preview.pk]))
    applied = RosterRun.objects.exclude(pk=preview.pk).get()
    assert response.url == applied.get_absolute_url()
    assert applied.status == RunStatus.APPLIED and Student.objects.count() == 5
    source.refresh_from_db()
    assert source.nightly


def test_the_nightly_task_runs_approved_sources_only(
    district,
    csv_source,
    roster,
    tmp_path,
    maple,
    cedar,
    django_capture_on_commit_callbacks,
    settings,
):
    from rostering.tasks import nightly

    settings.ROSTER_DROP_DIR = tmp_path
    path = tmp_path / district.slug / "r.zip"
    path.parent.mkdir()
    path.write_bytes(bundle(roster))
    csv_source.bundle_path = "r.zip"
    csv_source.save()
    assert nightly.run() == 0
    csv_source.nightly = True
    csv_source.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert nightly.run() == 1
    assert Student.objects.count() == 5


def test_a_preview_over_the_threshold_cannot_be_applied(login, district_admin, csv_source):
    run = RosterRun.objects.create(district=csv_source.district, source=csv_source,
                                   trigger="page", status="previewed", error_count=3)  # fmt: skip
    client = login(district_admin)
    assert "Apply this roster" not in client.get(run.get_absolute_url()).content.decode()
    client.post(reverse("rostering:run_apply", args=[run.pk]))
    assert RosterRun.objects.count() == 1


@pytest.mark.parametrize("who", ["principal", "tech"])
def test_school_roles_may_not_use_the_pages(login, request, who, csv_source, district):
    client = login(request.getfixturevalue(who))
    assert client.get(reverse("rostering:district", args=[district.pk])).status_code == 403
    assert client.get(csv_source.get_absolute_url()).status_code == 403


def test_the_run_page_polls_while_running(login, district_admin, csv_source):
    run = RosterRun.objects.create(district=csv_source.district, source=csv_source,
                                   trigger="page", status="reading", records_read=1200,
                                   phase="Reading students and staff: 1,200 records")  # fmt: skip
    client = login(district_admin)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 1s"' in page and "1,200 records" in page
    partial = client.get(run.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="run-progress"')


def test_the_district_page_costs_the_same_queries_at_two_sizes(
    login, district_admin, csv_source, district, django_assert_max_num_queries
):
    client = login(district_admin)
    url = reverse("rostering:district", args=[district.pk])
    client.get(url)
    for _ in range(2):
        RosterRun.objects.create(district=district, source=csv_source, trigger="page",
                                 status="previewed")  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        RosterRun.objects.create(district=district, source=csv_source, trigger="page",
                                 status="applied")  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few) == len(many)


@pytest.mark.parametrize(
    "typed",
    ["../maple-isd/roster.zip", "/etc/passwd", "{other}/roster.zip", "link/roster.zip"],
)
def test_a_bundle_path_outside_the_districts_drop_folder_is_refused(
    client, login, district, district_admin, csv_source, tmp_path, settings, typed
):
    """One district cannot make the nightly run read another district's drop (or any other
    file of the server), typed directly, through "..", or through a symbolic link."""
    settings.ROSTER_DROP_DIR = tmp_path
    (tmp_path / district.slug).mkdir()
    other = tmp_path / "maple-isd"
    other.mkdir()
    (other / "roster.zip").write_bytes(b"PK")
    (tmp_path / district.slug / "link").symlink_to(other)
    typed = typed.format(other=other)
    csv_source.bundle_path = typed
    with pytest.raises(ValidationError) as refused:
        csv_source.full_clean()
    assert "drop folder" in refused.value.message_dict["bundle_path"][0]
    # And if such a path got stored anyway, the run refuses to read it.
    csv_source.save()
    from rostering.records import RosterProblem
    from rostering.services import reader_for

    with pytest.raises(RosterProblem, match="drop folder"):
        reader_for(csv_source, None)


def test_a_bundle_in_the_districts_drop_folder_is_accepted(csv_source, tmp_path, settings):
    settings.ROSTER_DROP_DIR = tmp_path
    folder = tmp_path / csv_source.district.slug
    folder.mkdir()
    for typed in ("roster.zip", str(folder / "nightly" / "roster.zip")):
        csv_source.bundle_path = typed
        csv_source.full_clean()
        assert csv_source.bundle_file().is_relative_to(folder)
