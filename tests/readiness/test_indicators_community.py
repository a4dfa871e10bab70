"""The indicators fed by the stakeholders and initiatives apps: each on hand-built data with a
known answer, its "no evidence" case and, for survey answers, the district's minimum group."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from initiatives.models import Initiative, Reflection, StatusChange
from readiness.indicators import cohort_year
from stakeholders.models import (
    Answer,
    CommunicationPlan,
    Invitation,
    PlanChannelUse,
    StoryPerson,
    StoryShare,
)
from tests.factories import (
    BudgetLineFactory,
    PartnershipFactory,
    QuestionFactory,
    ResponseFactory,
    StoryFactory,
    SwotFactory,
)

from .helpers import initiative, survey
from .test_indicators import read, value

pytestmark = pytest.mark.django_db


def answered(survey_, audience, scores, *, question=None, days_ago=12):
    """One response of ``audience`` per score in ``scores`` to ``question``'s Likert item."""
    question = question or QuestionFactory(survey=survey_)
    for score in scores:
        response = ResponseFactory(
            survey=survey_,
            audience=audience,
            submitted_on=timezone.localdate() - timedelta(days=days_ago),
        )
        Answer.objects.create(response=response, question=question, likert=score)
    return question


def link(survey_, audience, expected=None):
    return Invitation.objects.create(survey=survey_, audience=audience, expected=expected)


# --- student voice / family sentiment ------------------------------------------------------


def test_student_voice_is_the_students_mean_agreement_on_engagement_items(maple, cedar):
    shared = survey([maple, cedar])
    answered(shared, "students", [5, 5, 4, 4, 2])  # mean 4.0 → 0.75
    # Not counted: teachers' answers, items of another pillar, answers older than 12 months.
    answered(shared, "teachers", [1, 1, 1, 1, 1])
    other = QuestionFactory(survey=shared, pillar="communication")
    answered(shared, "students", [1, 1, 1, 1, 1], question=other)
    old = survey([maple], opens_days_ago=420, closes_days_ago=380)
    answered(old, "students", [1, 1, 1, 1, 1], days_ago=390)
    readings = read("student_voice", maple, cedar)
    assert readings[maple.pk].value == pytest.approx(0.75)
    assert readings[maple.pk].evidence == 5  # respondents
    assert readings[cedar.pk].value == pytest.approx(0.75)  # a shared survey counts for both


def test_student_voice_pools_answers_across_surveys(maple):
    answered(survey([maple]), "students", [5] * 5)  # 5 answers of 5
    answered(survey([maple]), "students", [3] * 15)  # 15 answers of 3
    # Mean of all 20 answers: (25 + 45) ÷ 20 = 3.5 → (3.5 − 1) ÷ 4.
    assert value("student_voice", maple) == pytest.approx(2.5 / 4)


def test_student_voice_without_student_answers_is_no_evidence(maple):
    answered(survey([maple]), "teachers", [5] * 6)
    assert value("student_voice", maple) is None


def test_a_survey_group_under_the_minimum_is_left_out(maple, district):
    small = survey([maple])
    answered(small, "students", [1, 1, 1, 1])  # four students: under the default 5
    assert value("student_voice", maple) is None
    big = survey([maple])
    answered(big, "students", [5] * 5)
    # The small group's answers never reach the score, even pooled with a large one.
    assert value("student_voice", maple) == pytest.approx(1.0)
    district.survey_min_group = 3
    district.save()
    maple.refresh_from_db()
    assert value("student_voice", maple) == pytest.approx((4 + 25 - 9) / 9 / 4)


def test_family_sentiment_reads_sentiment_or_branding_items_of_families(maple):
    s = survey([maple])
    feeling = QuestionFactory(survey=s, pillar="", sentiment=True)
    brand = QuestionFactory(survey=s, pillar="branding")
    answered(s, "families", [5, 4, 4, 4, 3], question=feeling)  # 20
    answered(s, "families", [2, 2, 2, 2, 2], question=brand)  # 10
    answered(s, "families", [1] * 5, question=QuestionFactory(survey=s, pillar="engagement"))
    answered(s, "students", [1] * 5, question=feeling)
    # Ten family responses to the two items, mean (20 + 10) ÷ 10 = 3.0 → 0.5; the students'
    # answers and the engagement item are left out.
    reading = read("family_sentiment", maple)[maple.pk]
    assert reading.value == pytest.approx(0.5)
    assert reading.evidence == 10


