"""Who reads a school's readiness and who may ask for a fresh score."""

from schools.models import Role
from schools.permissions import capability

can_read_readiness = capability(
    "readiness.read",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    Role.COACH,
    Role.TECH_STAFF,
    doc="Read a school's readiness score, its evidence and its history.",
)
can_recompute = capability(
    "readiness.recompute",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Recompute a school's readiness now.",
)
