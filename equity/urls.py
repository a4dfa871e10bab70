from django.urls import path

from . import import_urls, views, views_year

app_name = "equity"

urlpatterns = [
    *import_urls.urlpatterns,
    path("devices/", views.inventory, name="inventory"),
    path("devices/bulk/", views.devices_bulk, name="devices_bulk"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/<str:action>/", views.device_action, name="device_action"),
    path("schools/<int:pk>/checkout/", views.checkout, name="checkout"),
    path("schools/<int:pk>/checkin/", views.checkin, name="checkin"),
    path("schools/<int:pk>/audit/", views.audit, name="audit"),
    path("schools/<int:pk>/devices/add/", views.device_add, name="device_add"),
    path("schools/<int:pk>/coverage/", views.coverage, name="coverage"),
    path("districts/<int:pk>/coverage/", views.district_coverage, name="district_coverage"),
    path("districts/<int:pk>/device-models/", views.device_models, name="device_models"),
    path(
        "districts/<int:pk>/device-models/add/",
        views.device_model_add,
        name="device_model_add",
    ),
    # The device year (equity/views_year.py).
    path("schools/<int:pk>/device-days/", views_year.station_events, name="station_events"),
    path("device-days/<int:pk>/handout/", views_year.handout_station, name="handout_station"),
    path(
        "device-days/<int:pk>/collection/",
        views_year.collection_station,
        name="collection_station",
    ),
    path(
        "assignments/<int:pk>/agreement/",
        views_year.assignment_acceptance,
        name="assignment_acceptance",
    ),
    path(
        "assignments/<int:pk>/agreement/signature.png",
        views_year.acceptance_signature,
        name="acceptance_signature",
    ),
    path(
        "assignments/<int:pk>/agreement/print/",
        views_year.acceptance_print,
        name="acceptance_print",
    ),
    path("agreement/<str:token>/", views_year.accept, name="accept"),
    path("schools/<int:pk>/charges/", views_year.charges, name="charges"),
    path("charges/<int:pk>/resolve/", views_year.charge_resolve, name="charge_resolve"),
    path("districts/<int:pk>/rollover/", views_year.rollover, name="rollover"),
    path(
        "districts/<int:pk>/agreement-and-prices/",
        views_year.year_settings,
        name="year_settings",
    ),
]
