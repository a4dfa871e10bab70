"""The student importer: a roster of local IDs, schools, grades and flags; never names."""

from __future__ import annotations

from typing import NamedTuple

from django.utils import timezone

from equity.inventory import fastwrite
from equity.inventory.fastwrite import STUDENT_COPY_FIELDS, text
from equity.inventory.models import HomeInternet, Student
from schools.bulk import reserve_ids

from .importer import Importer, ImportResult, RowCheck, Schools, _FileChanged
from .readers import (
    HOME_INTERNET,
    PILLARWISE,
    Column,
    Invalid,
    grade_label,
    parse_bool,
    parse_choice,
    parse_grade,
    quoted,
)

STUDENT_COLUMNS = (
    Column("local_id", ("studentid", "localid", "localstudentid", "studentnumber"), "student_id"),
    Column("school", ("school", "schoolcode"), "school"),
    Column("grade", ("grade", "gradelevel"), "grade"),
    Column("needs_touch", ("needstouch", "needstouchscreen"), "needs_touch"),
    Column("home_internet", ("homeinternet", "internetathome"), "home_internet"),
)


class StudentRow(NamedTuple):
    line: int
    local_id: str
    school_id: int | None
    grade: int
    needs_touch: bool | None
    home_internet: str | None


class ExistingStudent(NamedTuple):
    pk: int
    school_id: int
    grade: int
    needs_touch: bool
    home_internet: str
    active: bool


class StudentImporter(Importer):
    kind = "students"
    model = Student
    columns = STUDENT_COLUMNS

    def choose_columns(self, header):
        self.result.format = PILLARWISE

    def required(self):
        needed = ["local_id", "grade"]
        if self.default_school_id is None:
            needed.append("school")
        return needed

    def start(self):
        self.schools = Schools(self.district, self.allowed_ids)
        self.ids_seen: dict[str, int] = {}
        self.index_cells()

    def parse(self, line, cells):
        value = self.row_values(cells)
        bad = RowCheck(self, line)

        local_id = value.get("local_id", "")
        if not local_id:
            bad("local_id", "is blank; every student needs their local student ID")
        elif len(local_id) > 40:
            bad("local_id", f"{quoted(local_id)} is longer than 40 characters")
        school_id = None
        if raw := value.get("school"):
            try:
                school_id = self.schools.explicit(raw)
            except Invalid as exc:
                bad("school", str(exc))
        grade = None
        raw = value.get("grade", "")
        if not raw:
            bad("grade", "is blank; give PK, K or 1–12")
        else:
            try:
                grade = parse_grade(raw)
            except Invalid as exc:
                bad("grade", str(exc))
        needs_touch = home_internet = None
        if raw := value.get("needs_touch"):
            try:
                needs_touch = parse_bool(raw)
            except Invalid as exc:
                bad("needs_touch", str(exc))
        if raw := value.get("home_internet"):
            try:
                home_internet = parse_choice(raw, HOME_INTERNET, "home internet answer")
            except Invalid as exc:
                bad("home_internet", str(exc))
        if bad.ok and not self.writing:
            earlier = self.ids_seen.setdefault(local_id, line)
            if earlier != line:
                bad("local_id", f"{quoted(local_id)} is also on row {earlier}")
        if not bad.ok:
            return None
        return StudentRow(line, local_id, school_id, grade, needs_touch, home_internet)

    def _existing(self, rows) -> dict[str, ExistingStudent]:
        found = Student.unscoped.filter(
            district=self.district, local_id__in=[r.local_id for r in rows]
        ).values_list("local_id", *ExistingStudent._fields)
        return {local_id: ExistingStudent(*rest) for local_id, *rest in found}

    def _target(self, row: StudentRow, ex: ExistingStudent | None) -> ExistingStudent:
        """The student as the row leaves them (blank cells keep what was there)."""
        if ex is None:
            return ExistingStudent(
                0,
                row.school_id or self.default_school_id,
                row.grade,
                bool(row.needs_touch),
                row.home_internet or HomeInternet.UNKNOWN,
                True,
            )
        return ExistingStudent(
            ex.pk,
            row.school_id or ex.school_id,
            row.grade,
            ex.needs_touch if row.needs_touch is None else row.needs_touch,
            row.home_internet or ex.home_internet,
            True,
        )

    def check(self, rows):
        if not rows:
            return
        existing = self._existing(rows)
        for row in rows:
            ex = existing.get(row.local_id)
            if ex is not None and not self.schools.may_use(ex.school_id):
                self.error(
                    row.line,
                    self.col("local_id"),
                    f"{quoted(row.local_id)} is already used in the district",
                )
                continue
            if ex is None and row.school_id is None and self.default_school_id is None:
                self.error(
                    row.line,
                    self.col("school"),
                    "is blank; a new student needs a school (or choose one with --school CODE)",
                )
                continue
            target = self._target(row, ex)
            low, high = self.schools.spans[target.school_id]
            if not low <= target.grade <= high:
                name = self.schools.names[target.school_id]
                span = f"{grade_label(low)}–{grade_label(high)}"
                self.error(
                    row.line,
                    self.col("grade"),
                    f"grade {grade_label(target.grade)} is not taught at {name} ({span})",
                )
                continue
            if ex is None:
                self.result.created += 1
            elif target != ex:
                self.result.updated += 1
            else:
                self.result.unchanged += 1

    def before_writing(self):
        self.now = timezone.now()
        self.stamp = self.now.isoformat()
        self.updates = fastwrite.ChangeTable(*STUDENT_CHANGES)
        self.updates.create()

    def write(self, rows):
        """New students through COPY; changed ones to the temp table (one UPDATE at the end)."""
        if any(row is None for row in rows):
            raise _FileChanged
        existing = self._existing(rows)
        new = [row for row in rows if row.local_id not in existing]
        ids = iter(reserve_ids(Student, len(new)))
        created, changed = [], []
        district_id, now = self.district.pk, self.now
        for row in rows:
            ex = existing.get(row.local_id)
            target = self._target(row, ex)
            if ex is None:
                created.append(
                    (
                        next(ids),
                        district_id,
                        target.school_id,
                        row.local_id,
                        target.grade,
                        target.needs_touch,
                        target.home_internet,
                        "",
                        False,
                        True,
                        None,
                        "",
                        now,
                        now,
                    )
                )
            elif target != ex:
                changed.append(target._replace(pk=ex.pk)[:5])
        stamp = self.stamp
        fastwrite.write_rows(
            Student,
            STUDENT_COPY_FIELDS,
            created,
            lambda r: (
                f"{r[0]}\t{r[1]}\t{r[2]}\t{text(r[3])}\t{r[4]}\t{'t' if r[5] else 'f'}"
                f"\t{r[6]}\t\tf\tt\t\\N\t\t{stamp}\t{stamp}\n"
            ),
        )
        self.updates.add(changed)

    def after_writing(self):
        self.updates.apply(self.now, active=True)


STUDENT_CHANGES = (
    Student,
    (
        ("id", "bigint PRIMARY KEY"),
        ("school_id", "bigint NOT NULL"),
        ("grade", "smallint NOT NULL"),
        ("needs_touch", "boolean NOT NULL"),
        ("home_internet", "varchar(10) NOT NULL"),
    ),
    lambda r: f"{r[0]}\t{r[1]}\t{r[2]}\t{'t' if r[3] else 'f'}\t{r[4]}\n",
)


def import_students(source_or_binary, **kwargs) -> ImportResult:
    """Import a student roster (local ID, school, grade, flags; never names)."""
    return StudentImporter(**kwargs).run(source_or_binary)
