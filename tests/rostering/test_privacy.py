"""No student's name, birth date or contact detail reaches the database, from any source:
after a sync of each, every text column of every table is searched for them."""

from django.db import connection

from equity.inventory.models import Student
from rostering.models import RosterSource, SourceKind

from .roster_data import SEEDED_NAMES, base_roster, bundle
from .servers import serve_edfi, serve_oneroster
from .test_rest import CODES, _source

TEXT_TYPES = ("char", "text", "json", "clob", "varchar")


def _found_anywhere(needles) -> list[str]:
    """(table.column: needle) for every needle stored in any text column of any table."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for col in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(col.type_code, col)
                if not any(t in kind.lower() for t in TEXT_TYPES):
                    continue
                name = connection.ops.quote_name(col.name)
                for needle in needles:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608
                        f"WHERE LOWER(CAST({name} AS TEXT)) LIKE %s",
                        [f"%{needle.lower()}%"],
                    )
                    if cursor.fetchone()[0]:
                        hits.append(f"{table}.{col.name}: {needle}")
    return hits


def test_no_student_name_birth_date_or_contact_is_stored(sync, district, httpserver, maple, cedar):
    maple.code, cedar.code = CODES["MAPLE"], CODES["CEDAR"]
    maple.save()
    cedar.save()
    roster = base_roster().with_codes(CODES)
    RosterSource.objects.create(district=district, kind=SourceKind.ONEROSTER_CSV)
    assert sync(data=bundle(roster), apply=True)[0] == 0
    _source(district, httpserver, SourceKind.ONEROSTER_API, "/ims/oneroster/v1p1")
    serve_oneroster(httpserver, roster)
    assert sync("oneroster-api", apply=True)[0] == 0
    _source(district, httpserver, SourceKind.EDFI, "/data/v3/ed-fi")
    serve_edfi(httpserver, roster)
    assert sync("edfi", apply=True)[0] == 0
    assert Student.objects.count() == 10  # by sourcedId, then by identifier: both stored

    kids = roster.kids
    needles = [
        *SEEDED_NAMES,
        *(k.given for k in kids),
        *(k.family for k in kids),
        "barnaby.o@kids.example.org",  # a student's e-mail
        "2016-02-29",  # a birth date
        "555-0100",  # a phone number
        "Prudence",  # a parent
        "12 Elm Street",  # an address
    ]
    assert _found_anywhere(needles) == []
    # The check itself finds what is stored: the staff roster keeps staff names.
    assert _found_anywhere(["Lovelace"]) == ["schools_staffmember.full_name: Lovelace"]
