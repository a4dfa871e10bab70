"""Scale data, part 1: the district, its schools, the logins and the staff rosters.

``manage.py seed_scale`` (schools/management/commands/seed_scale.py) builds a district of
any size for the benchmarks (docs/scale.md). This module holds what every app's builder
shares (``ScaleContext``: the schools as plain values, the random generators, the timed
writer) and builds the schools app's own rows. Each other app's ``scale.py`` has a
``build(ctx)`` that adds its rows, called in the order the command lists.

Big tables are written with ``schools.bulk.copy_rows`` (PostgreSQL COPY), small ones with
``bulk_create``; nothing announces ``evidence_changed``, so nothing is queued while seeding
and the readiness run at the end sees the finished district. Rows are generated school by school
in chunks, so memory holds one chunk of tuples, never millions of model instances.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from .bulk import copy_rows, reserve_ids
from .demo import FIRST, LAST
from .models import District, Grade, Membership, Position, Role, School, StaffMember
from .scoping import unscoped

DEFAULT_NAME = "Scale District"
DEFAULT_PASSWORD = "pillarwise-scale"  # noqa: S105 - a benchmark district's published login
DOMAIN = "scale.test"
STUDENTS_PER_SCHOOL = 555  # about the US average; 1,000,000 students -> 1,802 schools
LOGIN_SCHOOLS = 50  # principal, coach and tech logins for the first schools by code
# A small district still has this many schools (at MIN_STUDENTS_PER_SCHOOL or more each), so
# that the benchmark's small size compares lists of schools, scopes and selects against the
# large one with the same shape rather than against a district of two schools (issue 17).
MIN_SCHOOLS = 50
MIN_STUDENTS_PER_SCHOOL = 20
STUDENTS_PER_STAFF = 14
# Schools written per chunk by the big builders: one COPY per table per chunk.
CHUNK_STUDENTS = 40_000

ELEMENTARY, MIDDLE, HIGH, K12, SECONDARY = "elementary", "middle", "high", "k12", "secondary"
SPANS = {
    ELEMENTARY: (Grade.PK, Grade.G5),
    MIDDLE: (Grade.G6, Grade.G8),
    HIGH: (Grade.G9, Grade.G12),
    K12: (Grade.PK, Grade.G12),
    SECONDARY: (Grade.G6, Grade.G12),
}
KIND_NAMES = {
    ELEMENTARY: "Elementary School",
    MIDDLE: "Middle School",
    HIGH: "High School",
    K12: "K-12 Academy",
    SECONDARY: "Secondary School",
}
# Pre-kindergarten classes are about half as full as the other grades.
GRADE_WEIGHT = {Grade.PK: 0.5}
PLACE_FIRST = [
    "Maple",
    "Cedar",
    "Oak",
    "Willow",
    "Birch",
    "Aspen",
    "Pine",
    "Elm",
    "Hawthorn",
    "Juniper",
    "Magnolia",
    "Sycamore",
    "Chestnut",
    "Laurel",
    "Alder",
    "Cypress",
    "Hickory",
    "Linden",
    "Poplar",
    "Redwood",
    "Spruce",
    "Walnut",
    "Beacon",
    "Harbor",
    "Meadow",
    "Prairie",
    "Summit",
    "Valley",
    "River",
    "Lake",
    "Canyon",
    "Granite",
    "Sunrise",
    "Liberty",
    "Union",
    "Franklin",
    "Lincoln",
    "Roosevelt",
    "Douglass",
    "Tubman",
]
PLACE_SECOND = [
    "Grove",
    "Ridge",
    "Park",
    "Hill",
    "Creek",
    "Heights",
    "View",
    "Point",
    "Springs",
    "Hollow",
    "Crossing",
    "Fields",
    "Glen",
    "Bend",
    "Landing",
    "Terrace",
    "Brook",
    "Commons",
    "Woods",
    "Shore",
    "Falls",
    "Gardens",
    "Plaza",
    "Station",
]
# Roster make-up (share of all staff); teachers are the rest, about 72%.
STAFF_MIX = [
    (Position.SPECIAL_EDUCATION, 0.07),
    (Position.PARAPROFESSIONAL, 0.08),
    (Position.SUPPORT, 0.06),
    (Position.COUNSELOR, 0.02),
    (Position.ADMINISTRATOR, 0.02),
    (Position.LIBRARIAN, 0.01),
    (Position.INSTRUCTIONAL_COACH, 0.01),
]
TEACHING = frozenset({Position.TEACHER, Position.SPECIAL_EDUCATION, Position.LIBRARIAN})


def default_school_count(students: int) -> int:
    """About one school per 555 students, but at least 50 schools of 20 students or more
    (1,000 students: 50 schools), and never fewer than 2."""
    floor = min(MIN_SCHOOLS, students // MIN_STUDENTS_PER_SCHOOL)
    return max(2, floor, round(students / STUDENTS_PER_SCHOOL))


@dataclass
class ScaleSchool:
    """A seeded school as plain values (what the builders need, no model instance)."""

    pk: int
    code: str
    kind: str
    low: int
    high: int
    grades: dict[int, int]  # grade -> students
    econ_pct: Decimal
    # Filled by the builders, read by later ones.
    staff: list[tuple[int, str, bool]] = field(default_factory=list)  # (id, position, active)
    principal_id: int | None = None
    coach_id: int | None = None
    tech_id: int | None = None

    @property
    def enrollment(self) -> int:
        return sum(self.grades.values())

    def band(self, low: int, high: int) -> int:
        return sum(n for g, n in self.grades.items() if low <= g <= high)

    @property
    def teaching_staff(self) -> list[int]:
        """Active teaching staff ids (whose PD hours count toward the target)."""
        return [pk for pk, position, active in self.staff if active and position in TEACHING]


@dataclass
class TableStats:
    rows: int = 0
    seconds: float = 0.0


class ScaleContext:
    """What the builders share: the district, its schools, random generators, the writer."""

    def __init__(self, *, district: District, seed: int, out: Callable[[str], None]):
        self.district = district
        self.seed = seed
        self.out = out
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.schools: list[ScaleSchool] = []
        self.admin_id: int | None = None
        self.login_domain = DOMAIN
        self.stats: dict[str, TableStats] = {}
        self._reported: set[str] = set()
        self.shared: dict[str, object] = {}  # what one app's builder leaves for a later one

    # --- randomness and time -----------------------------------------------------------

    def rng(self, *parts: object) -> random.Random:
        """A generator of its own for each app (and school): the same data for the same seed,
        whatever else changes."""
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def stamp(self, moment: datetime) -> str:
        """A datetime as both backends store it: UTC, no offset, a space before the time."""
        if timezone.is_aware(moment):
            moment = timezone.make_naive(moment, UTC)
        return moment.isoformat(" ", "seconds")

    @staticmethod
    def at(day: date, hour: int = 14, minute: int = 0) -> str:
        """A stored UTC stamp on ``day`` (hours 12-21 UTC are a US school day); no time-zone
        arithmetic, which would cost more than the rest of a device event."""
        return f"{day.isoformat()} {hour:02d}:{minute:02d}:00"

    @property
    def school_year(self) -> int:
        """The year the current school year started (July onwards is the new year)."""
        return self.today.year if self.today.month >= 7 else self.today.year - 1

    def weekday_back(self, days: int) -> date:
        day = self.today - timedelta(days=days)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day

    # --- writing -----------------------------------------------------------------------

    def copy(
        self, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> int:
        """``copy_rows`` with its rows and time counted for the table's progress line."""
        started = time.perf_counter()
        written = copy_rows(model, fields, rows)
        stats = self.stats.setdefault(model._meta.db_table, TableStats())
        stats.rows += written
        stats.seconds += time.perf_counter() - started
        return written

    def bulk(self, model: type[models.Model], objects: list[models.Model]) -> list:
        """``bulk_create`` for the small tables, counted like ``copy``."""
        started = time.perf_counter()
        created = unscoped(model).bulk_create(objects, batch_size=2000)
        stats = self.stats.setdefault(model._meta.db_table, TableStats())
        stats.rows += len(created)
        stats.seconds += time.perf_counter() - started
        return created

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        return reserve_ids(model, count)

    def chunks(self) -> Iterable[list[ScaleSchool]]:
        """The schools in groups of about ``CHUNK_STUDENTS`` students."""
        chunk: list[ScaleSchool] = []
        size = 0
        for school in self.schools:
            chunk.append(school)
            size += school.enrollment
            if size >= CHUNK_STUDENTS:
                yield chunk
                chunk, size = [], 0
        if chunk:
            yield chunk

    def progress(
        self, label: str, done: int, total: int, started: float, *tables: type[models.Model]
    ) -> None:
        """A line per chunk: schools done, seconds so far and the rows of the main tables."""
        counts = ", ".join(
            f"{self.stats[m._meta.db_table].rows:,} {m._meta.verbose_name_plural}"
            for m in tables
            if m._meta.db_table in self.stats
        )
        seconds = time.perf_counter() - started
        self.out(
            f"  {label}: {done:,}/{total:,} schools, {seconds:.1f} s"
            + (f"; {counts}" if counts else "")
        )

    @contextmanager
    def fast_load(self, *models_: type[models.Model]) -> Iterator[None]:
        """Load big tables the way PostgreSQL loads fastest: drop their secondary indexes and
        outgoing foreign keys, COPY, then build each index once and check each foreign key
        with one join (instead of one index insertion and one trigger per row and index).

        Transactional DDL in the builder's transaction: a failure restores everything. The
        definitions are read back from the catalog, so the schema ends exactly as migrated.
        Primary keys and unique constraints stay (COPY checks them as it goes); partial
        unique indexes (one open assignment per device) are rebuilt, which checks them too.
        """
        if connection.vendor != "postgresql":
            yield
            return
        tables = [m._meta.db_table for m in models_]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # Rows written earlier in this transaction have their deferred checks queued;
            # ALTER TABLE refuses a table with pending checks, so run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
                [tables],
            )
            keys = cursor.fetchall()
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [tables],
            )
            indexes = cursor.fetchall()
            for table, name, _definition in keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in keys:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )
        self.out(
            f"  {len(indexes)} indexes and {len(keys)} foreign keys of {len(tables)} tables "
            f"built and checked in {time.perf_counter() - started:.1f} s"
        )

    def analyze(self, *models_: type[models.Model]) -> None:
        """Tell PostgreSQL's planner the new sizes of the tables just filled."""
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in models_:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def report_new_tables(self) -> None:
        """One line per table written since the last report: rows, seconds, rows per second."""
        for table, stats in self.stats.items():
            if table in self._reported:
                continue
            self._reported.add(table)
            rate = stats.rows / stats.seconds if stats.seconds else 0
            self.out(
                f"  {table:<38} {stats.rows:>11,} rows {stats.seconds:>8.1f} s ({rate:,.0f} rows/s)"
            )


