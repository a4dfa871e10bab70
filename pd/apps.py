from django.apps import AppConfig


class PdConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pd"
    verbose_name = "Professional development"
