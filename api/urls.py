from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import pages, views

app_name = "api"

router = SimpleRouter()
router.register("schools", views.SchoolViewSet, basename="school")
router.register("device-models", views.DeviceModelViewSet, basename="device_model")
router.register("devices", views.DeviceViewSet, basename="device")
router.register("students", views.StudentViewSet, basename="student")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("device-events", views.DeviceEventViewSet, basename="device_event")
router.register("pd-sessions", views.PDSessionViewSet, basename="pd_session")
router.register("surveys", views.SurveyViewSet, basename="survey")
router.register("initiatives", views.InitiativeViewSet, basename="initiative")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", pages.docs, name="docs"),
    path("accounts/api-tokens/", pages.tokens, name="tokens"),
]
