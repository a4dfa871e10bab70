"""allauth's apps and tokens are not used: a district's providers live in identity.Provider
(with the secret sealed) and no token is stored, so their admin pages would only mislead.
The links (social accounts) stay visible to superusers in allauth's own admin."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin

for model in (SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
