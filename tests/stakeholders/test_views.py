"""Pages: the respondent's link without an account, in English and Spanish; the builder;
results and export; community records; who may do what."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stakeholders.models import (
    Answer,
    CommunicationLogEntry,
    Invitation,
    Question,
    Response,
    Story,
    Survey,
)
from tests.factories import (
    ChoiceFactory,
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    StoryFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(maple):
    return SurveyFactory(schools=[maple], title="Before we choose", title_es="Antes de decidir")


@pytest.fixture
def link(survey):
    return InvitationFactory(survey=survey, audience="families")


@pytest.fixture
def questions(survey):
    likert = QuestionFactory(
        survey=survey,
        text="I feel welcome at school.",
        text_es="Me siento bienvenido en la escuela.",
        required=True,
    )
    single = QuestionFactory(survey=survey, kind="single", text="Where?", text_es="¿Dónde?")
    home = ChoiceFactory(question=single, text="At home", text_es="En casa")
    ChoiceFactory(question=single, text="At school", text_es="En la escuela")
    text = QuestionFactory(survey=survey, kind="text", text="Anything else?", text_es="¿Algo más?")
    return likert, single, home, text


# --- respondents ----------------------------------------------------------------------


def test_it_takes_an_answer_without_an_account(client, link, questions):
    likert, single, home, text = questions
    page = client.get(link.path())
    assert page.status_code == 200
    assert b"I feel welcome at school." in page.content
    response = client.post(
        link.path(),
        {f"q{likert.pk}": "4", f"q{single.pk}": str(home.pk), f"q{text.pk}": "Thanks!"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("stakeholders:thanks", args=[link.token]))
    saved = Response.objects.get()
    assert (saved.audience, saved.submitted_on) == ("families", timezone.localdate())
    assert Answer.objects.count() == 3
    thanks = client.get(response["Location"])
    assert b"Thank you" in thanks.content


def test_a_bad_submit_saves_nothing_and_ties_the_error_to_its_question(client, link, questions):
    likert, single, _home, _text = questions
    response = client.post(link.path(), {f"q{single.pk}": "999999"})
    assert response.status_code == 400
    assert not Response.objects.exists() and not Answer.objects.exists()
    html = response.content.decode()
    assert f'aria-describedby="q{likert.pk}-error"' in html
    assert f'id="q{likert.pk}-error"' in html and "Please answer this question." in html
    assert f'id="q{single.pk}-error"' in html


def test_it_speaks_spanish_when_the_respondent_chooses_it(client, link, questions):
    likert, *_ = questions
    page = client.get(f"{link.path()}?lang=es")
    html = page.content.decode()
    assert '<html lang="es">' in html
    assert "Antes de decidir" in html and "Me siento bienvenido en la escuela." in html
    assert "Enviar mis respuestas" in html and "Muy de acuerdo" in html and "En casa" in html
    bad = client.post(link.path(), {"lang": "es"}).content.decode()
    assert "Por favor, responda esta pregunta." in bad
    client.post(link.path(), {"lang": "es", f"q{likert.pk}": "5"})
    assert Response.objects.get().language == "es"


def test_a_survey_in_english_only_ignores_a_spanish_request(client, survey, link, questions):
    survey.offers_spanish = False
    survey.save()
    html = client.get(f"{link.path()}?lang=es").content.decode()
    assert '<html lang="en">' in html and "Send my answers" in html
    assert "Español" not in html


def test_a_closed_link_says_so_and_shows_you_said_we_did(client, survey, link, questions):
    survey.closed_on = timezone.localdate()
    survey.you_said = "You asked for planning time; every teacher gets two afternoons."
    survey.you_said_es = "Pidieron tiempo; cada docente tendrá dos tardes."
    survey.save()
    html = client.get(link.path()).content.decode()
    assert "This survey is closed" in html and "two afternoons" in html
    assert "Send my answers" not in html
    spanish = client.get(f"{link.path()}?lang=es").content.decode()
    assert "Esta encuesta está cerrada" in spanish and "dos tardes" in spanish
    likert, *_ = questions
    client.post(link.path(), {f"q{likert.pk}": "4"})
    assert not Response.objects.exists()


def test_an_unknown_link_says_so_plainly(client):
    response = client.get(reverse("stakeholders:respond", args=["not-a-real-link"]))
    assert response.status_code == 200
    assert b"This link does not work" in response.content


def test_a_person_link_cannot_answer_twice(client, maple):
    survey = SurveyFactory(schools=[maple], anonymous=False)
    question = QuestionFactory(survey=survey)
    person = InvitationFactory(survey=survey, kind="person", name="Ana Ruiz")
    assert client.post(person.path(), {f"q{question.pk}": "3"}).status_code == 302
    again = client.get(person.path())
    assert b"already been used" in again.content
    client.post(person.path(), {f"q{question.pk}": "5"})
    assert Response.objects.count() == 1


# --- the builder ------------------------------------------------------------------------


def test_a_principal_builds_a_survey_from_a_starter(login, principal, maple):
    client = login(principal)
    today = timezone.localdate()
    response = client.post(
        reverse("stakeholders:survey_new"),
        {
            "starter": "families_before",
            "title": "",
            "schools": [maple.pk],
            "audiences": ["families"],
            "opens_on": today,
            "closes_on": today + timedelta(days=14),
            "anonymous": "on",
            "offers_spanish": "on",
        },
    )
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == survey.get_absolute_url()
    assert survey.title == "Families: help us plan" and survey.created_by == principal
    assert Invitation.objects.get(survey=survey).audience == "families"
    added = client.post(
        reverse("stakeholders:question_add", args=[survey.pk]),
        {"kind": "single", "text": "Best time?", "options": "Morning\nEvening"},
    )
    assert added.status_code == 302
    question = Question.objects.filter(survey=survey).last()
    assert list(question.choices.values_list("text", flat=True)) == ["Morning", "Evening"]
    client.post(reverse("stakeholders:question_move", args=[question.pk]), {"direction": "up"})
    order = list(Question.objects.filter(survey=survey).values_list("pk", flat=True))
    assert order[-2] == question.pk
    preview = client.get(reverse("stakeholders:survey_preview", args=[survey.pk]) + "?lang=es")
    assert "Familias: ayúdennos a planificar" in preview.content.decode()
    assert b"Best time?" in preview.content


def test_a_choice_question_without_options_is_refused_on_the_field(login, principal, survey):
    response = login(principal).post(
        reverse("stakeholders:question_add", args=[survey.pk]),
        {"kind": "multiple", "text": "Which tools?", "options": "Only one"},
    )
    assert response.status_code == 200
    assert b"Give at least two options" in response.content
    assert not Question.objects.exists()


def test_an_answered_survey_shows_its_questions_as_fixed(login, principal, survey):
    QuestionFactory(survey=survey)
    ResponseFactory(survey=survey)
    html = login(principal).get(survey.get_absolute_url()).content.decode()
    assert "questions are fixed" in html and "Add a question" not in html


def test_links_record_expected_respondents_and_personal_links(login, principal, maple):
    survey = SurveyFactory(schools=[maple], anonymous=False)
    InvitationFactory(survey=survey, audience="teachers")
    client = login(principal)
    url = reverse("stakeholders:survey_links", args=[survey.pk])
    client.post(url, {"expected": "1", "teachers": "30"})
    assert Invitation.objects.get(kind="audience").expected == 30
    client.post(url, {"people": "Ana Ruiz, ana@example.org\nBo Li", "audience": "teachers"})
    assert set(Invitation.objects.filter(kind="person").values_list("name", flat=True)) == {
        "Ana Ruiz",
        "Bo Li",
    }
    bad = client.post(url, {"people": "Cy, not-an-email", "audience": "teachers"})
    assert bad.status_code == 400 and "is not an e-mail address" in bad.content.decode()


# --- who may do what --------------------------------------------------------------------


def test_a_coach_may_not_run_surveys_but_may_record_stories(login, coach, survey, maple):
    client = login(coach)
    assert client.get(survey.get_absolute_url()).status_code == 403
    assert client.get(reverse("stakeholders:survey_new")).status_code == 403
    assert client.get(reverse("stakeholders:story_add", args=[maple.pk])).status_code == 200
    assert client.get(reverse("stakeholders:plan_edit", args=[maple.pk])).status_code == 403


def test_tech_staff_may_not_use_stakeholders(login, tech, cedar):
    client = login(tech)
    assert client.get(reverse("stakeholders:home")).status_code == 403
    assert client.get(reverse("stakeholders:community", args=[cedar.pk])).status_code == 403


def test_an_outsider_gets_404(login, outsider, survey, maple):
    client = login(outsider)
    assert client.get(survey.get_absolute_url()).status_code == 404
    assert client.get(reverse("stakeholders:survey_results", args=[survey.pk])).status_code == 404
    assert client.get(reverse("stakeholders:community", args=[maple.pk])).status_code == 404


def test_a_district_admin_reads_results(login, district_admin, survey):
    response = login(district_admin).get(reverse("stakeholders:survey_results", args=[survey.pk]))
    assert response.status_code == 200


# --- results ----------------------------------------------------------------------------


def _answered(survey, audience, values):
    question = Question.objects.filter(survey=survey).first() or QuestionFactory(survey=survey)
    for value in values:
        response = ResponseFactory(survey=survey, audience=audience)
        Answer.objects.create(response=response, question=question, likert=value)


def test_results_hide_the_small_group_and_its_complement(login, principal, survey):
    _answered(survey, "teachers", [4] * 12)
    _answered(survey, "staff", [2] * 6)
    _answered(survey, "families", [1] * 2)
    html = login(principal).get(reverse("stakeholders:survey_results", args=[survey.pk]))
    text = html.content.decode()
    assert "fewer than 5" in text and "hidden<sup>*</sup>" in text
    assert ">6<" not in text.replace(" ", "")  # staff's count would give families away
    assert 'data-chart-source="likert-data"' in text and 'id="likert-data"' in text


@pytest.mark.parametrize("size", [5, 40])
def test_results_page_costs_the_same_at_any_size(
    size, login, principal, survey, django_assert_num_queries
):
    _answered(survey, "teachers", [1 + i % 5 for i in range(size)])
    client = login(principal)
    url = reverse("stakeholders:survey_results", args=[survey.pk])
    with django_assert_num_queries(17):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("size", [1, 12])
def test_the_survey_list_costs_the_same_at_any_size(
    size, login, principal, maple, django_assert_num_queries
):
    for _ in range(size):
        SurveyFactory(schools=[maple])
    client = login(principal)
    with django_assert_num_queries(8):
        assert client.get(reverse("stakeholders:home")).status_code == 200


def test_the_export_hides_what_the_page_hides_and_neutralises_formulas(login, principal, survey):
    text = QuestionFactory(survey=survey, kind="text", need_category="time")
    for n in range(5):
        response = ResponseFactory(survey=survey, audience="teachers")
        Answer.objects.create(response=response, question=text, text=f"=HYPERLINK({n})")
    ResponseFactory(survey=survey, audience="families")
    response = login(principal).get(reverse("stakeholders:survey_export", args=[survey.pk]))
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(0)" in body
    assert "hidden (fewer than 5)" in body


def test_you_said_we_did_is_saved_and_shown_on_the_link(login, principal, survey, client):
    link = InvitationFactory(survey=survey)
    login(principal).post(
        reverse("stakeholders:survey_you_said", args=[survey.pk]),
        {"you_said": "We heard you: training comes first.", "you_said_es": ""},
    )
    survey.refresh_from_db()
    assert survey.you_said_on == timezone.localdate()
    survey.closed_on = timezone.localdate()
    survey.save()
    client.logout()
    assert b"training comes first" in client.get(link.path()).content


def test_the_district_sets_the_smallest_group(login, district_admin, district):
    response = login(district_admin).post(
        reverse("schools:district_settings", args=[district.pk]),
        {
            "name": district.name,
            "device_planning_ratio": "1.10",
            "pd_hour_target": "20",
            "survey_min_group": "8",
        },
    )
    assert response.status_code == 302
    district.refresh_from_db()
    assert district.survey_min_group == 8


# --- community --------------------------------------------------------------------------


def test_a_story_is_recorded_with_people_and_where_it_was_shared(login, principal, maple):
    client = login(principal)
    response = client.post(
        reverse("stakeholders:story_add", args=[maple.pk]),
        {
            "date": timezone.localdate() - timedelta(days=2),
            "title": "Grandma joins reading day",
            "what_happened": "She watched from abroad by video.",
            "roles": ["students", "families"],
            "shared_newsletter": "on",
            "url_social_media": "https://example.org/post",
        },
    )
    assert response.status_code == 302
    story = Story.objects.get()
    assert set(story.people.values_list("role", flat=True)) == {"students", "families"}
    assert dict(story.shares.values_list("channel", "url")) == {
        "newsletter": "",
        "social_media": "https://example.org/post",
    }


def test_a_story_from_the_future_is_refused_on_its_field(login, principal, maple):
    response = login(principal).post(
        reverse("stakeholders:story_add", args=[maple.pk]),
        {
            "date": timezone.localdate() + timedelta(days=3),
            "title": "Not yet",
            "what_happened": "x",
            "roles": ["students"],
        },
    )
    assert response.status_code == 200 and b"after it happened" in response.content
    assert not Story.objects.exists()


def test_a_partnership_with_a_donation_asks_for_the_amount(login, principal, maple):
    response = login(principal).post(
        reverse("stakeholders:partnership_add", args=[maple.pk]),
        {
            "organisation": "Credit union",
            "kind": "business",
            "benefits": ["donation"],
            "started_on": "2025-09-01",
            "active": "on",
        },
    )
    assert response.status_code == 200 and b"Give the amount" in response.content


def test_the_plan_and_the_log_show_on_the_community_page(login, principal, maple):
    client = login(principal)
    client.post(
        reverse("stakeholders:plan_edit", args=[maple.pk]),
        {
            "channels": ["newsletter", "social_media"],
            "cadence": "daily",
            "daily_tool": "School app",
            "hashtag": "#MapleMakes",
        },
    )
    client.post(
        reverse("stakeholders:log_add", args=[maple.pk]),
        {
            "date": timezone.localdate(),
            "channel": "newsletter",
            "audience": "families",
            "summary": "What we heard",
        },
    )
    assert CommunicationLogEntry.objects.get().school == maple
    StoryFactory(school=maple, title="Mentors online")
    html = client.get(reverse("stakeholders:community", args=[maple.pk])).content.decode()
    assert "#MapleMakes" in html and "What we heard" in html and "Mentors online" in html
