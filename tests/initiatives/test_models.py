"""The rules of an initiative, enforced by the model whatever door the change comes through."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from initiatives import services
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
    services.move(initiative, Status.PLANNING, by=principal)
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


def test_a_new_initiative_cannot_start_in_rollout(maple, district):
    initiative = Initiative(district=district, title="T", status=Status.ROLLOUT)
    with pytest.raises(ValidationError) as exc:
        initiative.save()
    assert "starts as an idea or in planning" in str(exc.value)


def test_no_rollout_before_a_survey_has_closed(initiative, principal, maple):
    _settle_compliance(initiative)
    SurveyFactory(initiative=initiative, schools=[maple])  # still open
    with pytest.raises(ValidationError) as exc:
        services.move(initiative, Status.ROLLOUT, by=principal)
    assert "override_reason" in exc.value.message_dict
    initiative.refresh_from_db()
    assert initiative.status == Status.PLANNING
    assert not StatusChange.objects.filter(initiative=initiative, to_status=Status.ROLLOUT)


def test_rollout_follows_once_the_survey_closes(initiative, principal, maple):
    _settle_compliance(initiative)
    survey = SurveyFactory(initiative=initiative, schools=[maple])
    with pytest.raises(ValidationError):
        services.move(initiative, Status.PILOT, by=principal)
    survey.closed_on = timezone.localdate()  # closed early by hand
    survey.save()
    change = services.move(initiative, Status.PILOT, by=principal)
    assert change.to_status == Status.PILOT and not change.overridden


def test_a_survey_past_its_last_day_counts_as_closed(initiative, principal, maple):
    _settle_compliance(initiative)
    _closed_survey(initiative, maple)
    services.move(initiative, Status.ROLLOUT, by=principal)
    initiative.refresh_from_db()
    assert initiative.status == Status.ROLLOUT


def test_a_written_reason_overrides_the_listening_rule_and_stays_on_record(initiative, principal):
    _settle_compliance(initiative)
    with pytest.raises(ValidationError):
        services.move(initiative, Status.PILOT, by=principal, override_reason="   ")
    change = services.move(
        initiative, Status.PILOT, by=principal, override_reason="Council agreed in person."
    )
    assert change.overridden and change.override_reason == "Council agreed in person."
    assert change.by == principal and change.at is not None
    initiative.refresh_from_db()
    assert initiative.status == Status.PILOT


def test_the_override_does_not_lift_the_compliance_rule(initiative, principal, maple):
    _closed_survey(initiative, maple)
    with pytest.raises(ValidationError) as exc:
        services.move(initiative, Status.ROLLOUT, by=principal, override_reason="Hurry.")
    assert "compliance item" in str(exc.value)
    item = ComplianceItem.objects.filter(initiative=initiative).first()
    ComplianceItem.objects.filter(initiative=initiative).exclude(pk=item.pk).update(
        status=ComplianceStatus.DONE
    )
    item.status = ComplianceStatus.WAIVED
    item.waiver_reason = "No student data leaves the building."
    item.save()
    services.move(initiative, Status.ROLLOUT, by=principal)
    initiative.refresh_from_db()
    assert initiative.status == Status.ROLLOUT


def test_a_waiver_needs_a_reason_in_the_model_and_the_form(initiative):
    item = ComplianceItem.objects.filter(initiative=initiative).first()
    item.status = ComplianceStatus.WAIVED
    with pytest.raises(ValidationError) as exc:
        item.save()
    assert "waiver_reason" in exc.value.message_dict
    form = ComplianceItemForm(
        {"kind": item.kind, "status": "waived", "waiver_reason": ""}, instance=item
    )
    assert not form.is_valid() and "waiver_reason" in form.errors


def test_saving_the_model_directly_is_refused_too(initiative, maple):
    _settle_compliance(initiative)
    initiative.status = Status.ROLLOUT
    with pytest.raises(ValidationError):
        initiative.full_clean()
    with pytest.raises(ValidationError):
        initiative.save()
    assert Initiative.objects.get(pk=initiative.pk).status == Status.PLANNING


def test_a_direct_save_that_obeys_the_rules_is_recorded(initiative, maple):
    _settle_compliance(initiative)
    _closed_survey(initiative, maple)
    initiative.status = Status.PILOT
    initiative.save()
    latest = StatusChange.objects.filter(initiative=initiative).first()
    assert (latest.from_status, latest.to_status, latest.by) == (
        Status.PLANNING,
        Status.PILOT,
        None,
    )


def test_only_listed_transitions_are_allowed(initiative, principal):
    with pytest.raises(ValidationError) as exc:
        services.move(initiative, Status.SUSTAINING, by=principal)
    assert "can move to" in str(exc.value)
    services.move(initiative, Status.RETIRED, by=principal)
    services.move(initiative, Status.PLANNING, by=principal)


def test_status_history_keeps_every_move_in_order(initiative, principal, maple):
    _settle_compliance(initiative)
    _closed_survey(initiative, maple)
    for status in (Status.PILOT, Status.ROLLOUT, Status.SUSTAINING):
        services.move(initiative, status, by=principal)
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
            planned.save()
        assert "stage" in exc.value.message_dict
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
    initiative.save()
    planned.stage = Stage.COMMITTED
    planned.save()
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
    with pytest.raises(ValidationError):
        initiative.save()


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
    assert services.linked_school_ids(initiative) == {maple.pk, cedar.pk}


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
