from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as BasePasswordResetForm

from core import queue
from identity.selectors import passwords_refused
from schools.forms import CrispyFormMixin, Form, InputRulesMixin
from schools.models import Role, School
from schools.typeahead import typeahead


class LoginForm(InputRulesMixin, AuthenticationForm):
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if passwords_refused(user):
            raise forms.ValidationError(
                "Your district signs in through its own accounts, not a Pillarwise password. "
                "Use “Sign in with your district account” below.",
                code="sso_only",
            )


class PasswordResetForm(InputRulesMixin, BasePasswordResetForm):
    """Queue the e-mail instead of sending it in the request.

    The request then does the same work whether the address is known or not (no account
    lookup, no SMTP conversation), so its answer and its timing tell nothing; the task looks
    the address up and sends the link (accounts.tasks.send_password_reset).
    """

    def save(self, **kwargs) -> None:
        from .tasks import send_password_reset

        queue.enqueue(send_password_reset, self.cleaned_data["email"])


class InviteForm(CrispyFormMixin, Form):
    submit_label = "Send invitation"

    email = forms.EmailField(label="E-mail address")
    full_name = forms.CharField(label="Full name", max_length=200)
    role = forms.ChoiceField(choices=Role.choices)
    school = forms.ModelChoiceField(
        queryset=School.objects.none(),
        required=False,
        empty_label="Whole district",
        help_text="Leave empty for a role across every school of the district.",
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(district=district)
        typeahead(self.fields["school"])  # one of the district's 1,800 schools

    def clean(self):
        data = super().clean()
        role, school = data.get("role"), data.get("school")
        if role == Role.DISTRICT_ADMIN and school:
            self.add_error("school", "A district admin serves the whole district.")
        if role == Role.PRINCIPAL and not school and "school" not in self.errors:
            self.add_error("school", "Choose the school this principal leads.")
        return data


class TokenForm(CrispyFormMixin, Form):
    """A code from the authenticator app (or, at sign-in, a recovery code)."""

    submit_label = "Continue"

    token = forms.CharField(
        label="Code",
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args, check, error, **kwargs):
        super().__init__(*args, **kwargs)
        self._check = check
        self._error = error
        self.result = None

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "").strip()
        self.result = self._check(token)
        if not self.result:
            raise forms.ValidationError(self._error)
        return token
