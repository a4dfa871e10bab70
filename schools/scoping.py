"""The one scoping mechanism: what may this user see?

Every model that belongs to a school declares ``objects = ScopedManager("<path to school>")``.
Inside a request, ``ScopeMiddleware`` activates the user's scope (the ids of the schools and
districts of their memberships), so *every* query through the default manager is filtered:
``get_object_or_404(Device, pk=pk)`` answers 404 for another school's device without the view
doing anything, and form choice fields only offer what the user may see.

Outside a scope (a Celery task, a management command, the shell) a scoped query raises
``ScopeError`` instead of leaking. Code that legitimately works across schools goes through
the one named door, or runs as a user with ``activate(access_for(user))``:

- ``Model.unscoped`` (every scoped model has it, and so has every many-to-many link table:
  ``Initiative.schools.through.unscoped``): a plain manager, never the default one, with
  the model's own queryset methods. For tasks, management commands, uniqueness checks,
  readiness's set-based reads, purges, the benchmark and the demo seeds. Never for a
  view's read on behalf of a person, except narrowed by an object the page already loaded
  through the scope (a visible initiative's budget lines), to spare the scope's subquery.
- ``outside_scope()``: a block in which the default managers themselves see every school,
  for work that goes through Django's own machinery (related managers, cascading deletes,
  a form's unique validation, an importer's many reads) on behalf of no person.

tests/test_scope_door.py fails on any other way around (``_base_manager``, django-scopes'
``scopes_disabled``, ``.through.objects``...) outside this module.

The scope state is django-scopes' (``scope()``/``scopes_disabled()``, used here only), so
the fail-closed behaviour is the library's; this module adds a set of schools per user,
district-wide memberships, and multi-valued paths (a PD session of several schools) without
duplicates.
"""

from __future__ import annotations

import zoneinfo
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.db.models.signals import class_prepared
from django.dispatch import receiver
from django.utils import timezone
from django_scopes import ScopeError, get_scope, scope, scopes_disabled

from .signals import access_refused

__all__ = [
    "Access",
    "ScopeError",
    "ScopeMiddleware",
    "ScopedManager",
    "access_for",
    "activate",
    "captured_scope",
    "outside_scope",
    "require_district_admin",
    "require_role",
    "scoped_object",
    "unscoped",
    "visible",
]

SCHOOL = "school"
DISTRICT = "district"
# Districts seen whole (a district-wide membership): their rows are filtered by district,
# not by a list of every school id, which at 1,800 schools costs more than the query.
WHOLE = "whole_district"


