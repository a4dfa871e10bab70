from django.urls import path

from . import views

urlpatterns = [
    path("schools/<int:pk>/device-days/", views.station_events, name="station_events"),
    path("device-days/<int:pk>/handout/", views.handout_station, name="handout_station"),
    path(
        "device-days/<int:pk>/collection/",
        views.collection_station,
        name="collection_station",
    ),
    path(
        "assignments/<int:pk>/agreement/",
        views.assignment_acceptance,
        name="assignment_acceptance",
    ),
    path(
        "assignments/<int:pk>/agreement/signature.png",
        views.acceptance_signature,
        name="acceptance_signature",
    ),
    path(
        "assignments/<int:pk>/agreement/print/",
        views.acceptance_print,
        name="acceptance_print",
    ),
    path("agreement/<str:token>/", views.accept, name="accept"),
    path("schools/<int:pk>/charges/", views.charges, name="charges"),
    path("charges/<int:pk>/resolve/", views.charge_resolve, name="charge_resolve"),
    path("districts/<int:pk>/rollover/", views.rollover, name="rollover"),
    path(
        "districts/<int:pk>/agreement-and-prices/",
        views.year_settings,
        name="year_settings",
    ),
]