def test_family_sentiment_under_the_minimum_is_no_evidence(maple):
    s = survey([maple])
    answered(s, "families", [5, 5, 5], question=QuestionFactory(survey=s, sentiment=True))
    assert value("family_sentiment", maple) is None


# --- surveys per audience / response rate -------------------------------------------------


def test_surveys_per_audience_counts_audiences_of_surveys_closed_in_12_months(maple, cedar):
    closed = survey([maple, cedar])  # closed by its last day 10 days ago
    link(closed, "teachers")
    link(closed, "community")  # not one of the three
    early = survey([maple], opens_days_ago=30, closes_days_ago=-30, closed_days_ago=2)
    link(early, "families")
    still_open = survey([maple], opens_days_ago=5, closes_days_ago=-10)
    link(still_open, "students")
    old = survey([maple], opens_days_ago=420, closes_days_ago=380)
    link(old, "students")
    readings = read("surveys_per_audience", maple, cedar)
    assert readings[maple.pk].value == pytest.approx(2 / 3)  # teachers, families
    assert readings[maple.pk].evidence == 2  # surveys
    assert readings[cedar.pk].value == pytest.approx(1 / 3)


def test_surveys_per_audience_is_measured_even_with_no_survey(maple):
    reading = read("surveys_per_audience", maple)[maple.pk]
    assert (reading.value, reading.evidence) == (0.0, 0)


def test_survey_response_rate_divides_responses_by_expected(maple, cedar):
    first = survey([maple, cedar])
    link(first, "teachers", expected=20)
    answered(first, "teachers", [4] * 10)
    second = survey([maple])
    link(second, "families", expected=30)
    answered(second, "families", [4] * 6)
    readings = read("survey_response_rate", maple, cedar)
    assert readings[maple.pk].value == pytest.approx(16 / 50)
    assert readings[maple.pk].evidence == 16
    assert readings[cedar.pk].value == pytest.approx(10 / 20)


def test_survey_response_rate_leaves_out_hidden_or_unknown_rates(maple):
    hidden = survey([maple])
    link(hidden, "teachers", expected=40)
    answered(hidden, "teachers", [4] * 3)  # under the minimum group: its count is hidden
    unknown = survey([maple])
    link(unknown, "families")  # no expected number
    answered(unknown, "families", [4] * 8)
    assert value("survey_response_rate", maple) is None
    still_open = survey([maple], opens_days_ago=5, closes_days_ago=-10)
    link(still_open, "students", expected=10)
    answered(still_open, "students", [4] * 9, days_ago=1)
    assert value("survey_response_rate", maple) is None  # not closed yet


# --- communication plan -------------------------------------------------------------------


def test_communication_plans_needs_a_channel_and_a_daily_tool(maple, cedar, elsewhere):
    plan = CommunicationPlan.objects.create(school=maple, daily_tool="Class app")
    PlanChannelUse.objects.create(plan=plan, channel="newsletter")
    PlanChannelUse.objects.create(plan=plan, channel="social_media")
    CommunicationPlan.objects.create(school=cedar, daily_tool="Class app")  # no channel
    readings = read("communication_plans", maple, cedar, elsewhere)
    assert readings[maple.pk].value == 1.0
    assert "2 channels" in readings[maple.pk].detail
    assert readings[cedar.pk].value == 0.0
    assert readings[elsewhere.pk].value == 0.0  # no plan is measured, not unknown


# --- stories ------------------------------------------------------------------------------


def _story(school, *, days_ago=5, channels=(), roles=()):
    story = StoryFactory(school=school, date=timezone.localdate() - timedelta(days=days_ago))
    for channel in channels:
        StoryShare.objects.create(story=story, channel=channel)
    for role in roles:
        StoryPerson.objects.create(story=story, role=role)
    return story