@dataclass(frozen=True)
class Access:
    """What one user may see (school and district ids) and which roles they hold where.

    A district-wide membership covers its district as a whole: the district's schools are
    not read when the access is built (a district admin's 1,800 schools would cost every
    request a few milliseconds), only when something asks for them one by one
    (``school_ids``, ``school_district``: one query, then kept for the request). Scoping and
    ``schools_q`` never need them."""

    user_id: int | None
    # Schools of memberships that name a school, with their district.
    direct_schools: dict[int, int] = field(default_factory=dict)
    district_ids: frozenset[int] = frozenset()
    school_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    district_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    unrestricted: bool = False
    # The time zone of the user's district (the first one, for a person of several); None:
    # the site's TIME_ZONE.
    time_zone: str | None = None
    _listed: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def whole_district_ids(self) -> frozenset[int]:
        """The districts seen whole (a district-wide membership)."""
        return frozenset(self.district_roles)

    @property
    def school_district(self) -> dict[int, int]:
        """Every visible school's district, the schools of whole districts included (one
        query the first time it is asked, none when no membership is district-wide)."""
        if "pairs" not in self._listed:
            pairs = dict(self.direct_schools)
            if self.district_roles:
                from .models import School

                with scopes_disabled():
                    pairs.update(
                        # Unordered: a dict of pairs, not a list of 1,800 sorted by name.
                        School.objects.filter(district_id__in=self.district_roles)
                        .order_by()
                        .values_list("pk", "district_id")
                    )
            self._listed["pairs"] = pairs
        return self._listed["pairs"]

    @property
    def school_ids(self) -> frozenset[int]:
        """Every visible school's id (lists a whole district's schools: prefer ``schools_q``)."""
        return frozenset(self.school_district)

    def district_of(self, school) -> int | None:
        """The district of a visible school (a School, or its id), or None."""
        district_id = getattr(school, "district_id", None)
        if district_id is not None:
            return district_id
        school_id = getattr(school, "pk", school)
        if school_id in self.direct_schools:
            return self.direct_schools[school_id]
        return self.school_district.get(school_id) if self.district_roles else None

    def roles_at(self, school) -> frozenset[str]:
        """Roles held at a school, directly or through a district-wide membership."""
        from .models import Role

        if self.unrestricted:
            return frozenset(Role.values)
        school_id = getattr(school, "pk", school)
        held = self.school_roles.get(school_id, frozenset())
        if self.district_roles:
            held = held | self.district_roles.get(self.district_of(school), frozenset())
        return held

    @property
    def all_roles(self) -> frozenset[str]:
        from .models import Role

        if self.unrestricted:
            return frozenset(Role.values)
        roles: set[str] = set()
        for held in (*self.school_roles.values(), *self.district_roles.values()):
            roles |= held
        return frozenset(roles)

    def has_role(self, *roles: str, school=None) -> bool:
        """True when the user holds any of ``roles`` (at ``school`` when given)."""
        held = self.all_roles if school is None else self.roles_at(school)
        return bool(held.intersection(roles))

    def is_district_admin(self, district) -> bool:
        from .models import Role

        if self.unrestricted:
            return True
        district_id = getattr(district, "pk", district)
        return Role.DISTRICT_ADMIN in self.district_roles.get(district_id, frozenset())

    def districts_with_role(self, *roles: str) -> frozenset[int]:
        """The districts where the user holds any of ``roles`` district-wide."""
        return frozenset(d for d, held in self.district_roles.items() if held.intersection(roles))

    def direct_school_ids_with_role(self, *roles: str) -> frozenset[int]:
        """The schools named by a membership where the user holds any of ``roles``."""
        return frozenset(s for s in self.direct_schools if self.roles_at(s).intersection(roles))

    def school_ids_with_role(self, *roles: str) -> frozenset[int]:
        """The visible schools where the user holds any of ``roles``.

        A role held district-wide covers every school of its district: this lists them (one
        query); a filter says ``schools_q(*roles)`` instead, which names the district."""
        whole = self.districts_with_role(*roles)
        covered = {s for s, d in self.school_district.items() if d in whole} if whole else set()
        return frozenset(covered) | self.direct_school_ids_with_role(*roles)

    def schools_q(self, *roles: str, path: str = "pk", district_path: str | None = None) -> Q:
        """A filter for the schools where the user holds any of ``roles`` (every school for
        a superuser): the schools named one by one and the districts held whole, so a
        district admin's filter names one district, never its 1,800 schools.

        ``path`` leads to a school's id (``"pk"`` on School, ``"school"``, ``"schools"``),
        ``district_path`` to its district (default: ``district`` on School, else
        ``<path>__district``)."""
        if self.unrestricted:
            return Q()
        if district_path is None:
            district_path = "district" if path == "pk" else f"{path}__district"
        q = Q(**{f"{path}__in": sorted(self.direct_school_ids_with_role(*roles))})
        whole = self.districts_with_role(*roles)
        if whole:
            q |= Q(**{f"{district_path}__in": sorted(whole)})
        return q

    def scope_kwargs(self) -> dict:
        """The scope state: the schools seen one by one (``SCHOOL``), the districts seen whole
        (``WHOLE``) and every district touched (``DISTRICT``)."""
        if self.unrestricted:
            return {"_enabled": False}
        whole = self.whole_district_ids
        one_by_one = (s for s, d in self.direct_schools.items() if d not in whole)
        return {
            SCHOOL: tuple(sorted(one_by_one)),
            WHOLE: tuple(sorted(whole)),
            DISTRICT: tuple(sorted(self.district_ids)),
        }


NO_ACCESS = Access(user_id=None)


