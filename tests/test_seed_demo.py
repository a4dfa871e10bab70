import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from schools.models import District, Membership, Role, School, StaffMember


def _counts():
    return {
        "districts": District.objects.count(),
        "schools": School.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "staff": StaffMember.objects.count(),
    }


@pytest.mark.django_db
def test_it_seeds_a_realistic_district_and_running_it_twice_changes_nothing(capsys):
    call_command("seed_demo", allow_production=True)
    first = _counts()
    out = capsys.readouterr().out
    call_command("seed_demo", allow_production=True)
    assert _counts() == first

    assert first["districts"] == 1 and first["schools"] >= 3
    spans = {(s.lowest_grade, s.highest_grade) for s in School.objects.all()}
    assert {(-1, 5), (6, 8), (9, 12)} <= spans  # elementary, middle and high
    sizes = sorted(s.enrollment for s in School.objects.all())
    assert sizes[0] * 2 < sizes[-1]  # different sizes
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    for school in School.objects.all():  # about one teacher per 14 students
        teachers = StaffMember.objects.filter(school=school).teaching().count()
        assert school.enrollment / 20 < teachers < school.enrollment / 10
    assert "principal@riverbend.example.org" in out and "pillarwise-demo" in out


@pytest.mark.django_db
def test_the_demo_logins_work(client):
    call_command("seed_demo", allow_production=True)
    # Through the sign-in page: django-axes counts attempts per request, so the test client's
    # request-less login() is refused.
    response = client.post(
        "/accounts/login/",
        {"username": "principal@riverbend.example.org", "password": "pillarwise-demo"},
    )
    assert response.status_code == 302 and response.url == "/"


@pytest.mark.django_db
def test_it_refuses_to_publish_demo_passwords_without_debug():
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()


# --- the README names every demo login (issue 15, item 23) ------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| `([^`]+@[^`]+)` \| (.+) \|$")


def readme_logins() -> dict[str, str]:
    """The README's table of demo logins: e-mail → what it says about the account."""
    return {m[1]: m[2] for line in README.read_text().splitlines() if (m := ROW.match(line))}


def described(user) -> str:
    """How the README describes an account the seed created."""
    if user.is_superuser:
        return "superuser (Django admin at `/admin/`)"
    parts = []
    for role in Role:
        held = [m for m in user.memberships.all() if m.role == role]
        if not held:
            continue
        schools = [m.school for m in held if m.school_id]
        names = [s.name for s in sorted(schools, key=lambda s: (s.lowest_grade, s.name))]
        label = role.label.lower()
        parts.append(f"{label}, {' and '.join(names)}" if names else f"{label} (whole district)")
    return "; ".join(parts)


@pytest.mark.django_db
def test_the_readme_lists_every_demo_login_the_seed_creates():
    call_command("seed_demo", allow_production=True)
    users = User.objects.prefetch_related("memberships__school")
    expected = {user.email: described(user) for user in users}
    assert readme_logins() == expected


@pytest.mark.django_db
def test_the_planner_knows_the_demos_sizes_once_it_is_seeded():
    """Pages opened right after the seed (every browser test) are planned on the demo's
    real sizes: stale statistics made a home page's count of devices not returned take 8 s
    on a loaded machine, and browser tests time out on such a page."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the statistics checked are PostgreSQL's pg_class.reltuples")
    call_command("seed_demo", allow_production=True)
    tables = ("equity_assignment", "equity_device", "equity_student", "schools_staffmember")
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"select count(*) from {table}")  # noqa: S608 - fixed names
            rows = cursor.fetchone()[0]
            cursor.execute("select reltuples from pg_class where relname = %s", [table])
            estimated = cursor.fetchone()[0]
            assert rows > 100, table
            assert abs(estimated - rows) <= rows * 0.1, (table, estimated, rows)
