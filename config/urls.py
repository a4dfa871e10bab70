from django.contrib import admin
from django.urls import include, path

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("today.urls")),
    path("", include("accounts.urls")),
    path("", include("identity.urls")),
    path("sso/", include("identity.sso_urls")),
    path("", include("schools.urls")),
    path("", include("equity.urls")),
    path("", include("pd.urls")),
    path("", include("stakeholders.urls")),
    path("", include("initiatives.urls")),
    path("", include("readiness.urls")),
    path("", include("audit.urls")),
    path("", include("api.urls")),
    path("", include("googlesync.urls")),
    path("", include("software.urls")),
    path("", include("rostering.urls")),
]

handler404 = "config.errors.not_found"
handler403 = "config.errors.forbidden"
handler500 = "config.errors.server_error"
