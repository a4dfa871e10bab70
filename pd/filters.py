"""Filters of the session list and calendar: school, format, pillar, facilitator; the list
also by day."""

from __future__ import annotations

import django_filters
from django import forms

from schools.filters import FilterSet
from schools.models import School
from schools.pillars import Pillar
from schools.typeahead import typeahead

from .models import Format, PDSession


def _schools(request):
    # Built per request, inside the user's scope: only schools the user may see.
    return School.objects.order_by("name")


class SessionFilter(FilterSet):
    # Labels are explicit: django-filter derives one from the model field of the same
    # name and shows "[invalid name]" when there is none (sessions have `schools`,
    # `pillars` and two facilitator fields).
    school = django_filters.ModelChoiceFilter(
        label="School", queryset=_schools, empty_label="All schools", method="by_school"
    )
    format = django_filters.ChoiceFilter(
        label="Format", choices=Format.choices, empty_label="Any format"
    )
    pillar = django_filters.ChoiceFilter(
        label="Pillar", choices=Pillar.choices, empty_label="Any pillar", method="by_pillar"
    )
    facilitator = django_filters.CharFilter(label="Led by", method="by_facilitator")

    class Meta:
        model = PDSession
        fields = ["school", "format", "pillar", "facilitator"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select"
        # A district's schools and facilitators number thousands: type-aheads, not selects.
        typeahead(self.form.fields["school"])
        typeahead(self.form.fields["facilitator"], source="pd.facilitator")

    # Filtering through a subquery keeps a session of several schools on one row.
    def by_school(self, queryset, name, value):
        return queryset.filter(
            pk__in=PDSession.schools.through.unscoped.filter(school=value).values("pdsession_id")
        )

    def by_pillar(self, queryset, name, value):
        return queryset.filter(pillars__pillar=value)

    def by_facilitator(self, queryset, name, value):
        kind, pk = value[:1], value[1:]
        if not pk.isdigit():
            return queryset
        if kind == "u":
            return queryset.filter(facilitator_user_id=pk)
        if kind == "s":
            return queryset.filter(facilitator_staff_id=pk)
        return queryset


class SessionListFilter(SessionFilter):
    """The session list's filters: the calendar's, and one day (where a calendar day's
    "more" link leads)."""

    day = django_filters.DateFilter(
        field_name="date",
        label="On the day",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["day"].widget.attrs["class"] = "form-control"
