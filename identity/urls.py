from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("accounts/login/district/", views.start, name="start"),
    path("districts/<int:pk>/sign-in/", views.sign_in_settings, name="settings"),
    path("districts/<int:pk>/sign-in/providers/new/", views.provider_new, name="provider_new"),
    path("sign-in/providers/<int:pk>/", views.provider_edit, name="provider_edit"),
    path("sign-in/providers/<int:pk>/delete/", views.provider_delete, name="provider_delete"),
]
