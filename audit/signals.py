"""Receivers that feed the audit log: sign-ins, failed sign-ins, deletions, and what the
scoping mechanism and the CSV exports announce (refusals, downloads)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete
from django.dispatch import receiver

from core.auditlog import Kind, record
from schools.models import Membership, School
from schools.scoping import outside_scope
from schools.signals import access_refused, csv_downloaded

# Records a person deletes through a page. Bulk link-row replacement (a session's schools,
# a story's roles) is an edit, not a deletion, and is left out; students go only through
# a purge, which writes its own PurgeRecord and one event rather than one per row.
AUDITED_DELETIONS = ("schools.Membership", "stakeholders.Question")


def _user_district_id(user) -> int | None:
    with outside_scope():
        return (
            Membership.objects.filter(user=user)
            .order_by("district_id")
            .values_list("district_id", flat=True)
            .first()
        )


@receiver(user_logged_in, dispatch_uid="audit_login")
def on_login(sender, request, user, **kwargs):
    record(Kind.LOGIN, user=user, district=_user_district_id(user))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = str(credentials.get("username") or credentials.get("email") or "")
    user = get_user_model().objects.filter(email__iexact=email).first() if email else None
    record(
        Kind.LOGIN_FAILED,
        user=user,
        district=_user_district_id(user) if user else None,
        subject=email,
        detail="" if user else "unknown account",
    )


def _on_delete(sender, instance, **kwargs):
    school_id = getattr(instance, "school_id", None)
    district_id = getattr(instance, "district_id", None)
    if district_id is None and school_id is not None:
        with outside_scope():
            district_id = (
                School.objects.filter(pk=school_id).values_list("district_id", flat=True).first()
            )
    record(
        Kind.DELETE,
        district=district_id,
        school=school_id,
        obj=instance,
        detail=f"deleted {instance._meta.verbose_name}",
    )


@receiver(access_refused, dispatch_uid="audit_access_refused")
def on_access_refused(sender, *, kind, signal=None, **fields):
    record(kind, **fields)


@receiver(csv_downloaded, dispatch_uid="audit_csv_downloaded")
def on_csv_downloaded(sender, *, filename, **kwargs):
    record(Kind.EXPORT, detail=f"csv {filename}")


for label in AUDITED_DELETIONS:
    post_delete.connect(
        _on_delete, sender=apps.get_model(label), dispatch_uid=f"audit_delete_{label}"
    )
