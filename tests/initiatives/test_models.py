"""The rules of an initiative, enforced by its services (the status workflow's one door is
``services.initiative_move``); the forms show the same refusals on their fields."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from initiatives import permissions, services
from initiatives.forms import BudgetLineForm, ComplianceItemForm, PlanForm
from initiatives.models import (
    STANDARD_COMPLIANCE,
    BudgetLine,
    ComplianceItem,
    ComplianceStatus,
    Initiative,
    Reflection,
    Stage,
    Status,
    StatusChange,
    Swot,
)
from schools.models import School
from tests.factories import (
    BudgetLineFactory,
    InitiativeFactory,
    SchoolFactory,
    SurveyFactory,
)


@pytest.fixture
def initiative(maple, principal):
    initiative = services.initiative_create(
        schools=[maple],
        data={
            "title": "Chromebooks for writing",
            "why": "Feedback while students write.",
            "learning_goals": "Revise one piece a week.",
        },
        pillars=["engagement"],
        by=principal,
    )
    services.initiative_move(initiative=initiative, to=Status.PLANNING, by=principal)
    return Initiative.objects.get(pk=initiative.pk)


def _settle_compliance(initiative):
    ComplianceItem.objects.filter(initiative=initiative).update(status=ComplianceStatus.DONE)


def _closed_survey(initiative, school):
    today = timezone.localdate()
    return SurveyFactory(
        initiative=initiative,
        schools=[school],
        opens_on=today - timedelta(days=20),
        closes_on=today - timedelta(days=1),
    )


def test_it_starts_as_an_idea_with_the_standard_compliance_items(maple, principal):
    initiative = services.initiative_create(
        schools=[maple], data={"title": "T", "why": "W"}, by=principal
    )
    assert initiative.status == Status.IDEA and initiative.owner == principal
    kinds = set(ComplianceItem.objects.filter(initiative=initiative).values_list("kind", flat=True))
    assert kinds == set(STANDARD_COMPLIANCE)
    (created,) = StatusChange.objects.filter(initiative=initiative)
    assert (created.from_status, created.to_status, created.by) == ("", Status.IDEA, principal)


def test_a_new_initiative_cannot_start_in_rollout(maple, district, principal):
    initiative = Initiative(district=district, title="T", status=Status.ROLLOUT)
    with pytest.raises(ValidationError) as exc:
        services.initiative_start(initiative=initiative, by=principal)
    assert "starts as an idea or in planning" in str(exc.value)
    assert initiative.pk is None and not Initiative.objects.filter(title="T").exists()
    with pytest.raises(ValidationError) as exc:
        services.initiative_create(
            schools=[maple], data={"title": "T", "status": Status.ROLLOUT}, by=principal
        )
    assert "starts as an idea or in planning" in str(exc.value)
    assert not Initiative.objects.filter(title="T").exists()


def test_a_new_initiative_may_start_in_planning_and_its_history_says_so(district, principal):
    initiative = Initiative(district=district, title="T", status=Status.PLANNING)
    created = services.initiative_start(initiative=initiative, by=principal)
    assert (created.from_status, created.to_status, created.by) == ("", Status.PLANNING, principal)
    assert list(StatusChange.objects.filter(initiative=initiative)) == [created]


def test_no_rollout_before_a_survey_has_closed(initiative, principal, maple):
    _settle_compliance(initiative)
    SurveyFactory(initiative=initiative, schools=[maple])  # still open
    with pytest.raises(ValidationError) as exc:
        services.initiative_move(initiative=initiative, to=Status.ROLLOUT, by=principal)
    assert "override_reason" in exc.value.message_dict
    initiative.refresh_from_db()
    assert initiative.status == Status.PLANNING
    assert not StatusChange.objects.filter(initiative=initiative, to_status=Status.ROLLOUT)


def test_rollout_follows_once_the_survey_closes(initiative, principal, maple):
    _settle_compliance(initiative)
    survey = SurveyFactory(initiative=initiative, schools=[maple])
    with pytest.raises(ValidationError):
        services.initiative_move(initiative=initiative, to=Status.PILOT, by=principal)
    survey.closed_on = timezone.localdate()  # closed early by hand
    survey.save()
    change = services.initiative_move(initiative=initiative, to=Status.PILOT, by=principal)
    assert change.to_status == Status.PILOT and not change.overridden


def test_a_survey_past_its_last_day_counts_as_closed(initiative, principal, maple):
    _settle_compliance(initiative)
    _closed_survey(initiative, maple)
    services.initiative_move(initiative=initiative, to=Status.ROLLOUT, by=principal)
    initiative.refresh_from_db()
    assert initiative.status == Status.ROLLOUT


def test_a_written_reason_overrides_the_listening_rule_and_stays_on_record(initiative, principal):
    _settle_compliance(initiative)
    with pytest.raises(ValidationError):
        services.initiative_move(
            initiative=initiative, to=Status.PILOT, by=principal, override_reason="   "
        )
    change = services.initiative_move(
        initiative=initiative,
        to=Status.PILOT,
        by=principal,
        override_reason="Council agreed in person.",
    )
    assert change.overridden and change.override_reason == "Council agreed in person."
    assert change.by == principal and change.at is not None
    initiative.refresh_from_db()
    assert initiative.status == Status.PILOT


def test_the_override_does_not_lift_the_compliance_rule(initiative, principal, maple):
    _closed_survey(initiative, maple)
    with pytest.raises(ValidationError) as exc:
        services.initiative_move(
            initiative=initiative, to=Status.ROLLOUT, by=principal, override_reason="Hurry."
        )
    assert "compliance item" in str(exc.value)
    item = ComplianceItem.objects.filter(initiative=initiative).first()
    ComplianceItem.objects.filter(initiative=initiative).exclude(pk=item.pk).update(
        status=ComplianceStatus.DONE
    )
    item.status = ComplianceStatus.WAIVED
    item.waiver_reason = "No student data leaves the building."
    item.save()
    services.initiative_move(initiative=initiative, to=Status.ROLLOUT, by=principal)
    initiative.refresh_from_db()
    assert initiative.status == Status.ROLLOUT


def test_a_waiver_needs_a_reason_in_the_service_the_form_and_the_database(initiative):
    item = ComplianceItem.objects.filter(initiative=initiative).first()
    item.status = ComplianceStatus.WAIVED
    with pytest.raises(ValidationError) as exc:
        services.save_part(item)
    assert "waiver_reason" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()  # the constraint, for a write that skips the service
    assert ComplianceItem.objects.get(pk=item.pk).status == ComplianceStatus.TO_DO
    form = ComplianceItemForm(
        {"kind": item.kind, "status": "waived", "waiver_reason": ""}, instance=item
    )
    assert not form.is_valid() and "waiver_reason" in form.errors


def test_the_move_leaves_the_callers_copy_current(initiative, principal):
    stale = Initiative.objects.get(pk=initiative.pk)
    services.initiative_move(initiative=initiative, to=Status.RETIRED, by=principal)
    assert initiative.status == Status.RETIRED
    assert Initiative.objects.get(pk=initiative.pk).updated_at == initiative.updated_at
    with pytest.raises(ValidationError) as exc:  # the move reads the row, not the copy
        services.initiative_move(initiative=stale, to=Status.RETIRED, by=principal)
    assert "already in this status" in str(exc.value)


def test_the_move_refuses_while_the_plan_behind_committed_money_is_missing(initiative, principal):
    # The plan form refuses erasing it; a row changed behind the services' back is still
    # refused at the next move.
    BudgetLineFactory(initiative=initiative, stage=Stage.COMMITTED)
    Initiative.objects.filter(pk=initiative.pk).update(learning_goals="")
    with pytest.raises(ValidationError) as exc:
        services.initiative_move(initiative=initiative, to=Status.RETIRED, by=principal)
    assert "learning_goals" in exc.value.message_dict
    assert Initiative.objects.get(pk=initiative.pk).status == Status.PLANNING


def test_saving_the_plan_never_writes_the_status(initiative, principal):
    initiative.status = Status.ROLLOUT  # a stray change on the instance
    initiative.title = "Chromebooks for writing, grades 3–5"
    services.initiative_update(initiative=initiative, pillars=["engagement"])
    stored = Initiative.objects.get(pk=initiative.pk)
    assert (stored.title, stored.status) == (initiative.title, Status.PLANNING)
    assert not StatusChange.objects.filter(initiative=initiative, to_status=Status.ROLLOUT)


def test_only_listed_transitions_are_allowed(initiative, principal):
    with pytest.raises(ValidationError) as exc:
        services.initiative_move(initiative=initiative, to=Status.SUSTAINING, by=principal)
    assert "can move to" in str(exc.value)
    services.initiative_move(initiative=initiative, to=Status.RETIRED, by=principal)
    services.initiative_move(initiative=initiative, to=Status.PLANNING, by=principal)


def test_status_history_keeps_every_move_in_order(initiative, principal, maple):
    _settle_compliance(initiative)
    _closed_survey(initiative, maple)
    for status in (Status.PILOT, Status.ROLLOUT, Status.SUSTAINING):
        services.initiative_move(initiative=initiative, to=status, by=principal)
    moves = list(
        StatusChange.objects.filter(initiative=initiative)
        .order_by("at", "pk")
        .values_list("from_status", "to_status")
    )
    assert moves == [
        ("", "idea"),
        ("idea", "planning"),
        ("planning", "pilot"),
        ("pilot", "rollout"),
        ("rollout", "sustaining"),
    ]


def test_no_committed_budget_before_the_pedagogy_plan(maple, principal):
    initiative = services.initiative_create(
        schools=[maple], data={"title": "Spaces", "why": "Group work."}, by=principal
    )
    planned = BudgetLine.objects.create(
        initiative=initiative,
        category="spaces",
        description="Tables",
        amount=Decimal("500"),
        funding_source="grant",
    )
    for stage in (Stage.COMMITTED, Stage.SPENT):
        planned.stage = stage
        with pytest.raises(ValidationError) as exc:
            services.save_part(planned)
        assert "stage" in exc.value.message_dict
        assert BudgetLine.objects.get(pk=planned.pk).stage == Stage.PLANNED
        form = BudgetLineForm(
            {
                "category": "spaces",
                "description": "Tables",
                "amount": "500",
                "funding_source": "grant",
                "stage": stage,
            },
            initiative=initiative,
        )
        assert not form.is_valid() and "learning goals" in form.errors["stage"][0]
    initiative.learning_goals = "Students plan projects in teams."
    services.initiative_update(initiative=initiative, pillars=[])
    planned.stage = Stage.COMMITTED
    services.save_part(planned)
    assert BudgetLine.objects.get(pk=planned.pk).stage == Stage.COMMITTED


def test_the_plan_cannot_be_erased_once_money_is_committed(maple):
    initiative = InitiativeFactory(schools=[maple])
    BudgetLineFactory(initiative=initiative, stage=Stage.COMMITTED)
    form = PlanForm(
        {"title": initiative.title, "why": initiative.why, "learning_goals": ""},
        instance=initiative,
    )
    assert not form.is_valid() and "learning_goals" in form.errors
    initiative.learning_goals = ""
    with pytest.raises(ValidationError) as exc:
        services.initiative_update(initiative=initiative, pillars=[])
    assert "learning_goals" in exc.value.message_dict
    assert Initiative.objects.get(pk=initiative.pk).learning_goals


def test_a_swot_needs_content_and_is_once_a_year(maple):
    with pytest.raises(ValidationError):
        Swot(school=maple, year=2025, participants="PTA").full_clean()
    Swot.objects.create(school=maple, year=2025, strengths="Staff", participants="PTA")
    with pytest.raises(ValidationError):
        Swot(school=maple, year=2025, threats="Cuts", participants="PTA").full_clean()


def test_a_reflection_is_about_an_initiative_of_its_school(maple, cedar):
    initiative = InitiativeFactory(schools=[cedar])
    reflection = Reflection(
        school=maple,
        initiative=initiative,
        relationships="r",
        connection="bridge",
        this_year="t",
    )
    with pytest.raises(ValidationError) as exc:
        reflection.full_clean()
    assert "initiative" in exc.value.message_dict


def test_whole_district_initiatives_link_every_school(district, maple, cedar, district_admin):
    SchoolFactory()  # another district
    initiative = services.initiative_create(
        schools=[],
        whole_district=district,
        data={"title": "Citizenship", "why": "W"},
        by=district_admin,
    )
    assert initiative.whole_district
    assert permissions.linked_school_ids(initiative) == {maple.pk, cedar.pk}


def test_a_school_opened_later_joins_the_whole_district_initiatives(
    district, maple, elsewhere, district_admin
):
    by = district_admin
    whole = services.initiative_create(
        schools=[], whole_district=district, data={"title": "Digital citizenship"}, by=by
    )
    one = services.initiative_create(schools=[maple], data={"title": "Maple only"}, by=by)
    opened = SchoolFactory(district=district)
    SchoolFactory(district=elsewhere.district)
    assert set(whole.schools.all()) == {*School.objects.filter(district=district)}
    assert opened in whole.schools.all()
    assert opened not in one.schools.all()
