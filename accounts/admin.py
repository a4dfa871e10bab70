from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm

from schools.forms import ModelForm

from .models import User
from .services import account_switch_refusal


class UserChangeForm(ModelForm, BaseUserChangeForm):
    """The admin's user form, held to the one rule for switching an account on or off."""

    by: User | None = None  # the signed-in superuser, set per request by UserAdmin.get_form

    def clean(self):
        data = super().clean()
        if self.instance.pk and "is_active" in self.changed_data:
            refusal = account_switch_refusal(
                user=self.instance, by=self.by, district=None, active=bool(data.get("is_active"))
            )
            if refusal:
                self.add_error("is_active", refusal)
        return data


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_superuser", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if change:
            form = type(form.__name__, (form,), {"by": request.user})
        return form

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data:
            # Switched by a site superuser: only a superuser may switch it on again.
            obj.switched_off_in = None
        super().save_model(request, obj, form, change)
