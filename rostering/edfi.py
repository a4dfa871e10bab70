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
    ):
        self.client, self.touch_codes, self.report = client, touch_codes, report
        self.today = (today or date.today()).isoformat()
        self.delta = False
        self.ignored: list[str] = []

    def _all(self, resource: str) -> Iterator[dict]:
        return self.client.pages(
            resource,
            key=None,
            limit=PAGE,
            params={"totalCount": "true"},
            total_header="Total-Count",
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
        for assoc in self._all("studentSchoolAssociations"):
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
        for seoa in self._all("studentEducationOrganizationAssociations"):
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
