"""A person link's answer locks the link's row so it counts once: called directly without
pytest-django's wrapping transaction (PostgreSQL on CI refuses a lock outside one;
``row_locks`` refuses it on any database). Listed in tests/test_row_locks.py."""

import pytest
from django.core.exceptions import ValidationError

from stakeholders import services
from stakeholders.models import Answer, Invitation, PersonResponse, Response
from tests.factories import InvitationFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_takes_one_answer_per_person_link(row_locks, maple):
    survey = SurveyFactory(schools=[maple], anonymous=False)
    question = QuestionFactory(survey=survey, required=True)
    link = InvitationFactory(survey=survey, kind="person", name="Ana Lima", email="ana@example.org")

    response = services.response_submit(invitation=link, answers={question.pk: 4})
    with pytest.raises(ValidationError, match="already been used"):
        services.response_submit(invitation=link, answers={question.pk: 2})

    assert list(Answer.objects.values_list("response", "likert")) == [(response.pk, 4)]
    assert Response.objects.count() == 1
    assert PersonResponse.objects.get().invitation == link
    assert Invitation.objects.get(pk=link.pk).used_on is not None
    row_locks.assert_taken("stakeholders.services:response_submit")
