"""What a reader hands the sync: plain records with nothing a person could be named by.

Each reader (``oneroster.py``, ``edfi.py``) turns the source's records into these as it
reads them and lets the rest go: a student's given and family names, birth date, e-mail,
phone, address and parents never leave the reader's loop. Staff keep a name, e-mail and
role (the staff roster holds them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from schools.models import Grade, Position


class SchoolRecord(NamedTuple):
    key: str  # sourcedId / schoolId: how students and staff name the school
    identifier: str  # the district's code, when the source has one
    name: str


class StudentRecord(NamedTuple):
    ref: str  # "users.csv line 12" / "studentSchoolAssociations id 3f…"
    local_id: str
    school_key: str
    grade: int | None
    active: bool
    leave_reason: str  # when not active
    entry: str  # ISO date the enrolment began ("" unknown), the latest wins
    needs_touch: bool | None


class EquityRecord(NamedTuple):
    """Ed-Fi's StudentEducationOrganizationAssociation, reduced to the equity indicators."""

    ref: str
    local_id: str
    home_internet: str | None  # yes / no / None (not said)
    access_type: str
    performance: str
    barrier: str
    device_access: str
    device_provider: str
    needs_touch: bool | None


class StaffRecord(NamedTuple):
    ref: str
    key: str
    school_key: str
    full_name: str
    email: str
    position: str
    active: bool


class RosterProblem(Exception):
    """A whole source cannot be read (a missing file, a server that keeps failing): the
    run stops and applies nothing."""


Report = Callable[[str, str], None]  # (where, message)

ONEROSTER_GRADES = {
    "it": Grade.PK,
    "pr": Grade.PK,
    "pk": Grade.PK,
    "ps": Grade.PK,
    "tk": Grade.K,
    "kg": Grade.K,
    "k": Grade.K,
    **{f"{n:02d}": Grade(n) for n in range(1, 13)},
    **{str(n): Grade(n) for n in range(1, 13)},
}

EDFI_GRADES = {
    "infant/toddler": Grade.PK,
    "preschool/prekindergarten": Grade.PK,
    "early education": Grade.PK,
    "transitional kindergarten": Grade.K,
    "kindergarten": Grade.K,
    **{
        word: Grade(n)
        for n, word in enumerate(
            (
                "first grade",
                "second grade",
                "third grade",
                "fourth grade",
                "fifth grade",
                "sixth grade",
                "seventh grade",
                "eighth grade",
                "ninth grade",
                "tenth grade",
                "eleventh grade",
                "twelfth grade",
            ),
            start=1,
        )
    },
}


class BadValue(ValueError):
    pass


def oneroster_grade(raw: str) -> int:
    """The grade of a OneRoster ``grades`` value (CEDS codes; the first of a list)."""
    first = raw.split(",")[0].strip().lower()
    if not first:
        raise BadValue("has no grade")
    try:
        return int(ONEROSTER_GRADES[first])
    except KeyError:
        raise BadValue(f'grade "{raw[:20]}" is not PK, KG or 01–12') from None


def descriptor_value(uri: str | None) -> str:
    """An Ed-Fi descriptor's code value: "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"
    → "Ninth grade"."""
    if not uri:
        return ""
    return uri.rsplit("#", 1)[-1].strip()[:60]


def edfi_grade(uri: str | None) -> int:
    value = descriptor_value(uri).lower()
    if not value:
        raise BadValue("has no grade level")
    try:
        return int(EDFI_GRADES[value])
    except KeyError:
        raise BadValue(f'grade level "{value[:30]}" is not PK, K or 1–12') from None


ONEROSTER_POSITIONS = {
    "teacher": Position.TEACHER,
    "administrator": Position.ADMINISTRATOR,
    "districtadministrator": Position.ADMINISTRATOR,
    "sitesadministrator": Position.ADMINISTRATOR,
    "principal": Position.ADMINISTRATOR,
    "aide": Position.PARAPROFESSIONAL,
    "counselor": Position.COUNSELOR,
    "proctor": Position.SUPPORT,
}


def edfi_position(classification: str, title: str) -> str | None:
    """A staff role from Ed-Fi's StaffClassificationDescriptor (or the position title)."""
    words = f"{classification} {title}".lower()
    if re.search(r"principal|administrator|superintendent|director", words):
        return Position.ADMINISTRATOR
    if "librar" in words or "media" in words:
        return Position.LIBRARIAN
    if "special education" in words:
        return Position.SPECIAL_EDUCATION
    if "coach" in words:
        return Position.INSTRUCTIONAL_COACH
    if "counselor" in words:
        return Position.COUNSELOR
    if "paraprofessional" in words or "aide" in words:
        return Position.PARAPROFESSIONAL
    if "teacher" in words:
        return Position.TEACHER
    return None


def touch_from(codes, touch_codes: frozenset[str]) -> bool | None:
    """Whether a student's program codes include one the district maps to "needs a
    touchscreen"; None when the district maps none (the flag is left as it is)."""
    if not touch_codes:
        return None
    return any(str(c).strip().lower() in touch_codes for c in codes if c)
