"""Issue 16's moves keep every row: migrate a populated database forward across them.

The migrations are rolled back to where main stood before issue 16 (``BEFORE``: the latest
migration of each app at c2600a6; ``core`` did not exist), every table the moves touched is
filled through the models as they were then (the historical models of that state), and the
database is migrated forward to the latest state. Every row must still be there and be
readable through today's models (the inventory, the device year, the imports in their new
packages of ``equity``; the task outbox and the audit log now owned by ``core``, with their
content types following them).

It runs on PostgreSQL and on SQLite (``make run``), outside a test transaction, because
migrations manage their own; the latest state is restored at the end, whatever happens.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The latest migration of each app at main c2600a6, just before issue 16's moves.
BEFORE = [
    ("accounts", "0003_user_switched_off_in"),
    ("audit", "0002_pending_task"),
    ("core", None),  # core did not exist: unapply it entirely
    ("equity", "0010_authors_may_be_deleted"),
    ("initiatives", "0002_workflow_budget_compliance_swot"),
    ("pd", "0005_authors_may_be_deleted"),
    ("readiness", "0002_retire_surveys_recent_targets"),
    ("schools", "0006_enrollment_has_a_ceiling"),
    ("stakeholders", "0004_authors_may_be_deleted"),
]

# Every model whose table issue 16 moved (its code or its owning app), as it was named
# before the moves. The test fails if the "before" state holds a model of these apps that
# is not filled below, so a table cannot be left out.
MOVED_APPS = ("equity", "audit")

pytestmark = pytest.mark.django_db(transaction=True)


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _latest(executor: MigrationExecutor) -> list[tuple[str, str]]:
    return executor.loader.graph.leaf_nodes()


def _populate(apps) -> dict[str, int]:
    """One or more rows in every table of MOVED_APPS, through the models of that state.
    Returns the number of rows written per "app_label.model"."""
    now = timezone.now()
    District = apps.get_model("schools", "District")
    School = apps.get_model("schools", "School")
    User = apps.get_model("accounts", "User")
    ContentType = apps.get_model("contenttypes", "ContentType")

    district = District.objects.create(name="Migration District", slug="migration-district")
    school = School.objects.create(district=district, name="Birch Elementary", code="BE01")
    user = User.objects.create(email="migrator@example.org", password="!")

    eq = lambda name: apps.get_model("equity", name)  # noqa: E731
    model = eq("DeviceModel").objects.create(
        district=district,
        maker="Acer",
        name="Chromebook 311",
        kind="chromebook",
        unit_price=Decimal("249.00"),
        auto_update_expiration=date(2031, 6, 1),
    )
    devices = [
        eq("Device").objects.create(
            district=district,
            school=school,
            model=model,
            maker="Acer",
            asset_tag=f"MIG-{n}",
            serial_number=f"SN-MIG-{n}",
            status=status,
        )
        for n, status in enumerate(["assigned", "in_stock", "lost"])
    ]
    students = [
        eq("Student").objects.create(
            district=district, school=school, local_id=f"S-MIG-{n}", grade=3
        )
        for n in range(2)
    ]
    handout = eq("StationEvent").objects.create(
        school=school, kind="handout", name="Grade 3 handout", day=date(2026, 8, 20)
    )
    assignment = eq("Assignment").objects.create(
        device=devices[0],
        student=students[0],
        checked_out_at=now,
        checked_out_by=user,
        handout_event=handout,
    )
    eq("Assignment").objects.create(
        device=devices[1],
        student=students[1],
        checked_out_at=now - timedelta(days=30),
        checked_out_by=user,
        checked_in_at=now - timedelta(days=2),
        checked_in_by=user,
        condition_on_return="damaged",
    )
    for device in devices:
        eq("DeviceEvent").objects.create(
            device=device, kind="created", at=now, by=user, school=school
        )
    eq("DeviceEvent").objects.create(
        device=devices[0], kind="check_out", at=now, by=user, school=school, student=students[0]
    )
    agreement = eq("DeviceAgreement").objects.create(
        district=district, version=1, text="Take care of it."
    )
    eq("Acceptance").objects.create(
        assignment=assignment,
        agreement=agreement,
        token="migration-token",
        method="signed",
        signer="student",
        signature=b"\x89PNG-not-really",
        accepted_at=now,
    )
    eq("PriceListEntry").objects.create(
        district=district, kind="screen", device_model=model, amount=Decimal("80.00")
    )
    eq("PriceListEntry").objects.create(district=district, kind="screen", amount=Decimal("90"))
    eq("Charge").objects.create(
        device=devices[1],
        student=students[1],
        kind="screen",
        amount=Decimal("80.00"),
        created_at=now,
        created_by=user,
    )
    eq("RolloverRun").objects.create(
        district=district, school_year="2025-26", ran_at=now, ran_by=user
    )
    eq("ImportJob").objects.create(
        school=school,
        kind="devices",
        status="done",
        rows_total=3,
        created_count=3,
        errors=[{"row": 2, "column": "asset_tag", "message": "is blank"}],
        summary="Imported 3 devices",
        created_by=user,
    )
    audit = lambda name: apps.get_model("audit", name)  # noqa: E731
    audit("PendingTask").objects.create(
        name="readiness.tasks.recompute_school", args=[school.pk], key=f"school:{school.pk}"
    )
    audit("AuditEvent").objects.create(
        kind="bulk",
        district=district,
        school=school,
        user=user,
        object_type="equity.device",
        detail="retire 3 devices",
    )
    # audit keeps these two; filled so that the whole app is seen across its 0003.
    audit("Retention").objects.create(district=district, years_after_leaving=2)
    audit("PurgeRecord").objects.create(
        district=district, school=school, scope="student", by=user, students=1,
        counts={"equity.assignment": 1},
    )  # fmt: skip
    # The content types of the moved models, as the "before" state had them (a fresh test
    # database made by migrate has them only if post_migrate ran for that state: make sure).
    for name in ("pendingtask", "auditevent"):
        ContentType.objects.get_or_create(app_label="audit", model=name)

    counts = {}
    for app_label in MOVED_APPS:
        for m in apps.get_app_config(app_label).get_models():
            counts[f"{app_label}.{m._meta.model_name}"] = m.objects.count()
    return counts


# Where each table of the "before" state is read after the moves.
AFTER = {
    "audit.pendingtask": "core.PendingTask",
    "audit.auditevent": "core.AuditEvent",
}


def test_migrations_keep_every_row_across_issue_16s_moves():
    executor = _executor()
    latest = _latest(executor)
    try:
        executor.migrate(BEFORE)
        executor = _executor()
        old_apps = executor.loader.project_state([n for n in BEFORE if n[1]]).apps
        before = _populate(old_apps)
        empty = sorted(name for name, n in before.items() if n == 0)
        assert not empty, f"fill these tables too, so their rows are carried forward: {empty}"

        executor = _executor()
        executor.migrate(latest)

        from django.apps import apps as new_apps
        from django.contrib.contenttypes.models import ContentType

        for name, count in before.items():
            label = AFTER.get(name, name)
            model = new_apps.get_model(label)
            rows = list(model._base_manager.all())  # every row, whatever the scope
            assert len(rows) == count, f"{name} had {count} rows; {label} has {len(rows)}"
            for row in rows:
                str(row)  # readable through today's model
                row.refresh_from_db()

        Device = new_apps.get_model("equity.Device")
        Assignment = new_apps.get_model("equity.Assignment")
        Acceptance = new_apps.get_model("equity.Acceptance")
        PendingTask = new_apps.get_model("core.PendingTask")
        AuditEvent = new_apps.get_model("core.AuditEvent")
        assert Device.__module__ == "equity.inventory.models"
        assert Acceptance.__module__ == "equity.year.models"
        assert new_apps.get_model("equity.ImportJob").__module__ == "equity.imports.models"
        out = Assignment._base_manager.get(checked_in_at__isnull=True)
        assert out.device.asset_tag == "MIG-0"
        assert out.student.local_id == "S-MIG-0"
        assert out.handout_event.name == "Grade 3 handout"
        assert bytes(Acceptance._base_manager.get().signature) == b"\x89PNG-not-really"
        assert sorted(Device._base_manager.values_list("asset_tag", flat=True)) == [
            "MIG-0",
            "MIG-1",
            "MIG-2",
        ]
        assert PendingTask.objects.get().key.startswith("school:")
        assert AuditEvent.objects.get().detail == "retire 3 devices"
        # The content types followed the models to core (and none is left behind in audit).
        assert ContentType.objects.filter(app_label="core", model="pendingtask").exists()
        assert ContentType.objects.filter(app_label="core", model="auditevent").exists()
        assert not ContentType.objects.filter(
            app_label="audit", model__in=["pendingtask", "auditevent"]
        ).exists()
    finally:
        executor = _executor()
        executor.migrate(latest)
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()
