"""Who may do what with devices: the inventory, the device year and the imports.

Declared here, asked by equity's views, by other apps' templates by name
(``access|at:school|can:"equity.handle_devices"``), and by readiness's evidence links.
"""

from schools.models import Role
from schools.permissions import capability

can_read_inventory = capability(
    "equity.read_inventory",
    Role.TECH_STAFF,
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Read a school's devices, coverage, handout days, agreements and charges.",
)
can_handle_devices = capability(
    "equity.handle_devices",
    Role.TECH_STAFF,
    Role.DISTRICT_ADMIN,
    doc="Add, check out, check in, audit, move and retire devices; run handout days, "
    "agreements, charges and the rollover; add device models to the catalog.",
)
can_import = capability(
    "equity.import_records",
    Role.TECH_STAFF,
    Role.PRINCIPAL,
    Role.DISTRICT_ADMIN,
    doc="Upload and run imports of students and devices (the upload pages and the task).",
)
