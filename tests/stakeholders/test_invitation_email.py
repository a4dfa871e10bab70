"""Personal survey links are e-mailed, once each, to a real SMTP server on loopback."""

from __future__ import annotations

from stakeholders import services
from stakeholders.models import Invitation
from stakeholders.tasks import send_person_invitations
from tests.factories import InvitationFactory, SurveyFactory
from tests.smtp import smtp_server  # noqa: F401 - the fixture


def _survey(maple, **fields):
    survey = SurveyFactory(schools=[maple], anonymous=False, title="Our devices", **fields)
    InvitationFactory(survey=survey, audience="families")
    return survey


def test_each_personal_link_is_emailed_once(
    smtp_server,  # noqa: F811
    maple,
    django_capture_on_commit_callbacks,
):
    survey = _survey(maple, offers_spanish=True, title_es="Nuestros dispositivos")
    with django_capture_on_commit_callbacks(execute=True):
        services.person_links_add(
            survey=survey,
            audience="families",
            people=[("Ana Ruiz", "ana@example.org"), ("Ben Cho", "")],
        )
    (message,) = smtp_server.wait_for(1)
    ana = Invitation.objects.get(name="Ana Ruiz")
    assert message["To"] == "ana@example.org"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert ana.path() in text and ana.path() in html
    assert "Hello Ana Ruiz" in text and "Hola Ana Ruiz" in text
    assert ana.emailed_at is not None
    assert Invitation.objects.get(name="Ben Cho").emailed_at is None  # no address

    # A retried or doubled task e-mails no one twice.
    send_person_invitations.apply(args=[survey.pk])
    assert len(smtp_server.messages) == 1


def test_a_refused_message_is_sent_by_the_retry(smtp_server, settings, maple):  # noqa: F811
    survey = _survey(maple)
    services.person_links_add(
        survey=survey, audience="families", people=[("Ana Ruiz", "ana@example.org")]
    )
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, 1  # nothing listens: refused
    try:
        services.send_person_invitations_email(survey_id=survey.pk)
    except OSError:
        pass
    else:
        raise AssertionError("the refused connection should raise")
    assert Invitation.objects.get(name="Ana Ruiz").emailed_at is None  # claim given back
    settings.EMAIL_PORT = port
    assert services.send_person_invitations_email(survey_id=survey.pk) == 1
    smtp_server.wait_for(1)
