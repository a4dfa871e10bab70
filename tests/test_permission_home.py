"""Who may do what is said in one place: each app's ``permissions.py`` (and the mechanism
under them, ``schools/scoping.py``). Nowhere else does code spell a set of roles or ask a
person's roles directly; it asks a capability (``can_handle_devices(access, school)``,
``schools_for(access, can_read_inventory)``), and templates ask one by name
(``access|at:school|can:"equity.handle_devices"``).

The source is read: a tuple, list or set holding a ``Role.X``, a ``Role.X in …`` test, or a
call of ``has_role`` / ``school_ids_with_role`` / ``roles_at`` / ``require_role`` /
``require_role_at_any`` outside those modules fails, unless ``ALLOWED`` says why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", "node_modules", "tests", "migrations", "static", "staticfiles", ".git"}
ROLE_CALLS = {"has_role", "school_ids_with_role", "roles_at", "require_role", "require_role_at_any"}

# module -> why it may spell roles. Keep it to data about memberships, never a rule.
ALLOWED = {
    "schools/scoping.py": "the mechanism itself: roles held at each school, require_role",
    "schools/scale.py": "the benchmark seed: which account holds which role",
}

# The home page's sections are the roles one holds (schools.permissions.roles_held);
# every other template asks a capability.
ROLE_FLAGS = re.compile(r"\bnav\.(district_admin|principal|coach|tech_staff)\b")
ROLE_FLAG_TEMPLATES = {"today/templates/today/home.html"}


def _python_files():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS.intersection(rel.parts[:-1]) or rel.parts[0] in SKIP_DIRS:
            continue
        yield rel.as_posix(), path


def _is_role(node) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Role"
    )


def _tests_a_role(node: ast.Compare) -> bool:
    membership = any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
    return membership and (_is_role(node.left) or any(map(_is_role, node.comparators)))


def role_rules(source: str) -> list[tuple[int, str]]:
    """Where ``source`` spells a role rule: (line, what)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(map(_is_role, node.elts)):
            found.append((node.lineno, "a collection of roles"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ROLE_CALLS:
                found.append((node.lineno, f"{name}(…)"))
        elif isinstance(node, ast.Compare) and _tests_a_role(node):
            found.append((node.lineno, "Role.X in …"))
    return found


def _is_permissions_module(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) == 2 and parts[1] == "permissions.py"


def test_role_rules_live_in_permissions_modules():
    spelled = []
    for rel, path in _python_files():
        if _is_permissions_module(rel) or rel in ALLOWED:
            continue
        spelled += [f"{rel}:{line}: {what}" for line, what in role_rules(path.read_text())]
    assert not spelled, (
        "Name a capability in the app's permissions.py and ask it (see schools/permissions.py):\n"
        + "\n".join(spelled)
    )


def test_templates_ask_capabilities_not_roles():
    spelled = []
    for path in sorted(ROOT.rglob("*.html")):
        rel = path.relative_to(ROOT)
        if SKIP_DIRS.intersection(rel.parts) or rel.as_posix() in ROLE_FLAG_TEMPLATES:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if ROLE_FLAGS.search(line):
                spelled.append(f"{rel}:{number}: {line.strip()[:80]}")
    assert not spelled, 'Ask {% if access|can:"app.capability" %} instead:\n' + "\n".join(spelled)


def test_the_guard_sees_each_form():
    """The reader catches every way a rule was spelled before permissions had a home."""
    samples = {
        "READERS = (Role.TECH_STAFF, Role.PRINCIPAL)": "a collection of roles",
        "ok = access.has_role(*WRITERS, school=s)": "has_role(…)",
        "ids = access.school_ids_with_role(*PD_ROLES)": "school_ids_with_role(…)",
        "require_role(request.access, *STORY_ROLES)": "require_role(…)",
        "require_role_at_any(access, schools, *ROLES)": "require_role_at_any(…)",
        "x = Role.PRINCIPAL in access.roles_at(i)": "Role.X in …",
        "q = Membership.objects.filter(role__in=[Role.COACH])": "a collection of roles",
    }
    for source, what in samples.items():
        assert what in [w for _line, w in role_rules(source)], source
    # Data about memberships is not a rule: a query for coaches, a form's choices.
    assert role_rules("Membership.objects.filter(role=Role.COACH)") == []
    assert role_rules("if role == Role.DISTRICT_ADMIN and school: pass") == []
