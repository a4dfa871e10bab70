"""Who listens to stakeholders: surveys, stories and community partnerships.

Surveys and their results are the principal's (and the district admin's); anyone leading a
school's people may record a story (docs/stakeholders.md)."""

from schools.models import Role
from schools.permissions import capability

can_run_surveys = capability(
    "stakeholders.run_surveys",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Create, edit, open and close surveys; read their results.",
)
can_tell_stories = capability(
    "stakeholders.tell_stories",
    Role.PRINCIPAL,
    Role.COACH,
    Role.DISTRICT_ADMIN,
    doc="Open the stakeholder pages; write and edit stories; read community partnerships.",
)
can_manage_community = capability(
    "stakeholders.manage_community",
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Add, edit and remove community partnerships.",
)
