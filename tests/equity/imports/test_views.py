"""The upload pages, background import jobs and their progress page."""

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from equity.imports import tasks
from equity.imports.models import ImportJob
from equity.imports.views import SYNC_ROW_LIMIT
from equity.inventory.models import Device, DeviceEvent, Student
from tests.factories import MembershipFactory, UserFactory

HEADER = ["asset_tag", "serial_number", "model", "school", "notes"]


def upload(rows, header=HEADER, name="devices.csv"):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def device_rows(n, school=""):
    return [[f"RB-{i:06d}", f"SN{i:08d}", "Acer Chromebook Spin 512", school, ""] for i in range(n)]


def devices_url(school):
    return reverse("equity:import_devices", args=[school.pk])


def students_url(school):
    return reverse("equity:import_students", args=[school.pk])


# --- the upload page -----------------------------------------------------------------------


def test_the_page_offers_a_labelled_upload_form(login, tech, cedar):
    response = login(tech).get(devices_url(cedar))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1 and "Import devices into Cedar Middle" in html
    assert 'enctype="multipart/form-data"' in html
    assert re.search(r'<label[^>]*for="id_file"', html)
    assert re.search(r'<label[^>]*for="id_format"', html)
    assert re.search(r'<label[^>]*for="id_dry_run"', html)


def test_a_small_file_is_imported_in_the_request(login, tech, cedar):
    response = login(tech).post(devices_url(cedar), {"file": upload(device_rows(3))})

    assert response.status_code == 200
    assert b"Imported 3 devices (3 created, 0 updated)" in response.content
    assert set(Device.objects.values_list("school_id", flat=True)) == {cedar.pk}
    assert set(DeviceEvent.objects.values_list("kind", "by_id")) == {("created", tech.pk)}
    assert not ImportJob.objects.exists()


def test_a_file_with_problems_shows_every_problem_and_writes_nothing(login, tech, cedar):
    rows = device_rows(4)
    rows[1][1] = ""
    rows[3][2] = ""

    response = login(tech).post(devices_url(cedar), {"file": upload(rows)})

    html = response.content.decode()
    assert "2 problems found; nothing was imported." in html
    assert '<th scope="col">Row</th><th scope="col">Column</th><th scope="col">Problem</th>' in html
    cells = re.findall(
        r'<th scope="row" class="fw-normal">(\d+)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>',
        html,
    )
    assert cells == [
        ("3", "serial_number", "is blank; every device needs its serial number"),
        ("5", "model", "is blank; every device needs its model"),
    ]
    assert Device.objects.count() == 0


def test_a_dry_run_from_the_page_writes_nothing(login, tech, cedar):
    response = login(tech).post(
        devices_url(cedar), {"file": upload(device_rows(2)), "dry_run": "on"}
    )
    assert b"Would import 2 devices (2 created, 0 updated)" in response.content
    assert Device.objects.count() == 0


def test_an_upload_without_a_file_is_a_field_error(login, tech, cedar):
    response = login(tech).post(devices_url(cedar), {})
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    (field,) = re.findall(r'<input type="file"[^>]*>', html)
    assert 'aria-invalid="true"' in field
    assert re.search(r'aria-describedby="[^"]*\bid_file_error\b', field)
    assert 'id="id_file_error"' in html


def test_rows_naming_a_school_outside_the_users_scope_are_row_errors(login, tech, maple, cedar):
    rows = device_rows(3)
    rows[0][3] = "CEDAR"
    rows[1][3] = "MAPLE"  # real, but not the tech's
    rows[2][3] = "NOWHERE"

    html = login(tech).post(devices_url(cedar), {"file": upload(rows)}).content.decode()

    assert html.count("is not a school you can import into") == 2
    assert "&quot;MAPLE&quot; is not a school you can import into" in html
    assert Device.objects.count() == 0


def test_tech_staff_cannot_open_another_schools_import_page(login, tech, maple):
    client = login(tech)
    assert client.get(devices_url(maple)).status_code == 404
    assert client.post(devices_url(maple), {"file": upload(device_rows(1))}).status_code == 404
    assert client.get(students_url(maple)).status_code == 404
    assert Device.objects.count() == 0


