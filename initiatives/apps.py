from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "initiatives"
    verbose_name = "Initiatives"

    def ready(self):
        from schools.typeahead import searchable

        from . import signals
        from .models import Initiative

        signals.connect()
        searchable(Initiative, "title", school_path="schools")  # a type-ahead choice of initiatives
