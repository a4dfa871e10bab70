from django.urls import path

from . import views

app_name = "rostering"

urlpatterns = [
    path("districts/<int:pk>/rosters/", views.district_sources, name="district"),
    path("districts/<int:pk>/rosters/add/", views.source_add, name="source_add"),
    path("rosters/sources/<int:pk>/", views.source_detail, name="source"),
    path("rosters/sources/<int:pk>/run/", views.source_run, name="source_run"),
    path("rosters/runs/<int:pk>/", views.run_detail, name="run"),
    path("rosters/runs/<int:pk>/apply/", views.run_apply, name="run_apply"),
]
