"""The ``equity:`` namespace: the three packages' pages under one app (names unchanged)."""

from django.urls import include, path

app_name = "equity"

urlpatterns = [
    path("", include("equity.imports.urls")),
    path("", include("equity.inventory.urls")),
    path("", include("equity.year.urls")),
]
