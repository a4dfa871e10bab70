"""The inventory list's filters, search and sort.

Built to stay fast at a million devices (docs/scale.md): every filter is an equality on
an indexed column, led by the district for the district admin's list (``district, status,
asset_tag`` and ``district, model, asset_tag``) and by the school for a school's list
(``school, status``); a filter on a small table (the catalog's kind, a student ID, a model
name) is resolved to ids first, so the large table is only ever asked for equalities. The
search is an exact or prefix match (``istartswith``/``iexact``) over asset tags and
serials, never a substring scan of a million rows; a fragment is looked up in the catalog
(a few dozen models) and becomes a list of model ids. Sorting is limited to a whitelist,
each with the primary key as a tie-breaker so pages never overlap.

On PostgreSQL the case-insensitive prefix match is answered by ``UPPER(column)
text_pattern_ops`` indexes that equity's migration 0004 creates on PostgreSQL only.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from schools.filters import FilterSet
from schools.models import School
from schools.permissions import schools_q
from schools.typeahead import typeahead
from schools.widgets import LongSelect

from ..permissions import can_read_inventory
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


def narrow(queryset, access, ids, field: str = "school_id"):
    """``queryset`` limited to ``ids``, unless they are every school of the user's scope:
    the scoped manager has already said so, and a second list of 1,800 ids only costs."""
    if ids is None or ids == access.school_ids:
        return queryset
    return queryset.filter(**{f"{field}__in": ids})


class NameChoices(forms.models.ModelChoiceIterator):
    """Choices of (id, name) read with ``values_list``: no model instance per option."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list("pk", "name")


def names_only(field) -> None:
    """Make a model choice field of schools offer (id, name) pairs (see NameChoices)."""
    field.iterator = NameChoices
    field.widget.choices = field.choices


def _schools(request):
    # Built per request, inside the user's scope, narrowed to the schools the user reads.
    return School.objects.filter(schools_q(request.access, can_read_inventory))


def _models(request):
    return DeviceModel.objects.all()


class DeviceFilter(FilterSet):
    q = django_filters.CharFilter(
        label="Asset tag, serial, student ID or model", method="search", max_length=100
    )
    school = django_filters.ModelChoiceFilter(
        queryset=_schools, empty_label="All schools", widget=LongSelect
    )
    status = django_filters.ChoiceFilter(choices=DeviceStatus.choices, empty_label="Any status")
    model = django_filters.ModelChoiceFilter(queryset=_models, empty_label="Any model")
    kind = django_filters.ChoiceFilter(
        label="Kind", choices=DeviceKind.choices, empty_label="Any kind", method="by_kind"
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names_only(self.form.fields["school"])
        typeahead(self.form.fields["school"])  # a district admin reads 1,800 schools

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Both lookups answer a handful of ids from small or indexed reads; as literal ids
        # they join the prefix matches in one bitmap OR of indexes, where a subquery inside
        # the OR would make PostgreSQL test every device of the district against it.
        held_by = list(
            Assignment.objects.filter(
                checked_in_at__isnull=True, student__local_id__iexact=value
            ).values_list("device_id", flat=True)
        )
        models = list(
            DeviceModel.objects.filter(Q(name__icontains=value) | Q(maker__icontains=value))
            .order_by()
            .values_list("pk", flat=True)
        )
        return queryset.filter(
            Q(asset_tag__istartswith=value)
            | Q(serial_number__istartswith=value)
            | Q(pk__in=held_by)
            | Q(model_id__in=models)
        )

    def by_kind(self, queryset, name, value):
        # The catalog is small: its ids of that kind, then an equality on the device table.
        ids = list(DeviceModel.objects.filter(kind=value).order_by().values_list("pk", flat=True))
        return queryset.filter(model_id__in=ids)

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS[DEFAULT_SORT])[1])

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS[DEFAULT_SORT][1])
        return queryset
