"""One date and time format across the product, in the district's time zone.

The formats are set once (config/formats/en/formats.py). These guards hold every template
and every line of Python text to them, render every page to look for a date written any
other way, and check that times follow the district's zone, on pages and in CSV files.
"""

import csv
import html
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from equity.inventory.models import Assignment
from schools.models import Role
from schools.scoping import access_for
from tests.factories import (
    MembershipFactory,
    StationEventFactory,
    UserFactory,
    open_assignment,
)
from tests.scoping_cases import CASES, SIGNED_IN, Scoped

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".venv", "node_modules", "staticfiles", "tests", "migrations", "bench", ".git"}

# The named formats a template may ask for (bare |date and |time mean DATE_FORMAT and
# TIME_FORMAT), and "l", the weekday's name, which is not a date by itself.
NAMED = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "TIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "l",
}
# Machine formats, allowed only where no person reads them: an attribute a browser reads
# (datetime, href, value, data-*) or a value passed on inside a {% tag %}.
MACHINE = {"c", "Y-m", "Y-m-d", "U"}
FILTER = re.compile(r"\|(date|time)(?::\s*(\"[^\"]*\"|'[^']*'))?")
NOW = re.compile(r"\{%\s*now\s+(\"[^\"]*\"|'[^']*')")
RELATIVE = re.compile(r"\|(?:naturaltime|naturalday|timesince|timeuntil)\b")
IN_ATTRIBUTE = re.compile(r"(?:datetime|href|value|data-[\w-]+)=\"[^\"<>]*$")


def _files(suffixes):
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if path.suffix in suffixes and path.is_file() and not parts & SKIP_DIRS:
            yield path


def _in_machine_place(text: str, at: int) -> bool:
    before = text[:at]
    tag_open = max(before.rfind("{%"), before.rfind("{{"))
    if tag_open >= 0 and before.rfind("{%") == tag_open and "%}" not in before[tag_open:]:
        return True  # inside a {% tag %}: a value passed on, not shown
    return bool(IN_ATTRIBUTE.search(before[before.rfind("<") :]))


def _ad_hoc_formats(text: str) -> list[str]:
    found = []
    for m in FILTER.finditer(text):
        fmt = m.group(2)[1:-1] if m.group(2) else None
        if fmt is None or fmt in NAMED:
            continue
        if fmt in MACHINE and _in_machine_place(text, m.start()):
            continue
        found.append(f"|{m.group(1)}:{m.group(2)}")
    for m in NOW.finditer(text):
        if m.group(1)[1:-1] not in NAMED:
            found.append(m.group(0))
    found += RELATIVE.findall(text)  # "3 hours ago" beside "Aug 15, 2026" elsewhere
    return found


def test_every_template_names_one_of_the_formats():
    problems = []
    for path in _files({".html", ".txt"}):
        text = path.read_text(encoding="utf-8")
        for fmt in _ad_hoc_formats(text):
            problems.append(f"{path.relative_to(ROOT)}: {fmt}")
    assert not problems, (
        'Use |date, |date:"DATETIME_FORMAT", |time, |date:"YEAR_MONTH_FORMAT" or '
        '|date:"MONTH_DAY_FORMAT" (config/formats/en/formats.py): ' + "; ".join(problems)
    )


def test_the_guard_sees_an_ad_hoc_format_and_lets_machine_ones_through():
    assert _ad_hoc_formats('<td>{{ at|date:"Y-m-d H:i" }}</td>') == ['|date:"Y-m-d H:i"']
    assert _ad_hoc_formats("<p>{{ day|date:'Y-m-d' }}</p>") == ["|date:'Y-m-d'"]
    assert _ad_hoc_formats("{{ job.created_at|naturaltime }}") == ["|naturaltime"]
    assert _ad_hoc_formats('{% now "F j, Y" %}') == ['{% now "F j, Y"']
    assert _ad_hoc_formats("<p>{{ at|date:'c' }}</p>") == ["|date:'c'"]  # shown: not ok
    assert not _ad_hoc_formats("<time datetime=\"{{ at|date:'c' }}\">{{ at|date }}</time>")
    assert not _ad_hoc_formats("<a href=\"?month={{ m|date:'Y-m' }}\">{{ m|time }}</a>")
    assert not _ad_hoc_formats('{% include "x.html" with month=first|date:"Y-m" %}')


# Python text: a date reaches people through schools.dates or date_format, never through a
# format of its own ("%b %d" and friends). Only a file name's stamp may use one.
PY_FORMAT = re.compile(r"\{[^{}\n]*:(%[^}\"']*)\}|strftime\(\s*[\"']([^\"']*)")
PY_MACHINE = {"%Y%m%d"}


def test_python_text_names_one_of_the_formats():
    problems = []
    for path in _files({".py"}):
        if "config/formats" in str(path):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in PY_FORMAT.finditer(line):
                fmt = m.group(1) or m.group(2)
                if fmt not in PY_MACHINE:
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {fmt}")
    assert not problems, "Use schools.dates.shown_date / shown_datetime: " + "; ".join(problems)


# --- every page, rendered -----------------------------------------------------------------

# A date or time written another way than the named formats, in what a person reads.
STRAY = {
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "numeric date": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
    "24-hour or UTC time": re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b(?!\s?[AP]M)"),
    "Django's default a.m./p.m.": re.compile(r"\b[ap]\.m\."),
    "Django's default month abbreviation": re.compile(r"\b(?:Jan|Feb|Aug|Sept|Oct|Nov|Dec)\. \d"),
}
NOT_READ_AS_TEXT = re.compile(
    r"<(script|style|code|option|textarea|svg)\b.*?</\1>|<[^>]*>", re.S | re.IGNORECASE
)


