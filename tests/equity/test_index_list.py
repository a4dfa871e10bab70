"""Every index of the device tables is in docs/imports.md ("Indexes of the device tables")
with what needs it, and every index listed there exists: an import maintains each one, so
one added without a reader, or dropped while the docs still promise it, fails here."""

import re
from pathlib import Path

import pytest
from django.db import connection

DOC = Path(__file__).resolve().parents[2] / "docs" / "imports.md"
TABLES = ("equity_device", "equity_deviceevent")


def documented() -> set[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Indexes of the device tables", 1)[1].split("\n### ", 1)[0]
    found = set()
    for table, name in re.findall(r"^\| (equity_\w+) \| `([^`]+)` \|", section, re.MULTILINE):
        found.add((table, name))
    return found


def matches(pattern: str, name: str) -> bool:
    # Django's own names end in a hash ("equity_device_model_id_a0df8e57"): the docs
    # write "equity_device_model_id_…".
    return name.startswith(pattern[:-1]) if pattern.endswith("…") else name == pattern


@pytest.mark.django_db
def test_the_device_tables_have_exactly_the_documented_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("the expression indexes and their costs are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)", [list(TABLES)]
        )
        actual = set(cursor.fetchall())
    listed = documented()
    assert listed, "the index table is missing from docs/imports.md"
    undocumented = {
        (t, n) for t, n in actual if not any(t == lt and matches(ln, n) for lt, ln in listed)
    }
    missing = {
        (t, n) for t, n in listed if not any(t == at and matches(n, an) for at, an in actual)
    }
    assert not undocumented, f"indexes no page or rule is documented to need: {undocumented}"
    assert not missing, f"documented indexes that do not exist: {missing}"
