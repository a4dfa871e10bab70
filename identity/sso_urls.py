"""django-allauth's URLs for the two protocols, mounted at /sso/ without a namespace.

Only what social sign-in needs: the OpenID Connect and SAML endpoints and allauth's two
pages for a cancelled or failed sign-in. allauth's own account pages (sign-up, e-mail
management, its password views) are not mounted: the accounts app keeps those jobs.
"""

from allauth.socialaccount import views as social_views
from django.urls import include, path

urlpatterns = [
    path("", include("allauth.socialaccount.providers.openid_connect.urls")),  # oidc/<id>/
    path("", include("allauth.socialaccount.providers.saml.urls")),
    path(
        "login/cancelled/",
        social_views.login_cancelled,
        name="socialaccount_login_cancelled",
    ),
    path("login/error/", social_views.login_error, name="socialaccount_login_error"),
]
