"""django-allauth's URLs for the two protocols, mounted at /sso/ without a namespace.

Only what social sign-in needs: the OpenID Connect and SAML endpoints and the two pages
allauth sends a cancelled or failed sign-in to (ours, in the site's layout). allauth's own
account pages (sign-up, e-mail management, its password views) are not mounted: the
accounts app keeps those jobs.
"""

from functools import wraps

from allauth.socialaccount.providers.saml import views as saml
from django.urls import include, path
from django.views.generic import TemplateView


def _with_host(view):
    """allauth's SAML views read META["HTTP_HOST"] directly: a request without a Host header
    (HTTP/1.0) answered 500. Django's own get_host (ALLOWED_HOSTS checked) fills it in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.META.setdefault("HTTP_HOST", request.get_host())
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = [
    path("", include("allauth.socialaccount.providers.openid_connect.urls")),  # oidc/<id>/
    path("saml/<str:organization_slug>/acs/", _with_host(saml.acs), name="saml_acs"),
    path(
        "saml/<str:organization_slug>/acs/finish/",
        _with_host(saml.finish_acs),
        name="saml_finish_acs",
    ),
    path("saml/<str:organization_slug>/sls/", _with_host(saml.sls), name="saml_sls"),
    path(
        "saml/<str:organization_slug>/metadata/",
        _with_host(saml.metadata),
        name="saml_metadata",
    ),
    path("saml/<str:organization_slug>/login/", _with_host(saml.login), name="saml_login"),
    path(
        "login/cancelled/",
        TemplateView.as_view(template_name="socialaccount/login_cancelled.html"),
        name="socialaccount_login_cancelled",
    ),
    path(
        "login/error/",
        TemplateView.as_view(template_name="socialaccount/authentication_error.html"),
        name="socialaccount_login_error",
    ),
]
