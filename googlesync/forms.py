from django import forms

from schools.forms import CrispyFormMixin, Form
from schools.models import School
from schools.typeahead import typeahead

from .models import GoogleConnection

KEY_FILE_LIMIT = 64 * 1024  # a service-account key file is about 2.4 KB


def _field(name: str, **overrides):
    return GoogleConnection._meta.get_field(name).formfield(**overrides)


class ConnectionForm(CrispyFormMixin, Form):
    submit_label = "Save the connection"
    key_file = forms.FileField(
        label="Service-account key (JSON)",
        required=False,
        help_text="Stored encrypted and never shown again. Leave empty to keep the key in use.",
    )
    admin_email = _field("admin_email")
    customer_id = _field("customer_id")
    org_unit_root = _field("org_unit_root")
    default_school = forms.ModelChoiceField(
        queryset=School.objects.none(),
        required=False,
        empty_label="None: list such devices instead of adding them",
        help_text=GoogleConnection._meta.get_field("default_school").help_text,
    )
    lost_message = _field("lost_message", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["default_school"]
        field.queryset = School.objects.filter(district=district)
        typeahead(field)  # one of the district's 1,800 schools: never a select
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}

    def clean_key_file(self) -> str:
        upload = self.cleaned_data.get("key_file")
        if not upload:
            return ""
        if upload.size > KEY_FILE_LIMIT:
            raise forms.ValidationError("A key file is a few kilobytes; this file is too large.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("This is not a JSON key file.") from None


class OrgUnitForm(CrispyFormMixin, Form):
    submit_label = "Save the mapping"
    path = forms.CharField(
        label="Org unit path",
        max_length=400,
        help_text="As Google Admin shows it, e.g. /Students/Maple. The org units below it follow.",
    )
    school = forms.ModelChoiceField(
        queryset=School.objects.none(), required=False, empty_label="Unmapped"
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, prefix="ou", **kwargs)
        field = self.fields["school"]
        field.queryset = School.objects.filter(district=district)
        typeahead(field)  # one of the district's 1,800 schools: never a select
        field.help_text = "Leave empty to leave the org unit unmapped."

    def clean_path(self) -> str:
        path = self.cleaned_data["path"].strip()
        if not path.startswith("/"):
            raise forms.ValidationError("An org unit path starts with / (the top is /).")
        return path


class WriteBackForm(CrispyFormMixin, Form):
    submit_label = "Write to Google"
    location = forms.CharField(
        label="Location in Google",
        max_length=200,
        required=False,
        help_text="Written to the device's annotated location, with the asset tag.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="google", **kwargs)
