"""The inventory list's filters, search and sort.

Built to stay fast at a million devices: every filter is an equality on an indexed column
(school and status share the ``device_school_status`` index), the search is an exact or
prefix match (``istartswith``/``iexact``), never a substring scan, and sorting is limited to
a whitelist, each with the primary key as a tie-breaker so pages never overlap.

On PostgreSQL a case-insensitive prefix match uses an index only if one is built on
``UPPER(column)`` with ``varchar_pattern_ops``; without it the search still avoids a
substring scan but reads the school's rows. That index belongs to the models' migrations.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q

from schools.models import Role, School

from .models import Assignment, Device, DeviceKind, DeviceModel, DeviceStatus

# sort key → (label, ordering). The pk keeps the order total, so pages are stable.
SORTS = {
    "asset_tag": ("Asset tag (A–Z)", ("asset_tag", "pk")),
    "-asset_tag": ("Asset tag (Z–A)", ("-asset_tag", "-pk")),
    "status": ("Status", ("status", "asset_tag", "pk")),
    "school": ("School", ("school__name", "asset_tag", "pk")),
    "updated": ("Recently changed", ("-updated_at", "-pk")),
}
DEFAULT_SORT = "asset_tag"

# Who reads the inventory (the views import this; writing is for tech staff and admins).
READERS = (Role.TECH_STAFF, Role.PRINCIPAL, Role.DISTRICT_ADMIN)


def readable_school_ids(access) -> frozenset[int] | None:
    """Schools whose inventory the user reads (None: every school, for a superuser).

    Scope is not enough: a coach at Maple who is tech staff at Cedar sees Maple, but reads
    only Cedar's inventory.
    """
    return None if access.unrestricted else access.school_ids_with_role(*READERS)


def _schools(request):
    # Built per request, inside the user's scope, narrowed to the schools the user reads.
    schools = School.objects.all()
    ids = readable_school_ids(request.access)
    return schools if ids is None else schools.filter(pk__in=ids)


def _models(request):
    return DeviceModel.objects.all()


class DeviceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Asset tag, serial or student ID", method="search", max_length=100
    )
    school = django_filters.ModelChoiceFilter(queryset=_schools, empty_label="All schools")
    status = django_filters.ChoiceFilter(choices=DeviceStatus.choices, empty_label="Any status")
    model = django_filters.ModelChoiceFilter(queryset=_models, empty_label="Any model")
    kind = django_filters.ChoiceFilter(
        label="Kind", field_name="model__kind", choices=DeviceKind.choices, empty_label="Any kind"
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[(key, label) for key, (label, _order) in SORTS.items()],
        empty_label=None,
        method="sort_by",
    )

    class Meta:
        model = Device
        fields = ["q", "school", "status", "model", "kind", "sort"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        held_by = Assignment.objects.filter(
            checked_in_at__isnull=True, student__local_id__iexact=value
        ).values("device_id")
        return queryset.filter(
            Q(asset_tag__istartswith=value)
            | Q(serial_number__istartswith=value)
            | Q(pk__in=held_by)
        )

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS[DEFAULT_SORT])[1])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS[DEFAULT_SORT][1])
        return queryset
