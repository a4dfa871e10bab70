from django import forms

from schools.forms import Form, ModelForm

from .models import RosterSource, SourceKind

MAX_BUNDLE = 200 * 1024 * 1024  # a larger bundle goes on the server's path, read at night


class SourceForm(ModelForm):
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the one set.",
    )

    class Meta:
        model = RosterSource
        fields = [
            "kind",
            "base_url",
            "token_url",
            "client_id",
            "bundle_path",
            "student_key",
            "touch_codes",
            "error_threshold",
            "nightly",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["kind"]
        if not self.instance.approved_at:
            del self.fields["nightly"]  # turned on by applying the first preview


class BundleForm(Form):
    bundle = forms.FileField(
        label="OneRoster CSV bundle (.zip)",
        required=False,
        help_text="Empty: the bundle on the source's path is read.",
    )
    apply = forms.BooleanField(
        label="Apply it now (uncheck for a preview only)",
        required=False,
        help_text="The bundle is read again, compared and applied in one go. The first "
        "time, look at a preview first.",
    )

    def clean_bundle(self):
        upload = self.cleaned_data.get("bundle")
        if upload and upload.size > MAX_BUNDLE:
            raise forms.ValidationError("The bundle is over 200 MB; drop it on the source's path.")
        return upload


KIND_CHOICES = SourceKind.choices
