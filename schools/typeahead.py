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
``AppConfig.ready``, so this module, at the bottom of the house, knows the models without
importing their apps. A list that is not one model's rows (PD facilitators: coaches'
accounts and Learning Leaders) registers ``searchable_by(key, find=..., label_of=...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse

RESULTS = 20  # matches shown in the listbox
NUL = "\x00"
NARROWED_SCHOOLS = 20  # a field narrows its matches to at most this many schools


@dataclass(frozen=True)
class Source:
    key: str
    model: type | None = None
    label: str = ""  # the field searched and shown
    # The path from the model to a school, when a field may narrow its matches to some
    # schools (the staff of one school, the initiatives of a school): ``?school=<id>``.
    school_path: str | None = None
    # A list that is not one model's rows: the first matches of a text as {"id", "label"}
    # (inside the active scope), and the label of one value (None: not one the person sees).
    find: Callable[[str], list[dict]] | None = None
    label_of: Callable[[str], str | None] | None = None


SOURCES: dict[str, Source] = {}


def searchable(model, label: str, school_path: str | None = None) -> Source:
    """Declare ``model`` searchable by its ``label`` field (idempotent); ``school_path``
    lets a field narrow the matches to some schools."""
    key = model._meta.label_lower
    SOURCES.setdefault(key, Source(key=key, model=model, label=label, school_path=school_path))
    return SOURCES[key]


def searchable_by(key: str, *, find, label_of) -> Source:
    """Declare a list of values that are not one model's ids (idempotent)."""
    SOURCES.setdefault(key, Source(key=key, find=find, label_of=label_of))
    return SOURCES[key]


def search(key: str, text: str, *, schools=None) -> list[dict]:
    """The first matches of ``text`` among the rows of source ``key`` the scope shows (of
    ``schools`` alone when given and the source knows its way to a school)."""
    from .scoping import unscoped, visible

    source = SOURCES[key]
    text = text.strip()
    if source.find is not None:
        return source.find(text)[:RESULTS]
    qs = visible(source.model)
    if schools and source.school_path:
        # Narrowed only: the rows stay those of the scoped manager above.
        of_schools = unscoped(source.model).filter(**{f"{source.school_path}__in": schools})
        qs = qs.filter(pk__in=of_schools.values("pk"))
    if text:
        qs = qs.filter(**{f"{source.label}__icontains": text})
    rows = qs.order_by(source.label, "pk").values_list("pk", source.label)[:RESULTS]
    return [{"id": pk, "label": label} for pk, label in rows]


class TypeaheadSelect(forms.TextInput):
    """The widget of a ``ModelChoiceField`` over a searchable model, or of a field whose
    values a ``searchable_by`` source lists (see the module)."""

    template_name = "django/forms/widgets/typeahead.html"

    def __init__(self, source: str, attrs=None, schools=()):
        super().__init__(attrs)
        self.source_key = source
        schools = [getattr(s, "pk", s) for s in schools]
        # A field of a few schools narrows the matches to theirs; past that (a session of a
        # whole district) the scope alone does, and the URL stays short.
        self.schools = schools if len(schools) <= NARROWED_SCHOOLS else []
        # Labels the form already holds (a loaded object's own choice): shown without a query.
        self.labels: dict[str, str] = {}

    def __deepcopy__(self, memo):
        obj = super().__deepcopy__(memo)
        obj.labels = dict(self.labels)  # a form's labels are its own
        return obj

    def search_url(self) -> str:
        url = reverse("schools:search") + f"?source={self.source.key}"
        return url + "".join(f"&school={pk}" for pk in self.schools)

    @property
    def source(self) -> Source:
        return SOURCES[self.source_key]

    def _queryset(self):
        # The field's scoped queryset (ModelChoiceField gives its widget its choices).
        choices = getattr(self, "choices", None)
        return getattr(choices, "queryset", None)

    def _label_of(self, value) -> str:
        if value in (None, ""):
            return ""
        if str(value) in self.labels:
            return self.labels[str(value)]
        if self.source.label_of is not None:
            return self.source.label_of(str(value)) or str(value)
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
        known = self.source.label_of(chosen) if self.source.find and chosen else None
        widget["chosen_id"] = chosen if chosen.isdigit() or known else ""
        widget["label_value"] = self._label_of(chosen)
        widget["search_url"] = self.search_url()
        return context

    def value_from_datadict(self, data, files, name):
        """The chosen id; without JavaScript, the typed name (or id) found in the scope."""
        chosen = (data.get(name) or "").strip()
        typed = (data.get(f"{name}__label") or "").strip()
        if self.source.find is not None:
            if chosen and self.source.label_of(chosen) is not None:
                return chosen
            text = chosen or typed
            if NUL in text:
                return text  # refused by the field, never sent to a query
            found = [r["id"] for r in self.source.find(text) if r["label"].lower() == text.lower()]
            return str(found[0]) if len(found) == 1 else (text or None)
        if chosen.isdigit():
            return chosen
        text = chosen or typed
        if not text or text.isdigit() or NUL in text or self._queryset() is None:
            return text or None  # a NUL byte: refused by the field, never sent to a query
        found = list(
            self._queryset()
            .filter(**{f"{self.source.label}__iexact": text})
            .values_list("pk", flat=True)[:2]
        )
        return str(found[0]) if len(found) == 1 else text

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}__label" not in data


