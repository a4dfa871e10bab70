"""The demo district that `make run` serves. Later apps add their own demo data here."""

import importlib
import importlib.util
import random
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from .models import District, Grade, Membership, Position, Role, School, StaffMember
from .scoping import outside_scope
from .signals import evidence_changed

DEMO_PASSWORD = "pillarwise-demo"  # noqa: S105 - published on purpose, DEBUG only
DOMAIN = "riverbend.example.org"

SCHOOLS = [
    # code, name, grades, enrollment by band (PK-2, 3-5, 6-8, 9-12), % econ. disadvantaged
    ("MGE", "Maple Grove Elementary", (Grade.PK, Grade.G5), (236, 188, 0, 0), Decimal("71.5")),
    ("CRM", "Cedar Ridge Middle School", (Grade.G6, Grade.G8), (0, 0, 782, 0), Decimal("48.2")),
    ("LVH", "Lakeview High School", (Grade.G9, Grade.G12), (0, 0, 0, 1647), Decimal("36.9")),
]
# The feeder pattern: students leaving a school's top grade go on to the next school.
FEEDS_INTO = {"MGE": "CRM", "CRM": "LVH"}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    full_name: str
    role: str | None
    schools: tuple[str, ...]  # codes; empty = whole district
    superuser: bool = False


LOGINS = [
    DemoLogin(f"admin@{DOMAIN}", "Dana Whitfield", Role.DISTRICT_ADMIN, ()),
    DemoLogin(f"principal@{DOMAIN}", "Marisol Ortega", Role.PRINCIPAL, ("MGE",)),
    DemoLogin(f"principal.cedar@{DOMAIN}", "Terrence Boyd", Role.PRINCIPAL, ("CRM",)),
    DemoLogin(f"principal.lakeview@{DOMAIN}", "Priya Raman", Role.PRINCIPAL, ("LVH",)),
    DemoLogin(f"coach@{DOMAIN}", "Jordan Ellis", Role.COACH, ("MGE", "CRM")),
    DemoLogin(f"tech@{DOMAIN}", "Sam Okafor", Role.TECH_STAFF, ("CRM", "LVH")),
    DemoLogin(f"root@{DOMAIN}", "Site Superuser", None, (), superuser=True),
]

FIRST = [
    "Alex",
    "Amara",
    "Ben",
    "Carmen",
    "Chloe",
    "Daniel",
    "Elena",
    "Emeka",
    "Farah",
    "Gabriel",
    "Grace",
    "Hana",
    "Isaac",
    "Jada",
    "Jamal",
    "Julia",
    "Kai",
    "Keisha",
    "Leo",
    "Lucia",
    "Malik",
    "Maya",
    "Mei",
    "Nadia",
    "Noah",
    "Olivia",
    "Omar",
    "Paulo",
    "Quinn",
    "Rosa",
    "Ruth",
    "Samuel",
    "Sofia",
    "Tariq",
    "Tessa",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
]
LAST = [
    "Adams",
    "Alvarez",
    "Baker",
    "Chen",
    "Castillo",
    "Davis",
    "Diallo",
    "Evans",
    "Fischer",
    "Garcia",
    "Green",
    "Hughes",
    "Ibrahim",
    "Jackson",
    "Kim",
    "Kowalski",
    "Lopez",
    "Martin",
    "Mensah",
    "Nguyen",
    "Novak",
    "Okoro",
    "Patel",
    "Quintero",
    "Reyes",
    "Robinson",
    "Santos",
    "Schmidt",
    "Singh",
    "Tanaka",
    "Thompson",
    "Usman",
    "Vargas",
    "Walker",
    "Williams",
    "Yamamoto",
    "Young",
    "Zhang",
]
# Roster make-up of a school: about one teacher per 14 students, plus the people around them.
SUPPORT_MIX = [
    (Position.SPECIAL_EDUCATION, 0.10),
    (Position.PARAPROFESSIONAL, 0.12),
    (Position.SUPPORT, 0.08),
    (Position.COUNSELOR, 0.03),
    (Position.ADMINISTRATOR, 0.03),
    (Position.LIBRARIAN, 0.015),
    (Position.INSTRUCTIONAL_COACH, 0.015),
]


def _roster(school: School) -> list[StaffMember]:
    rng = random.Random(school.code)  # same names on every run
    teachers = max(1, round(school.enrollment / 14))
    positions = [Position.TEACHER] * teachers
    for position, share in SUPPORT_MIX:
        positions += [position] * max(1, round(teachers * share))
    staff, used = [], set()
    for position in positions:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}".lower()
        n = 2
        while email in used:
            email, n = f"{first}.{last}{n}".lower(), n + 1
        used.add(email)
        staff.append(
            StaffMember(
                school=school,
                full_name=f"{first} {last}",
                email=f"{email}@{DOMAIN}",
                position=position,
            )
        )
    return staff


@transaction.atomic
def seed_demo() -> list[DemoLogin]:
    """Create or refresh the demo district; running it again changes nothing."""
    User = get_user_model()
    with outside_scope():
        district, _ = District.objects.get_or_create(
            slug="riverbend", defaults={"name": "Riverbend Unified School District"}
        )
        schools = {}
        for code, name, (low, high), bands, disadvantaged in SCHOOLS:
            school, _ = School.objects.update_or_create(
                district=district,
                code=code,
                defaults={
                    "name": name,
                    "lowest_grade": low,
                    "highest_grade": high,
                    "enrollment_pk_2": bands[0],
                    "enrollment_3_5": bands[1],
                    "enrollment_6_8": bands[2],
                    "enrollment_9_12": bands[3],
                    "economically_disadvantaged_pct": disadvantaged,
                },
            )
            schools[code] = school
            existing = set(
                StaffMember.objects.filter(school=school).values_list("email", flat=True)
            )
            StaffMember.objects.bulk_create(s for s in _roster(school) if s.email not in existing)

        for code, next_code in FEEDS_INTO.items():
            School.objects.filter(pk=schools[code].pk).update(feeds_into=schools[next_code])

        for login in LOGINS:
            user = User.objects.filter(email=login.email).first()
            if user is None:
                user = User.objects.create_user(
                    email=login.email,
                    password=DEMO_PASSWORD,
                    full_name=login.full_name,
                    is_staff=login.superuser,
                    is_superuser=login.superuser,
                )
            if login.role is None:
                continue
            for school in [schools[c] for c in login.schools] or [None]:
                Membership.objects.get_or_create(
                    user=user, district=district, school=school, role=login.role
                )
        _seed_other_apps(district, schools)
        # Written with bulk_create and update(): said once for the district (readiness has
        # computed the demo's history itself; a refresh is recomputed after the commit).
        evidence_changed.send(sender=District, district_ids=[district.pk])
    _analyze()
    return LOGINS


def _analyze() -> None:
    """Give the planner the demo's sizes now rather than at autovacuum's next pass. Until
    then PostgreSQL plans from whatever statistics the tables had (empty, or another
    district's): a home page's three-table count of devices not returned took 8 s on the
    demo's 2,300 assignments, looping over each table for every row of another."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _seed_other_apps(district: District, schools: dict[str, School]) -> None:
    """Let each app add its own demo data (an app's ``demo.seed(district, schools)``).

    The schools app is imported by every app and imports none of them; this hook keeps it so.
    """
    for config in apps.get_app_configs():
        if config.name == "schools" or not importlib.util.find_spec(f"{config.name}.demo"):
            continue
        module = importlib.import_module(f"{config.name}.demo")
        if hasattr(module, "seed"):
            module.seed(district, schools)