def access_for(user) -> Access:
    """Read a user's memberships: one query, two when a membership names a school, whatever
    the district's size (a district seen whole is not listed school by school)."""
    from .models import Membership, School

    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    if user.is_superuser:
        return Access(user_id=user.pk, unrestricted=True)
    with scopes_disabled():
        rows = list(
            Membership.objects.filter(user=user)
            .order_by("district_id")
            .values_list("school_id", "district_id", "role", "district__time_zone")
        )
        memberships = [(s, d, r) for s, d, r, _zone in rows]
        direct = {s for s, _d, _r in memberships if s is not None}
        district_wide = {d for s, d, _r in memberships if s is None}
        pairs = (
            dict(School.objects.filter(pk__in=direct).values_list("pk", "district_id"))
            if direct
            else {}
        )
    school_roles: dict[int, set[str]] = {}
    district_roles: dict[int, set[str]] = {}
    for school_id, district_id, role in memberships:
        if school_id is None:
            district_roles.setdefault(district_id, set()).add(role)
        else:
            school_roles.setdefault(school_id, set()).add(role)
    return Access(
        user_id=user.pk,
        direct_schools=pairs,
        district_ids=frozenset(pairs.values()) | frozenset(district_wide),
        school_roles={k: frozenset(v) for k, v in school_roles.items()},
        district_roles={k: frozenset(v) for k, v in district_roles.items()},
        time_zone=rows[0][3] if rows else None,
    )


@contextmanager
def activate(access: Access):
    """Run the enclosed code as seen by ``access`` (for tasks and commands acting for a user)."""
    with scope(**access.scope_kwargs()):
        yield


def outside_scope():
    """The named door for a block: every default manager sees every school inside it.

    For work on behalf of no person that goes through Django's own machinery (related
    managers, cascades, unique validation): tasks, commands, purges, seeds. A single read
    across schools says ``Model.unscoped`` instead."""
    return scopes_disabled()


def captured_scope():
    """The scope active now, to enter again later in the same request: ``with
    captured_scope()():`` (a streamed download reads its rows after the view returned)."""
    state = dict(get_scope())
    return lambda: scope(**state)


def unscoped(model) -> models.Manager:
    """The door for code holding any model class (a bulk writer, a form mixin):
    ``model.unscoped`` for a scoped model or link table, its plain manager for a model no
    scope filters (the user)."""
    return getattr(model, UNSCOPED, None) or model._base_manager


def visible(model) -> models.QuerySet:
    """Every row of ``model`` the active scope shows (its default manager, scoped for a
    school-owned model): for code that holds a model class rather than naming it."""
    return model._default_manager.all()


_current_request: ContextVar = ContextVar("pillarwise_current_request", default=None)


def current_request():
    """The request being served in this thread or task, or None (a command, a worker).

    The audit log reads it to name who acted without every service taking a request.
    """
    return _current_request.get()


class ScopeMiddleware:
    """Attach ``request.access`` and run the view inside the user's scope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = access_for(getattr(request, "user", None))
        token = _current_request.set(request)
        try:
            with activate(request.access), district_time_zone(request.access.time_zone):
                return self.get_response(request)
        finally:
            _current_request.reset(token)


@contextmanager
def district_time_zone(name: str | None):
    """Show dates and times, and count "today", in a district's zone (the site's when None).

    Every page of a signed-in person runs in their district's zone (ScopeMiddleware); a
    page without an account (a survey, a PD check-in) or a task working for one district
    enters its district's zone with this."""
    if not name:
        yield
        return
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield  # a zone the system no longer knows: the site's zone, not an error page
        return
    with timezone.override(zone):
        yield


class UnscopedQuerySet(models.QuerySet):
    """A queryset built outside any scope: it chains, but refuses to run."""

    def _refuse(self, *args, **kwargs):
        raise ScopeError(
            f"{self.model.__name__} was queried outside a scope. Inside a request the user's "
            "scope is active; elsewhere use schools.scoping.activate(access_for(user)) or, "
            f"for deliberate cross-school work, {self.model.__name__}.unscoped or "
            "schools.scoping.outside_scope()."
        )

    _fetch_all = count = exists = aggregate = iterator = _refuse
    update = _update = delete = in_bulk = contains = explain = _refuse


_UNSCOPED_CLASSES: dict[type, type] = {}


