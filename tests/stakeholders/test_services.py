"""Writes: a response is saved whole or not at all; a person link answers once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from stakeholders import services
from stakeholders.models import (
    Answer,
    CommunicationPlan,
    Invitation,
    Partnership,
    Question,
    Response,
    Survey,
)
from stakeholders.starters import STARTERS
from tests.factories import (
    ChoiceFactory,
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(maple):
    return SurveyFactory(schools=[maple])


@pytest.fixture
def link(survey):
    return InvitationFactory(survey=survey, audience="teachers")


def test_it_saves_the_answers_with_only_audience_language_and_day(survey, link):
    likert = QuestionFactory(survey=survey, required=True)
    text = QuestionFactory(survey=survey, kind="text")
    response = services.response_submit(
        invitation=link, answers={likert.pk: 4, text.pk: "More planning time"}, language="es"
    )
    assert (response.audience, response.language) == ("teachers", "es")
    assert response.submitted_on == timezone.localdate()
    assert set(Answer.objects.values_list("likert", "text")) == {
        (None, "More planning time"),
        (4, ""),
    }


def test_it_saves_nothing_when_one_answer_is_wrong(survey, link):
    first = QuestionFactory(survey=survey)
    missing = QuestionFactory(survey=survey, required=True)
    with pytest.raises(ValidationError) as caught:
        services.response_submit(invitation=link, answers={first.pk: 5})
    assert f"q{missing.pk}" in caught.value.message_dict
    assert not Response.objects.exists() and not Answer.objects.exists()


def test_it_refuses_an_option_of_another_question(survey, link):
    question = QuestionFactory(survey=survey, kind="single")
    ChoiceFactory(question=question)
    stranger = ChoiceFactory()
    with pytest.raises(ValidationError):
        services.response_submit(invitation=link, answers={question.pk: stranger.pk})
    assert not Response.objects.exists()


def test_it_records_each_ticked_option(survey, link):
    question = QuestionFactory(survey=survey, kind="multiple")
    a, b, _c = (ChoiceFactory(question=question) for _ in range(3))
    services.response_submit(invitation=link, answers={question.pk: [a.pk, b.pk]})
    assert set(Answer.objects.values_list("choice_id", flat=True)) == {a.pk, b.pk}


def test_a_person_link_answers_once(maple):
    survey = SurveyFactory(schools=[maple], anonymous=False)
    question = QuestionFactory(survey=survey)
    person = InvitationFactory(survey=survey, kind="person", name="Ana Ruiz")
    services.response_submit(invitation=person, answers={question.pk: 3})
    person.refresh_from_db()
    assert person.used_on == timezone.localdate()
    with pytest.raises(ValidationError, match="already been used"):
        services.response_submit(invitation=person, answers={question.pk: 5})
    assert Response.objects.count() == 1


def test_an_audience_link_takes_many_answers(survey, link):
    question = QuestionFactory(survey=survey)
    for value in (1, 2, 3):
        services.response_submit(invitation=link, answers={question.pk: value})
    assert Response.objects.filter(survey=survey).count() == 3


def test_it_refuses_answers_to_a_closed_survey(survey, link):
    question = QuestionFactory(survey=survey)
    services.survey_close(survey=survey)
    with pytest.raises(ValidationError, match="closed"):
        services.response_submit(invitation=link, answers={question.pk: 3})


def test_it_creates_a_survey_from_a_starter_with_one_link_per_audience(maple, principal):
    today = timezone.localdate()
    survey = services.survey_create(
        survey=Survey(title="", opens_on=today, closes_on=today + timedelta(days=7)),
        schools=[maple],
        audiences=["teachers", "staff"],
        starter="teachers_before",
        by=principal,
    )
    starter = STARTERS["teachers_before"]
    assert survey.title == starter.title and survey.title_es == starter.title_es
    assert Question.objects.filter(survey=survey).count() == len(starter.questions)
    assert all(q.text_es for q in Question.objects.filter(survey=survey))
    assert set(Invitation.objects.filter(survey=survey).values_list("audience", flat=True)) == {
        "teachers",
        "staff",
    }


def test_it_refuses_an_initiative_of_another_school(maple, cedar, district):
    from initiatives.models import Initiative

    initiative = Initiative.objects.create(district=district, title="Cedar laptops")
    initiative.schools.set([cedar])
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        services.survey_create(
            survey=Survey(title="T", opens_on=today, closes_on=today, initiative=initiative),
            schools=[maple],
            audiences=["teachers"],
            by=None,
        )
    assert "initiative" in caught.value.message_dict
    assert not Survey.objects.exists()


def test_it_keeps_an_answered_audience(survey, link):
    ResponseFactory(survey=survey, audience="teachers")
    with pytest.raises(ValidationError):
        services.survey_update(survey=survey, schools=[], audiences=["families"], kept=[])


def test_it_reorders_questions(survey):
    first, second, third = (QuestionFactory(survey=survey, position=i) for i in (1, 2, 3))
    services.question_move(question=third, up=True)
    order = list(Question.objects.filter(survey=survey).values_list("pk", flat=True))
    assert order == [first.pk, third.pk, second.pk]


def test_it_refuses_to_move_or_delete_answered_questions(survey):
    question = QuestionFactory(survey=survey)
    ResponseFactory(survey=survey)
    with pytest.raises(ValidationError):
        services.question_move(question=question, up=True)
    with pytest.raises(ValidationError):
        services.question_delete(question=question)
    assert Question.objects.filter(pk=question.pk).exists()


def test_a_choice_question_needs_two_options(survey):
    with pytest.raises(ValidationError):
        services.question_save(
            question=Question(survey=survey, kind="single", text="Which?"), choices=[("A", "")]
        )
    assert not Question.objects.exists()


def test_a_money_partnership_needs_its_amount(maple):
    partner = Partnership(
        school=maple, organisation="Credit union", kind="business", started_on="2025-01-01"
    )
    with pytest.raises(ValidationError) as caught:
        services.partnership_save(partnership=partner, benefits=["donation"])
    assert "amount" in caught.value.message_dict
    partner.amount = Decimal("1500")
    services.partnership_save(partnership=partner, benefits=["donation", "mentoring"])
    assert set(partner.benefits.values_list("benefit", flat=True)) == {"donation", "mentoring"}


def test_a_plan_hashtag_is_one_word(maple, principal):
    plan = CommunicationPlan(school=maple, daily_tool="School app", hashtag="Maple Makes")
    with pytest.raises(ValidationError):
        services.plan_save(plan=plan, channels=["newsletter"], by=principal)
    plan.hashtag = "MapleMakes"
    services.plan_save(plan=plan, channels=["newsletter"], by=principal)
    plan.refresh_from_db()
    assert plan.hashtag == "#MapleMakes"
