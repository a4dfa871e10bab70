from django.urls import path

from . import public_views, views

app_name = "software"

urlpatterns = [
    path("apps/", views.app_list, name="app_list"),
    path("apps/<int:pk>/", views.app_detail, name="app_detail"),
    path("apps/<int:pk>/edit/", views.app_edit, name="app_edit"),
    path("apps/<int:pk>/decide/", views.app_decide, name="app_decide"),
    path("apps/district/<int:pk>/new/", views.app_create, name="app_create"),
    path("apps/district/<int:pk>/import/", views.app_import, name="app_import"),
    path("apps/district/<int:pk>/export.csv", views.app_export, name="app_export"),
    path("apps/district/<int:pk>/steps/", views.step_list, name="step_list"),
    path("apps/steps/<int:pk>/", views.step_edit, name="step_edit"),
    path("apps/requests/", views.request_list, name="request_list"),
    path("apps/requests/new/", views.request_new, name="request_new"),
    path("apps/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("apps/requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    # Public: families and teachers without an account.
    path("districts/<slug:slug>/apps/", public_views.public_register, name="public_register"),
    path("districts/<slug:slug>/apps/request/", public_views.public_request, name="public_request"),
    path(
        "districts/<slug:slug>/apps/requests/<str:token>/",
        public_views.public_request_status,
        name="public_request_status",
    ),
]
