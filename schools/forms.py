from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from .models import GRADE_BANDS, District, School, StaffMember


class ScopedFormMixin:
    """Rebind every model choice field to the active scope when the form is built.

    A ModelForm's choice fields are created at import time, outside any request, so their
    querysets refuse to run (see scoping.UnscopedQuerySet). Rebinding them here means a
    form only offers, and only accepts, objects the current user may see: a posted id of
    another school fails as "not one of the available choices".
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f, forms.ModelChoiceField):
                # Rebuilt from the manager, never from the class-level queryset, which may
                # hold the scope of whichever request imported the module first.
                qs = f.queryset.model._default_manager.all()
                limit = f.get_limit_choices_to()
                f.queryset = qs.complex_filter(limit) if limit else qs


class CrispyFormMixin:
    submit_label = "Save"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


class ModelForm(ScopedFormMixin, CrispyFormMixin, forms.ModelForm):
    """The base of every Pillarwise model form: scoped choices, crispy layout."""


class SchoolForm(ModelForm):
    class Meta:
        model = School
        fields = [
            "name",
            "code",
            "lowest_grade",
            "highest_grade",
            *[name for name, *_ in GRADE_BANDS],
            "economically_disadvantaged_pct",
        ]


class DistrictSettingsForm(ModelForm):
    class Meta:
        model = District
        fields = [
            "name",
            "device_planning_ratio",
            "pd_hour_target",
            "survey_min_group",
            "require_two_factor",
        ]


class StaffMemberForm(ModelForm):
    class Meta:
        model = StaffMember
        fields = ["full_name", "email", "position", "active"]

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        taken = (
            StaffMember.objects.filter(school=self.instance.school, email=email)
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if email and taken:
            raise forms.ValidationError("Someone on this roster already has this e-mail address.")
        return email
