from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "schools"
    verbose_name = "Schools"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import lookups

        lookups.register()
        # Every app's capabilities (``<app>/permissions.py``) join schools.permissions'
        # registry, so a template or an indicator can ask one by name.
        autodiscover_modules("permissions")
        # The lists a type-ahead searches (schools/typeahead.py); apps above add theirs.
        from .models import School, StaffMember
        from .typeahead import searchable

        searchable(School, "name", school_path="pk")
        searchable(StaffMember, "full_name", school_path="school")
