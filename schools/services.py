"""Writes of the schools app: validate, then save in one transaction."""

from django.db import connection, transaction
from django.db.models import Q

from .models import GRADE_BANDS, District, School, StaffMember
from .signals import evidence_changed


@transaction.atomic
def school_update(*, school: School, data: dict) -> School:
    for name, value in data.items():
        setattr(school, name, value)
    school.full_clean()
    school.save()
    evidence_changed.send(sender=School, school_ids=[school.pk])
    return school


@transaction.atomic
def district_update_settings(*, district: District, data: dict) -> District:
    for name, value in data.items():
        setattr(district, name, value)
    district.full_clean()
    district.save()  # its ratio, PD-hour target and survey group feed the indicators
    evidence_changed.send(sender=District, district_ids=[district.pk])
    return district


@transaction.atomic
def staff_member_save(*, staff: StaffMember) -> StaffMember:
    staff.email = staff.email.strip().lower()
    staff.full_clean()
    staff.save()
    evidence_changed.send(sender=StaffMember, school_ids=[staff.school_id])
    return staff


@transaction.atomic
def enrollment_from_roster(*, school_ids, bands: dict[int, dict[str, int]], at) -> list[int]:
    """Set the enrollment per grade band of ``school_ids`` to the counts of their active
    students (``bands``: school → band field → count; a band not given is 0), except
    where the school's typed figures override the roster. Only schools whose figures
    change are written; their ids."""
    names = [name for name, *_ in GRADE_BANDS]
    changed: list[tuple] = []
    current = School.unscoped.filter(pk__in=school_ids, enrollment_override=False).values_list(
        "pk", "enrollment_synced_at", *names
    )
    for pk, synced_at, *figures in current.iterator(chunk_size=2000):
        counts = bands.get(pk, {})
        wanted = [counts.get(name, 0) for name in names]
        if synced_at and figures == wanted:
            continue
        changed.append((pk, *wanted))
    for start in range(0, len(changed), 500):
        _set_enrollment(changed[start : start + 500], names, at)
    if changed:
        evidence_changed.send(sender=School, school_ids=[row[0] for row in changed])
    return [row[0] for row in changed]


def _set_enrollment(rows: list[tuple], names: list[str], at) -> None:
    """One ``UPDATE ... FROM (VALUES ...)`` for a batch of (school id, *figures). Django's
    bulk_update builds a CASE expression per field and school: at 1,802 schools it was the
    roster run's Python memory peak (13 MiB of expression objects)."""
    quote = connection.ops.quote_name
    table = quote(School._meta.db_table)
    sets = ", ".join(f"{quote(name)} = v.column{i + 2}" for i, name in enumerate(names))
    row = "(" + ", ".join(["%s"] * (len(names) + 1)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets}, {quote('enrollment_synced_at')} = %s "  # noqa: S608
            f"FROM (VALUES {', '.join([row] * len(rows))}) AS v WHERE {table}.id = v.column1",
            [connection.ops.adapt_datetimefield_value(at), *(v for r in rows for v in r)],
        )


@transaction.atomic
def staff_roster_apply(*, district_id: int, create: list[dict], update, leaving) -> None:
    """A roster source's staff: ``create`` new members (dicts of school_id, full_name,
    email, position, active), ``update`` (pk, fields) pairs, mark ``leaving`` (ids, or a
    subquery of ids) as no longer active (never deleted: their PD hours stay). Set-based;
    the rows were checked by the caller. Staff of another district are never touched."""
    touched: set[int] = set()
    mine = Q(school__district_id=district_id)
    if create:
        made = StaffMember.unscoped.bulk_create([StaffMember(**fields) for fields in create])
        touched.update(s.school_id for s in made)
    if update:
        members = StaffMember.unscoped.filter(mine, pk__in=[pk for pk, _f in update]).in_bulk()
        for pk, fields in update:
            for name, value in fields.items():
                setattr(members[pk], name, value)
        StaffMember.unscoped.bulk_update(
            members.values(), ["full_name", "email", "position", "active"], batch_size=500
        )
        touched.update(s.school_id for s in members.values())
    if leaving is not None:
        gone = StaffMember.unscoped.filter(mine, pk__in=leaving)
        touched.update(gone.order_by().values_list("school_id", flat=True).distinct())
        gone.update(active=False)
    if touched:
        evidence_changed.send(sender=StaffMember, school_ids=sorted(touched))
