"""The small-group rule holds on every page and export that mentions a survey.

A survey with fewer responses than the district's minimum group shows its count nowhere
(lists, initiative pages, the board summary, readiness evidence, exports) and none of its
free text; the free text of an audience under the minimum is hidden with it, never pooled
into a larger group. The pages are found from tests/scoping_cases.py: every page without
an object, and every page of the survey, of its initiative, of its school and of its
district, as read by the people who may open them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from readiness import services as readiness
from readiness.models import RunKind
from schools.models import Role
from stakeholders.models import Answer, Question, QuestionKind, Response
from stakeholders.selectors import reaches_minimum, results, shown_count
from tests.factories import (
    InitiativeFactory,
    InvitationFactory,
    MembershipFactory,
    QuestionFactory,
    SurveyFactory,
)
from tests.scoping_cases import CASES, PUBLIC_KWARGS, SIGNED_IN, Scoped

MINIMUM = 50
ANSWERED = 47  # an unusual number, so that it cannot be met by chance on a page
SECRET = "only-forty-seven-people-wrote-this"
TITLE = "Small listening survey"


def _answers(survey, audience: str, n: int, text: str, questions) -> None:
    likert, free = questions
    today = timezone.localdate() - timedelta(days=6)
    responses = Response.objects.bulk_create(
        Response(survey=survey, audience=audience, submitted_on=today) for _ in range(n)
    )
    Answer.objects.bulk_create(
        [Answer(response=r, question=likert, likert=2) for r in responses]
        + [Answer(response=r, question=free, text=f"{text} {i}") for i, r in enumerate(responses)]
    )


def _questions(survey):
    likert = QuestionFactory(
        survey=survey, kind=QuestionKind.LIKERT, pillar="engagement", need_category="devices"
    )
    free = QuestionFactory(survey=survey, kind=QuestionKind.TEXT, need_category="devices")
    return likert, free


def test_the_rule_is_one_function():
    assert not reaches_minimum(4, 5) and reaches_minimum(5, 5)
    assert shown_count(4, 5) is None and shown_count(5, 5) == 5
    assert shown_count(0, 5) is None


def _small_survey_unanswered(district, maple):
    district.survey_min_group = MINIMUM
    district.save()
    initiative = InitiativeFactory(schools=[maple], title="Listening first")
    today = timezone.localdate()
    survey = SurveyFactory(
        schools=[maple],
        title=TITLE,
        initiative=initiative,
        opens_on=today - timedelta(days=20),
        closes_on=today - timedelta(days=5),
    )
    InvitationFactory(survey=survey, audience="teachers", expected=60)
    questions = _questions(survey)
    readiness.run_now(district_id=district.pk, school_id=maple.pk, kind=RunKind.MANUAL)
    return survey, initiative, questions


def _answer_small_survey(survey, questions, maple) -> None:
    _answers(survey, "teachers", ANSWERED, SECRET, questions)
    readiness.run_now(district_id=maple.district_id, school_id=maple.pk, kind=RunKind.MANUAL)


@pytest.fixture
def small_survey(district, maple):
    survey, initiative, questions = _small_survey_unanswered(district, maple)
    _answer_small_survey(survey, questions, maple)
    return survey, initiative


def _pages(survey, initiative, maple):
    """(url name, kwargs, who reads it) of every page that may mention the survey."""
    makers = {"_survey": {"pk": survey.pk}, "_initiative": {"pk": initiative.pk}}
    for name, case in sorted(CASES.items()):
        if case == SIGNED_IN:
            kwargs = PUBLIC_KWARGS.get(name)
            yield name, kwargs if isinstance(kwargs, dict) else None, "principal"
        elif isinstance(case, Scoped) and "GET" in case.methods:
            maker = case.make.__name__
            if maker in makers:
                yield name, makers[maker], "principal"
            elif maker == "_school":
                yield name, {"pk": maple.pk}, "principal"
            elif maker == "_district":
                yield name, {"pk": maple.district_id}, "district_admin"


def _text(response) -> str:
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode()
    return re.sub(r"<[^>]+>", " ", body)


def _numbers_like_the_count(text: str) -> int:
    # Not inside an identifier, a time, a URL or an attribute value, where a count is
    # never written.
    return len(re.findall(rf"(?<![\w.:/#=\"'-]){ANSWERED}(?![\w.:/%\"'&-])", text))


def _page_text(client, reader, name, kwargs):
    client.force_login(reader)
    response = client.get(reverse(name, kwargs=kwargs), follow=True)
    return _text(response) if response.status_code == 200 else None


def test_no_page_or_export_shows_a_small_surveys_count_or_text(
    district, maple, principal, district_admin, client
):
    survey, initiative, questions = _small_survey_unanswered(district, maple)
    MembershipFactory(
        user=principal, school=maple, district=maple.district, role=Role.COACH
    )  # sees the PD and stakeholder pages a coach sees as well
    readers = {"principal": principal, "district_admin": district_admin}
    pages = [
        *_pages(survey, initiative, maple),
        ("readiness:school", {"pk": maple.pk}, "principal"),
    ]
    # Each page is read before the answers come in and after: the count is shown if the
    # number appears more often afterwards. A number that was there before (an id, a
    # factory's "Statement 47", a time) belongs to something else on the same page.
    before = {}
    for name, kwargs, who in pages:
        text = _page_text(client, readers[who], name, kwargs)
        before[name] = _numbers_like_the_count(text) if text is not None else 0
    _answer_small_survey(survey, questions, maple)
    mentioned = []
    for name, kwargs, who in pages:
        text = _page_text(client, readers[who], name, kwargs)
        if text is None:
            continue
        if TITLE not in text and not name.endswith("export") and name != "readiness:school":
            continue
        mentioned.append(name)
        assert SECRET not in text, f"{name} shows the free text of a small survey"
        assert _numbers_like_the_count(text) <= before[name], (
            f"{name} shows the count of a small survey"
        )
    # The survey is mentioned where people look for it (so the check above read them).
    for name in (
        "stakeholders:home",
        "stakeholders:survey_detail",
        "stakeholders:survey_results",
        "stakeholders:survey_export",
        "initiatives:detail",
        "initiatives:summary",
    ):
        assert name in mentioned, name
    # Readiness left the small survey out of its evidence rather than counting it (the
    # readiness page was among those read above).
    assert "readiness:school" in mentioned


def test_the_count_shows_once_the_survey_reaches_the_minimum(small_survey, login, principal):
    survey, _initiative = small_survey
    questions = (
        Question.objects.get(survey=survey, kind=QuestionKind.LIKERT),
        Question.objects.get(survey=survey, kind=QuestionKind.TEXT),
    )
    _answers(survey, "teachers", MINIMUM - ANSWERED, SECRET, questions)
    client = login(principal)
    home = _text(client.get(reverse("stakeholders:home")))
    assert re.search(rf"(?<![\w.]){MINIMUM}(?![\w.])", home)
    assert SECRET in _text(client.get(reverse("stakeholders:survey_results", args=[survey.pk])))


def test_free_text_of_an_audience_under_the_minimum_is_hidden_with_it(
    district, maple, login, principal
):
    district.survey_min_group = 12
    district.save()
    survey = SurveyFactory(schools=[maple], title="Mixed audiences")
    questions = _questions(survey)
    _answers(survey, "teachers", 13, "TEACHER-TEXT", questions)
    _answers(survey, "families", 14, "FAMILY-TEXT", questions)
    _answers(survey, "students", 3, "STUDENT-TEXT", questions)
    data = results(survey)
    shown = {a.audience: a.shown for a in data["audiences"]}
    assert shown["students"] is False  # three students: under the minimum
    texts = [text for group in data["free_text"] for _q, text in group.answers]
    assert texts and not [t for t in texts if t.startswith("STUDENT-TEXT")]
    assert {t.split()[0] for t in texts} == {"TEACHER-TEXT", "FAMILY-TEXT"}
    client = login(principal)
    page = _text(client.get(reverse("stakeholders:survey_results", args=[survey.pk])))
    export = client.get(reverse("stakeholders:survey_export", args=[survey.pk]))
    cells = [
        cell
        for row in csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))
        for cell in row
    ]
    for where in (page, " ".join(cells)):
        assert "STUDENT-TEXT" not in where and "TEACHER-TEXT" in where
