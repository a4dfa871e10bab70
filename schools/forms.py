from datetime import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError

from .models import GRADE_BANDS, District, School, StaffMember, time_zone_choices


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


def edit_token(instance) -> str:
    return instance.updated_at.isoformat() if instance.updated_at else ""


class EditTokenMixin:
    """Optimistic locking for an edit form: a later save over someone else's is refused.

    The form carries the record's ``updated_at`` as it was when the page was opened (a
    hidden ``edit_token``). On save, ``clean`` compares it with the row's current value
    (one query): if someone saved in between, the form answers STALE_MESSAGE and nothing
    is written. The token is also handed to the instance, whose ``EditGuard`` (see
    schools/models.py) makes the UPDATE itself conditional on it, so two saves that pass
    ``clean`` at the same moment cannot both be written either.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["edit_token"] = forms.CharField(widget=forms.HiddenInput, required=False)
        if self.instance.pk is not None:
            self.initial["edit_token"] = edit_token(self.instance)

    def clean(self):
        from .models import STALE_MESSAGE

        data = super().clean()
        if self.instance.pk is None:
            return data
        try:
            posted = datetime.fromisoformat(self.data.get(self.add_prefix("edit_token"), ""))
        except ValueError:
            posted = None
        current = (
            type(self.instance)
            ._base_manager.filter(pk=self.instance.pk)
            .values_list("updated_at", flat=True)
            .first()
        )
        if posted is None or current != posted:
            raise ValidationError(STALE_MESSAGE, code="stale")
        self.instance._edit_token = posted
        return data


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
            "feeds_into",
        ]

    def __init__(self, *args, can_set_feeder: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if can_set_feeder:
            field = self.fields["feeds_into"]
            field.queryset = field.queryset.filter(district_id=self.instance.district_id).exclude(
                pk=self.instance.pk
            )
            field.empty_label = "None: they leave the district's records"
        else:  # the feeder pattern is the district admin's to set
            del self.fields["feeds_into"]

    def _update_errors(self, errors):
        # Without the feeder field (a principal), a grade change that breaks the school's
        # feeder is reported on the grades, without naming the other school.
        if "feeds_into" not in self.fields and "feeds_into" in getattr(errors, "error_dict", {}):
            del errors.error_dict["feeds_into"]
            errors.error_dict.setdefault("highest_grade", []).append(
                ValidationError(
                    "Students leaving this school's top grade move to the next school of the "
                    "district's feeder pattern, which does not teach the grade after it. Ask "
                    "the district admin to change the feeder pattern first."
                )
            )
        super()._update_errors(errors)


class DistrictSettingsForm(ModelForm):
    class Meta:
        model = District
        fields = [
            "name",
            "device_planning_ratio",
            "pd_hour_target",
            "survey_min_group",
            "time_zone",
            "date_order",
            "require_two_factor",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget = forms.Select(choices=time_zone_choices())
        # Left out of a post (an older form, a script), each keeps the district's value.
        for name in ("time_zone", "date_order"):
            self.fields[name].required = False

    def clean_time_zone(self):
        return self.cleaned_data["time_zone"] or self.instance.time_zone

    def clean_date_order(self):
        return self.cleaned_data["date_order"] or self.instance.date_order


class StaffMemberForm(EditTokenMixin, ModelForm):
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
