from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("districts/<int:pk>/audit/", views.log, name="log"),
    path("districts/<int:pk>/privacy/", views.privacy, name="privacy"),
]
