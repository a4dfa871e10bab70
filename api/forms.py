from django import forms

from schools.forms import Form

from .services import DEFAULT_DAYS, MAX_DAYS


class TokenForm(Form):
    name = forms.CharField(
        max_length=100, help_text="What it is for, so you know which one to revoke later."
    )
    access = forms.ChoiceField(
        choices=[("read", "Read only"), ("write", "Read and write")],
        initial="read",
        widget=forms.RadioSelect,
        help_text="A read-only token cannot check devices in or out, whatever your role.",
    )
    days = forms.IntegerField(
        label="Lasts (days)", min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS
    )


class RevokeForm(Form):
    token = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the person's own tokens: another's id is an error on the field.
        self.fields["token"].queryset = user.api_tokens.filter(revoked_at__isnull=True)
