"""Forms of the tech staff pages. Each only reads and validates; writes go through services."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms

from schools.forms import CrispyFormMixin, Form, ModelForm, ScopedFormMixin
from schools.models import School
from schools.permissions import schools_q
from schools.typeahead import typeahead
from schools.widgets import LongSelect

from ..permissions import can_handle_devices
from .filters import names_only
from .models import Circumstance, Device, DeviceModel, ReturnCondition, Student
from .services import BULK_MOVE, BULK_RETIRE


def no_tag_helper() -> FormHelper:
    """Crispy renders the fields; the template owns the <form> (htmx attributes, buttons)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def focus_first_error(form: forms.Form, default: str) -> None:
    """Put autofocus on the field to type into next: the first failing one, else ``default``.

    Browsers honour it on a full page, htmx on a swapped partial, so the focus lands on the
    failing field whether or not JavaScript runs.
    """
    target = next((name for name in form.fields if name in form.errors), default)
    for name, field in form.fields.items():
        if name == target:
            field.widget.attrs["autofocus"] = True
        else:
            field.widget.attrs.pop("autofocus", None)


def _device_at(school: School, asset_tag: str) -> Device:
    """The device with this tag at this school, through the scoped manager."""
    device = (
        Device.objects.filter(school=school, asset_tag__iexact=asset_tag)
        .select_related("model", "school")
        .first()
    )
    if device is None:
        raise forms.ValidationError(f"No device with asset tag {asset_tag} at this school.")
    return device


class DeskForm(Form):
    """A speed desk: a scanner types the asset tag and presses Enter."""

    asset_tag = forms.CharField(
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        self.device: Device | None = None
        self.helper = no_tag_helper()

    def clean_asset_tag(self) -> str:
        tag = self.cleaned_data["asset_tag"].strip()
        self.device = _device_at(self.school, tag)
        return self.device.asset_tag

    def full_clean(self):
        super().full_clean()
        if self.is_bound:
            self.refocus()

    def refocus(self) -> None:
        """Call again after adding an error from a service."""
        focus_first_error(self, "asset_tag")


class CheckOutForm(DeskForm):
    student_id = forms.CharField(
        label="Student ID",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.student: Student | None = None
        self.fields["asset_tag"].widget.attrs.update(
            {"autofocus": True, "data-desk-next": "id_student_id"}
        )

    def clean_student_id(self) -> str:
        local_id = self.cleaned_data["student_id"].strip()
        self.student = Student.objects.filter(school=self.school, local_id__iexact=local_id).first()
        if self.student is None:
            elsewhere = (
                Student.objects.filter(local_id__iexact=local_id).select_related("school").first()
            )
            if elsewhere is not None:
                raise forms.ValidationError(
                    f"Student {elsewhere.local_id} is enrolled at {elsewhere.school}, "
                    "not at this school."
                )
            raise forms.ValidationError(f"No student with ID {local_id} at this school.")
        return self.student.local_id


class CheckInForm(DeskForm):
    condition = forms.ChoiceField(
        label="Condition",
        choices=ReturnCondition.choices,
        initial=ReturnCondition.GOOD,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset_tag"].widget.attrs["autofocus"] = True

    def clean_condition(self) -> str:
        return self.cleaned_data["condition"] or ReturnCondition.GOOD


class AuditScanForm(Form):
    asset_tag = forms.CharField(
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = no_tag_helper()

    def clean_asset_tag(self) -> str:
        return self.cleaned_data["asset_tag"].strip()


# --- device actions (device page) ---------------------------------------------------


class _ActionForm(CrispyFormMixin, Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReportLostForm(_ActionForm):
    submit_label = "Report lost"
    circumstance = forms.ChoiceField(
        label="What happened",
        choices=[
            ("", "Choose…"),
            (Circumstance.LEFT_ON_TRANSIT, Circumstance.LEFT_ON_TRANSIT.label),
            (Circumstance.DAMAGED, Circumstance.DAMAGED.label),
            (Circumstance.OTHER, Circumstance.OTHER.label),
        ],
    )
    place = forms.CharField(label="Where", max_length=200, required=False)
    field_order = ["circumstance", "place", "note"]


class ReportStolenForm(_ActionForm):
    submit_label = "Report stolen"
    place = forms.CharField(label="Where", max_length=200, required=False)
    field_order = ["place", "note"]


class SendToRepairForm(_ActionForm):
    submit_label = "Send to repair"


class BackFromRepairForm(_ActionForm):
    submit_label = "Back from repair"


class RecoveredForm(_ActionForm):
    submit_label = "Mark recovered"


class RetireForm(_ActionForm):
    submit_label = "Retire"


# --- bulk actions (inventory list) ---------------------------------------------------


class IdListField(forms.Field):
    """The ids of the ticked rows. Any integers pass here: the view resolves them through
    the scoped manager and refuses the whole action if one of them does not resolve."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one device.",
        "invalid": "The selection could not be read; select the devices again.",
    }

    def to_python(self, value) -> list[int]:
        try:
            return sorted({int(v) for v in value or ()})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class BulkForm(ScopedFormMixin, Form):
    MOVE, RETIRE = BULK_MOVE, BULK_RETIRE
    # Its fields share the inventory page with the filters (which also have a "school").
    prefix = "bulk"

    ids = IdListField()
    action = forms.ChoiceField(
        label="Action",
        choices=[("", "Choose…"), (MOVE, "Move to school"), (RETIRE, "Retire")],
    )
    school = forms.ModelChoiceField(
        label="To school",
        queryset=School.objects.all(),
        required=False,
        empty_label="Choose…",
        widget=LongSelect,  # a district admin may move devices to any of 1,800 schools
    )
    note = forms.CharField(label="Note (for retiring)", max_length=500, required=False)

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        # Scoped by the mixin; narrowed to the schools where the user may act, a district
        # held whole named as the district (schools_q), never listed.
        field = self.fields["school"]
        field.queryset = field.queryset.filter(schools_q(access, can_handle_devices))
        names_only(field)
        typeahead(field)  # a district admin may move devices to any of 1,800 schools

    def clean(self):
        data = super().clean()
        if data.get("action") == self.MOVE and not data.get("school"):
            self.add_error("school", "Choose the school to move the devices to.")
        return data


# --- catalog and inventory -----------------------------------------------------------


class DeviceForm(ModelForm):
    submit_label = "Add device"

    class Meta:
        model = Device
        fields = [
            "asset_tag",
            "serial_number",
            "model",
            "purchase_date",
            "funding_source",
            "notes",
        ]
        widgets = {
            "purchase_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school
        self.instance.district_id = school.district_id
        self.fields["model"].queryset = self.fields["model"].queryset.filter(
            district_id=school.district_id
        )
        self.fields["model"].help_text = "The district's catalog of makes and models."


class DeviceModelForm(ModelForm):
    submit_label = "Add model"

    class Meta:
        model = DeviceModel
        fields = [
            "maker",
            "name",
            "kind",
            "touchscreen",
            "unit_price",
            "auto_update_expiration",
        ]
        widgets = {"auto_update_expiration": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.district = district

    def clean(self):
        data = super().clean()
        maker, name = data.get("maker", "").strip(), data.get("name", "").strip()
        if (
            maker
            and name
            and DeviceModel.objects.filter(
                district=self.instance.district, maker__iexact=maker, name__iexact=name
            ).exists()
        ):
            self.add_error("name", f"{maker} {name} is already in the catalog.")
        return data
