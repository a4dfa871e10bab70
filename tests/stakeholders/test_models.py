"""Model-layer rules: anonymity held by the schema, single-use person links, locked questions."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from stakeholders.models import Answer, Invitation, PersonResponse, Question, Response, Survey
from tests.factories import (
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

# Everything an anonymous response row may hold: the survey, the audience it came through,
# the language it was given in, and the day. Nothing else.
RESPONSE_COLUMNS = {"id", "survey_id", "audience", "language", "submitted_on"}
ANSWER_COLUMNS = {"id", "response_id", "question_id", "likert", "choice_id", "text"}
IDENTITY_HINTS = ("user", "ip", "agent", "email", "name", "person", "invitation", "token")


def _columns(model) -> dict[str, str]:
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, model._meta.db_table)
    return {c.name: c.type_code for c in described}


def test_it_keeps_no_identity_in_the_response_table():
    columns = _columns(Response)
    assert set(columns) == RESPONSE_COLUMNS
    assert not [c for c in columns if any(h in c for h in IDENTITY_HINTS)]


def test_it_keeps_no_identity_in_the_answer_table():
    columns = _columns(Answer)
    assert set(columns) == ANSWER_COLUMNS
    assert not [c for c in columns if any(h in c for h in IDENTITY_HINTS)]


def test_it_keeps_only_the_day_not_the_time():
    field = Response._meta.get_field("submitted_on")
    assert field.get_internal_type() == "DateField"
    datetimes = [
        f.name
        for model in (Response, Answer)
        for f in model._meta.concrete_fields
        if f.get_internal_type() == "DateTimeField"
    ]
    assert datetimes == []


def test_it_points_to_no_user_from_the_response_tables():
    from django.contrib.auth import get_user_model

    user = get_user_model()
    related = [
        f.name
        for model in (Response, Answer)
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model in (user, Invitation)
    ]
    assert related == []


def test_it_refuses_a_person_link_on_an_anonymous_survey():
    survey = SurveyFactory(anonymous=True)
    link = Invitation(survey=survey, kind="person", audience="teachers", name="Ana")
    with pytest.raises(ValidationError):
        link.full_clean()


def test_it_refuses_to_name_an_answer_of_an_anonymous_survey():
    survey = SurveyFactory(anonymous=True)
    link = InvitationFactory(survey=survey)
    tie = PersonResponse(invitation=link, response=ResponseFactory(survey=survey))
    with pytest.raises(ValidationError):
        tie.full_clean()


def test_a_person_link_answers_once_in_the_database():
    from django.db import IntegrityError, transaction

    survey = SurveyFactory(anonymous=False)
    link = InvitationFactory(survey=survey, kind="person", name="Ana")
    PersonResponse.objects.create(invitation=link, response=ResponseFactory(survey=survey))
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonResponse.objects.create(invitation=link, response=ResponseFactory(survey=survey))


def test_it_locks_questions_once_the_survey_has_answers():
    question = QuestionFactory()
    ResponseFactory(survey=question.survey)
    question.text = "Changed after people answered"
    with pytest.raises(ValidationError, match="already has answers"):
        question.full_clean()


def test_it_refuses_a_survey_that_closes_before_it_opens():
    survey = SurveyFactory.build(closes_on=SurveyFactory.build().opens_on.replace(year=2000))
    with pytest.raises(ValidationError):
        survey.full_clean(exclude=["schools"])


def test_only_a_likert_question_is_a_sentiment_item():
    question = QuestionFactory.build(survey=SurveyFactory(), kind="text", sentiment=True)
    with pytest.raises(ValidationError):
        question.full_clean()


def test_closed_keeps_its_meaning(maple):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    open_now = SurveyFactory(schools=[maple])
    past = SurveyFactory(
        schools=[maple], opens_on=today - timedelta(days=9), closes_on=today - timedelta(days=1)
    )
    by_hand = SurveyFactory(schools=[maple], closed_on=today)
    assert set(Survey.objects.closed()) == {past, by_hand}
    assert not open_now.is_closed() and past.is_closed() and by_hand.is_closed()
    assert Question.objects.count() == 0
