"""Every filter of every list has a real label.

django-filter labels a filter from the model field of the same name; a filter named after
something that is not a field (a method filter, a relation under another name) shows
"[invalid name]" unless it is given a label.
"""

import copy
import importlib
from pathlib import Path

import django_filters
import pytest
from django.apps import apps


def _filtersets():
    # Every ``filters`` module of the project's apps, at any depth (equity.inventory.filters):
    # found on disk, not through whatever the run happened to import before.
    for config in apps.get_app_configs():
        where = Path(config.path)
        if not where.is_relative_to(ROOT) or where.relative_to(ROOT).parts[0].startswith("."):
            continue  # an installed package (the virtualenv may sit inside the project)
        for path in where.rglob("filters.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            importlib.import_module(".".join(parts))
    found, todo = [], list(django_filters.FilterSet.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {c.name for c in apps.get_app_configs()}:
            found.append(cls)
    return found


ROOT = Path(__file__).resolve().parent.parent
FILTERSETS = _filtersets()


def test_the_project_has_filters_to_check():
    assert {cls.__name__ for cls in FILTERSETS} >= {"SessionFilter", "DeviceFilter"}


@pytest.mark.parametrize("filterset", FILTERSETS, ids=lambda cls: cls.__name__)
def test_every_filter_has_a_label(filterset):
    for name, base in filterset.base_filters.items():
        bound = copy.deepcopy(base)
        bound.model = filterset._meta.model
        assert "[invalid name]" not in str(bound.label), f"{filterset.__name__}.{name}"
