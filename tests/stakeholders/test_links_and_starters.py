"""Starters fill the title and tick their audiences (server side, for a form sent without
JavaScript); the Spanish title is stored only when it says something else; each survey
link has a QR code (a standalone SVG) and a printable handout."""

import re
from datetime import timedelta
from xml.etree import ElementTree

from django.urls import reverse
from django.utils import timezone

from schools.web import absolute_url
from stakeholders.models import Invitation, Survey
from stakeholders.starters import STARTERS
from tests.factories import InvitationFactory, SurveyFactory


def _new(client, maple, **changes):
    today = timezone.localdate()
    data = {
        "starter": "teachers_before",
        "title": "",
        "title_es": "",
        "schools": [maple.pk],
        "opens_on": today,
        "closes_on": today + timedelta(days=14),
        "anonymous": "on",
        "offers_spanish": "on",
    }
    data.update(changes)
    return client.post(reverse("stakeholders:survey_new"), data)


def test_a_starter_without_audiences_ticked_gets_the_ones_it_is_written_for(
    login, principal, maple
):
    response = _new(login(principal), maple)
    assert response.status_code == 302
    survey = Survey.objects.get()
    starter = STARTERS["teachers_before"]
    assert set(survey.invitations.values_list("audience", flat=True)) == set(starter.audiences)
    assert (survey.title, survey.title_es) == (starter.title, starter.title_es)


def test_an_empty_survey_still_needs_an_audience(login, principal, maple):
    response = _new(login(principal), maple, starter="", title="Our own")
    assert response.status_code == 200
    assert response.context["form"].errors["audiences"] == ["Choose at least one audience."]
    assert not Survey.objects.exists()


def test_a_spanish_title_that_repeats_the_english_one_is_kept_empty(login, principal, maple):
    _new(
        login(principal),
        maple,
        starter="",
        title="Laptops",
        title_es="  laptops ",
        audiences=["families"],
    )
    assert Survey.objects.get().title_es == ""


def test_the_new_survey_page_hands_the_starters_to_its_script(login, principal):
    content = login(principal).get(reverse("stakeholders:survey_new")).content.decode()
    assert 'id="survey-starters" type="application/json"' in content
    assert "js/survey-form.js" in content and "data-survey-starter" in content
    assert "data-title-en" in content and "data-title-es" in content


def test_each_link_has_a_qr_code_that_is_a_standalone_svg(login, principal, maple):
    survey = SurveyFactory(schools=[maple])
    link = InvitationFactory(survey=survey, audience="families")
    client = login(principal)
    page = client.get(reverse("stakeholders:survey_links", args=[survey.pk])).content.decode()
    qr_url = reverse("stakeholders:link_qr", args=[link.pk])
    assert f'src="{qr_url}"' in page
    assert f'data-copy="{absolute_url(link.path())}"' in page
    assert reverse("stakeholders:link_handout", args=[link.pk]) in page
    response = client.get(qr_url)
    assert response["Content-Type"] == "image/svg+xml"
    svg = ElementTree.fromstring(response.content)  # noqa: S314 - our own SVG
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"  # xmlns: browsers draw it
    assert int(svg.get("width")) > 100


def test_the_handout_names_the_survey_and_its_address(login, principal, maple):
    survey = SurveyFactory(schools=[maple], title="Laptops at home", title_es="Portátiles")
    survey.offers_spanish = True
    survey.save()
    link = InvitationFactory(survey=survey, audience="families")
    content = login(principal).get(reverse("stakeholders:link_handout", args=[link.pk]))
    text = content.content.decode()
    assert "Laptops at home" in text and 'lang="es">Portátiles' in text
    assert link.path() in text and "data-print" in text
    assert re.search(r"Open until \w{3} \d{1,2}, \d{4}\.", text)


def test_another_schools_link_is_not_found(login, principal, cedar):
    link = Invitation.objects.create(
        survey=SurveyFactory(schools=[cedar]), kind="audience", audience="families"
    )
    client = login(principal)
    assert client.get(reverse("stakeholders:link_qr", args=[link.pk])).status_code == 404
    assert client.get(reverse("stakeholders:link_handout", args=[link.pk])).status_code == 404


def test_a_coach_may_not_print_survey_links(login, coach, maple):
    link = InvitationFactory(survey=SurveyFactory(schools=[maple]), audience="families")
    assert login(coach).get(reverse("stakeholders:link_handout", args=[link.pk])).status_code == 403
