"""A family member answers a survey on a phone with the keyboard only, in English and in
Spanish, and every page they see passes an axe-core WCAG 2.1 AA scan."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def survey_link(db):
    from django_scopes import scopes_disabled

    from tests.factories import (
        ChoiceFactory,
        InvitationFactory,
        QuestionFactory,
        SchoolFactory,
        SurveyFactory,
    )

    with scopes_disabled():
        survey = SurveyFactory(
            schools=[SchoolFactory(name="Maple Grove Elementary")],
            title="Families: help us plan",
            title_es="Familias: ayúdennos a planificar",
        )
        QuestionFactory(
            survey=survey,
            text="The school tells me what I need to know, in time.",
            text_es="La escuela me informa a tiempo de lo que necesito saber.",
            required=True,
        )
        single = QuestionFactory(
            survey=survey,
            kind="single",
            text="Do you have internet at home?",
            text_es="¿Tiene internet en casa?",
        )
        for en, es in (("Yes", "Sí"), ("No", "No")):
            ChoiceFactory(question=single, text=en, text_es=es)
        several = QuestionFactory(
            survey=survey,
            kind="multiple",
            text="How do you prefer to hear from us?",
            text_es="¿Cómo prefiere recibir noticias?",
        )
        for en, es in (("Text message", "Mensaje de texto"), ("E-mail", "Correo")):
            ChoiceFactory(question=several, text=en, text_es=es)
        QuestionFactory(survey=survey, kind="text", text="Anything else?", text_es="¿Algo más?")
        link = InvitationFactory(survey=survey, audience="families")
    return link


def _tab_to(page, name, limit=40):
    """Press Tab until the focused element has ``name`` (a keyboard user's only way)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == name:
            return
    raise AssertionError(f"Tab never reached {name}")


def _tab_to_button(page, label, limit=40):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.innerText") == label:
            return
    raise AssertionError(f"Tab never reached the {label} button")


def test_answering_a_survey_on_a_phone_with_the_keyboard(phone, survey_link, axe_check):
    from django_scopes import scopes_disabled

    from stakeholders.models import Answer, Question, Response

    with scopes_disabled():
        likert, single, several, text = Question.objects.filter(survey=survey_link.survey)
    phone.goto(survey_link.path())
    expect(phone.get_by_role("heading", level=1)).to_have_text("Families: help us plan")
    axe_check(phone)

    # Sending without the required answer: the error is announced and tied to its question.
    _tab_to_button(phone, "Send my answers")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("alert")).to_contain_text("Nothing was saved yet")
    expect(phone.locator(f"#q{likert.pk}-error")).to_have_text("Please answer this question.")
    axe_check(phone)

    phone.locator("body").focus()
    _tab_to(phone, f"q{likert.pk}")
    for _ in range(3):  # from "Strongly disagree" to "Agree"
        phone.keyboard.press("ArrowRight")
    _tab_to(phone, f"q{single.pk}")
    phone.keyboard.press("Space")
    _tab_to(phone, f"q{several.pk}")
    phone.keyboard.press("Space")
    phone.keyboard.press("Tab")
    phone.keyboard.press("Space")
    _tab_to(phone, f"q{text.pk}")
    phone.keyboard.type("An evening session for parents, please.")
    _tab_to_button(phone, "Send my answers")
    phone.keyboard.press("Enter")

    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    axe_check(phone)
    with scopes_disabled():
        response = Response.objects.get()
        answers = Answer.objects.filter(response=response)
        assert response.audience == "families"
        assert answers.get(question=likert).likert == 4
        assert answers.get(question=single).choice.text == "Yes"
        assert answers.filter(question=several).count() == 2
        assert answers.get(question=text).text == "An evening session for parents, please."


def test_the_survey_in_spanish_on_a_phone(phone, survey_link, axe_check):
    phone.goto(survey_link.path())
    phone.get_by_role("link", name="Español").focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Familias: ayúdennos a planificar")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.get_by_text("La escuela me informa a tiempo")).to_be_visible()
    expect(phone.get_by_role("button", name="Enviar mis respuestas")).to_be_visible()
    axe_check(phone)


def test_an_unknown_link_on_a_phone(phone, db, axe_check):
    phone.goto("/s/not-a-real-link/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("This link does not work")
    axe_check(phone)


def test_a_person_link_answers_once_without_an_account(page, axe_check, row_locks):
    """A non-anonymous survey's personal link locks its row while the answer is written, so
    it counts once; the live server runs that without any wrapping transaction."""
    from django_scopes import scopes_disabled

    from stakeholders.models import Answer, Invitation, PersonResponse, Response
    from tests.factories import InvitationFactory, QuestionFactory, SchoolFactory, SurveyFactory

    with scopes_disabled():
        survey = SurveyFactory(
            schools=[SchoolFactory(name="Maple Grove Elementary")],
            title="Teachers: our devices",
            anonymous=False,
        )
        question = QuestionFactory(
            survey=survey, text="I can get a working device when I need one.", required=True
        )
        link = InvitationFactory(
            survey=survey, kind="person", audience="teachers", name="Ana Lima", email="ana@x.org"
        )
    page.goto(link.path())
    expect(page.get_by_role("heading", level=1)).to_have_text("Teachers: our devices")
    axe_check(page)
    page.get_by_role("radio", name="Agree", exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    axe_check(page)

    with scopes_disabled():
        response = Response.objects.get()
        assert Answer.objects.get(response=response, question=question).likert == 4
        assert PersonResponse.objects.get().invitation_id == link.pk
        assert Invitation.objects.get(pk=link.pk).used_on is not None
    row_locks.assert_taken("stakeholders.services:response_submit")

    page.goto(link.path())  # the same link again: it has answered once
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    axe_check(page)
    with scopes_disabled():
        assert Response.objects.count() == 1
