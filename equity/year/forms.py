"""Forms of the device year's pages. They read and tidy input; the services hold the rules."""

from __future__ import annotations

from django import forms

from equity.inventory.forms import focus_first_error, no_tag_helper
from equity.inventory.models import DeviceModel, ReturnCondition
from schools.forms import CrispyFormMixin, Form, ModelForm
from schools.models import Grade, School

from .models import ChargeStatus, DamageKind, Signer, StationEvent, StationKind

_SCAN = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}


class _StationForm(Form):
    first_field = "asset_tag"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = no_tag_helper()
        focus_first_error(self, self.first_field)

    def full_clean(self):
        super().full_clean()
        if self.is_bound:
            self.refocus()

    def refocus(self) -> None:
        """Call again after adding an error from a service."""
        focus_first_error(self, self.first_field)


class HandoutScanForm(_StationForm):
    """Student ID, Enter, asset tag, Enter: a USB scanner types each and presses Enter."""

    first_field = "student_id"
    student_id = forms.CharField(
        label="Student ID",
        max_length=40,
        widget=forms.TextInput(attrs={**_SCAN, "data-desk-next": "id_asset_tag"}),
    )
    asset_tag = forms.CharField(max_length=64, widget=forms.TextInput(attrs=_SCAN))


class CollectionScanForm(_StationForm):
    """Condition first (it stays Good unless changed), then the tag and Enter."""

    condition = forms.ChoiceField(
        choices=ReturnCondition.choices, initial=ReturnCondition.GOOD, required=False
    )
    damage_kind = forms.ChoiceField(
        label="Kind of damage",
        required=False,
        choices=[("", "—")]
        + [
            (k.value, k.label)
            for k in (DamageKind.SCREEN, DamageKind.KEYBOARD, DamageKind.OTHER_DAMAGE)
        ],
    )
    charger_missing = forms.BooleanField(label="Charger missing", required=False)
    note = forms.CharField(label="Note (required when damaged)", max_length=300, required=False)
    asset_tag = forms.CharField(max_length=64, widget=forms.TextInput(attrs=_SCAN))

    def clean_condition(self) -> str:
        return self.cleaned_data["condition"] or ReturnCondition.GOOD


class StationEventForm(ModelForm):
    submit_label = "Create"
    grades = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        choices=Grade.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for every grade of the school.",
    )

    class Meta:
        model = StationEvent
        fields = ["kind", "name", "day", "grades"]
        widgets = {"day": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school
        self.fields["grades"].choices = [
            (g.value, g.label)
            for g in Grade
            if school.lowest_grade <= g.value <= school.highest_grade
        ]
        self.fields["kind"].choices = StationKind.choices


class SignatureForm(CrispyFormMixin, Form):
    submit_label = "Save the signature"
    signer = forms.ChoiceField(label="Who signs", choices=Signer.choices, widget=forms.RadioSelect)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)


class LinkAcceptForm(CrispyFormMixin, Form):
    submit_label = "I accept the agreement"
    signer = forms.ChoiceField(label="I am the", choices=Signer.choices, widget=forms.RadioSelect)
    read = forms.BooleanField(label="I have read the agreement above and accept it.")


class ChargeForm(CrispyFormMixin, Form):
    submit_label = "Add the charge"
    asset_tag = forms.CharField(max_length=64)
    student_id = forms.CharField(label="Student ID", max_length=40)
    kind = forms.ChoiceField(label="For", choices=DamageKind.choices)
    note = forms.CharField(max_length=300, required=False)


class ChargeResolveForm(Form):
    status = forms.ChoiceField(
        choices=[(ChargeStatus.PAID, "Paid"), (ChargeStatus.WAIVED, "Waived")]
    )
    note = forms.CharField(max_length=300, required=False)


class RolloverForm(CrispyFormMixin, Form):
    submit_label = "Check the rollover"
    leavers = forms.FileField(
        label="Leavers (CSV)",
        required=False,
        help_text="Columns student_id, reason (graduated, transferred or withdrawn). "
        "Students in the top grade of a school with no next school leave without being listed.",
    )
    confirm = forms.BooleanField(
        label="Run it for real (leave unticked to only see what would change)", required=False
    )

    def clean_leavers(self) -> str:
        upload = self.cleaned_data.get("leavers")
        if not upload:
            return ""
        if upload.size > 5_000_000:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("Save the file as UTF-8 CSV and upload it again.") from None


class AgreementForm(CrispyFormMixin, Form):
    submit_label = "Publish as a new version"
    title = forms.CharField(max_length=200, initial="Student device agreement")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}))


class PriceForm(CrispyFormMixin, Form):
    submit_label = "Save the price"
    kind = forms.ChoiceField(label="For", choices=DamageKind.choices)
    device_model = forms.ModelChoiceField(
        label="Model",
        queryset=DeviceModel.objects.none(),
        required=False,
        empty_label="Every model without its own price",
    )
    amount = forms.DecimalField(max_digits=8, decimal_places=2, min_value=0)

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, prefix="price", **kwargs)
        self.fields["device_model"].queryset = DeviceModel.objects.filter(district=district)
