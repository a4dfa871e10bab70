from django.urls import path

from . import views

urlpatterns = [
    path(
        "schools/<int:pk>/devices/import/",
        views.import_devices,
        name="import_devices",
    ),
    path(
        "schools/<int:pk>/students/import/",
        views.import_students,
        name="import_students",
    ),
    path("imports/<int:pk>/", views.import_job, name="import_job"),
    path("imports/<int:pk>/errors.csv", views.import_job_errors, name="import_job_errors"),
]
