"""Results: small groups hidden, complementary hiding, constant query counts."""

import pytest

from stakeholders import selectors
from stakeholders.selectors import suppress
from tests.factories import (
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)


def test_a_group_under_the_minimum_is_hidden():
    rule = suppress({"teachers": 12, "staff": 6, "families": 3}, 5)
    assert rule.hidden >= {"families"} and not rule.total_hidden


def test_a_lone_hidden_group_takes_the_smallest_other_with_it():
    # Shown: total 21 and teachers 12 would give away staff = 21 - 12 - 6.
    rule = suppress({"teachers": 12, "staff": 6, "families": 3}, 5)
    assert rule.hidden == {"families", "staff"}
    assert rule.complementary == {"staff"}
    assert rule.shows("teachers")


def test_two_small_groups_that_add_up_to_the_minimum_need_no_other():
    rule = suppress({"teachers": 20, "staff": 3, "families": 2}, 5)
    assert rule.hidden == {"staff", "families"} and rule.complementary == set()


def test_two_small_groups_under_the_minimum_together_hide_a_third():
    rule = suppress({"teachers": 20, "students": 9, "staff": 1, "families": 2}, 5)
    assert rule.hidden == {"staff", "families", "students"}
    assert rule.shows("teachers")


def test_a_small_total_hides_everything():
    rule = suppress({"teachers": 3, "staff": 1}, 5)
    assert rule.total_hidden and not rule.shows("teachers")


def test_with_two_groups_one_small_hides_both_but_keeps_the_total():
    rule = suppress({"teachers": 30, "staff": 2}, 5)
    assert rule.hidden == {"teachers", "staff"} and not rule.total_hidden


def test_empty_groups_are_not_hidden_and_do_not_count():
    rule = suppress({"teachers": 30, "staff": 0}, 5)
    assert rule.hidden == set()


def _answers(survey, question, audience, values):
    from stakeholders.models import Answer

    for value in values:
        response = ResponseFactory(survey=survey, audience=audience)
        Answer.objects.create(response=response, question=question, likert=value)


@pytest.fixture
def survey(maple):
    return SurveyFactory(schools=[maple])


def test_results_hide_a_small_audience_and_its_complement(survey):
    question = QuestionFactory(survey=survey)
    InvitationFactory(survey=survey, audience="teachers", expected=40)
    InvitationFactory(survey=survey, audience="staff", expected=10)
    InvitationFactory(survey=survey, audience="families", expected=100)
    _answers(survey, question, "teachers", [4] * 12)
    _answers(survey, question, "staff", [2] * 6)
    _answers(survey, question, "families", [1] * 2)
    data = selectors.results(survey)
    rows = {a.audience: a for a in data["audiences"]}
    assert rows["teachers"].shown and rows["teachers"].rate == 30.0
    assert not rows["families"].shown and rows["families"].rate is None
    assert not rows["staff"].shown and rows["staff"].complementary
    assert data["total"] == 20 and data["total_shown"]
    (likert,) = data["likert"]
    assert likert.shown and likert.counts == [2, 6, 0, 12, 0]
    shown = {code: (mean, visible) for code, mean, visible in likert.by_audience}
    assert shown["teachers"] == (4.0, True)
    assert not shown["families"][1] and not shown["staff"][1]


def test_no_overall_rate_when_an_answering_audience_has_no_invited_count(survey):
    question = QuestionFactory(survey=survey)
    InvitationFactory(survey=survey, audience="teachers", expected=40)
    InvitationFactory(survey=survey, audience="staff")
    _answers(survey, question, "teachers", [4] * 12)
    _answers(survey, question, "staff", [2] * 6)
    data = selectors.results(survey)
    assert data["total_expected"] is None and data["total_rate"] is None
    assert selectors.headline_results([survey])[survey.pk]["rate"] is None


def test_results_hide_a_question_with_too_few_answers(survey, district):
    district.survey_min_group = 8
    district.save()
    question = QuestionFactory(survey=survey)
    _answers(survey, question, "teachers", [5] * 7)
    data = selectors.results(survey)
    assert data["minimum"] == 8
    assert not data["likert"][0].shown and not data["total_shown"]
    assert not data["pillars"][0].shown and not data["needs"][0].shown


def test_free_text_is_grouped_by_need_and_hidden_when_few_wrote(survey):
    from stakeholders.models import Answer

    time = QuestionFactory(survey=survey, kind="text", need_category="time")
    devices = QuestionFactory(survey=survey, kind="text", need_category="devices")
    for n in range(6):
        response = ResponseFactory(survey=survey)
        Answer.objects.create(response=response, question=time, text=f"Time idea {n}")
        if n < 2:
            Answer.objects.create(response=response, question=devices, text="Old laptops")
    groups = {g.key: g for g in selectors.results(survey)["free_text"]}
    assert groups["time"].shown and len(groups["time"].answers) == 6
    assert not groups["devices"].shown and groups["devices"].answers == []


def _fill(survey, n):
    from stakeholders.models import Answer

    likert = QuestionFactory(survey=survey, need_category="devices")
    for i in range(n):
        response = ResponseFactory(survey=survey, audience=("teachers", "families")[i % 2])
        Answer.objects.create(response=response, question=likert, likert=1 + i % 5)


@pytest.mark.parametrize("surveys", [1, 6])
def test_headline_results_cost_four_queries(surveys, maple, django_assert_num_queries):
    made = [SurveyFactory(schools=[maple]) for _ in range(surveys)]
    for s in made:
        InvitationFactory(survey=s, audience="teachers", expected=20)
        InvitationFactory(survey=s, audience="families", expected=20)
        _fill(s, 10)
    with django_assert_num_queries(4):
        heads = selectors.headline_results(made)
    head = heads[made[0].pk]
    assert head["responses"] == 10 and head["expected"] == 40 and head["rate"] == 25.0
    assert head["top_need"] == "devices"


def test_headline_results_hide_a_small_survey(survey):
    _fill(survey, 3)
    head = selectors.headline_results([survey])[survey.pk]
    assert head["hidden"] and head["responses"] is None and head["top_need"] is None


@pytest.mark.parametrize("size", [6, 30])
def test_results_cost_the_same_queries_at_any_size(size, survey, django_assert_num_queries):
    _fill(survey, size)
    QuestionFactory(survey=survey, kind="text", need_category="time")
    with django_assert_num_queries(11):
        selectors.results(survey)
