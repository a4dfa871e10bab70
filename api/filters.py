"""Query parameters of the API's lists, read through filter sets like the pages' (bounded
numbers, no NUL bytes); a bad value answers 400 with the parameter's name."""

from __future__ import annotations

import django_filters
from django import forms

from equity.inventory.models import (
    Assignment,
    Device,
    DeviceEvent,
    DeviceStatus,
    EventKind,
    Student,
)
from schools.filters import FilterSet

BIGINT = 2**63 - 1


class IdFilter(django_filters.Filter):
    """An id: a whole number in the database's range (1.5 or 10**30 are a 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT)
        super().__init__(*args, **kwargs)


class DeviceFilterSet(FilterSet):
    school = IdFilter(field_name="school_id")
    status = django_filters.ChoiceFilter(choices=DeviceStatus.choices)
    model = IdFilter(field_name="model_id")
    tag_prefix = django_filters.CharFilter(
        field_name="asset_tag", lookup_expr="startswith", max_length=64
    )

    class Meta:
        model = Device
        fields = ["school", "status", "model", "tag_prefix"]


class StudentFilterSet(FilterSet):
    school = IdFilter(field_name="school_id")
    active = django_filters.BooleanFilter()

    class Meta:
        model = Student
        fields = ["school", "active"]


class AssignmentFilterSet(FilterSet):
    device = IdFilter(field_name="device_id")
    student = IdFilter(field_name="student_id")
    open = django_filters.BooleanFilter(field_name="checked_in_at", lookup_expr="isnull")

    class Meta:
        model = Assignment
        fields = ["device", "student", "open"]


class DeviceEventFilterSet(FilterSet):
    device = IdFilter(field_name="device_id")
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)

    class Meta:
        model = DeviceEvent
        fields = ["device", "kind"]
