from django.apps import AppConfig


class SoftwareConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "software"
    verbose_name = "Apps and data-privacy agreements"
