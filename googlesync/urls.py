from django.urls import path

from . import views

app_name = "googlesync"

urlpatterns = [
    path("districts/<int:pk>/google/", views.connection, name="connection"),
    path("districts/<int:pk>/google/org-units/", views.org_units, name="org_units"),
    path("districts/<int:pk>/google/sync/", views.sync_now, name="sync_now"),
    path("districts/<int:pk>/google/reports/", views.reports, name="reports"),
    path("google/runs/<int:pk>/", views.run_detail, name="run"),
    path("devices/<int:pk>/google/<str:action>/", views.device_action, name="device_action"),
]
