"""The Ed-Fi ODS/API (Data Standard 4 and 5): schools, students and staff with their
associations, and the digital-equity indicators.

What is read from each resource, and what is let go at once:

- ``schools``: schoolId (matched to the school's code) and nameOfInstitution.
- ``students``: studentUniqueId only, to check the associations name real students. The
  names, birth date, birth place and every other field are dropped as the page is read.
- ``studentSchoolAssociations``: studentUniqueId (the local student ID), schoolId,
  entryGradeLevelDescriptor, entryDate, exitWithdrawDate and its type.
- ``studentEducationOrganizationAssociations``: internetAccessInResidence (yes/no), the
  access type, performance and barrier descriptors, the primary learning device's access
  and provider; the characteristics, indicators and disabilities only to match the
  district's touchscreen codes. Addresses, telephones, e-mails, languages and races are
  dropped.
- ``staffs``: staffUniqueId, first and last name, the first e-mail address.
- ``staffEducationOrganizationAssignmentAssociations``: staffUniqueId, the school, the
  classification and position title, the end date.

Change Queries (deltas). Every run first asks ``{api}/changeQueries/v1/availableChangeVersions``
(``{"oldestChangeVersion": n, "newestChangeVersion": m}``; ``{api}`` is the base URL up to
``/data/``). Given the change version the last applied run read (``since``), the students'
resources are read with ``minChangeVersion=since+1&maxChangeVersion=newest``, and
``studentSchoolAssociations/deletes`` and ``students/deletes`` in the same window name the
students whose enrolment or record was deleted (``keyValues``), who leave. Schools and
staff are read in full (few, and a staff assignment's name lives on ``/staffs``). No
``since``, a server without Change Queries (404), or a ``since`` older than the server
keeps changes for: everything is read. The run records ``newest`` once it applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from .client import RestClient
from .records import (
    BadValue,
    EquityRecord,
    Report,
    SchoolRecord,
    StaffRecord,
    StudentRecord,
    descriptor_value,
    edfi_grade,
    edfi_position,
    touch_from,
)

PAGE = 500  # the ODS/API's largest page


def _ref(record: dict, name: str, key: str) -> str:
    value = record.get(name) or {}
    return str(value.get(key) or "") if isinstance(value, dict) else ""


def _leave_reason(uri: str) -> str:
    value = descriptor_value(uri).lower()
    if "graduat" in value:
        return "graduated"
    if "transfer" in value:
        return "transferred"
    return "withdrawn"


def _yes_no(value) -> str | None:
    if value is True or str(value).lower() == "true":
        return "yes"
    if value is False or str(value).lower() == "false":
        return "no"
    return None


def _codes(seoa: dict) -> list[str]:
    """Every code of a SEOA the district may map to "needs a touchscreen"."""
    codes = []
    for item in seoa.get("studentCharacteristics") or []:
        codes.append(descriptor_value(item.get("studentCharacteristicDescriptor")))
    for item in seoa.get("studentIndicators") or []:
        codes.append(str(item.get("indicatorName") or ""))
        codes.append(str(item.get("indicator") or ""))
    for item in seoa.get("disabilities") or []:
        codes.append(descriptor_value(item.get("disabilityDescriptor")))
    for item in seoa.get("programParticipations") or []:
        codes.append(descriptor_value(item.get("programTypeDescriptor")))
    return [c for c in codes if c]


class EdFiApi:
    def __init__(
        self,
        client: RestClient,
        *,
        touch_codes: frozenset[str],
        report: Report,
        today: date | None = None,
        since: int | None = None,
    ):
        self.client, self.touch_codes, self.report = client, touch_codes, report
        self.today = (today or date.today()).isoformat()
        self.delta = False
        self.staff_complete = True  # staff are read in full even in a delta
        self.ignored: list[str] = []
        self.window: dict = {}
        self.newest_change_version = self._versions(since)

    def _versions(self, since: int | None) -> int | None:
        """The server's newest change version (None: no Change Queries); in a delta, the
        window of versions to read."""
        root = self.client.base_url.split("/data/", 1)[0]
        body, _headers = self.client.get(
            f"{root}/changeQueries/v1/availableChangeVersions", {}, missing_ok=True
        )
        try:
            newest = int(body["newestChangeVersion"])
            oldest = int(body.get("oldestChangeVersion") or 0)
        except (KeyError, TypeError, ValueError):
            self.ignored.append("the server offers no Change Queries: everything was read")
            return None
        if since is not None and newest >= since and since + 1 >= oldest:
            self.delta = True
            self.window = {"minChangeVersion": since + 1, "maxChangeVersion": newest}
        elif since is not None:
            self.ignored.append(
                f"change versions {oldest}–{newest} on the server do not follow the last run's "
                f"{since}: everything was read"
            )
        return newest

    def _all(self, resource: str, *, changed: bool = False) -> Iterator[dict]:
        """Every record of ``resource``; ``changed``: in a delta, only those of the window."""
        return self.client.pages(
            resource,
            key=None,
            limit=PAGE,
            params={"totalCount": "true", **(self.window if changed else {})},
            total_header="Total-Count",
        )

    def _deleted(self) -> Iterator[StudentRecord]:
        """A delta's deleted enrolments and students: they leave (withdrawn). A deleted
        enrolment only takes a student out of that school."""
        unnamed = 0
        for resource in ("studentSchoolAssociations", "students"):
            for gone in self._all(f"{resource}/deletes", changed=True):
                keys = gone.get("keyValues") or {}
                local_id = str(keys.get("studentUniqueId") or "")[:40]
                if not local_id:
                    unnamed += 1
                    continue
                yield StudentRecord(
                    f"{resource}/deletes id {gone.get('id') or '?'}",
                    local_id,
                    str(keys.get("schoolId") or ""),
                    None,
                    False,
                    "withdrawn",
                    "",
                    None,
                )
        if unnamed:
            self.ignored.append(
                f"{unnamed} deletions without keyValues (an ODS/API before 5.3-cqe) were not "
                "applied: a run from the page reads everything"
            )

    def schools(self) -> Iterator[SchoolRecord]:
        for school in self._all("schools"):
            key = str(school.get("schoolId") or "")
            yield SchoolRecord(key, key, str(school.get("nameOfInstitution") or ""))

    def student_ids(self) -> Iterator[str]:
        for student in self._all("students"):
            uid = str(student.get("studentUniqueId") or "")
            del student  # names, birth date: not one field further
            if uid:
                yield uid

    def people(self) -> Iterator[StudentRecord | StaffRecord]:
        for assoc in self._all("studentSchoolAssociations", changed=True):
            where = f"studentSchoolAssociations id {assoc.get('id') or '?'}"
            local_id = _ref(assoc, "studentReference", "studentUniqueId")
            school = _ref(assoc, "schoolReference", "schoolId")
            if not local_id or not school:
                self.report(where, "names no student or no school")
                continue
            if len(local_id) > 40:
                self.report(where, f"studentUniqueId {local_id[:40]}… is longer than 40")
                continue
            exit_date = str(assoc.get("exitWithdrawDate") or "")
            active = not exit_date or exit_date > self.today
            grade = None
            if active:
                try:
                    grade = edfi_grade(assoc.get("entryGradeLevelDescriptor"))
                except BadValue as exc:
                    self.report(where, f"student {local_id} {exc}")
                    continue
            yield StudentRecord(
                where,
                local_id,
                school,
                grade,
                active,
                "" if active else _leave_reason(assoc.get("exitWithdrawTypeDescriptor")),
                str(assoc.get("entryDate") or ""),
                None,
            )
        if self.delta:
            yield from self._deleted()
        yield from self._staff()

    def _staff(self) -> Iterator[StaffRecord]:
        people: dict[str, tuple[str, str]] = {}
        for staff in self._all("staffs"):
            uid = str(staff.get("staffUniqueId") or "")
            name = " ".join(
                p
                for p in (str(staff.get("firstName") or ""), str(staff.get("lastSurname") or ""))
                if p
            )
            mails = staff.get("electronicMails") or []
            email = str(mails[0].get("electronicMailAddress") or "") if mails else ""
            people[uid] = (name[:200], email.strip().lower()[:254])
        for assign in self._all("staffEducationOrganizationAssignmentAssociations"):
            where = f"staffEducationOrganizationAssignmentAssociations id {assign.get('id') or '?'}"
            uid = _ref(assign, "staffReference", "staffUniqueId")
            org = _ref(assign, "educationOrganizationReference", "educationOrganizationId")
            position = edfi_position(
                descriptor_value(assign.get("staffClassificationDescriptor")),
                str(assign.get("positionTitle") or ""),
            )
            if position is None:
                continue  # not a role the staff roster keeps
            if uid not in people:
                self.report(where, f"staff {uid or '?'} is not in /staffs")
                continue
            end = str(assign.get("endDate") or "")
            name, email = people[uid]
            yield StaffRecord(where, uid, org, name, email, position, not end or end > self.today)

    def equity(self) -> Iterator[EquityRecord]:
        for seoa in self._all("studentEducationOrganizationAssociations", changed=True):
            local_id = _ref(seoa, "studentReference", "studentUniqueId")
            if not local_id:
                continue
            yield EquityRecord(
                f"studentEducationOrganizationAssociations id {seoa.get('id') or '?'}",
                local_id,
                _yes_no(seoa.get("internetAccessInResidence")),
                descriptor_value(seoa.get("internetAccessTypeInResidenceDescriptor")),
                descriptor_value(seoa.get("internetPerformanceInResidenceDescriptor")),
                descriptor_value(seoa.get("barrierToInternetAccessInResidenceDescriptor")),
                descriptor_value(seoa.get("primaryLearningDeviceAccessDescriptor")),
                descriptor_value(seoa.get("primaryLearningDeviceProviderDescriptor")),
                touch_from(_codes(seoa), self.touch_codes),
            )
            del seoa
