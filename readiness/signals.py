"""Evidence changed → queue one delayed readiness run of the district (debounced).

The domain apps never import readiness; readiness listens to their saves and deletes here.
Bulk writes send no model signals: the set-based writes (the CSV importers, whether run by
the upload page's task or the command line, bulk moves and retirements, the rollover, the
services that write rows with ``bulk_create`` / ``update()``) send
``schools.signals.bulk_changed``. ``services.note_change`` does the debouncing: one
callback per district and transaction, and one waiting run per district.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_save, pre_delete

from schools.models import District, School, StaffMember
from schools.signals import bulk_changed

from .services import note_change

_district_of_school: dict[int, int] = {}


def districts_of_schools(school_ids) -> set[int]:
    """The districts of these schools (a school never changes district; remembered)."""
    missing = [s for s in school_ids if s and s not in _district_of_school]
    if missing:
        _district_of_school.update(
            School.unscoped.filter(pk__in=missing).values_list("pk", "district_id")
        )
    return {_district_of_school[s] for s in school_ids if s in _district_of_school}


def _direct(sender, instance, **kwargs):
    """Models that carry their district (Device, Student, Initiative) or are one (School)."""
    note_change([instance.district_id])


def _by_school(sender, instance, **kwargs):
    note_change(districts_of_schools([instance.school_id]))


def _assignment(sender, instance, **kwargs):
    from equity.inventory.models import Assignment, Device

    if Assignment.device.is_cached(instance):  # the desks and stations load it: no query
        district = instance.device.district_id
    else:
        district = (
            Device.unscoped.filter(pk=instance.device_id)
            .values_list("district_id", flat=True)
            .first()
        )
    note_change([district])


def _attendance(sender, instance, **kwargs):
    school = (
        StaffMember.unscoped.filter(pk=instance.staff_id).values_list("school_id", flat=True)
    ).first()
    note_change(districts_of_schools([school]))


def _session_schools(session_field: str):
    """A PD session, feedback or survey counts for each of its schools."""

    def handler(sender, instance, **kwargs):
        from pd.models import PDSession
        from stakeholders.models import Survey

        pk = getattr(instance, session_field)
        model = Survey if sender.__name__ == "Survey" else PDSession
        schools = model.schools.through.unscoped.filter(**{f"{model._meta.model_name}_id": pk})
        note_change(districts_of_schools(list(schools.values_list("school_id", flat=True))))

    return handler


def _cascaded(instance, kwargs) -> bool:
    """A row deleted because its survey, story, plan or initiative is: that parent's own
    handler has marked the district already (saves a query per cascaded row)."""
    from initiatives.models import Initiative
    from stakeholders.models import CommunicationPlan, Story, Survey

    origin = kwargs.get("origin")
    return origin is not None and isinstance(origin, (Survey, Story, CommunicationPlan, Initiative))


def _survey_rows(sender, instance, **kwargs):
    """A response, invitation or question counts for each school of its survey. The
    respondent flow creates the Response with ``create()`` (a signal) and its answers with
    ``bulk_create`` (none) in the same transaction, so a submitted response marks its
    district once."""
    from stakeholders.models import Survey

    if _cascaded(instance, kwargs):
        return
    schools = Survey.schools.through.unscoped.filter(survey_id=instance.survey_id)
    note_change(districts_of_schools(list(schools.values_list("school_id", flat=True))))


def _via(parent: str, field_name: str):
    """A row that belongs to a school through ``parent`` (a story share through its story,
    a plan's channel through its plan)."""

    def handler(sender, instance, **kwargs):
        from django.apps import apps

        if _cascaded(instance, kwargs):
            return
        model = apps.get_model(parent)
        school = (
            model.unscoped.filter(pk=getattr(instance, field_name))
            .values_list("school_id", flat=True)
            .first()
        )
        note_change(districts_of_schools([school]))

    return handler


def _initiative_rows(sender, instance, **kwargs):
    """A budget line or status change marks the district of its initiative."""
    from initiatives.models import Initiative

    if _cascaded(instance, kwargs):
        return
    district = (
        Initiative.unscoped.filter(pk=instance.initiative_id)
        .values_list("district_id", flat=True)
        .first()
    )
    note_change([district])


def _school_links(sender, instance, action, pk_set, reverse, **kwargs):
    """Schools added to or removed from a session, survey or initiative."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # school.pd_sessions.add(...)
        note_change(districts_of_schools([instance.pk]))
        return
    ids = list(
        pk_set
        or instance.schools.through.unscoped.filter(
            **{f"{instance._meta.model_name}_id": instance.pk}
        ).values_list("school_id", flat=True)
    )
    note_change(districts_of_schools(ids))


def _bulk_changed(sender, district_ids=(), school_ids=(), **kwargs):
    note_change({*district_ids, *districts_of_schools(list(school_ids))})


def _district_saved(sender, instance, **kwargs):
    """Its planning ratio, PD-hour target and minimum survey group feed the indicators."""
    note_change([instance.pk])


def connect() -> None:
    from equity.inventory.models import Assignment, Device, Student
    from initiatives.models import BudgetLine, Initiative, Reflection, StatusChange, Swot
    from pd.models import Attendance, Feedback, LearningLeader, PDNeedsPoll, PDSession
    from stakeholders.models import (
        CommunicationPlan,
        Invitation,
        Partnership,
        PlanChannelUse,
        Question,
        Response,
        Story,
        StoryPerson,
        StoryShare,
        Survey,
    )

    def both(handler, model):
        uid = f"readiness:{model.__name__}"
        post_save.connect(handler, sender=model, dispatch_uid=uid + ":save", weak=False)
        # Before the delete: a session or survey still knows its schools then.
        pre_delete.connect(handler, sender=model, dispatch_uid=uid + ":delete", weak=False)

    for model in (Device, Student, Initiative):
        both(_direct, model)
    post_save.connect(_school_saved, sender=School, dispatch_uid="readiness:School:save")
    post_save.connect(_district_saved, sender=District, dispatch_uid="readiness:District:save")
    for model in (
        StaffMember,
        LearningLeader,
        PDNeedsPoll,
        Story,
        Partnership,
        CommunicationPlan,
        Swot,
        Reflection,
    ):
        both(_by_school, model)
    for model in (Response, Invitation, Question):
        both(_survey_rows, model)
    both(_via("stakeholders.Story", "story_id"), StoryShare)
    both(_via("stakeholders.Story", "story_id"), StoryPerson)
    both(_via("stakeholders.CommunicationPlan", "plan_id"), PlanChannelUse)
    for model in (BudgetLine, StatusChange):
        both(_initiative_rows, model)
    both(_assignment, Assignment)
    both(_attendance, Attendance)
    both(_session_schools("pk"), PDSession)
    both(_session_schools("pk"), Survey)
    both(_feedback, Feedback)
    for model in (PDSession, Survey, Initiative):
        m2m_changed.connect(
            _school_links, sender=model.schools.through, dispatch_uid=f"readiness:{model}:m2m"
        )
    bulk_changed.connect(_bulk_changed, dispatch_uid="readiness:bulk_changed", weak=False)


def _school_saved(sender, instance, **kwargs):
    _district_of_school[instance.pk] = instance.district_id
    note_change([instance.district_id])


def _feedback(sender, instance, **kwargs):
    from pd.models import PDSession

    schools = PDSession.schools.through.unscoped.filter(pdsession_id=instance.session_id)
    note_change(districts_of_schools(list(schools.values_list("school_id", flat=True))))
