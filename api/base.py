"""What every API view shares: the caller's scope, the refusals, errors as JSON, the audit.

DRF authenticates inside the view, after ``ScopeMiddleware`` has run for an anonymous
request; so the view itself activates the scope of whoever the token (or the session)
names, before its permissions, throttles and handler run. Every query then goes through
the same scoped managers as the pages: another school's object answers 404 to every
method, looked up before the method is checked (as ``schools.scoping.scoped_object``).
"""

from __future__ import annotations

from contextlib import ExitStack

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, permissions, viewsets
from rest_framework.views import exception_handler as drf_exception_handler

from core import auditlog
from core.models import Kind
from schools.scoping import access_for, activate, district_time_zone
from schools.signals import access_refused

from .models import ApiToken


class TokenWritePermission(permissions.BasePermission):
    """A read-only token reads; writing needs a read-write token (or a session)."""

    message = "This token is read-only."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        return not (isinstance(token, ApiToken) and token.read_only)


def errors_of(exc: DjangoValidationError) -> dict:
    """A service's ValidationError as DRF's error body: field keys, or non_field_errors."""
    if hasattr(exc, "error_dict"):
        return {
            (field if field != "__all__" else "non_field_errors"): [
                message for error in errors for message in error.messages
            ]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc, context):
    """DRF's handler, plus a service's Django ValidationError as a 400 with field keys."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(errors_of(exc))
    return drf_exception_handler(exc, context)


class ScopedViewSet(viewsets.GenericViewSet):
    """A viewset run in its caller's scope; subclasses say what they read and write."""

    permission_classes = [permissions.IsAuthenticated, TokenWritePermission]
    model = None  # the model of the rows it serves
    # The capability its list asks (anywhere), as the list page does: 403 without it.
    list_capability = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator's dry run
            return self.model.unscoped.none()
        return self.scoped_queryset()

    def scoped_queryset(self):
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as stack:
            self._scope = stack
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        self.perform_authentication(request)
        django_request = request._request
        access = getattr(django_request, "access", None)
        if access is None or access.user_id != getattr(request.user, "pk", None):
            # A token's person: ScopeMiddleware saw an anonymous request.
            access = access_for(request.user)
            django_request.access = access
        self._scope.enter_context(activate(access))
        self._scope.enter_context(district_time_zone(access.time_zone))
        super().initial(request, *args, **kwargs)
        if self.lookup_url_kwarg_value() is not None:
            # The object before the method: another school's object answers 404 to all.
            self.object = self.get_object()
        elif self.action == "list" and self.list_capability is not None:
            self.list_capability.require(access)

    def lookup_url_kwarg_value(self):
        return self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)

    def get_object(self):
        if getattr(self, "object", None) is not None:
            return self.object
        try:
            obj = super().get_object()
        except Http404:
            model = self.get_queryset().model
            access_refused.send(
                sender=None,
                kind="denied_scope",
                object_type=model._meta.label_lower,
                object_id=str(self.lookup_url_kwarg_value())[:40],
                detail=f"{self.request.method} api:{self.basename}-{self.action}",
            )
            raise
        return obj

    # --- the audit of every write -----------------------------------------------------

    audit_school = None
    audit_obj = None

    def audited(self, obj, school=None):
        """Name what a write changed, for its audit row."""
        self.audit_obj, self.audit_school = obj, school
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS and response.status_code < 400:
            token = request.auth if isinstance(request.auth, ApiToken) else None
            how = f"token {token.shown_prefix}" if token else "session"
            auditlog.record(
                Kind.API_WRITE,
                user=request.user,
                school=self.audit_school,
                obj=self.audit_obj,
                detail=f"{request.method} api:{self.basename}-{self.action} ({how})",
            )
        return response
