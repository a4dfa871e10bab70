from django.apps import AppConfig


class GooglesyncConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "googlesync"
    verbose_name = "Google Admin sync"

    def ready(self):
        from equity.inventory.signals import device_page_panels

        from .views import device_panel

        device_page_panels.connect(device_panel, dispatch_uid="googlesync.device_panel")
