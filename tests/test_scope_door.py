"""One named door out of the scope.

Code that works across schools on behalf of no person (a task, a command, a uniqueness
check, readiness's set-based reads, a purge, the benchmark, a demo seed) leaves the scope
through ``Model.unscoped`` (every scoped model and every link table of one has it) or,
for a block that goes through Django's own machinery, ``schools.scoping.outside_scope()``.
Both live in schools/scoping.py. Any other way around is refused here, so a reader who
searches for "unscoped" and "outside_scope" sees every place the scope is left:

- a scan of every module outside migrations and tests (schools/scoping.py aside) for the
  unnamed forms: ``_base_manager``/``_default_manager`` (and ``_meta``'s, and
  ``base_manager_name``/``default_manager_name``), django-scopes imported directly,
  ``scopes_disabled``, ``.through.objects``, a ``QuerySet(...)`` built by hand;
- every scoped model carries the door, which is not its default manager, keeps the model's
  queryset methods, and is the only manager besides the scoped ones;
- the door and the block really leave the scope, and the default manager still does not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django_scopes import scope

from equity.inventory.models import Device
from initiatives.models import Initiative
from schools.scoping import (
    UNSCOPED,
    ScopedManager,
    ScopeError,
    access_for,
    activate,
    outside_scope,
    unscoped,
)
from tests.factories import DeviceFactory, InitiativeFactory

ROOT = Path(__file__).resolve().parent.parent
THE_DOOR = ROOT / "schools" / "scoping.py"
SKIPPED_DIRS = {"migrations", "tests", "node_modules", "static", "staticfiles"}

MANAGER_ATTRS = {
    "_base_manager",
    "_default_manager",
    "base_manager",
    "default_manager",
    "base_manager_name",
    "default_manager_name",
}
HINT = "use Model.unscoped (or schools.scoping.outside_scope() for a block)"


def modules(root: Path = ROOT):
    """Every application module: migrations, tests and hidden folders (the venv) aside."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p in SKIPPED_DIRS for p in parts[:-1]):
            continue
        if path.resolve() == THE_DOOR.resolve():
            continue
        yield path


def unnamed_ways_around(source: str) -> list[tuple[int, str]]:
    """(line, form) of every way around the scope other than the named door."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            module = node.module if isinstance(node, ast.ImportFrom) else None
            for name in [module or "", *names]:
                if name.split(".")[0] == "django_scopes":
                    found.append((line, "django_scopes imported directly"))
            if "scopes_disabled" in names:
                found.append((line, "scopes_disabled imported"))
        elif isinstance(node, ast.Attribute):
            if node.attr in MANAGER_ATTRS:
                found.append((line, f".{node.attr}"))
            elif node.attr == "scopes_disabled":
                found.append((line, ".scopes_disabled"))
            elif (
                node.attr == "objects"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "through"
            ):
                found.append((line, ".through.objects"))
        elif isinstance(node, ast.Name) and node.id in MANAGER_ATTRS | {"scopes_disabled"}:
            found.append((line, node.id))
        elif isinstance(node, ast.Constant) and node.value in MANAGER_ATTRS:
            found.append((line, f"{node.value!r} (getattr)"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "QuerySet":
                found.append((line, "QuerySet(...) built by hand"))
    return found


def test_it_finds_every_unnamed_form():
    """The scan itself: each form it must refuse, and the named door it must let through."""
    refused = """
from django_scopes import scope
import django_scopes
from schools.scoping import scopes_disabled
a = Device._base_manager.all()
b = Device._default_manager.all()
c = Device._meta.base_manager.all()
d = getattr(Device, "_base_manager")
e = Survey.schools.through.objects.all()
f = models.QuerySet(Device)
class Meta:
    base_manager_name = "everything"
"""
    flagged = {line for line, _form in unnamed_ways_around(refused)}
    lines = refused.splitlines()
    expected = {n for n, text in enumerate(lines, 1) if text and not text.startswith("class")}
    assert flagged == expected, [lines[n - 1] for n in expected - flagged]
    allowed = """
from schools.scoping import outside_scope, unscoped
a = Device.unscoped.usable()
b = Survey.schools.through.unscoped.filter(survey_id=1)
with outside_scope():
    pass
c = unscoped(model).filter(pk=1)
"""
    assert unnamed_ways_around(allowed) == []


def test_it_refuses_every_way_around_but_the_named_door():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {form}"
        for path in modules()
        for line, form in unnamed_ways_around(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"Ways around the scope other than the named door ({HINT}):\n" + (
        "\n".join(offenders)
    )


def test_it_scans_the_whole_house():
    scanned = {p.relative_to(ROOT).parts[0] for p in modules()}
    assert {"equity", "pd", "readiness", "stakeholders", "initiatives", "audit"} <= scanned
    assert {"bench", "accounts", "schools", "core", "config"} <= scanned
    assert not any("migrations" in p.parts or "tests" in p.parts for p in modules())


def scoped_models():
    return [m for m in apps.get_models() if isinstance(m._default_manager, ScopedManager)]


def test_every_scoped_model_has_the_door_and_no_other():
    assert len(scoped_models()) > 40
    for model in scoped_models():
        door = getattr(model, UNSCOPED)
        assert door is not model._default_manager, model
        assert not isinstance(door, ScopedManager), model
        # The model's own queryset methods chain through the door (Device.unscoped.usable()).
        assert issubclass(door._queryset_class, model._default_manager._queryset_class), model
        others = [
            m.name
            for m in model._meta.managers
            if m.name != UNSCOPED and not isinstance(m, ScopedManager)
        ]
        assert not others, f"{model.__name__} has a plain manager besides the door: {others}"
    assert Device.unscoped.usable


def test_every_link_table_of_a_scoped_model_has_the_door():
    links = [
        f.remote_field.through
        for model in scoped_models()
        for f in model._meta.local_many_to_many
        if f.remote_field.through._meta.auto_created
    ]
    assert links
    for through in links:
        assert isinstance(getattr(through, UNSCOPED), models.Manager), through
        assert through.unscoped is not through._meta.default_manager


@pytest.mark.django_db
def test_it_leaves_the_scope_only_through_the_door(maple, cedar, principal):
    mine = DeviceFactory(school=maple)
    theirs = DeviceFactory(school=cedar)
    plan = InitiativeFactory(district=maple.district, schools=[cedar])
    with activate(access_for(principal)):
        assert list(Device.objects.values_list("pk", flat=True)) == [mine.pk]
        seen = set(Device.unscoped.values_list("pk", flat=True))
        assert seen == {mine.pk, theirs.pk}
        assert set(unscoped(Device).values_list("pk", flat=True)) == seen
        link = Initiative.schools.through.unscoped.get(initiative=plan)
        assert link.school_id == cedar.pk
        with outside_scope():
            assert Device.objects.count() == 2
        assert Device.objects.count() == 1
    with scope():  # a scope with no schools at all: a worker before it says whom it serves
        with pytest.raises(ScopeError):
            Device.objects.count()
        assert Device.unscoped.count() == 2