def visible_text(content: str) -> str:
    return html.unescape(NOT_READ_AS_TEXT.sub(" ", content))


def strays(content: str) -> list[str]:
    text = visible_text(content)
    return [f"{what}: {m.group(0)!r}" for what, rx in STRAY.items() for m in rx.finditer(text)]


def test_the_page_check_sees_a_stray_date():
    page = '<p>Due 2026-08-15 at 14:05</p><time datetime="2026-08-15">Aug 15, 2026</time>'
    assert strays(page) == ["ISO date: '2026-08-15'", "24-hour or UTC time: '14:05'"]
    assert not strays("<p>Aug 15, 2026, 3:30 PM · August 2026 · Aug 15</p><code>2026-08-15</code>")


PAGES = sorted(
    n
    for n, case in CASES.items()
    if (isinstance(case, Scoped) and "GET" in case.methods) or case == SIGNED_IN
)


@pytest.fixture
def everyone(maple, district):
    user = UserFactory(email="dates@maple.example.org")
    for role in (Role.PRINCIPAL, Role.COACH, Role.TECH_STAFF):
        MembershipFactory(user=user, school=maple, role=role)
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    return user


@pytest.mark.parametrize("name", PAGES)
def test_every_page_writes_dates_in_the_one_format(name, client, everyone, maple):
    case = CASES[name]
    url = reverse(name) if case == SIGNED_IN else reverse(name, kwargs=case.make(maple))
    client.force_login(everyone)
    response = client.get(url)
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        pytest.skip(f"{name} is not an HTML page ({response.status_code})")
    assert not strays(response.content.decode()), (name, strays(response.content.decode()))


# --- the district's time zone ---------------------------------------------------------


AT = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # the evening of Mar 4 in the Americas


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("America/New_York", "Mar 4, 2026, 9:30 PM"),
        ("America/Los_Angeles", "Mar 4, 2026, 6:30 PM"),
        ("Europe/Madrid", "Mar 5, 2026, 3:30 AM"),
    ],
)
def test_times_are_shown_in_the_districts_zone(zone, shown, login, district_admin, district):
    district.time_zone = zone
    district.save()
    AuditEvent.objects.create(district=district, kind="export", detail="csv x.csv", at=AT)
    content = login(district_admin).get(reverse("audit:log", args=[district.pk])).content
    assert shown in content.decode()


def test_today_is_the_districts_today(login, coach, district):
    # Kiritimati is UTC+14: for most hours its date is a day ahead of New York's.
    district.time_zone = "Pacific/Kiritimati"
    district.save()
    form = login(coach).get(reverse("pd:session_new")).context["form"]
    kiritimati = timezone.localtime(timezone.now(), ZoneInfo("Pacific/Kiritimati")).date()
    assert form.initial["date"] == kiritimati


def test_a_person_of_several_districts_sees_the_first_ones_zone(maple, elsewhere):
    user = UserFactory()
    maple.district.time_zone = "America/Denver"
    maple.district.save()
    elsewhere.district.time_zone = "America/Chicago"
    elsewhere.district.save()
    MembershipFactory(user=user, school=maple, role=Role.COACH)
    MembershipFactory(user=user, school=elsewhere, role=Role.COACH)
    first = min([maple.district, elsewhere.district], key=lambda d: d.pk)
    assert access_for(user).time_zone == first.time_zone


def test_a_csv_counts_days_in_the_districts_zone(login, tech, cedar):
    cedar.district.time_zone = "America/Los_Angeles"
    cedar.district.save()
    event = StationEventFactory(school=cedar, kind="collection", name="June", grades=[7])
    held = open_assignment(cedar, grade=7)
    Assignment.objects.filter(pk=held.pk).update(checked_out_at=AT)
    response = login(tech).get(event.get_absolute_url(), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][-1] == "2026-03-04"  # checked out on the evening of Mar 4, Pacific time


def test_a_csv_cell_of_a_date_and_time_is_local_iso_to_the_minute():
    from schools.exports import neutralise

    with timezone.override("America/Chicago"):
        assert neutralise(AT) == "2026-03-04 20:30"
    assert neutralise(date(2026, 8, 15)) == "2026-08-15"


# --- the demo district, crawled as each role -------------------------------------------

HREF = re.compile(r'href="(/[^"#]*)"')
CRAWL_LIMIT = 120  # pages per role: every kind of page of the demo, a few of each
SKIP_LINK = re.compile(r"logout|format=csv|\.csv|\.png|\.svg|/admin/|/static/|print")


@pytest.mark.parametrize("email", ["admin", "principal", "coach", "tech"])
def test_the_demo_crawled_as_each_role_shows_no_stray_date(email, client, db):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", allow_production=True, stdout=io.StringIO())
    if connection.vendor == "postgresql":
        # As autovacuum would on a live database: without statistics on the freshly seeded
        # tables the planner picks plans that take minutes (a device day's page, for one).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client.force_login(get_user_model().objects.get(email=f"{email}@riverbend.example.org"))
    seen, queue, problems, kinds = set(), ["/"], [], {}
    while queue and len(seen) < CRAWL_LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        content = response.content.decode()
        problems += [(url, s) for s in strays(content)]
        for link in HREF.findall(html.unescape(content)):
            kind = re.sub(r"\d+", "N", link.split("?")[0])
            if SKIP_LINK.search(link) or kinds.get(kind, 0) >= 3:
                continue  # a few of each kind of page is enough
            kinds[kind] = kinds.get(kind, 0) + 1
            queue.append(link)
    assert len(seen) > 15, seen
    assert not problems, problems[:20]
