"""Capabilities the accounts app asks about a person."""

from schools.models import Role
from schools.permissions import capability

# Coaches see staff, not students: a district that requires two-factor sign-in requires it
# of those who see student records (rosters, device assignments, charges).
can_see_student_records = capability(
    "accounts.see_student_records",
    Role.DISTRICT_ADMIN,
    Role.PRINCIPAL,
    Role.TECH_STAFF,
    doc="See students' records; a district requiring two-factor sign-in requires it of them.",
)