def test_a_coach_may_not_import(login, coach, maple):
    assert login(coach).get(devices_url(maple)).status_code == 403
    response = login(coach).post(students_url(maple), {"file": upload([["S-1", "2"]])})
    assert response.status_code == 403
    assert Student.objects.count() == 0


def test_a_district_admin_imports_students_and_no_name_is_kept(login, district_admin, maple):
    header = ["student_id", "first_name", "last_name", "grade", "home_internet"]
    rows = [["400123", "Avery", "Example", "2", "no"], ["400124", "Jordan", "Sample", "K", ""]]

    response = login(district_admin).post(
        students_url(maple), {"file": upload(rows, header, "roster.csv")}
    )

    html = response.content.decode()
    assert "Imported 2 students (2 created, 0 updated)" in html
    assert "ignored columns: first_name, last_name" in html
    assert "Avery" not in html
    assert list(Student.objects.values_list("local_id", "school_id", "grade")) == [
        ("400123", maple.pk, 2),
        ("400124", maple.pk, 0),
    ]


# --- large files: a job ------------------------------------------------------------------


def test_a_large_file_becomes_a_job_that_a_worker_finishes(
    login, tech, cedar, django_capture_on_commit_callbacks
):
    client = login(tech)
    n = SYNC_ROW_LIMIT + 50
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(devices_url(cedar), {"file": upload(device_rows(n), name="all.csv")})

    job = ImportJob.objects.get()
    # The job is queued only once its row is committed; the import it runs then announces
    # its evidence, which queues readiness's one run after the import's own commit.
    from readiness.services import PURPOSE

    assert [getattr(c, "purpose", None) for c in callbacks][1:] == [PURPOSE]
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.school, job.kind, job.filename, job.created_by) == (
        cedar,
        "devices",
        "all.csv",
        tech,
    )
    assert (job.status, job.rows_total, job.rows_done, job.created_count) == ("done", n, n, n)
    assert job.content == ""  # the upload is not kept
    assert job.finished_at is not None
    assert Device.objects.filter(school=cedar).count() == n
    assert cache.get(tasks.progress_key(job.pk)) is None

    page = client.get(job.get_absolute_url()).content.decode()
    assert page.count("<h1") == 1
    assert 'role="progressbar"' in page and 'aria-valuenow="100"' in page
    assert 'aria-valuemin="0"' in page and 'aria-valuemax="100"' in page
    assert f"Imported {n:,} devices ({n:,} created, 0 updated)" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling


def test_a_large_student_file_with_problems_fails_and_lists_them(
    login, principal, maple, django_capture_on_commit_callbacks
):
    header = ["student_id", "first_name", "grade"]
    rows = [[f"S-{i:05d}", "Name", "3"] for i in range(SYNC_ROW_LIMIT + 10)]
    rows[700][2] = "TK"
    with django_capture_on_commit_callbacks(execute=True):
        login(principal).post(students_url(maple), {"file": upload(rows, header, "roster.csv")})

    job = ImportJob.objects.get()
    assert (job.status, job.error_count, job.created_count) == ("failed", 1, 0)
    assert job.errors == [
        {"row": 702, "column": "grade", "message": '"TK" is not a grade (use PK, K or 1–12)'}
    ]
    assert job.content == "" and Student.objects.count() == 0
    page = login(principal).get(job.get_absolute_url()).content.decode()
    assert "1 problem found; nothing was imported." in page
    assert reverse("equity:import_job_errors", args=[job.pk]) in page


