"""An id that no integer column can hold matches nothing, in ``__in`` as in ``=``.

Django (5.0 and later) answers ``pk=10**20`` with no rows instead of sending the database a
number it refuses; ``pk__in=[10**20]`` still reaches the database, where SQLite raises
OverflowError (beyond 64 bits) and PostgreSQL compares or refuses it depending on the plan.
Ids come from URLs, query strings and forms (ticked rows, school check boxes, Django's own
ModelMultipleChoiceField), so the list lookup gets the same rule in one place: values
outside the column's range are dropped before the query is built, and a list left empty
matches nothing. Registered by ``SchoolsConfig.ready``.
"""

from __future__ import annotations

from django.db.models import ForeignObject, IntegerField
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


def _column_range(field, connection) -> tuple[int | None, int | None]:
    target = getattr(field, "target_field", None) or field
    try:
        return connection.ops.integer_field_range(target.get_internal_type())
    except KeyError:  # not an integer column (a relation to a text key)
        return None, None


def _in_range(values, field, connection) -> list:
    low, high = _column_range(field, connection)
    if low is None and high is None:
        return list(values)
    return [
        v
        for v in values
        if not isinstance(v, int) or ((low is None or v >= low) and (high is None or v <= high))
    ]


class _BoundedIn:
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            self.rhs = _in_range(self.rhs, self.lhs.output_field, connection)
        return super().process_rhs(compiler, connection)


class IntegerIn(_BoundedIn, In):
    pass


class BoundedRelatedIn(_BoundedIn, RelatedIn):
    pass


def register() -> None:
    IntegerField.register_lookup(IntegerIn)
    ForeignObject.register_lookup(BoundedRelatedIn)
