from django.apps import AppConfig


class PdConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pd"
    verbose_name = "Professional development"

    def ready(self):
        from schools.typeahead import searchable_by

        from .forms import facilitator_label, find_facilitators

        searchable_by("pd.facilitator", find=find_facilitators, label_of=facilitator_label)