def test_stories_shared_counts_stories_of_90_days_shared_somewhere(maple, cedar):
    _story(maple, channels=["newsletter", "social_media"], roles=["students"])
    _story(maple, days_ago=89, channels=["board_meeting"], roles=["leaders"])
    _story(maple, roles=["families"])  # not shared
    _story(maple, days_ago=90, channels=["newsletter"])  # 91st day back: too old
    readings = read("stories_shared", maple, cedar)
    assert readings[maple.pk].value == 2
    assert readings[cedar.pk].value == 0  # measured: no story is known
    others = read("stories_by_others", maple, cedar)
    assert others[maple.pk].value == pytest.approx(2 / 3)  # students, families; not leaders
    assert others[cedar.pk].value is None  # no story of the 90 days: no evidence


# --- SWOT ---------------------------------------------------------------------------------


def test_swot_recent_is_yes_for_this_school_years_analysis(maple, cedar, elsewhere):
    year = cohort_year(timezone.localdate())
    SwotFactory(school=maple, year=year)
    SwotFactory(school=cedar, year=year - 2)
    readings = read("swot_recent", maple, cedar)
    assert (readings[maple.pk].value, readings[cedar.pk].value) == (1.0, 0.0)
    # Last school year's analysis still counts while it is less than 12 months old.
    SwotFactory(school=elsewhere, year=year - 1)
    assert value("swot_recent", elsewhere) == 1.0
    assert value("swot_recent", elsewhere, today=timezone.localdate() + timedelta(days=400)) == 0


# --- partnerships / funding / evaluation --------------------------------------------------


def test_partnerships_active_counts_active_started_partnerships(maple, cedar):
    PartnershipFactory.create_batch(2, school=maple)
    PartnershipFactory(school=maple, active=False)
    PartnershipFactory(school=maple, started_on=timezone.localdate() + timedelta(days=3))
    readings = read("partnerships_active", maple, cedar)
    assert (readings[maple.pk].value, readings[cedar.pk].value) == (2.0, 0.0)


def test_external_funding_is_grants_and_donations_over_active_budgets(maple, cedar):
    shared = initiative(maple, why="w", goals="g")
    shared.schools.add(cedar)
    BudgetLineFactory(initiative=shared, amount=Decimal("600"), funding_source="grant")
    BudgetLineFactory(initiative=shared, amount=Decimal("2400"))
    own = initiative(maple, why="w", goals="g")
    BudgetLineFactory(initiative=own, amount=Decimal("1000"), funding_source="donation")
    idea = initiative(maple, status="idea")  # not active: left out
    BudgetLineFactory(initiative=idea, amount=Decimal("9000"), funding_source="grant")
    readings = read("external_funding", maple, cedar)
    assert readings[maple.pk].value == pytest.approx(1600 / 4000)
    assert readings[maple.pk].evidence == 3
    assert readings[cedar.pk].value == pytest.approx(600 / 3000)


def test_external_funding_without_budget_is_no_evidence(maple):
    initiative(maple, why="w", goals="g")
    assert value("external_funding", maple) is None


def test_initiatives_evaluated_counts_a_recent_reflection(maple, cedar):
    today = timezone.localdate()
    evaluated = initiative(maple, status="sustaining")
    evaluated.schools.add(cedar)
    Reflection.objects.create(
        school=maple,
        initiative=evaluated,
        written_on=today - timedelta(days=30),
        relationships="r",
        connection="bridge",
        this_year="t",
    )
    stale = initiative(maple, status="rollout")
    Reflection.objects.create(
        school=maple,
        initiative=stale,
        written_on=today - timedelta(days=400),
        relationships="r",
        connection="mixed",
        this_year="t",
    )
    retired = initiative(maple, status="retired")
    StatusChange.objects.create(initiative=retired, from_status="sustaining", to_status="retired")
    long_retired = initiative(maple, status="retired")
    StatusChange.objects.filter(initiative=long_retired).update(
        at=timezone.now() - timedelta(days=500)
    )
    initiative(maple, status="pilot")  # not in students' hands at scale yet
    readings = read("initiatives_evaluated", maple, cedar)
    assert readings[maple.pk].value == pytest.approx(1 / 3)
    assert readings[maple.pk].evidence == 3
    assert readings[cedar.pk].value == 1.0


def test_initiatives_evaluated_without_such_initiatives_is_no_evidence(maple):
    initiative(maple, status="planning")
    assert value("initiatives_evaluated", maple) is None
    assert Initiative.objects.count() == 1
