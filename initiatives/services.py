"""Writes of the initiatives app (who may make them: ``initiatives.permissions``).

Each write validates first and writes in one transaction. A status move has one door,
``initiative_move`` (``initiative_start`` for a new initiative): it checks the workflow (the
allowed transitions, listen first, compliance, the plan behind committed money), locks the
row, saves and writes the ``StatusChange`` history. The admin, the wizard, the demo seed and
the test factories all go through it; ``Initiative.save()`` knows nothing of the workflow.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from schools.models import District, School
from schools.signals import evidence_changed

from .models import (
    GATED,
    NO_SURVEY_CLOSED,
    STANDARD_COMPLIANCE,
    STARTING,
    TRANSITIONS,
    ComplianceItem,
    Initiative,
    InitiativePillar,
    Status,
    StatusChange,
)

# --- the status workflow ----------------------------------------------------------------


def move_problems(
    *, initiative: Initiative, from_status: str | None, to: str, override_reason: str = ""
) -> dict[str, list[str]]:
    """Why moving ``initiative`` from ``from_status`` (None: a new initiative) to ``to`` is
    refused, as {field: [messages]}; empty when the move is allowed.

    ``override_reason`` only lifts the listening rule; compliance has no override."""
    errors: dict[str, list[str]] = {}
    if to not in Status.values:
        return {"status": [f"“{to}” is not a status."]}
    if from_status is None:
        if to not in STARTING:
            errors["status"] = ["A new initiative starts as an idea or in planning."]
        return errors
    if to == from_status:
        return errors
    if to not in TRANSITIONS[from_status]:
        allowed = ", ".join(Status(s).label.lower() for s in sorted(TRANSITIONS[from_status]))
        errors["status"] = [
            f"An initiative in {Status(from_status).label.lower()} can move to: {allowed}."
        ]
        return errors
    if to in GATED:
        if not initiative.has_closed_survey() and not override_reason.strip():
            errors["override_reason"] = [NO_SURVEY_CLOSED]
        open_items = initiative.open_compliance_items()
        if open_items:
            names = "; ".join(str(i) for i in open_items)
            errors.setdefault("status", []).append(
                f"Every compliance item must be done or waived with a reason first: {names}."
            )
    return errors


def _announce(initiative: Initiative) -> None:
    """An initiative's plan, status or parts changed: evidence of its district."""
    evidence_changed.send(sender=Initiative, district_ids=[initiative.district_id])


def _refuse(*problems: dict[str, list[str]]) -> None:
    errors: dict[str, list[str]] = {}
    for found in problems:
        for name, messages in found.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def initiative_start(*, initiative: Initiative, by) -> StatusChange:
    """Save a new initiative (an idea, or in planning) and open its history with that
    first status. Refuses any other starting status (ValidationError keyed ``status``)."""
    if initiative.pk is not None:
        raise ValueError("initiative_start saves a new initiative; move a saved one.")
    _refuse(move_problems(initiative=initiative, from_status=None, to=initiative.status))
    initiative.save()
    _announce(initiative)
    return StatusChange.objects.create(
        initiative=initiative, from_status="", to_status=initiative.status, by=by
    )


@transaction.atomic
def initiative_move(
    *, initiative: Initiative, to: str, by, override_reason: str = ""
) -> StatusChange:
    """Move ``initiative`` to status ``to``: the one door of the workflow.

    Refuses a move the rules forbid (ValidationError keyed ``status``, ``override_reason``
    or ``learning_goals``), under the row's lock so two moves cannot cross. The history row
    keeps who moved it and, when the listening rule was overridden, the reason."""
    locked = Initiative.unscoped.select_for_update().get(pk=initiative.pk)
    previous = locked.status
    if previous == to:
        raise ValidationError({"status": "The initiative is already in this status."})
    _refuse(
        move_problems(
            initiative=locked, from_status=previous, to=to, override_reason=override_reason
        ),
        locked.plan_problems(),
    )
    overridden = to in GATED and not locked.has_closed_survey()
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    initiative.status, initiative.updated_at = locked.status, locked.updated_at
    _announce(locked)
    return StatusChange.objects.create(
        initiative=locked,
        from_status=previous,
        to_status=to,
        by=by,
        override_reason=override_reason.strip() if overridden else "",
    )


# --- initiatives ----------------------------------------------------------------------


def _set_pillars(initiative: Initiative, pillars: Iterable[str]) -> None:
    InitiativePillar.objects.filter(initiative=initiative).delete()
    InitiativePillar.objects.bulk_create(
        InitiativePillar(initiative=initiative, pillar=p) for p in sorted(set(pillars))
    )


@transaction.atomic
def initiative_create(
    *,
    schools: Iterable[School],
    whole_district: District | None = None,
    data: dict,
    pillars: Iterable[str] = (),
    by,
) -> Initiative:
    """Create an initiative for ``schools`` (or every school of ``whole_district``), with the
    standard compliance items to do; its history starts with this creation."""
    schools = list(schools)
    if whole_district is not None:
        district = whole_district
        school_ids = set(School.unscoped.filter(district=district).values_list("pk", flat=True))
    else:
        if not schools:
            raise ValidationError({"schools": "Choose at least one school."})
        districts = {s.district_id for s in schools}
        if len(districts) != 1:
            raise ValidationError({"schools": "Choose schools of one district."})
        district = schools[0].district
        school_ids = {s.pk for s in schools}
    initiative = Initiative(
        district=district,
        whole_district=whole_district is not None,
        owner=data.pop("owner", None) or by,
        created_by=by,
        **data,
    )
    initiative_start(initiative=initiative, by=by)
    links = Initiative.schools.through
    links.objects.bulk_create(
        links(initiative_id=initiative.pk, school_id=i) for i in sorted(school_ids)
    )
    _set_pillars(initiative, pillars)
    ComplianceItem.objects.bulk_create(
        ComplianceItem(initiative=initiative, kind=kind, updated_by=by)
        for kind in STANDARD_COMPLIANCE
    )
    return initiative


# Everything the plan form and the admin may change; the status moves only through
# initiative_move, so a plan saved from a page opened before a move never undoes it.
PLAN_FIELDS = tuple(
    f.name
    for f in Initiative._meta.concrete_fields
    if not f.primary_key and f.name not in {"status", "created_at"}
)


@transaction.atomic
def initiative_update(*, initiative: Initiative, pillars: Iterable[str]) -> Initiative:
    """Save the plan and its pillars. Refuses erasing the why or the learning goals while
    money is committed (``learning_goals``); never writes the status."""
    _refuse(initiative.plan_problems())
    initiative.save(update_fields=PLAN_FIELDS)
    _set_pillars(initiative, pillars)
    _announce(initiative)
    return initiative


@transaction.atomic
def save_part(obj, **extra):
    """Save a milestone, budget line, sign-off, compliance item, SWOT or reflection that a
    form has validated, checking its own rules again first (``clean``: a budget line's stage
    against the plan, a waiver's reason)."""
    for name, value in extra.items():
        setattr(obj, name, value)
    obj.clean()
    obj.save()
    if getattr(obj, "school_id", None):  # a SWOT or reflection counts for its school
        evidence_changed.send(sender=type(obj), school_ids=[obj.school_id])
    else:
        _announce(obj.initiative)
    return obj