def _refuse_nul(field: forms.Field) -> None:
    """A typed value with a NUL byte gets Django's own refusal on the field (a model choice
    field would otherwise say "not one of the choices", and PostgreSQL cannot store it)."""
    to_python = field.to_python

    def checked(value):
        values = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, str) and NUL in v for v in values):
            raise ValidationError(
                ProhibitNullCharactersValidator.message, code="null_characters_not_allowed"
            )
        return to_python(value)

    field.to_python = checked


def typeahead(field: forms.Field, source: str | None = None, schools=()) -> None:
    """Give ``field`` the type-ahead widget: a ``ModelChoiceField`` over a ``searchable``
    model, or any field whose values the ``searchable_by`` source ``source`` lists.
    ``schools`` narrows the matches offered to those schools' rows (the field's queryset
    still decides what is accepted)."""
    key = source or field.queryset.model._meta.label_lower
    attrs = {k: v for k, v in field.widget.attrs.items() if k != "class"}
    widget = TypeaheadSelect(key, attrs={**attrs, "class": "form-control"}, schools=schools)
    widget.is_required = field.required
    field.widget = widget
    if isinstance(field, forms.ModelChoiceField):
        widget.choices = field.choices
        _refuse_nul(field)


class TypeaheadSelectMultiple(TypeaheadSelect):
    """The widget of a ``ModelMultipleChoiceField`` over a searchable model: the chosen rows
    as ticked checkboxes (untick to remove, with or without JavaScript) and a type-ahead
    that adds one more; without JavaScript, names typed in the box separated by ";"."""

    template_name = "django/forms/widgets/typeahead_multiple.html"
    allow_multiple_selected = True

    def format_value(self, value):
        if value is None:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(getattr(v, "pk", v)) for v in values if v not in (None, "")]

    def get_context(self, name, value, attrs):
        context = forms.Widget.get_context(self, name, value, attrs)
        widget = context["widget"]
        ids = [v for v in self.format_value(value) if v.isdigit()]
        labels = {}
        if ids and self._queryset() is not None:
            labels = {
                str(pk): label
                for pk, label in self._queryset()
                .filter(pk__in=[int(i) for i in ids])
                .values_list("pk", self.source.label)
            }
        widget["chosen"] = [(i, labels[i]) for i in ids if i in labels]
        widget["search_url"] = self.search_url()
        # The text box only adds a choice: it is empty once a row is picked (or ticked from
        # the start), so the browser's "required" would refuse a form whose boxes are
        # ticked. The field itself still refuses a choice of none.
        widget["attrs"].pop("required", None)
        return context

    def value_from_datadict(self, data, files, name):
        """The ticked ids, and the names typed without JavaScript found in the scope."""
        values = [v for v in data.getlist(name) if v] if hasattr(data, "getlist") else []
        if not hasattr(data, "getlist") and data.get(name):
            values = list(data.get(name))
        typed = [t.strip() for t in (data.get(f"{name}__label") or "").split(";") if t.strip()]
        for text in typed:
            if text.isdigit() or NUL in text or self._queryset() is None:
                values.append(text)
                continue
            found = list(
                self._queryset()
                .filter(**{f"{self.source.label}__iexact": text})
                .values_list("pk", flat=True)[:2]
            )
            values.append(str(found[0]) if len(found) == 1 else text)
        return values

    def value_omitted_from_data(self, data, files, name):
        return False  # no ticked box is a choice of none


def typeahead_multiple(field: forms.ModelMultipleChoiceField, schools=()) -> None:
    """Give a ``ModelMultipleChoiceField`` over a ``searchable`` model the type-ahead."""
    widget = TypeaheadSelectMultiple(
        field.queryset.model._meta.label_lower, attrs={"class": "form-control"}, schools=schools
    )
    widget.is_required = field.required
    field.widget = widget
    widget.choices = field.choices
    _refuse_nul(field)