def _unscoped_class(queryset_class: type) -> type:
    """An UnscopedQuerySet that keeps the model's own queryset methods chainable."""
    if queryset_class not in _UNSCOPED_CLASSES:
        _UNSCOPED_CLASSES[queryset_class] = type(
            f"Unscoped{queryset_class.__name__}", (UnscopedQuerySet, queryset_class), {}
        )
    return _UNSCOPED_CLASSES[queryset_class]


UNSCOPED = "unscoped"
_UNSCOPED_MANAGERS: dict[type, type] = {}


def _unscoped_manager_class(queryset_class: type) -> type:
    """A plain manager keeping the model's own queryset methods (``Device.unscoped.usable()``)."""
    if queryset_class not in _UNSCOPED_MANAGERS:
        _UNSCOPED_MANAGERS[queryset_class] = models.Manager.from_queryset(
            queryset_class, f"Unscoped{queryset_class.__name__}Manager"
        )
    return _UNSCOPED_MANAGERS[queryset_class]


@receiver(class_prepared)
def _door_to_link_tables(sender, **kwargs):
    """A many-to-many link table (``Survey.schools.through``) gets the same door."""
    if sender._meta.auto_created and not hasattr(sender, UNSCOPED):
        sender.add_to_class(UNSCOPED, models.Manager())


def _is_multivalued(model, path: str) -> bool:
    """True when following ``path`` from ``model`` may reach more than one row."""
    for name in path.split("__"):
        if name == "pk":
            return False
        f = model._meta.get_field(name)
        if f.many_to_many or f.one_to_many:
            return True
        model = f.related_model
    return False


class ScopedManager(models.Manager):
    """Default manager of a school-owned model: filters by the active scope, fails closed.

    ``path`` leads from the model to a school (``"school"``, ``"device__school"``,
    ``"schools"``) or, with ``dimension="district"``, to a district. For a district seen
    whole, rows are filtered through the school's district (``<path>__district``), or
    through ``district``, the model's own district column, when it declares one.

    ``concerns`` is for history and log rows (a session's change log, a device's events,
    the audit log): the path to the one school whose rows the entry describes, or empty
    (null) when it describes the whole object. Such an entry is seen only by someone who
    sees that school, on top of seeing the object: a change to a shared session's
    attendance at Cedar is not shown to a principal of Maple, who cannot see Cedar's
    attendance rows either. Every history model declares it (tests/test_history_scope.py).
    """

    def __init__(
        self,
        path: str | None = None,
        dimension: str | None = None,
        district: str | None = None,
        concerns: str | None = None,
    ):
        super().__init__()
        self._scope_path = path
        self._scope_dimension = dimension
        self._district_path = district
        self._concerns = concerns

    def _declared(self) -> ScopedManager:
        """The manager that carries the model's scope declaration.

        Django builds related managers (``session.schools``, ``device.events``) by
        instantiating the default manager's *class* without arguments; such an instance
        takes its path and dimension from the related model's own default manager.
        """
        if self._scope_path is None and self.model._default_manager is not self:
            return self.model._default_manager
        return self

    @property
    def scope_path(self) -> str:
        return self._declared()._scope_path or "school"

    @property
    def scope_dimension(self) -> str:
        return self._declared()._scope_dimension or SCHOOL

    @property
    def district_path(self) -> str:
        declared = self._declared()
        if declared._district_path:
            return declared._district_path
        return "district" if self.scope_path == "pk" else f"{self.scope_path}__district"

    @property
    def concerns(self) -> str | None:
        return self._declared()._concerns

    def contribute_to_class(self, cls, name):
        """Declaring a scoped manager also gives the model its door, ``Model.unscoped``."""
        super().contribute_to_class(cls, name)
        if name != UNSCOPED and UNSCOPED not in {m.name for m in cls._meta.local_managers}:
            cls.add_to_class(UNSCOPED, _unscoped_manager_class(self._queryset_class)())

    def deconstruct(self):  # pragma: no cover - only used if use_in_migrations were set
        return (
            False,
            f"{ScopedManager.__module__}.{ScopedManager.__qualname__}",
            None,
            (self.scope_path, self.scope_dimension),
            {"district": self._declared()._district_path, "concerns": self.concerns},
        )

    def scope_q(self, state: dict) -> Q:
        """The filter for the active scope; override for a model with an extra rule."""
        ids = state[self.scope_dimension]
        q = Q(**{f"{self.scope_path}__in": ids})
        whole = state.get(WHOLE) if self.scope_dimension == SCHOOL else None
        if whole:
            by_district = Q(**{f"{self.district_path}__in": whole})
            q = (q | by_district) if ids else by_district
        if _is_multivalued(self.model, self.scope_path):
            q = Q(pk__in=self.model.unscoped.filter(q).values("pk"))
        if self.concerns:
            q &= self.concerns_q(state)
        return q

    def concerns_q(self, state: dict) -> Q:
        """A log entry about one school's rows is seen with that school, never without it."""
        path = self.concerns
        q = Q(**{f"{path}__isnull": True}) | Q(**{f"{path}__in": state.get(SCHOOL, ())})
        whole = state.get(WHOLE)
        if whole:
            q |= Q(**{f"{path}__district__in": whole})
        return q

    def get_queryset(self):
        state = get_scope()
        qs = super().get_queryset()
        if not state.get("_enabled", True):
            return qs
        if self.scope_dimension not in state:
            return _unscoped_class(self._queryset_class)(self.model, using=self._db)
        return qs.filter(self.scope_q(state))

    def unscoped_ids_exist(self, **lookups) -> bool:
        """Whether rows matching ``lookups`` exist in *any* scope.

        For district-wide uniqueness checks (an asset tag taken at another school) that a
        scoped ``validate_unique`` cannot see; it answers yes/no and reveals nothing else.
        """
        return self.model.unscoped.filter(**lookups).exists()


