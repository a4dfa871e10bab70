"""OneRoster 1.1 / 1.2: the CSV bundle (a zip with manifest.csv) and the REST API.

Both readers yield ``records`` and drop the rest at once: of a user, the sourcedId or
identifier (the local student ID), role, school, grade, status and, for staff, the name and
e-mail. A student's givenName, familyName, middleName, preferred names, email, sms, phone,
username, userIds, agents (parents) and birth date are never copied out of the row.

The bundle is read file by file, line by line, from inside the zip (no file is extracted
or held whole). Problems are reported as ``users.csv line 7: ...``; a missing file the
manifest names, or a missing manifest, stops the run.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

from .client import RestClient
from .records import (
    ONEROSTER_POSITIONS,
    BadValue,
    Report,
    RosterProblem,
    SchoolRecord,
    StaffRecord,
    StudentRecord,
    oneroster_grade,
    touch_from,
)

# The columns read from each file; every other column is ignored (and listed once).
ORG_COLUMNS = {"sourcedid", "status", "name", "type", "identifier"}
USER_COLUMNS = {
    "sourcedid",
    "status",
    "enableduser",
    "orgsourcedids",
    "primaryorgsourcedid",
    "role",
    "identifier",
    "email",
    "grades",
    "givenname",
    "familyname",
    "metadata.programcodes",
}
ROLE_COLUMNS = {"usersourcedid", "role", "roletype", "orgsourcedid", "status"}
# Read for their names only, never stored (students); their presence is what counts.
KNOWN_IGNORED = {
    "datelastmodified",
    "username",
    "userids",
    "middlename",
    "preferredgivenname",
    "preferredfirstname",
    "preferredmiddlename",
    "preferredfamilyname",
    "preferredlastname",
    "pronouns",
    "sms",
    "phone",
    "agentsourcedids",
    "password",
    "usermasteridentifier",
    "resourcesourcedids",
    "parentsourcedid",
    "birthdate",
}
REQUIRED_FILES = ("orgs", "users")
BUNDLE_FILES = ("orgs", "users", "enrollments", "academicSessions")

STAFF_ROLES = frozenset(ONEROSTER_POSITIONS)
LEAVING_STATUSES = frozenset({"tobedeleted", "inactive"})


def _student_key(row: dict, student_key: str) -> str:
    if student_key == "identifier":
        return (row.get("identifier") or "").strip()
    return (row.get("sourcedid") or "").strip()


def _programs(raw) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return [p for p in str(raw or "").replace(";", ",").split(",") if p.strip()]


def _is_active(status: str, enabled: str) -> bool:
    return status.strip().lower() not in LEAVING_STATUSES and enabled.strip().lower() not in {
        "false",
        "0",
        "no",
    }


class _Common:
    """What the bundle and the API share: the user → record rules."""

    def __init__(self, *, student_key: str, touch_codes: frozenset[str], report: Report):
        self.student_key, self.touch_codes, self.report = student_key, touch_codes, report
        self.delta = False

    def user_record(self, where: str, row: dict, role: str, org: str):
        """A student or staff record from one user's fields (lower-case keys), or None
        (a parent, a guardian, a relative: not read)."""
        active = _is_active(row.get("status") or "", str(row.get("enableduser") or "true"))
        if role == "student":
            local_id = _student_key(row, self.student_key)
            if not local_id:
                self.report(where, f"the student has no {self.student_key}")
                return None
            if len(local_id) > 40:
                self.report(where, f"{self.student_key} {local_id[:40]}… is longer than 40")
                return None
            grade = None
            if active:
                try:
                    grade = oneroster_grade(str(row.get("grades") or ""))
                except BadValue as exc:
                    self.report(where, f"student {local_id} {exc}")
                    return None
            if active and not org:
                self.report(where, f"student {local_id} names no school")
                return None
            programs = _programs(row.get("metadata.programcodes"))
            return StudentRecord(
                where,
                local_id,
                org,
                grade,
                active,
                "" if active else "withdrawn",
                "",
                touch_from(programs, self.touch_codes),
            )
        if role in STAFF_ROLES:
            name = " ".join(
                p
                for p in (
                    (row.get("givenname") or "").strip(),
                    (row.get("familyname") or "").strip(),
                )
                if p
            )
            return StaffRecord(
                where,
                (row.get("sourcedid") or "").strip(),
                org,
                name[:200],
                (row.get("email") or "").strip().lower()[:254],
                ONEROSTER_POSITIONS[role],
                active,
            )
        return None


# --- the CSV bundle ----------------------------------------------------------------------


class CsvBundle(_Common):
    """A OneRoster CSV bundle: a zip (a path or bytes) with manifest.csv at its top."""

    def __init__(self, source, **kwargs):
        super().__init__(**kwargs)
        try:
            self.zip = zipfile.ZipFile(source if isinstance(source, str) else io.BytesIO(source))
        except (OSError, zipfile.BadZipFile) as exc:
            raise RosterProblem(f"the bundle is not a zip file ({exc})") from None
        self.names = {name.rsplit("/", 1)[-1].lower(): name for name in self.zip.namelist()}
        self.ignored: list[str] = []
        self.manifest = self._manifest()
        for kind in BUNDLE_FILES:
            mode = self.manifest.get(f"file.{kind.lower()}", "absent")
            if mode == "absent":
                if kind in REQUIRED_FILES:
                    raise RosterProblem(f"manifest.csv: file.{kind} is absent; a roster needs it")
                continue
            if f"{kind.lower()}.csv" not in self.names:
                raise RosterProblem(
                    f"{kind}.csv: manifest.csv lists it as {mode} but the bundle has no such file"
                )
            if mode == "delta":
                self.delta = True

    def _manifest(self) -> dict[str, str]:
        if "manifest.csv" not in self.names:
            raise RosterProblem("manifest.csv: missing; a OneRoster bundle starts with it")
        found = {}
        for _line, row in self._rows("manifest.csv", {"propertyname", "value"}):
            found[(row.get("propertyname") or "").strip().lower()] = (
                (row.get("value") or "").strip().lower()
            )
        return found

    def _rows(self, filename: str, wanted: set[str]) -> Iterator[tuple[int, dict]]:
        """(line number, {column: cell}) of a file in the bundle, streamed; the columns
        outside ``wanted`` are dropped from each row before it is handed on."""
        with self.zip.open(self.names[filename]) as raw:
            # The C text layer (codecs' StreamReader costs a third of reading a bundle);
            # newline="" hands line breaks inside quotes to the csv module untouched.
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
            reader = csv.reader(text)
            try:
                header = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise RosterProblem(f"{filename} line 1: {exc}") from None
            names = [h.strip().lower() for h in header]
            unknown = [
                h for h, n in zip(header, names, strict=True) if n not in wanted | KNOWN_IGNORED
            ]
            if unknown:
                self.ignored.append(f"{filename}: ignored columns {', '.join(unknown)}")
            keep = [(i, n) for i, n in enumerate(names) if n in wanted]
            width = len(names)
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    self.report(f"{filename} line {reader.line_num}", str(exc))
                    continue
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > width:
                    self.report(
                        f"{filename} line {reader.line_num}",
                        f"{len(cells)} cells for {width} columns (a comma outside quotes?)",
                    )
                    continue
                yield reader.line_num, {n: cells[i] if i < len(cells) else "" for i, n in keep}

    def schools(self) -> Iterator[SchoolRecord]:
        for _line, row in self._rows("orgs.csv", ORG_COLUMNS):
            if (row.get("type") or "").strip().lower() == "school":
                yield SchoolRecord(
                    row["sourcedid"].strip(),
                    (row.get("identifier") or "").strip(),
                    (row.get("name") or "").strip(),
                )

    def _roles(self) -> dict[str, tuple[str, str]]:
        """OneRoster 1.2 keeps roles in roles.csv: user → (role, school) of the primary
        role. Only these two short keys per user are held."""
        if "roles.csv" not in self.names:
            return {}
        roles: dict[str, tuple[str, str]] = {}
        for _line, row in self._rows("roles.csv", ROLE_COLUMNS):
            user = (row.get("usersourcedid") or "").strip()
            if user and (row.get("roletype") or "primary").strip().lower() == "primary":
                roles[user] = (
                    (row.get("role") or "").strip().lower(),
                    (row.get("orgsourcedid") or "").strip(),
                )
        return roles

    def people(self) -> Iterator[StudentRecord | StaffRecord]:
        roles = self._roles()
        for line, row in self._rows("users.csv", USER_COLUMNS):
            where = f"users.csv line {line}"
            role = (row.get("role") or "").strip().lower()
            orgs = (row.get("primaryorgsourcedid") or row.get("orgsourcedids") or "").split(",")
            org = orgs[0].strip()
            if not role and roles:
                role, org = roles.get((row.get("sourcedid") or "").strip(), ("", ""))
            record = self.user_record(where, row, role, org)
            # The row's names, e-mail and phone go no further than this loop.
            del row
            if record is not None:
                yield record


# --- the REST API ------------------------------------------------------------------------

PAGE = 1000


def _lower(d: dict) -> dict:
    return {k.lower(): v for k, v in d.items()}


def _ref_id(value) -> str:
    if isinstance(value, dict):
        return str(value.get("sourcedId") or "")
    return ""


class RestApi(_Common):
    """OneRoster REST (1.1 ``/schools``, ``/users``; 1.2 the same paths under
    ``rostering/v1p2``): ``base_url`` ends at the version."""

    def __init__(self, client: RestClient, *, since: datetime | None = None, **kwargs):
        super().__init__(**kwargs)
        self.client = client
        self.since = since
        self.delta = since is not None
        self.ignored: list[str] = []

    def _params(self) -> dict:
        if self.since is None:
            return {}
        # A machine format, as the spec's filter wants it (UTC, seconds, "Z").
        stamp = self.since.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
        return {"filter": f"dateLastModified>'{stamp}'"}

    def schools(self) -> Iterator[SchoolRecord]:
        # Schools are read whole, even in a delta: students are matched against all of them.
        for org in self.client.pages("schools", key="orgs", limit=PAGE):
            yield SchoolRecord(
                str(org.get("sourcedId") or ""),
                str(org.get("identifier") or ""),
                str(org.get("name") or ""),
            )

    def people(self) -> Iterator[StudentRecord | StaffRecord]:
        for n, user in enumerate(
            self.client.pages("users", key="users", limit=PAGE, params=self._params())
        ):
            where = f"users sourcedId {user.get('sourcedId') or f'#{n + 1}'}"
            row = _lower({k: v for k, v in user.items() if isinstance(v, str | bool | int)})
            row["enableduser"] = str(user.get("enabledUser", "true"))
            grades = user.get("grades") or []
            row["grades"] = ",".join(grades) if isinstance(grades, list) else str(grades)
            meta = user.get("metadata") or {}
            row["metadata.programcodes"] = (
                meta.get("programCodes") if isinstance(meta, dict) else ""
            )
            role = str(user.get("role") or "").lower()
            org = _ref_id(user.get("primaryOrg"))
            if not org:
                orgs = user.get("orgs") or []
                org = _ref_id(orgs[0]) if orgs else ""
            for entry in user.get("roles") or []:  # 1.2
                if isinstance(entry, dict) and entry.get("roleType", "primary") == "primary":
                    role = str(entry.get("role") or role).lower()
                    org = _ref_id(entry.get("org")) or org
            record = self.user_record(where, row, role, org)
            del user, row
            if record is not None:
                yield record
