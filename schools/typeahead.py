"""A type-ahead choice of one school, staff member or initiative: never a select of thousands.

A district admin's choice among 1,800 schools, 70,000 staff or 4,000 initiatives is not a
``<select>``: ``TypeaheadSelect`` renders one text field (an ARIA 1.2 combobox with a
listbox, driven by static/js/typeahead.js) that asks ``schools:search`` for the first
matches as the person types. The search answers through the scoped default manager, so it
offers only what the person may see; the form still validates the submitted id against the
field's scoped queryset (another school's id is "not one of the available choices").

Without JavaScript the field is a plain text box: the person types the exact name (or the
id) and ``value_from_datadict`` finds it in the same scoped queryset.

A model becomes searchable with ``searchable(Model, "label field")`` in its app's
``forms.py``; ``SOURCES`` is filled when the forms are imported, so this module, at the
bottom of the house, knows the models without importing their apps.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.urls import reverse

RESULTS = 20  # matches shown in the listbox


@dataclass(frozen=True)
class Source:
    key: str
    model: type
    label: str  # the field searched and shown


SOURCES: dict[str, Source] = {}


def searchable(model, label: str) -> Source:
    """Declare ``model`` searchable by its ``label`` field (idempotent)."""
    key = model._meta.label_lower
    SOURCES.setdefault(key, Source(key=key, model=model, label=label))
    return SOURCES[key]


def search(key: str, text: str, *, queryset=None) -> list[dict]:
    """The first matches of ``text`` among the rows of source ``key`` the scope shows."""
    from .scoping import visible

    source = SOURCES[key]
    qs = visible(source.model) if queryset is None else queryset
    text = text.strip()
    if text:
        qs = qs.filter(**{f"{source.label}__icontains": text})
    rows = qs.order_by(source.label, "pk").values_list("pk", source.label)[:RESULTS]
    return [{"id": pk, "label": label} for pk, label in rows]


class TypeaheadSelect(forms.TextInput):
    """The widget of a ``ModelChoiceField`` over a searchable model (see the module)."""

    template_name = "django/forms/widgets/typeahead.html"

    def __init__(self, source_model, attrs=None):
        super().__init__(attrs)
        self.source_model = source_model

    @property
    def source(self) -> Source:
        return SOURCES[self.source_model._meta.label_lower]

    def _queryset(self):
        # The field's scoped queryset (ModelChoiceField gives its widget its choices).
        choices = getattr(self, "choices", None)
        return getattr(choices, "queryset", None)

    def _label_of(self, value) -> str:
        if value in (None, ""):
            return ""
        if str(value).isdigit() and self._queryset() is not None:
            label = (
                self._queryset()
                .filter(pk=int(value))
                .values_list(self.source.label, flat=True)
                .first()
            )
            return label or ""
        return str(value)

    def format_value(self, value):
        return "" if value is None else str(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        chosen = self.format_value(value)
        widget["chosen_id"] = chosen if chosen.isdigit() else ""
        widget["label_value"] = self._label_of(chosen)
        widget["search_url"] = reverse("schools:search") + f"?source={self.source.key}"
        return context

    def value_from_datadict(self, data, files, name):
        """The chosen id; without JavaScript, the typed name (or id) found in the scope."""
        chosen = (data.get(name) or "").strip()
        typed = (data.get(f"{name}__label") or "").strip()
        if chosen.isdigit():
            return chosen
        text = chosen or typed
        if not text or text.isdigit() or self._queryset() is None:
            return text or None
        found = list(
            self._queryset()
            .filter(**{f"{self.source.label}__iexact": text})
            .values_list("pk", flat=True)[:2]
        )
        return str(found[0]) if len(found) == 1 else text

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}__label" not in data


def typeahead(field: forms.ModelChoiceField) -> None:
    """Give ``field`` the type-ahead widget (its model must be ``searchable``)."""
    widget = TypeaheadSelect(field.queryset.model, attrs=field.widget.attrs)
    widget.is_required = field.required
    field.widget = widget
    widget.choices = field.choices