def require_role(access: Access, *roles: str, school=None) -> None:
    """Refuse (403) unless the user holds one of ``roles`` (at ``school`` when given).

    Call it *after* loading the object through the scoped manager, so that another
    school's object has already answered 404.
    """
    from django.core.exceptions import PermissionDenied

    if not access.has_role(*roles, school=school):
        _audit_denial("denied_role", school=school, detail="needs " + " or ".join(roles))
        raise PermissionDenied("Your role does not allow this.")


def require_role_at_any(access: Access, schools, *roles: str) -> None:
    """Refuse (403) unless the user holds one of ``roles`` at one of ``schools`` (for an
    object of several schools, such as a PD session or a survey)."""
    from django.core.exceptions import PermissionDenied

    if not any(access.has_role(*roles, school=s) for s in schools):
        raise PermissionDenied("Your role does not allow this.")


def require_district_admin(access: Access, district) -> None:
    """Refuse (403) unless the user is a district admin of ``district``."""
    from django.core.exceptions import PermissionDenied

    if not access.is_district_admin(district):
        _audit_denial("denied_role", district=district, detail="needs district_admin")
        raise PermissionDenied("Only a district admin may do this.")


def _url_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


def _audit_denial(kind: str, **fields) -> None:
    """Announce a refusal; the audit log records it (``audit.signals``, above this app)."""
    access_refused.send(sender=None, kind=kind, **fields)


def scoped_object(queryset, *, methods=("GET",), url_kwarg="pk"):
    """View decorator: sign-in, then the object through the scope (404), then the method.

    The object is looked up *before* the method is checked, so another school's object
    answers 404 to every method rather than betraying its existence with a 405. The view
    receives the object in place of the URL keyword: ``def view(request, school)``.
    ``queryset`` is a model or a callable returning a queryset (built per request).
    """
    from functools import wraps

    from django.contrib.auth.decorators import login_required
    from django.http import Http404, HttpResponseNotAllowed
    from django.shortcuts import get_object_or_404

    allowed = {m.upper() for m in methods}
    if "GET" in allowed:
        allowed.add("HEAD")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            qs = queryset() if callable(queryset) and not isinstance(queryset, type) else queryset
            pk = kwargs.pop(url_kwarg)
            try:
                obj = get_object_or_404(qs, pk=pk)
            except Http404:
                model = qs if isinstance(qs, type) else qs.model
                _audit_denial(
                    "denied_scope",
                    object_type=model._meta.label_lower,
                    object_id=pk,
                    detail=f"{request.method} {_url_name(request)}",
                )
                raise
            if request.method not in allowed:
                return HttpResponseNotAllowed(sorted(allowed))
            return view(request, obj, *args, **kwargs)

        return login_required(wrapped)

    return decorator
