"""The status move locks the initiative's row: called directly without pytest-django's
wrapping transaction (PostgreSQL on CI refuses a lock outside one; ``row_locks`` refuses it
on any database). Listed in tests/test_row_locks.py."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from initiatives import services
from initiatives.models import NO_SURVEY_CLOSED, ComplianceItem, Initiative, StatusChange
from tests.factories import InitiativeFactory, SurveyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_moves_an_initiative_refuses_rollout_then_overrides(row_locks, maple, principal):
    initiative = InitiativeFactory(schools=[maple])
    services.initiative_move(initiative=initiative, to="planning", by=principal)
    ComplianceItem.objects.filter(initiative=initiative).update(status="done")

    with pytest.raises(ValidationError) as refused:
        services.initiative_move(initiative=initiative, to="pilot", by=principal)
    assert refused.value.message_dict["override_reason"] == [NO_SURVEY_CLOSED]
    assert Initiative.objects.get(pk=initiative.pk).status == "planning"

    services.initiative_move(
        initiative=initiative, to="pilot", by=principal, override_reason="The grant ends in June."
    )
    survey = SurveyFactory(initiative=initiative, schools=[maple])
    survey.closed_on = timezone.localdate()
    survey.save()
    services.initiative_move(initiative=initiative, to="rollout", by=principal)

    history = StatusChange.objects.filter(initiative=initiative).order_by("at", "pk")
    assert list(history.values_list("from_status", "to_status", "override_reason")) == [
        ("", "idea", ""),
        ("idea", "planning", ""),
        ("planning", "pilot", "The grant ends in June."),
        ("pilot", "rollout", ""),
    ]
    assert Initiative.objects.get(pk=initiative.pk).status == "rollout"
    row_locks.assert_taken("initiatives.services:initiative_move")