# --- the schools app's own rows ------------------------------------------------------------


def _kinds(count: int) -> list[str]:
    """School kinds in code order: about 60% elementary, 20% middle and 20% high schools,
    spread evenly so that any run of codes (the first 50 logins) has all three."""
    if count == 1:
        return [K12]
    if count == 2:
        return [ELEMENTARY, SECONDARY]
    high = max(1, round(count * 0.2))
    middle = max(1, round(count * 0.2))
    numbers = {ELEMENTARY: count - high - middle, MIDDLE: middle, HIGH: high}
    order = [ELEMENTARY, MIDDLE, HIGH]
    slots = [
        ((j + 0.5) / n, order.index(kind), kind) for kind, n in numbers.items() for j in range(n)
    ]
    return [kind for *_key, kind in sorted(slots)]


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` in whole numbers (largest remainder)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def plan_schools(students: int, count: int, rng: random.Random) -> list[dict]:
    """Kinds, grade spans and students per grade of every school, adding up to ``students``.

    Each grade's students (PK half as many) are shared among the schools that serve it, in
    proportion to a size factor of each school (0.6–1.5), so schools differ in size while a
    school's bands stay consistent with its grades.
    """
    kinds = _kinds(count)
    size = [rng.uniform(0.6, 1.5) for _ in kinds]
    all_grades = list(range(Grade.PK, Grade.G12 + 1))
    per_grade = _split(students, [GRADE_WEIGHT.get(g, 1.0) for g in all_grades])
    grades: list[dict[int, int]] = [{} for _ in kinds]
    for grade, n in zip(all_grades, per_grade, strict=True):
        serving = [i for i, k in enumerate(kinds) if SPANS[k][0] <= grade <= SPANS[k][1]]
        for i, part in zip(serving, _split(n, [size[i] for i in serving]), strict=True):
            grades[i][grade] = part
    used: set[str] = set()
    plans = []
    for i, kind in enumerate(kinds):
        place = f"{rng.choice(PLACE_FIRST)} {rng.choice(PLACE_SECOND)}"
        name = f"{place} {KIND_NAMES[kind]}"
        n = 2
        while name in used:
            name, n = f"{place} {KIND_NAMES[kind]} {n}", n + 1
        used.add(name)
        econ = Decimal(str(round(min(95.0, max(5.0, rng.gauss(52, 20))), 1)))
        plans.append(
            {"code": f"S{i + 1:04d}", "name": name, "kind": kind, "grades": grades[i], "econ": econ}
        )
    return plans


def _band_fields(grades: dict[int, int]) -> dict[str, int]:
    from .models import GRADE_BANDS

    return {
        name: sum(n for g, n in grades.items() if low <= g <= high)
        for name, _label, low, high in GRADE_BANDS
    }


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "district"
    slug, n = base, 2
    while District.unscoped.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def build_district(
    ctx_factory: Callable[[District], ScaleContext],
    *,
    name: str,
    students: int,
    schools: int,
    password: str,
) -> ScaleContext:
    """The district, its schools, the logins and memberships; returns the builders' context."""
    district = District(name=name, slug=_unique_slug(name))
    District.unscoped.bulk_create([district])
    ctx = ctx_factory(district)
    rng = ctx.rng("schools")
    plans = plan_schools(students, schools, rng)
    rows = [
        School(
            district=district,
            name=p["name"],
            code=p["code"],
            lowest_grade=SPANS[p["kind"]][0],
            highest_grade=SPANS[p["kind"]][1],
            economically_disadvantaged_pct=p["econ"],
            **_band_fields(p["grades"]),
        )
        for p in plans
    ]
    created = ctx.bulk(School, rows)
    ctx.schools = [
        ScaleSchool(
            pk=s.pk,
            code=p["code"],
            kind=p["kind"],
            low=SPANS[p["kind"]][0],
            high=SPANS[p["kind"]][1],
            grades=p["grades"],
            econ_pct=p["econ"],
        )
        for s, p in zip(created, plans, strict=True)
    ]
    _logins(ctx, rng, password)
    _staff(ctx)
    ctx.analyze(School, StaffMember)
    return ctx


def login_domain(slug: str) -> str:
    """``scale.test``; a second scale district in the same database (its logins cannot take
    the same addresses) gets ``<its slug>.scale.test``."""
    taken = get_user_model().objects.filter(email=f"admin@{DOMAIN}").exists()
    return f"{slug}.{DOMAIN}" if taken else DOMAIN


def login_emails(schools: int, domain: str = DOMAIN) -> list[tuple[str, str]]:
    """(e-mail, role) of every login seed_scale creates, in creation order."""
    emails = [(f"admin@{domain}", Role.DISTRICT_ADMIN)]
    for i in range(min(schools, LOGIN_SCHOOLS)):
        code = f"s{i + 1:04d}"
        emails += [
            (f"principal.{code}@{domain}", Role.PRINCIPAL),
            (f"coach.{code}@{domain}", Role.COACH),
            (f"tech.{code}@{domain}", Role.TECH_STAFF),
        ]
    return emails


def _logins(ctx: ScaleContext, rng: random.Random, password: str) -> None:
    """One password hash, computed once, for every login (hashing is slow on purpose)."""
    User = get_user_model()
    hashed = make_password(password)
    ctx.login_domain = login_domain(ctx.district.slug)
    emails = login_emails(len(ctx.schools), ctx.login_domain)
    users = ctx.bulk(
        User,
        [
            User(
                email=email,
                password=hashed,
                full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                date_joined=ctx.now,
            )
            for email, _role in emails
        ],
    )
    memberships = []
    by_code = {s.code.lower(): s for s in ctx.schools}
    for user, (email, role) in zip(users, emails, strict=True):
        if role == Role.DISTRICT_ADMIN:
            ctx.admin_id = user.pk
            memberships.append(Membership(user=user, district=ctx.district, role=role))
            continue
        school = by_code[email.split("@")[0].split(".")[1]]
        setattr(
            school,
            {Role.PRINCIPAL: "principal_id", Role.COACH: "coach_id"}.get(role, "tech_id"),
            user.pk,
        )
        memberships.append(
            Membership(user=user, district=ctx.district, school_id=school.pk, role=role)
        )
    ctx.bulk(Membership, memberships)


def _positions(total: int) -> list[str]:
    positions = []
    for position, share in STAFF_MIX:
        positions += [position] * round(total * share)
    return [Position.TEACHER] * max(1, total - len(positions)) + positions


STAFF_FIELDS = [
    "id",
    "school",
    "full_name",
    "email",
    "position",
    "user",
    "active",
    "created_at",
    "updated_at",
]


def _staff(ctx: ScaleContext) -> None:
    """About one staff member per 14 students: teachers and the people around them."""
    now = ctx.stamp(ctx.now)
    plans = [(s, _positions(max(3, round(s.enrollment / STUDENTS_PER_STAFF)))) for s in ctx.schools]
    ids = iter(ctx.ids(StaffMember, sum(len(p) for _s, p in plans)))

    def rows():
        for school, positions in plans:
            rng = ctx.rng("staff", school.code)
            domain = f"{school.code.lower()}.{DOMAIN}"
            for i, position in enumerate(positions):
                pk = next(ids)
                first, last = rng.choice(FIRST), rng.choice(LAST)
                active = rng.random() >= 0.03  # a few have left during the year
                school.staff.append((pk, position, active))
                yield (
                    pk,
                    school.pk,
                    f"{first} {last}",
                    f"{first}.{last}.{i + 1}@{domain}".lower(),
                    position,
                    None,
                    active,
                    now,
                    now,
                )

    ctx.copy(StaffMember, STAFF_FIELDS, rows())
