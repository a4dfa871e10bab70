"""A module over ~600 lines says at its top why it is one module (issue 16: a newcomer
reads the house module by module; a long one either splits or explains itself)."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LIMIT = 600
MARK = "Why one long module:"
SKIPPED = {"migrations", ".venv", "node_modules", "build"}


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED or any(p.startswith(".") for p in parts):
            continue
        yield path


def test_every_long_module_says_why_at_its_top():
    unexplained = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines <= LIMIT:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if MARK not in doc:
            unexplained.append(f"{path.relative_to(ROOT)} ({lines} lines)")
    assert unexplained == [], (
        f"Split these modules, or say at the top of each ({MARK} ...) why it is one:\n"
        + "\n".join(unexplained)
    )


def test_the_scan_sees_the_long_modules():
    long = [p for p in modules() if p.read_text(encoding="utf-8").count("\n") > LIMIT]
    assert any(p.name == "indicators.py" for p in long)
