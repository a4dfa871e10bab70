from django import forms
from django.contrib.auth.forms import AuthenticationForm

from schools.forms import CrispyFormMixin
from schools.models import Role, School


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class InviteForm(CrispyFormMixin, forms.Form):
    submit_label = "Send invitation"

    email = forms.EmailField(label="E-mail address")
    full_name = forms.CharField(label="Full name", max_length=200)
    role = forms.ChoiceField(choices=Role.choices)
    school = forms.ModelChoiceField(
        queryset=School.objects.none(),
        required=False,
        empty_label="Whole district",
        help_text="Leave as “Whole district” for a role across every school.",
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(district=district)

    def clean(self):
        data = super().clean()
        role, school = data.get("role"), data.get("school")
        if role == Role.DISTRICT_ADMIN and school:
            self.add_error("school", "A district admin serves the whole district.")
        if role == Role.PRINCIPAL and not school and "school" not in self.errors:
            self.add_error("school", "Choose the school this principal leads.")
        return data
