"""Who may request apps, and who keeps the register and decides.

Everyone of a district reads its register (the scope decides that); families read the
approved part on the public page."""

from __future__ import annotations

from schools.models import Role
from schools.permissions import capability

can_request_apps = capability(
    "software.request_apps",
    Role.PRINCIPAL,
    Role.COACH,
    Role.TECH_STAFF,
    Role.DISTRICT_ADMIN,
    doc="Ask the district to approve an app, saying what learning it serves.",
)
can_review_apps = capability(
    "software.review_apps",
    Role.TECH_STAFF,
    Role.DISTRICT_ADMIN,
    doc="Keep the district's app register: record agreements and conformance, pass review "
    "steps, decide on requests, import and export the register.",
)
