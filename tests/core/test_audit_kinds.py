"""Every audit event names one of core.models.Kind, and every kind fits its column.

A kind written as a free string passes SQLite and fails PostgreSQL's varchar(20) inside
the writer's transaction; this reads the source of every app, so a new ``record(...)``
call is held to it before any page runs it."""

import ast
from pathlib import Path

from django.conf import settings

from core.models import AuditEvent, Kind

ROOT = Path(settings.BASE_DIR)


def _project_sources():
    for path in ROOT.glob("*/**/*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", ".venv", "bench", "static", "node_modules"}:
            continue
        if "migrations" in parts:
            continue
        yield path


def test_every_audit_record_names_a_kind():
    loose = []
    for path in _project_sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record"):
                continue
            first = node.args[0] if node.args else None
            names_kind = (
                isinstance(first, ast.Attribute)
                and isinstance(first.value, ast.Name)
                and first.value.id == "Kind"
                and first.attr in Kind.__members__
            )
            if first is not None and not names_kind and not isinstance(first, ast.Name):
                loose.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not loose, f"audit kinds must be core.models.Kind members: {loose}"


def test_every_kind_fits_its_column():
    width = AuditEvent._meta.get_field("kind").max_length
    assert all(len(value) <= width for value in Kind.values)
