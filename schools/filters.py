"""The base of every list filter (django-filter)."""

from __future__ import annotations

import django_filters

from .forms import InputRulesMixin


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose form follows the rules of every form (``schools.forms.Form``):
    bounded numbers and dates, and text that refuses NUL bytes with a field error. An
    invalid filter is dropped from the query (django-filter's behaviour) and its error is
    shown on the filter form."""

    def get_form_class(self):
        form_class = super().get_form_class()
        if issubclass(form_class, InputRulesMixin):
            return form_class
        return type(form_class.__name__, (InputRulesMixin, form_class), {})
