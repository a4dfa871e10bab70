"""The student importer: a roster of local IDs, schools, grades and flags; never names."""

from __future__ import annotations

from typing import NamedTuple

from django.utils import timezone

from equity.inventory.bulk import (
    ExistingStudent,
    StudentsBulkUpsert,
    student_target,
    students_existing,
)
from equity.inventory.models import Student

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
        return students_existing(self.district.pk, [r.local_id for r in rows])

    def _target(self, row: StudentRow, ex: ExistingStudent | None) -> ExistingStudent:
        """The student as the row leaves them (the inventory's rule: blank cells keep)."""
        return student_target(row, ex, self.default_school_id)

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
        self.writer = StudentsBulkUpsert(
            district_id=self.district.pk,
            now=timezone.now(),
            default_school_id=self.default_school_id,
        )
        self.writer.begin()

    def write(self, rows):
        """New students through COPY; changed ones by one UPDATE at the end (the inventory's
        bulk write)."""
        if any(row is None for row in rows):
            raise _FileChanged
        self.writer.write(rows)  # StudentRow has StudentUpsert's names

    def after_writing(self):
        self.writer.finish()


def import_students(source_or_binary, **kwargs) -> ImportResult:
    """Import a student roster (local ID, school, grade, flags; never names)."""
    return StudentImporter(**kwargs).run(source_or_binary)
