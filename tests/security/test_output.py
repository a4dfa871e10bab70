"""Issue 9, output: user-entered text is escaped in HTML, in json_script data and in
e-mails (which are plain text, one-line subjects)."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from pd import services as pd_services
from schools.models import Role
from tests.factories import (
    AttendanceFactory,
    DeviceFactory,
    InitiativeFactory,
    MilestoneFactory,
    PDSessionFactory,
    QuestionFactory,
    StaffMemberFactory,
    StoryFactory,
    SurveyFactory,
)

PAYLOAD = '<script>alert("x")</script>"onmouseover="alert(1)'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&quot;onmouseover=&quot;alert(1)"
IN_JSON = '\\u003Cscript\\u003Ealert(\\"x\\")\\u003C/script\\u003E'


def _initiative(maple):
    initiative = InitiativeFactory(district=maple.district, schools=[maple], why=PAYLOAD)
    MilestoneFactory(initiative=initiative, title=PAYLOAD)  # also a title="" attribute
    return reverse("initiatives:detail", args=[initiative.pk])


def _question(maple):
    survey = SurveyFactory(schools=[maple])
    QuestionFactory(survey=survey, text=PAYLOAD)
    return reverse("stakeholders:survey_detail", args=[survey.pk])


def _story(maple):
    StoryFactory(school=maple, title="A story", what_happened=PAYLOAD)
    return reverse("stakeholders:community", args=[maple.pk])


def _pd_session(maple):
    session = PDSessionFactory(schools=[maple], title=PAYLOAD)
    return reverse("pd:session_detail", args=[session.pk])


def _pd_list(maple):
    PDSessionFactory(schools=[maple], title=PAYLOAD)
    return reverse("pd:session_list")


def _device(maple):
    device = DeviceFactory(school=maple, notes=PAYLOAD)
    return reverse("equity:device_detail", args=[device.pk])


PAGES = {
    "initiative why and milestone": _initiative,
    "survey question": _question,
    "story": _story,
    "PD session title": _pd_session,
    "PD session list": _pd_list,
    "device notes": _device,
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", PAGES)
def test_free_text_is_escaped_in_html(case, maple, district_admin, login):
    url = PAGES[case](maple)
    response = login(district_admin).get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert PAYLOAD not in html
    assert "<script>alert" not in html and '"onmouseover=' not in html
    assert ESCAPED in html, case


@pytest.mark.django_db
def test_free_text_is_escaped_inside_json_script_data(maple, district_admin, login):
    maple.name = PAYLOAD
    maple.save()
    DeviceFactory(school=maple)
    url = reverse("equity:district_coverage", args=[maple.district_id])
    html = login(district_admin).get(url).content.decode()
    start = html.index('id="coverage-data"')
    data = html[start : html.index("</script>", start)]
    assert IN_JSON in data
    assert "<" not in data.split(">", 1)[1]  # nothing can close the script element
    assert "<script>alert" not in html


@pytest.mark.django_db
def test_the_invitation_email_is_plain_text_with_a_one_line_subject(
    maple, district_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        account_services.invite_user(
            district=maple.district,
            email="new@maple.example.org",
            full_name=PAYLOAD,
            role=Role.COACH,
            school=maple,
            invited_by=district_admin,
        )
    assert User.objects.get(email="new@maple.example.org").full_name == PAYLOAD
    message = mail.outbox[-1]
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", None)
    assert "\n" not in message.subject
    # Plain text has no markup to inject into; the text reads as typed.
    assert f"Hello {PAYLOAD}," in message.body


@pytest.mark.django_db
def test_the_pd_feedback_email_keeps_a_hostile_title_out_of_the_headers(maple):
    session = PDSessionFactory(schools=[maple], title=PAYLOAD + "\nBcc: evil@example.org")
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple, email="t@m.org"))
    assert pd_services.send_feedback_emails(session=session) == 1
    message = mail.outbox[-1]
    assert message.to == ["t@m.org"] and not message.bcc
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.content_subtype == "plain" and not getattr(message, "alternatives", None)
    assert PAYLOAD in message.body
    assert "Bcc" not in message.extra_headers
