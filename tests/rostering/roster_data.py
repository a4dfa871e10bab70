"""One district's roster as its SIS holds it, served as a OneRoster bundle, a OneRoster
REST API and an Ed-Fi ODS/API (the same people in each), with the names, birth dates and
contact details a real SIS sends, so the tests can prove none of it is stored."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field, replace

# Names nobody else in the suite uses, so a scan of the database can look for them.
SEEDED_NAMES = ("Zephyrine", "Quillfeather", "Barnaby", "Oxenbridge", "Marisol", "Thistlewood")


@dataclass(frozen=True)
class Kid:
    sourced_id: str
    number: str  # identifier / studentUniqueId
    given: str
    family: str
    school: str  # school code
    grade: str  # CEDS: KG, 01..12
    birth: str = "2015-04-01"
    email: str = ""
    phone: str = "555-0100"
    status: str = "active"
    programs: tuple[str, ...] = ()
    internet: bool | None = None
    access: str = ""
    barrier: str = ""


@dataclass(frozen=True)
class Adult:
    sourced_id: str
    given: str
    family: str
    email: str
    school: str
    role: str  # teacher / administrator


@dataclass
class Roster:
    schools: list[tuple[str, str, str]] = field(default_factory=list)  # sourcedId, code, name
    kids: list[Kid] = field(default_factory=list)
    adults: list[Adult] = field(default_factory=list)

    def school_sid(self, code: str) -> str:
        return next(sid for sid, c, _n in self.schools if c == code)

    def with_codes(self, codes: dict[str, str]) -> Roster:
        """The same roster with the schools' codes renamed (``{"MAPLE": "255901001"}``)."""
        return Roster(
            [(sid, codes.get(c, c), n) for sid, c, n in self.schools],
            [replace(k, school=codes.get(k.school, k.school)) for k in self.kids],
            [replace(a, school=codes.get(a.school, a.school)) for a in self.adults],
        )

    def without(self, who: str) -> Roster:
        return Roster(self.schools, [k for k in self.kids if k.number != who], self.adults)

    def changed(self, who: str, **changes) -> Roster:
        kids = [replace(k, **changes) if k.number == who else k for k in self.kids]
        return Roster(self.schools, kids, self.adults)


def base_roster() -> Roster:
    return Roster(
        schools=[
            ("org-maple", "MAPLE", "Maple Elementary"),
            ("org-cedar", "CEDAR", "Cedar Middle"),
            ("org-oak", "OAK", "Oak Ridge High"),  # the district has no such school
        ],
        kids=[
            Kid(
                "u-1",
                "1001",
                "Zephyrine",
                "Quillfeather",
                "MAPLE",
                "KG",
                internet=True,
                access="ResidentialBroadband",
                programs=("504",),
            ),
            Kid(
                "u-2",
                "1002",
                "Barnaby",
                "Oxenbridge",
                "MAPLE",
                "02",
                internet=False,
                barrier="Cost",
                email="barnaby.o@kids.example.org",
            ),
            Kid("u-3", "1003", "Marisol", "Thistlewood", "MAPLE", "04", birth="2016-02-29"),
            Kid(
                "u-4", "1004", "Ottoline", "Vexley", "CEDAR", "06", internet=True, access="Cellular"
            ),
            Kid("u-5", "1005", "Ignatius", "Pembrook", "CEDAR", "08"),
            Kid("u-6", "1006", "Wilhelmina", "Dunmore", "OAK", "10"),
        ],  # fmt: skip
        adults=[
            Adult("t-1", "Ada", "Lovelace", "ada@riverbend.example.org", "MAPLE", "teacher"),
            Adult("t-2", "Grace", "Hopper", "grace@riverbend.example.org", "CEDAR", "teacher"),
            Adult("t-3", "Alan", "Turing", "alan@riverbend.example.org", "CEDAR", "administrator"),
        ],
    )


# --- OneRoster CSV ----------------------------------------------------------------------

USERS_HEADER = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
    "sms", "phone", "agentSourcedIds", "grades", "password", "metadata.programCodes",
]  # fmt: skip


def _csv(rows: list[list[str]], bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def bundle(
    roster: Roster,
    *,
    bom: bool = False,
    drop: tuple[str, ...] = (),
    extra_user_columns: dict[str, str] | None = None,
    mode: str = "bulk",
    raw_users: bytes | None = None,
) -> bytes:
    """A OneRoster 1.1 CSV bundle (zip bytes)."""
    files = {
        "manifest.csv": _csv(
            [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.1"],
             ["file.academicSessions", "bulk"], ["file.orgs", "bulk"], ["file.users", mode],
             ["file.enrollments", "bulk"], ["file.courses", "absent"], ["file.classes", "absent"],
             ["source.systemName", "Test SIS"]],
            bom,
        ),
        "orgs.csv": _csv(
            [["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
              "parentSourcedId"]]
            + [[sid, "active", "2026-08-01T00:00:00Z", f"{name}, Campus", "school", code, "d-1"]
               for sid, code, name in roster.schools]
            + [["d-1", "active", "", "Riverbend, Unified", "district", "RB", ""]],
            bom,
        ),
        "academicSessions.csv": _csv(
            [["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate",
              "parentSourcedId", "schoolYear"],
             ["y-2027", "active", "", "2026-2027", "schoolYear", "2026-08-15", "2027-06-10", "",
              "2027"]],
            bom,
        ),
        "enrollments.csv": _csv(
            [["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
              "userSourcedId", "role", "primary", "beginDate", "endDate"]]
            + [[f"e-{k.sourced_id}", "active", "", "c-1", roster.school_sid(k.school),
                k.sourced_id, "student", "false", "", ""] for k in roster.kids],
            bom,
        ),
    }  # fmt: skip
    extra = extra_user_columns or {}
    users = [USERS_HEADER + list(extra)]
    for k in roster.kids:
        users.append(
            [k.sourced_id, k.status, "2026-08-01T00:00:00Z", "true", roster.school_sid(k.school),
             "student", f"{k.given.lower()}.{k.family.lower()}", f"{{sis:{k.number}}}", k.given,
             k.family, "Q", k.number, k.email, "", k.phone, "p-1", k.grade, "",
             ";".join(k.programs)]
            + list(extra.values())
        )  # fmt: skip
    for a in roster.adults:
        users.append(
            [a.sourced_id, "active", "", "true", roster.school_sid(a.school), a.role, a.email, "",
             a.given, a.family, "", "", a.email, "", "", "", "", "", ""]
            + list(extra.values())
        )  # fmt: skip
    users.append(
        ["p-1", "active", "", "true", "org-maple", "parent", "", "", "Prudence", "Quillfeather",
         "", "", "prudence@home.example.org", "", "555-0199", "", "", "", ""]
        + list(extra.values())
    )  # fmt: skip
    files["users.csv"] = raw_users if raw_users is not None else _csv(users, bom)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            if name not in drop:
                z.writestr(name, data)
    return buf.getvalue()
