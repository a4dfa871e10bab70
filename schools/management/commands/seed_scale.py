"""Build a large, realistic district fast, for the benchmarks (docs/scale.md).

``manage.py seed_scale --students N [--schools M] [--district NAME] [--password P]
[--random-seed S] [--no-readiness]``

Schools ``S0001``…, ``max(2, round(N / 555))`` of them by default; logins
``admin@scale.test`` and, for the first 50 schools, ``principal.s0001@scale.test``,
``coach.s0001@scale.test`` and ``tech.s0001@scale.test``. Each app's ``scale.py`` builds its
rows (``build(ctx)``) in the order of ``BUILDERS``; PostgreSQL gets them through COPY. The
readiness district job runs once at the end (``readiness/scale.py``; ``--no-readiness``
skips it). The apps are reached by name, so this app imports none of them.
"""

from __future__ import annotations

import importlib
import time

from django.core.management.base import BaseCommand, CommandError

from schools import scale
from schools.models import District
from schools.scoping import outside_scope

# Order matters: googlesync after equity, whose devices it counts; initiatives before PD
# and stakeholders, which link sessions and surveys to them.
BUILDERS = ["equity", "googlesync", "initiatives", "pd", "stakeholders"]
# Run once the data is written (``--no-readiness`` skips them): the readiness district job.
FINISHERS = ["readiness"]


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Seed a large district (students, devices, staff, PD, surveys, initiatives) fast."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=positive, required=True)
        parser.add_argument(
            "--schools",
            type=positive,
            help="Default: one per 555 students, at least 50 (of 20 or more), at least 2.",
        )
        parser.add_argument("--district", default=scale.DEFAULT_NAME)
        parser.add_argument("--password", default=scale.DEFAULT_PASSWORD)
        parser.add_argument("--random-seed", type=int, default=8)
        parser.add_argument(
            "--no-readiness", action="store_true", help="Skip the readiness run at the end."
        )

    def handle(self, *args, students, schools, district, password, random_seed, **options):
        schools = schools or scale.default_school_count(students)
        if schools > students:
            raise CommandError(f"{schools:,} schools cannot share {students:,} students.")
        with outside_scope():
            if District.unscoped.filter(name=district).exists():
                raise CommandError(
                    f'A district named "{district}" exists already; seed_scale builds a new '
                    "one. Choose another --district name or use a fresh database."
                )
            self._build(students, schools, district, password, random_seed, options)

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _build(self, students, schools, name, password, seed, options) -> None:
        started = time.perf_counter()
        self._say(f"Seeding {name}: {students:,} students in {schools:,} schools (seed {seed})")
        step = time.perf_counter()
        ctx = scale.build_district(
            lambda district: scale.ScaleContext(district=district, seed=seed, out=self._say),
            name=name,
            students=students,
            schools=schools,
            password=password,
        )
        self._step(ctx, "schools", step)
        for app in BUILDERS:
            step = time.perf_counter()
            importlib.import_module(f"{app}.scale").build(ctx)
            self._step(ctx, app, step)
        self._say(f"Data written in {time.perf_counter() - started:.1f} s")
        for app in [] if options["no_readiness"] else FINISHERS:
            importlib.import_module(f"{app}.scale").build(ctx)
        self._say(f"Done in {time.perf_counter() - started:.1f} s. Logins (password {password}):")
        emails = scale.login_emails(schools, ctx.login_domain)
        for email, role in emails[:4]:
            self._say(f"  {email:<36} {role}")
        if len(emails) > 4:
            last = min(schools, scale.LOGIN_SCHOOLS)
            self._say(f"  … and the same for schools s0002 to s{last:04d}")

    def _step(self, ctx, app: str, started: float) -> None:
        self._say(f"{app}: {time.perf_counter() - started:.1f} s")
        ctx.report_new_tables()
