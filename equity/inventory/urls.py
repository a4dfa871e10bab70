from django.urls import path

from . import views

urlpatterns = [
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
    path("schools/<int:pk>/losses/", views.school_losses, name="school_losses"),
    path("districts/<int:pk>/losses/", views.district_losses, name="district_losses"),
    path("districts/<int:pk>/device-models/", views.device_models, name="device_models"),
    path(
        "districts/<int:pk>/device-models/add/",
        views.device_model_add,
        name="device_model_add",
    ),
]