def test_a_running_job_polls_with_htmx_and_shows_its_progress(login, tech, cedar):
    job = ImportJob.objects.create(
        school=cedar, kind="devices", status="validating", rows_done=500, rows_total=1000
    )
    client = login(tech)

    page = client.get(job.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert f'hx-get="{job.get_absolute_url()}"' in page
    assert 'aria-valuenow="25"' in page  # half of the checking half
    assert "Checking rows: 500 of about 1,000" in page

    # While writing, the numbers come from the cache (the transaction hides the row's).
    cache.set(tasks.progress_key(job.pk), ("writing", 600, 1000))
    partial = client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert "<h1" not in html and "<html" not in html
    assert 'aria-valuenow="80"' in html and "Writing rows: 600 of 1,000" in html
    assert 'hx-trigger="every 1s"' in html
    cache.delete(tasks.progress_key(job.pk))


def test_a_queued_job_waits_for_a_worker(login, tech, cedar):
    job = ImportJob.objects.create(school=cedar, kind="devices", rows_total=3000)
    page = login(tech).get(job.get_absolute_url()).content.decode()
    assert 'aria-valuenow="0"' in page and "Waiting for a worker" in page


def test_another_schools_job_is_not_found(login, tech, maple):
    job = ImportJob.objects.create(school=maple, kind="devices")
    client = login(tech)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(reverse("equity:import_job_errors", args=[job.pk])).status_code == 404


def test_the_errors_download_is_a_neutralised_csv(login, tech, cedar):
    job = ImportJob.objects.create(
        school=cedar,
        kind="devices",
        status="failed",
        error_count=2,
        errors=[
            {"row": 3, "column": "notes", "message": '=HYPERLINK("http://x")'},
            {"row": 9, "column": "serial_number", "message": "is blank"},
        ],
    )
    response = login(tech).get(reverse("equity:import_job_errors", args=[job.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="import-{job.pk}-errors.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [
        ["row", "column", "message"],
        ["3", "notes", '\'=HYPERLINK("http://x")'],
        ["9", "serial_number", "is blank"],
    ]


# --- the task ------------------------------------------------------------------------------


def _queued_job(school, user, rows):
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return ImportJob.objects.create(
        school=school, kind="devices", content=out.getvalue(), created_by=user, rows_total=len(rows)
    )


def test_the_task_runs_a_job_once(tech, cedar):
    job = _queued_job(cedar, tech, device_rows(3))
    assert tasks.run_import(job.pk) is True
    assert tasks.run_import(job.pk) is False  # no longer queued: left alone
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 3)
    assert Device.objects.count() == 3


def test_the_task_leaves_a_job_that_another_worker_took(tech, cedar):
    job = _queued_job(cedar, tech, device_rows(3))
    ImportJob.objects.filter(pk=job.pk).update(status="validating")
    assert tasks.run_import(job.pk) is False
    assert Device.objects.count() == 0


def test_the_task_records_progress_on_the_job_row(tech, cedar, monkeypatch):
    job = _queued_job(cedar, tech, device_rows(2100))
    seen = []
    real_update = ImportJob.objects.filter(pk=job.pk).update.__func__

    def spy(qs, **kwargs):
        seen.append(kwargs)
        return real_update(qs, **kwargs)

    monkeypatch.setattr(type(ImportJob.objects.filter(pk=job.pk)), "update", spy)
    tasks.run_import(job.pk)

    progress = [
        (u["rows_done"], u["rows_total"]) for u in seen if set(u) == {"rows_done", "rows_total"}
    ]
    assert progress == [(1000, 2100), (2000, 2100), (2100, 2100)] * 2
    phases = [u["status"] for u in seen if set(u) == {"status", "rows_done"}]
    assert phases == ["validating", "writing"]


def test_the_task_refuses_a_job_whose_author_lost_the_role(cedar):
    former = UserFactory()
    membership = MembershipFactory(user=former, school=cedar, role="tech_staff")
    job = _queued_job(cedar, former, device_rows(2))
    membership.delete()

    assert tasks.run_import(job.pk) is False

    job.refresh_from_db()
    assert job.status == "failed" and job.content == ""
    assert job.errors[0]["message"].startswith("You can no longer import into this school")
    assert Device.objects.count() == 0


@pytest.mark.parametrize("kind", ["devices", "students"])
def test_the_page_lists_recent_background_imports(login, district_admin, maple, kind):
    ImportJob.objects.create(school=maple, kind=kind, filename="spring.csv", status="done")
    url = devices_url(maple) if kind == "devices" else students_url(maple)
    html = login(district_admin).get(url).content.decode()
    assert "spring.csv" in html
