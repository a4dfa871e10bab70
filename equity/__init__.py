"""Device equity: one Django app (label ``equity``) in three packages.

- ``equity.inventory``: the device catalog, devices and their history, students, who holds
  what, the check-out and audit desks, and coverage (the usable-device rule lives here,
  ``inventory.models.usable_q``). The base of the other two.
- ``equity.year``: the device year on top of the inventory: handout and collection days,
  the device agreement, charges, and the year-end rollover.
- ``equity.imports``: CSV readers, the device and student importers (which write through
  the inventory's bulk services, ``inventory.bulk``), the upload pages and the import task.

Each package holds its own models, services, selectors, forms, views and urls; tests mirror
them (tests/equity/inventory/, year/, imports/). Imports point one way: year and imports
use inventory, never the reverse, and neither uses the other.

Why packages of one app rather than three apps: the three share one database history
(tables ``equity_*``, one migration chain, foreign keys across them such as an assignment's
handout day) and one URL namespace (``equity:``). Three apps would mean renaming tables or
pinning ``db_table`` on every model, splitting the migration chain with
``SeparateDatabaseAndState``, and changing every URL name, for no gain to a reader: the
folders already say which part does what. Django finds the models through
``equity/models.py``, which imports the three packages' model modules; ``equity/admin.py``,
``equity/demo.py``, ``equity/scale.py`` and ``equity/management/`` stay at the app level,
where Django and the seed commands look for them.
"""
