"""Sign-in bookkeeping: the user's session index, the idle clock, and the two-factor step."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import pre_save
from django.dispatch import receiver

from identity import mfa

from . import middleware, services
from .models import User, UserSession


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    session = request.session
    if session.session_key is None:
        session.save()
    UserSession.objects.get_or_create(session_key=session.session_key, defaults={"user": user})
    session[middleware.LAST_SEEN] = int(time.time())
    mfa.remember(session, user)  # the provider's multi-factor claim, for an SSO sign-in
    middleware.refresh(session, user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    key = request.session.session_key if request is not None else None
    if key:
        UserSession.objects.filter(session_key=key).delete()


@receiver(pre_save, sender=User)
def on_deactivate(sender, instance, raw=False, **kwargs):
    """A user switched off (here, in the admin or anywhere) loses every open session."""
    if raw or instance.pk is None or instance.is_active:
        return
    was_active = User.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        services.end_sessions(instance.pk)
