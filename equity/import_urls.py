from django.urls import path

from . import import_views

urlpatterns = [
    path(
        "schools/<int:pk>/devices/import/",
        import_views.import_devices,
        name="import_devices",
    ),
    path(
        "schools/<int:pk>/students/import/",
        import_views.import_students,
        name="import_students",
    ),
    path("imports/<int:pk>/", import_views.import_job, name="import_job"),
    path("imports/<int:pk>/errors.csv", import_views.import_job_errors, name="import_job_errors"),
]
