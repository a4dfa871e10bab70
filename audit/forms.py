from django import forms

from core.models import Kind
from schools.forms import CrispyFormMixin, Form, ModelForm

from .models import Retention


class AuditFilterForm(CrispyFormMixin, Form):
    """Narrow the log by kind and dates (GET, so a filtered page can be bookmarked)."""

    submit_label = "Filter"

    kind = forms.ChoiceField(choices=[("", "Every kind"), *Kind.choices], required=False)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_method = "get"

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date comes before the start date.")
        return data

    def apply(self, events):
        data = self.cleaned_data
        if data.get("kind"):
            events = events.filter(kind=data["kind"])
        if data.get("since"):
            events = events.filter(at__date__gte=data["since"])
        if data.get("until"):
            events = events.filter(at__date__lte=data["until"])
        return events


class RetentionForm(ModelForm):
    class Meta:
        model = Retention
        fields = ["years_after_leaving"]
