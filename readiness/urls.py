from django.urls import path

from . import views

app_name = "readiness"

urlpatterns = [
    path("readiness/", views.index, name="index"),
    path("readiness/schools/<int:pk>/", views.school_page, name="school"),
    path("readiness/schools/<int:pk>/status/", views.school_status, name="school_status"),
    path("readiness/schools/<int:pk>/recompute/", views.school_recompute, name="school_recompute"),
    path("readiness/districts/<int:pk>/", views.district_page, name="district"),
    path("readiness/districts/<int:pk>/targets/", views.targets, name="targets"),
    path(
        "readiness/districts/<int:pk>/recompute/",
        views.district_recompute,
        name="district_recompute",
    ),
]
