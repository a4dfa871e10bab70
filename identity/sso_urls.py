"""django-allauth's URLs for the two protocols, mounted at /sso/ without a namespace.

Only what social sign-in needs: the OpenID Connect and SAML endpoints and the two pages
allauth sends a cancelled or failed sign-in to (ours, in the site's layout). allauth's own
account pages (sign-up, e-mail management, its password views) are not mounted: the
accounts app keeps those jobs.
"""

from functools import wraps

from allauth.socialaccount.providers.openid_connect import views as oidc
from allauth.socialaccount.providers.saml import views as saml
from django.urls import path
from django.views.generic import TemplateView

from schools.scoping import outside_scope

from .models import Provider
from .selectors import sign_in_origins


def _with_host(view):
    """allauth's SAML views read META["HTTP_HOST"] directly: a request without a Host header
    (HTTP/1.0) answered 500. Django's own get_host (ALLOWED_HOSTS checked) fills it in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.META.setdefault("HTTP_HOST", request.get_host())
        return view(request, *args, **kwargs)

    return wrapped


def _may_leave_for_provider(view, kwarg):
    """allauth's "continue to your provider" page posts to itself and is redirected to the
    provider: the site's CSP form-action must allow that provider's origin on this page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        with outside_scope():
            provider = Provider.objects.filter(key=kwargs.get(kwarg), enabled=True).first()
        if provider is not None:
            response._csp_update = {"form-action": sign_in_origins([provider])}
        return response

    return wrapped


urlpatterns = [
    path(
        "oidc/<str:provider_id>/login/",
        _may_leave_for_provider(oidc.login, "provider_id"),
        name="openid_connect_login",
    ),
    path("oidc/<str:provider_id>/login/callback/", oidc.callback, name="openid_connect_callback"),
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
    path(
        "saml/<str:organization_slug>/login/",
        _may_leave_for_provider(_with_host(saml.login), "organization_slug"),
        name="saml_login",
    ),
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
