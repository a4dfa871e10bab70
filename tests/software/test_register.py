"""The district's app register: requests through review to a decision, the register
settling initiatives' compliance items, PD sessions citing apps, the public page,
the CSV import and export, and the reminder about expiring agreements."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from initiatives.models import ComplianceItem, ComplianceKind, ComplianceStatus
from software import register_csv, services
from software.models import (
    App,
    AppRequest,
    Decision,
    DpaStatus,
    Outcome,
    RequestNote,
    RequestStatus,
)
from tests.factories import InitiativeFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _cleared(district, name="Docs", **extra):
    fields = {
        "decision": Decision.APPROVED,
        "dpa_status": DpaStatus.SIGNED,
        "dpa_signed_on": TODAY() - timedelta(days=400),
        "dpa_expires_on": TODAY() + timedelta(days=300),
        "accessibility_url": "https://example.org/acr.pdf",
        "wcag_level": "AA",
    }
    fields.update(extra)
    return App.objects.create(district=district, name=name, **fields)


def _initiative(district, school, **extra):
    initiative = InitiativeFactory(district=district, schools=[school], **extra)
    ComplianceItem.objects.bulk_create(
        ComplianceItem(initiative=initiative, kind=kind)
        for kind in (ComplianceKind.DATA_PRIVACY, ComplianceKind.ACCESSIBILITY)
    )
    return initiative


def _link(email):
    body = mail.outbox[-1].body
    start = body.index("http")
    return body[start:].split()[0].replace("http://127.0.0.1:8000", "")


# --- a request, its review and the decision -----------------------------------------------


def test_a_coach_request_passes_every_step_and_the_decision_closes_it(
    client, login, coach, district_admin, district, maple
):
    login(coach)
    response = client.post(
        reverse("software:request_new"),
        {"name": "Kahoot!", "vendor": "Kahoot ASA", "why": "Exit tickets in grade 4 math",
         "school": maple.pk},
    )  # fmt: skip
    made = AppRequest.objects.get()
    assert response.status_code == 302 and made.status == RequestStatus.SUBMITTED
    assert made.app.decision == Decision.IN_REVIEW and made.school == maple

    login(district_admin)
    steps = services.ensure_steps(district)
    assert [s.name for s in steps] == ["Privacy", "Accessibility", "Instruction", "Budget"]
    url = reverse("software:request_detail", args=[made.pk])
    # A comment needs its text; a step passed needs its step.
    response = client.post(url, {"outcome": Outcome.COMMENT, "text": ""})
    assert "Write the comment" in response.content.decode()
    response = client.post(url, {"outcome": Outcome.PASSED, "text": ""})
    assert "Choose the review step" in response.content.decode()
    for step in steps:
        assert client.post(url, {"outcome": Outcome.PASSED, "step": step.pk}).status_code == 302
    # The same step cannot pass twice.
    response = client.post(url, {"outcome": Outcome.PASSED, "step": steps[0].pk})
    assert "already passed" in response.content.decode()
    made.refresh_from_db()
    assert made.status == RequestStatus.IN_REVIEW
    page = client.get(url).content.decode()
    assert page.count("Passed ") == 4

    response = client.post(
        reverse("software:app_decide", args=[made.app_id]),
        {"decision": Decision.APPROVED, "reason": "Signed the state DPA."},
    )
    assert response.status_code == 302
    made.refresh_from_db()
    made.app.refresh_from_db()
    assert made.status == RequestStatus.APPROVED
    assert made.app.decision == Decision.APPROVED and made.app.decided_by == district_admin
    assert RequestNote.objects.filter(request=made, text__contains="Signed the state DPA").exists()


def test_a_principal_cannot_review_or_decide(client, login, principal, district):
    app = App.objects.create(district=district, name="Padlet")
    made = AppRequest.objects.create(
        district=district, app=app, requester_name="T", why="Walls", status="submitted"
    )
    login(principal)
    assert client.get(reverse("software:app_decide", args=[app.pk])).status_code == 403
    assert client.get(reverse("software:app_edit", args=[app.pk])).status_code == 403
    step = services.ensure_steps(district)[0]
    url = reverse("software:request_detail", args=[made.pk])
    assert client.post(url, {"outcome": "passed", "step": step.pk}).status_code == 403
    assert not RequestNote.objects.exists()
    assert client.get(url).status_code == 200  # reading is for everyone of the district


def test_requesting_an_approved_app_says_it_is_approved(district, coach):
    _cleared(district, name="Google Docs")
    with pytest.raises(ValidationError, match="already approved"):
        services.request_app(district=district, user=coach, name="google docs", why="Writing")
    assert not AppRequest.objects.exists()


def test_a_denied_app_requested_again_goes_back_to_review(district, coach):
    app = App.objects.create(district=district, name="Beacon", decision=Decision.DENIED)
    services.request_app(district=district, user=coach, name="Beacon", why="Safety")
    app.refresh_from_db()
    assert app.decision == Decision.IN_REVIEW


def test_a_decision_needs_its_reason_and_conditions(district, district_admin):
    app = App.objects.create(district=district, name="Seesaw")
    with pytest.raises(ValidationError, match="Say why"):
        services.app_decide(app=app, user=district_admin, decision="approved", reason=" ")
    with pytest.raises(ValidationError, match="conditions"):
        services.app_decide(
            app=app, user=district_admin, decision="approved_with_conditions", reason="ok"
        )
    app.refresh_from_db()
    assert app.decision == Decision.IN_REVIEW


def test_two_apps_cannot_share_a_name_in_any_case(client, login, district_admin, district):
    App.objects.create(district=district, name="Nearpod")
    login(district_admin)
    response = client.post(
        reverse("software:app_create", args=[district.pk]),
        {"name": "NEARPOD", "dpa_status": "none", "wcag_level": ""},
    )
    assert response.status_code == 200
    assert "already has an app of this name" in response.content.decode()
    assert App.objects.count() == 1


def test_an_agreement_cannot_expire_before_it_is_signed(client, login, district_admin, district):
    login(district_admin)
    response = client.post(
        reverse("software:app_create", args=[district.pk]),
        {"name": "Flip", "dpa_status": "signed", "dpa_signed_on": "2026-05-01",
         "dpa_expires_on": "2026-04-01", "wcag_level": ""},
    )  # fmt: skip
    assert "cannot expire before it was signed" in response.content.decode()
    assert not App.objects.exists()


# --- a teacher without an account ----------------------------------------------------------


def test_a_teacher_requests_with_the_roster_address_and_follows_the_link(
    client, district, maple, django_capture_on_commit_callbacks
):
    StaffMemberFactory(school=maple, email="ana@maple.example.org", full_name="Ana Alvarez")
    url = reverse("software:public_request", args=[district.slug])
    form = {"email": "ANA@maple.example.org", "name": "Book Creator", "why": "Grade 2 books"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert "a link is on its way" in response.content.decode()
    made = AppRequest.objects.get()
    assert made.status == RequestStatus.UNCONFIRMED and made.school == maple
    assert made.requester_name == "Ana Alvarez"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@maple.example.org"]
    link = _link("ana@maple.example.org")
    assert made.link_digest and link.split("/")[-2] not in made.link_digest  # digest only

    page = client.get(link)
    assert page.status_code == 200 and "confirmed" in page.content.decode()
    made.refresh_from_db()
    assert made.status == RequestStatus.SUBMITTED
    assert client.get(link.replace(link.split("/")[-2], "forged")).status_code == 404


def test_an_address_on_no_roster_gets_the_same_answer_and_nothing_is_written(client, district):
    url = reverse("software:public_request", args=[district.slug])
    response = client.post(url, {"email": "who@example.org", "name": "X", "why": "Y"})
    assert "a link is on its way" in response.content.decode()
    assert not AppRequest.objects.exists() and not App.objects.exists()
    assert not mail.outbox


def test_a_teacher_may_send_five_requests_a_day(district, maple):
    StaffMemberFactory(school=maple, email="bo@maple.example.org")
    made = [
        services.request_app(district=district, email="bo@maple.example.org", name=f"A{i}", why="w")
        for i in range(7)
    ]
    assert sum(r is not None for r in made) == services.PUBLIC_REQUESTS_PER_DAY


# --- joined to initiatives, PD and readiness -------------------------------------------------


def test_an_approved_app_with_a_current_agreement_settles_the_privacy_item(district, maple):
    initiative = _initiative(district, maple)
    privacy = ComplianceItem.objects.get(initiative=initiative, kind=ComplianceKind.DATA_PRIVACY)
    access = ComplianceItem.objects.get(initiative=initiative, kind=ComplianceKind.ACCESSIBILITY)
    app = App.objects.create(district=district, name="Docs")
    privacy.app = access.app = app
    privacy.save()
    access.save()
    assert privacy.status == ComplianceStatus.TO_DO
    open_kinds = {c.kind for c in initiative.open_compliance_items()}
    assert {ComplianceKind.DATA_PRIVACY, ComplianceKind.ACCESSIBILITY} <= open_kinds

    App.objects.filter(pk=app.pk).update(
        decision=Decision.APPROVED,
        dpa_status=DpaStatus.SIGNED,
        dpa_signed_on=TODAY() - timedelta(days=30),
    )
    open_kinds = {c.kind for c in initiative.open_compliance_items()}
    assert ComplianceKind.DATA_PRIVACY not in open_kinds
    assert ComplianceKind.ACCESSIBILITY in open_kinds  # no conformance report yet

    App.objects.filter(pk=app.pk).update(
        accessibility_url="https://example.org/acr", wcag_level="AA"
    )
    assert ComplianceKind.ACCESSIBILITY not in {c.kind for c in initiative.open_compliance_items()}
    # An agreement that expired no longer settles it.
    App.objects.filter(pk=app.pk).update(dpa_expires_on=TODAY() - timedelta(days=1))
    assert ComplianceKind.DATA_PRIVACY in {c.kind for c in initiative.open_compliance_items()}


def test_the_compliance_form_offers_the_initiatives_district_apps_only(
    client, login, principal, district, elsewhere, maple
):
    initiative = _initiative(district, maple)
    ours = App.objects.create(district=district, name="Ours")
    theirs = App.objects.create(district=elsewhere.district, name="Theirs")
    login(principal)
    url = reverse("initiatives:compliance_add", args=[initiative.pk])
    page = client.get(url).content.decode()
    assert "Ours" in page and "Theirs" not in page
    response = client.post(url, {"kind": "data_privacy", "app": theirs.pk, "status": "to_do"})
    assert response.status_code == 400  # a refused form, as every form of the site
    assert "not one of the available choices" in response.content.decode()
    response = client.post(url, {"kind": "data_privacy", "app": ours.pk, "status": "to_do"})
    assert response.status_code == 302
    assert ComplianceItem.objects.filter(initiative=initiative, app=ours).exists()


def test_a_pd_session_cites_approved_apps_and_logs_the_change(
    client, login, coach, district, maple
):
    from pd.models import PDSessionChange
    from tests.factories import PDSessionFactory

    approved = _cleared(district, name="Docs")
    in_review = App.objects.create(district=district, name="Pending")
    session = PDSessionFactory(schools=[maple], facilitator_user=coach)
    login(coach)
    url = reverse("pd:session_edit", args=[session.pk])
    page = client.get(url).content.decode()
    assert "Docs" in page and "Pending" not in page
    form = {
        "title": session.title, "date": session.date.isoformat(), "duration_minutes": 60,
        "format": session.format, "schools": [maple.pk], "facilitator": f"u{coach.pk}",
        "apps": [approved.pk], "edit_token": session.updated_at.isoformat(),
    }  # fmt: skip
    response = client.post(url, form)
    errors = re.findall(
        r'class="invalid-feedback[^"]*"[^>]*>(.*?)</', response.content.decode(), re.S
    )
    assert response.status_code == 302, errors
    assert list(session.apps.all()) == [approved]
    change = PDSessionChange.objects.filter(session=session).latest("pk")
    assert change.changes["Apps covered"] == ["—", "Docs"]
    assert "Docs" in client.get(reverse("pd:session_detail", args=[session.pk])).content.decode()
    form["apps"], form["edit_token"] = [in_review.pk], session.updated_at.isoformat()
    refused = client.post(url, form)  # not offered: refused on the field
    assert "not one of the available choices" in refused.content.decode()


def test_readiness_counts_the_apps_in_use_that_are_cleared(district, maple):
    from readiness.indicators import Context, apps_cleared

    initiative = _initiative(district, maple)
    type(initiative).objects.filter(pk=initiative.pk).update(status="pilot")
    items = ComplianceItem.objects.filter(initiative=initiative)
    ok, stale = _cleared(district, "Ok"), _cleared(district, "Stale")
    App.objects.filter(pk=stale.pk).update(dpa_expires_on=TODAY() - timedelta(days=3))
    items.filter(kind=ComplianceKind.DATA_PRIVACY).update(app=ok)
    items.filter(kind=ComplianceKind.ACCESSIBILITY).update(app=stale)
    reading = apps_cleared([maple], Context(today=TODAY()))[maple.pk]
    assert (reading.value, reading.evidence) == (0.5, 2)


# --- the public page ----------------------------------------------------------------------


def test_the_public_page_lists_approved_apps_in_english_and_spanish(client, district):
    _cleared(district, name="Docs", dpa_url="https://example.org/docs-dpa.pdf",
             data_collected=["name", "work"], decision_reason="INTERNAL NOTE")  # fmt: skip
    App.objects.create(district=district, name="Denied app", decision=Decision.DENIED)
    App.objects.create(district=district, name="Under review")
    url = reverse("software:public_register", args=[district.slug])
    english = client.get(url).content.decode()
    assert "Docs" in english and "https://example.org/docs-dpa.pdf" in english
    assert "Student work and submissions" in english
    for hidden in ("Denied app", "Under review", "INTERNAL NOTE"):
        assert hidden not in english
    spanish = client.get(url + "?lang=es").content.decode()
    assert 'lang="es"' in spanish
    assert "Trabajos y entregas del estudiante" in spanish and "Leer el acuerdo" in spanish
    assert client.get(reverse("software:public_register", args=["nope"])).status_code == 404


def test_the_public_page_costs_the_same_queries_for_many_apps(
    client, district, django_assert_num_queries
):
    url = reverse("software:public_register", args=[district.slug])
    _cleared(district, name="One")
    with django_assert_num_queries(2):
        client.get(url)
    for i in range(30):
        _cleared(district, name=f"App {i}")
    with django_assert_num_queries(2):
        client.get(url)


def test_the_register_list_costs_the_same_queries_for_many_apps(
    client, login, district_admin, district, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(district_admin)
    _cleared(district, name="One")
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("software:app_list"))
    for i in range(60):
        _cleared(district, name=f"App {i}")
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("software:app_list"))
    assert len(large) == len(small)


# --- CSV import and export ------------------------------------------------------------------


def _csv(*rows):
    return ("\ufeff" + "\n".join(rows) + "\n").encode()


def test_the_import_writes_nothing_when_a_row_is_wrong(district, district_admin):
    raw = _csv(
        "Name,Vendor,DPA status,DPA signed on,Student data,District sign-in",
        "Docs,Google,Signed,2025-08-01,Name; Student work and submissions,yes",
        '"Padlet, walls",Padlet,signed,,usage,maybe',
        "Docs,Again,,,,no",
    )
    created, updated, errors = register_csv.import_register(
        district=district, raw=raw, user=district_admin
    )
    assert (created, updated) == (0, 0)
    got = {(e.line, e.column) for e in errors}
    assert (3, "District sign-in") in got
    assert (3, "DPA signed on") in got  # signed without a date
    assert (4, "Name") in got  # the same app twice
    assert not App.objects.exists()


def test_the_import_adds_and_updates_and_the_export_reads_back(district, district_admin):
    App.objects.create(district=district, name="Docs", vendor="Old")
    raw = _csv(
        "Name,Vendor,DPA status,DPA signed on,DPA expires on,Student data,Decision,Decision reason",
        "docs,Google,Signed,2025-08-01,2027-08-01,Name; work,Approved,Signed the NDPA",
        "Seesaw,Seesaw Learning,requested,,,,,",
    )
    created, updated, errors = register_csv.import_register(
        district=district, raw=raw, user=district_admin
    )
    assert errors == [] and (created, updated) == (1, 1)
    docs = App.objects.get(name="docs")  # the file's spelling wins
    assert docs.vendor == "Google" and docs.data_collected == ["name", "work"]
    assert docs.decision == Decision.APPROVED and docs.decided_by == district_admin
    rows = list(register_csv.export_rows(App.objects.order_by("pk")))
    assert rows[0][0] == "docs" and rows[0][6] == "Name; Student work and submissions"
    # What was exported imports back unchanged.
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows([register_csv.HEADER, *rows])
    created, updated, errors = register_csv.import_register(
        district=district, raw=out.getvalue().encode(), user=district_admin
    )
    assert errors == [] and (created, updated) == (0, 2)


def test_the_import_refuses_unknown_columns_and_other_files(district, district_admin):
    for raw, message in [
        (_csv("Name,Colour", "Docs,red"), "Unknown columns: Colour"),
        (_csv("Vendor", "Google"), "no Name column"),
        ("Name\nDocs é".encode("latin-1"), "not UTF-8"),
    ]:
        _, _, errors = register_csv.import_register(district=district, raw=raw, user=district_admin)
        assert message in errors[0].message
    assert not App.objects.exists()


def test_the_export_neutralises_formulas(client, login, district_admin, district):
    App.objects.create(district=district, name="=HYPERLINK(1)")
    login(district_admin)
    body = b"".join(
        client.get(reverse("software:app_export", args=[district.pk])).streaming_content
    ).decode()
    assert "'=HYPERLINK(1)" in body


# --- agreements about to expire ---------------------------------------------------------------


def test_expiring_agreements_are_sent_once_to_tech_staff_and_admins(
    district, district_admin, tech, principal, django_capture_on_commit_callbacks
):
    soon = _cleared(district, name="Soon", dpa_expires_on=TODAY() + timedelta(days=30))
    _cleared(district, name="Later", dpa_expires_on=TODAY() + timedelta(days=200))
    from software.tasks import remind_expiring_dpas

    with django_capture_on_commit_callbacks(execute=True):
        assert remind_expiring_dpas() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert set(message.to) == {district_admin.email, tech.email}
    assert "Soon" in message.body and "Later" not in message.body
    # A second night (or a retry) sends nothing; a renewed agreement is reminded again.
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_expiring_dpas() == 0
    assert len(mail.outbox) == 1
    App.objects.filter(pk=soon.pk).update(dpa_expires_on=TODAY() + timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_expiring_dpas() == 1
    assert len(mail.outbox) == 2


def test_requesters_hear_of_the_decision_and_of_a_request_for_more(
    district, district_admin, coach, maple, django_capture_on_commit_callbacks
):
    StaffMemberFactory(school=maple, email="ana@maple.example.org", full_name="Ana Alvarez")
    with django_capture_on_commit_callbacks(execute=True):
        teacher = services.request_app(
            district=district, email="ana@maple.example.org", name="Flip", why="Video replies"
        )
        services.request_confirm(request=teacher)
        mine = services.request_app(district=district, user=coach, name="Flip", why="Too")
    mail.outbox.clear()
    step = services.ensure_steps(district)[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.request_review(
            request=mine, user=district_admin, outcome=Outcome.RETURNED, step=step,
            text="Which grades would use it?",
        )  # fmt: skip
    (asked,) = mail.outbox
    assert asked.to == [coach.email] and "Which grades would use it?" in asked.body
    assert reverse("software:request_detail", args=[mine.pk]) in asked.body

    with django_capture_on_commit_callbacks(execute=True):
        services.app_decide(
            app=mine.app, user=district_admin, decision=Decision.DENIED, reason="Ads to kids"
        )
    told = {m.to[0]: m for m in mail.outbox[1:]}
    assert set(told) == {coach.email, "ana@maple.example.org"}
    assert "denied" in told["ana@maple.example.org"].subject
    # The teacher's new link opens her request.
    link = told["ana@maple.example.org"].body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    teacher.refresh_from_db()
    assert AppRequest.for_token(link.rstrip("/").split("/")[-1]).get() == teacher
