"""Who works with professional development: coaches, principals and district admins.

Tech staff do not (they see PD only through a school's readiness evidence)."""

from schools.models import Role
from schools.permissions import capability

can_use_pd = capability(
    "pd.use_pd",
    Role.COACH,
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Plan and run PD sessions, polls and reports; see PD leaders.",
)
can_facilitate = capability(
    "pd.facilitate",
    Role.COACH,
    doc="Be named a session's facilitator (a new session names its coach by default).",
)
