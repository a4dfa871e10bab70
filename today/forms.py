from django import forms

from schools.forms import Form

from .models import Kind


class NoticeSettingsForm(Form):
    receive = forms.MultipleChoiceField(
        label="E-mail me",
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick a kind to stop it; each such e-mail also has a link to stop it.",
    )
