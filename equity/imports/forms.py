from django import forms

from schools.forms import CrispyFormMixin, Form

from .readers import GOOGLE_ADMIN, PILLARWISE

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

FORMAT_CHOICES = [
    ("", "Detect from the header row"),
    (PILLARWISE, "Pillarwise columns (asset_tag, serial_number, model, …)"),
    (GOOGLE_ADMIN, "Google Admin console or GAM Chrome device export"),
]


class ImportForm(CrispyFormMixin, Form):
    submit_label = "Check and import"

    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 or Windows-1252, comma- or semicolon-separated, up to 50 MB.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )
    format = forms.ChoiceField(label="Columns", choices=FORMAT_CHOICES, required=False)
    dry_run = forms.BooleanField(
        label="Dry run: check only",
        required=False,
        help_text="Check every row and report what would change; write nothing.",
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == "students":
            del self.fields["format"]
        self.helper.attrs = {"novalidate": ""}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB; split it in parts.")
        return upload
