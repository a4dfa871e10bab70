from __future__ import annotations

from django import forms

from schools.forms import EditTokenMixin, Form, ModelForm
from schools.typeahead import typeahead

from .models import App, DataCategory, Decision, Outcome, ReviewStep

DATE = forms.DateInput(attrs={"type": "date"})


class AppFieldsForm(ModelForm):
    """The fields of a register entry, as the page and the CSV import check them."""

    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    dpa_url = forms.URLField(
        label="Link to the agreement",
        required=False,
        assume_scheme="https",
        help_text="Shown to families on the public page.",
    )
    accessibility_url = forms.URLField(
        label="Accessibility conformance report (VPAT/ACR)", required=False, assume_scheme="https"
    )
    data_collected = forms.MultipleChoiceField(
        label="Student data it collects",
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Every kind of student data the vendor receives or stores.",
    )
    submit_label = "Save app"

    class Meta:
        model = App
        fields = [
            "name",
            "vendor",
            "website",
            "purpose",
            "grades",
            "subjects",
            "data_collected",
            "district_sign_in",
            "coppa_consent",
            "dpa_status",
            "dpa_signed_on",
            "dpa_expires_on",
            "dpa_url",
            "dpa_standard",
            "accessibility_url",
            "wcag_level",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "dpa_signed_on": DATE,
            "dpa_expires_on": DATE,
        }

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.district = district


class AppForm(EditTokenMixin, AppFieldsForm):
    """A register entry as reviewers keep it (the decision has its own form)."""

    class Meta(AppFieldsForm.Meta):
        pass


class DecisionForm(Form):
    decision = forms.ChoiceField(
        choices=[(v, label) for v, label in Decision.choices if v != Decision.IN_REVIEW],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    conditions = forms.CharField(
        label="Conditions (when approved with conditions)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class RequestFields(Form):
    name = forms.CharField(label="App name", max_length=120)
    vendor = forms.CharField(label="Vendor", max_length=120, required=False)
    website = forms.URLField(label="Website", required=False, max_length=200, assume_scheme="https")
    why = forms.CharField(
        label="The learning it serves",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text="Which students, which goal, and why the apps already approved do not serve it.",
    )


class RequestForm(RequestFields):
    """A signed-in person's request; ``schools`` are those they may request for."""

    school = forms.ModelChoiceField(queryset=None, required=False, label="For school")

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        typeahead(self.fields["school"])


class PublicRequestForm(RequestFields):
    """A teacher's request, from the e-mail address on their school's staff roster."""

    email = forms.EmailField(
        label="Your school e-mail address",
        max_length=254,
        help_text="The address on your school's staff roster: the link to your request is "
        "sent there.",
    )

    field_order = ["email", "name", "vendor", "website", "why"]


class ReviewForm(Form):
    outcome = forms.ChoiceField(choices=Outcome.choices, label="What to record")
    step = forms.ModelChoiceField(queryset=None, required=False)
    text = forms.CharField(
        label="Comment", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].queryset = steps


class StepForm(ModelForm):
    submit_label = "Save step"

    class Meta:
        model = ReviewStep
        fields = ["name", "guidance", "position"]

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.district = district


class RegisterFilterForm(Form):
    """The register's search box and filters (GET)."""

    q = forms.CharField(label="Search by name or vendor", required=False, max_length=100)
    decision = forms.ChoiceField(
        choices=[("", "Any decision"), *Decision.choices], required=False, label="Decision"
    )
    dpa = forms.ChoiceField(
        label="Agreement",
        required=False,
        choices=[
            ("", "Any agreement"),
            ("current", "Signed and current"),
            ("expiring", "Expiring within 60 days or expired"),
            ("missing", "No signed agreement"),
        ],
    )


class ImportForm(Form):
    file = forms.FileField(label="CSV file of the register", help_text="UTF-8, with a header row.")
