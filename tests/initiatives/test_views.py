import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives.models import (
    BudgetLine,
    ComplianceItem,
    ComplianceStatus,
    Initiative,
    Reflection,
    Status,
    StatusChange,
    Swot,
)
from pd.models import PDSession
from schools.forms import edit_token
from schools.models import Role
from tests.factories import (
    AttendanceFactory,
    BudgetLineFactory,
    ComplianceItemFactory,
    DeviceFactory,
    InitiativeFactory,
    MembershipFactory,
    MilestoneFactory,
    PDSessionFactory,
    SchoolFactory,
    StaffMemberFactory,
    SurveyFactory,
)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def _rich(initiative, school, n):
    """An initiative with ``n`` of everything its page shows."""
    today = timezone.localdate()
    for i in range(n):
        MilestoneFactory(initiative=initiative, due_on=today + timedelta(days=i))
        BudgetLineFactory(
            initiative=initiative,
            category=["devices", "pd", "software"][i % 3],
            funding_source=["title_i", "grant"][i % 2],
        )
        SurveyFactory(initiative=initiative, schools=[school])
        session = PDSessionFactory(schools=[school], initiative=initiative)
        AttendanceFactory(session=session, staff=StaffMemberFactory(school=school))
        DeviceFactory(school=school)
        Reflection.objects.create(
            school=school,
            initiative=initiative,
            relationships="r",
            connection="bridge",
            this_year="t",
        )


# --- reading -----------------------------------------------------------------------------


def test_the_list_shows_status_next_milestone_and_budget_used(login, principal, maple, cedar):
    mine = InitiativeFactory(schools=[maple], title="Writing with feedback")
    MilestoneFactory(initiative=mine, title="Carts delivered")
    BudgetLineFactory(initiative=mine, amount=Decimal("1200"), stage="spent")
    BudgetLineFactory(initiative=mine, amount=Decimal("800"), stage="planned")
    InitiativeFactory(schools=[cedar], title="Cedar robotics")
    content = login(principal).get(reverse("initiatives:list")).content.decode()
    assert "Writing with feedback" in content and "Carts delivered" in content
    assert "$1,200 of $2,000" in content
    assert "Cedar robotics" not in content


def test_the_list_costs_the_same_for_three_or_thirty_initiatives(login, principal, maple):
    client = login(principal)

    def make(n):
        for _ in range(n):
            i = InitiativeFactory(schools=[maple])
            MilestoneFactory(initiative=i)
            BudgetLineFactory(initiative=i)

    make(3)
    few = _count(client, reverse("initiatives:list"))
    make(27)
    assert _count(client, reverse("initiatives:list")) == few
    assert _count(client, reverse("initiatives:school", args=[maple.pk])) <= few + 1


@pytest.mark.parametrize("involves_devices", [False, True])
def test_the_initiative_page_costs_the_same_at_two_sizes(login, principal, maple, involves_devices):
    client = login(principal)
    initiative = InitiativeFactory(schools=[maple], involves_devices=involves_devices)
    url = initiative.get_absolute_url()
    _rich(initiative, maple, 2)
    small = _count(client, url)
    warm = _count(client, url)  # the device figures now come from the cache
    _rich(initiative, maple, 12)
    assert _count(client, url) == small
    assert _count(client, url) == warm
    assert _count(client, reverse("initiatives:summary", args=[initiative.pk])) == warm
    cache.clear()
    assert _count(client, reverse("initiatives:summary", args=[initiative.pk])) == small


def test_the_page_shows_every_section(login, principal, maple):
    initiative = InitiativeFactory(schools=[maple], involves_devices=True, title="1:1 writing")
    SurveyFactory(initiative=initiative, schools=[maple], title="Families on writing")
    session = PDSessionFactory(schools=[maple], initiative=initiative, title="Feedback PLC")
    AttendanceFactory(session=session, staff=StaffMemberFactory(school=maple))
    BudgetLineFactory(initiative=initiative, funding_source="e_rate", description="Access points")
    MilestoneFactory(initiative=initiative, title="Carts arrive")
    DeviceFactory(school=maple)
    ComplianceItemFactory(initiative=initiative)
    content = login(principal).get(initiative.get_absolute_url()).content.decode()
    for text in [
        "Families on writing",
        "Open",
        "Feedback PLC",
        "reached <strong>1</strong> person",
        "Device coverage of the schools concerned",
        "To buy for next school year",
        "E-Rate",
        'data-chart-source="category-data"',
        "Carts arrive",
        "Data privacy agreement with the vendor",
    ]:
        assert text in content, text


def test_a_coach_reads_but_does_not_edit(login, coach, maple):
    initiative = InitiativeFactory(schools=[maple])
    client = login(coach)
    page = client.get(initiative.get_absolute_url())
    assert page.status_code == 200 and b"Edit the plan" not in page.content
    assert client.get(reverse("initiatives:edit", args=[initiative.pk])).status_code == 403
    response = client.post(
        reverse("initiatives:move", args=[initiative.pk]), {"status": "planning"}
    )
    assert response.status_code == 403
    assert client.get(reverse("initiatives:budget_add", args=[initiative.pk])).status_code == 403
    assert client.get(reverse("initiatives:new")).status_code == 403


def test_a_coach_sees_that_the_device_plan_is_not_theirs(login, coach, maple):
    initiative = InitiativeFactory(schools=[maple], involves_devices=True)
    content = login(coach).get(initiative.get_absolute_url()).content
    assert b"shown to principals, tech staff and district admins" in content
    assert b"To buy for next school year" not in content


def test_another_schools_initiative_answers_404(login, principal, cedar, outsider):
    initiative = InitiativeFactory(schools=[cedar])
    assert login(principal).get(initiative.get_absolute_url()).status_code == 404
    assert login(outsider).get(initiative.get_absolute_url()).status_code == 404


def test_a_two_school_initiative_needs_both_principals_or_the_district(
    login, principal, maple, cedar, district_admin
):
    initiative = InitiativeFactory(schools=[maple, cedar])
    client = login(principal)
    page = client.get(initiative.get_absolute_url())
    assert page.status_code == 200 and b"and 1 other school" in page.content
    assert b"Cedar Middle" not in page.content
    assert client.get(reverse("initiatives:edit", args=[initiative.pk])).status_code == 403
    MembershipFactory(user=principal, school=cedar, role=Role.PRINCIPAL)
    assert client.get(reverse("initiatives:edit", args=[initiative.pk])).status_code == 200
    admin = login(district_admin)
    assert admin.get(reverse("initiatives:edit", args=[initiative.pk])).status_code == 200


def test_whole_district_initiatives_are_edited_by_the_district_admin_only(
    login, principal, maple, cedar, district_admin, district
):
    initiative = InitiativeFactory(schools=[maple, cedar], whole_district=True)
    MembershipFactory(user=principal, school=cedar, role=Role.PRINCIPAL)
    assert (
        login(principal).get(reverse("initiatives:edit", args=[initiative.pk])).status_code == 403
    )
    assert (
        login(district_admin).get(reverse("initiatives:edit", args=[initiative.pk])).status_code
        == 200
    )


# --- the wizard ----------------------------------------------------------------------------


WHY = {
    "why": "Students get feedback while they write.",
    "learning_goals": "Revise one piece a week.",
    "success_measures": "Rubric in May.",
}


def test_the_wizard_asks_the_why_before_the_what(login, principal, maple, cedar):
    client = login(principal)
    first = client.get(reverse("initiatives:new"))
    assert b"Step 1 of 2" in first.content and b'name="title"' not in first.content
    empty = client.post(reverse("initiatives:new"), {"step": "why", "why": ""})
    assert empty.status_code == 400 and "why" in empty.context["why"].errors
    second = client.post(reverse("initiatives:new"), {"step": "why", **WHY})
    assert b"Step 2 of 2" in second.content and b'name="title"' in second.content
    assert b"Cedar Middle" not in second.content  # only schools where they are principal
    stranger = client.post(
        reverse("initiatives:new"),
        {"step": "what", **WHY, "title": "T", "schools": [cedar.pk]},
    )
    assert stranger.status_code == 400 and "schools" in stranger.context["what"].errors
    done = client.post(
        reverse("initiatives:new"),
        {
            "step": "what",
            **WHY,
            "title": "Writing with feedback",
            "schools": [maple.pk],
            "pillars": ["engagement"],
            "involves_devices": "on",
        },
    )
    initiative = Initiative.objects.get()
    assert done.status_code == 302 and done["Location"] == initiative.get_absolute_url()
    assert initiative.why == WHY["why"] and initiative.involves_devices
    assert initiative.owner == principal and initiative.created_by == principal
    assert list(initiative.schools.all()) == [maple]
    assert not initiative.whole_district
    assert initiative.pillars.get().pillar == "engagement"


def test_a_district_admin_starts_a_whole_district_initiative(login, district_admin, maple, cedar):
    response = login(district_admin).post(
        reverse("initiatives:new"),
        {"step": "what", **WHY, "title": "Citizenship", "whole_district": "on"},
    )
    assert response.status_code == 302
    initiative = Initiative.objects.get()
    assert initiative.whole_district
    assert set(initiative.schools.all()) == {maple, cedar}


# --- moving and the parts -------------------------------------------------------------


def test_the_move_form_shows_the_listening_rule_and_keeps_the_override(login, principal, maple):
    initiative = InitiativeFactory(schools=[maple])
    initiative.status = Status.PLANNING
    initiative.save()
    ComplianceItem.objects.filter(initiative=initiative).update(status=ComplianceStatus.DONE)
    client = login(principal)
    url = reverse("initiatives:move", args=[initiative.pk])
    refused = client.post(url, {"status": "pilot"})
    assert refused.status_code == 400
    assert "Listen first" in str(refused.context["move_form"].errors["override_reason"])
    ok = client.post(url, {"status": "pilot", "override_reason": "Council met in person."})
    assert ok.status_code == 302
    change = StatusChange.objects.filter(initiative=initiative).first()
    assert change.override_reason == "Council met in person." and change.by == principal
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "Listening rule overridden" in page and "Council met in person." in page
    summary = client.get(reverse("initiatives:summary", args=[initiative.pk])).content.decode()
    assert "Council met in person." in summary


@pytest.mark.parametrize(
    ("status", "selected"),
    [
        (Status.IDEA, "planning"),
        (Status.PLANNING, "pilot"),
        (Status.PILOT, "rollout"),
        (Status.ROLLOUT, "sustaining"),
        (Status.SUSTAINING, "retired"),
        (Status.RETIRED, "planning"),
    ],
)
def test_the_move_menu_starts_on_the_next_step_forward(status, selected, login, principal, maple):
    initiative = InitiativeFactory(schools=[maple])
    Initiative.objects.filter(pk=initiative.pk).update(status=status)
    page = login(principal).get(initiative.get_absolute_url()).content.decode()
    menu = re.search(r'<select name="status"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="(\w+)" selected>', menu) == [selected]


def test_the_budget_form_refuses_committing_before_the_learning_goals(login, principal, maple):
    initiative = InitiativeFactory(schools=[maple], learning_goals="")
    data = {
        "category": "devices",
        "description": "Chromebooks",
        "amount": "28900",
        "funding_source": "title_i",
        "stage": "committed",
    }
    client = login(principal)
    url = reverse("initiatives:budget_add", args=[initiative.pk])
    refused = client.post(url, data)
    assert refused.status_code == 400 and "learning goals" in str(refused.context["form"].errors)
    assert not BudgetLine.objects.exists()
    assert client.post(url, {**data, "stage": "planned"}).status_code == 302
    line = BudgetLine.objects.get()
    assert line.initiative == initiative and line.amount == Decimal("28900")


def test_milestones_sign_offs_and_compliance_are_recorded(login, principal, maple):
    initiative = InitiativeFactory(schools=[maple])
    client = login(principal)
    today = timezone.localdate().isoformat()
    assert (
        client.post(
            reverse("initiatives:milestone_add", args=[initiative.pk]),
            {"title": "Carts arrive", "due_on": today, "owner": "Tech team"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("initiatives:signoff_add", args=[initiative.pk]),
            {"role": "board", "name": "Board, May 5", "decision": "approved", "decided_on": today},
        ).status_code
        == 302
    )
    item = ComplianceItemFactory(initiative=initiative, kind="parent_notice")
    response = client.post(
        reverse("initiatives:compliance_edit", args=[item.pk]),
        {
            "kind": "parent_notice",
            "status": "done",
            "evidence_url": "docs.example.org/letter.pdf",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.evidence_url == "https://docs.example.org/letter.pdf"
    assert item.updated_by == principal
    assert initiative.milestones.get().owner == "Tech team"
    assert initiative.sign_offs.get().recorded_by == principal


def test_the_budget_export_is_a_csv(login, principal, maple):
    initiative = InitiativeFactory(schools=[maple])
    BudgetLineFactory(initiative=initiative, description="=HYPERLINK(1)")
    response = login(principal).get(reverse("initiatives:budget_export", args=[initiative.pk]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"Category,Description" in body and b"'=HYPERLINK(1)" in body


# --- SWOT and reflections ----------------------------------------------------------------


def test_the_principal_records_a_swot_and_a_coach_reads_it(login, principal, coach, maple):
    url = reverse("initiatives:swot_list", args=[maple.pk])
    response = login(principal).post(
        url,
        {
            "year": 2025,
            "strengths": "Teachers who share\nA coach",
            "threats": "Budget cuts",
            "participants": "Student council\nPTA",
        },
    )
    assert response.status_code == 302
    swot = Swot.objects.get()
    assert swot.quadrants()[0] == ("Strengths", ["Teachers who share", "A coach"])
    page = login(coach).get(url)
    assert b"Budget cuts" in page.content and b"Record a SWOT" not in page.content
    assert login(coach).post(url, {"year": 2026}).status_code == 403


def test_a_reflection_answers_the_three_questions(login, principal, maple):
    initiative = InitiativeFactory(schools=[maple], title="Writing")
    url = reverse("initiatives:reflections", args=[maple.pk])
    response = login(principal).post(
        url,
        {
            "written_on": timezone.localdate().isoformat(),
            "initiative": initiative.pk,
            "relationships": "More conferences at the table.",
            "connection": "mixed",
            "this_year": "A paper portfolio each term.",
        },
    )
    assert response.status_code == 302
    reflection = Reflection.objects.get()
    assert reflection.author == principal and reflection.initiative == initiative
    assert b"A paper portfolio" in login(principal).get(initiative.get_absolute_url()).content


# --- the PD link ----------------------------------------------------------------------------


def test_a_coach_links_a_session_to_an_initiative_in_scope(login, coach, maple, cedar):
    mine = InitiativeFactory(schools=[maple], title="Writing with feedback")
    theirs = InitiativeFactory(schools=[cedar], title="Cedar robotics")
    client = login(coach)
    # The form offers initiatives by type-ahead (schools/typeahead.py): its search answers.
    offered = client.get(
        reverse("schools:search"), {"source": "initiatives.initiative", "q": "r"}
    ).json()["results"]
    assert [r["label"] for r in offered] == ["Writing with feedback"]
    data = {
        "schools": [maple.pk],
        "title": "Feedback PLC",
        "date": timezone.localdate().isoformat(),
        "duration_minutes": 60,
        "format": "plc",
        "facilitator": f"u{coach.pk}",
    }
    refused = client.post(reverse("pd:session_new"), {**data, "initiative": theirs.pk})
    assert refused.status_code == 200 and "initiative" in refused.context["form"].errors
    assert (
        client.post(reverse("pd:session_new"), {**data, "initiative": mine.pk}).status_code == 302
    )
    assert PDSession.objects.get().initiative == mine


def test_a_session_cannot_serve_an_initiative_of_another_school(coach, maple, cedar):
    from pd import services
    from schools.models import School

    initiative = InitiativeFactory(schools=[cedar])
    session = PDSession(
        title="T", date=timezone.localdate(), facilitator_user=coach, initiative=initiative
    )
    with pytest.raises(ValidationError) as exc:
        services.session_log(
            session=session,
            schools=School.objects.filter(pk=maple.pk),
            pillars=[],
            attendees=[],
            by=coach,
        )
    assert "initiative" in str(exc.value)


def test_the_district_admin_edits_the_plan_of_a_whole_district_initiative(
    login, district_admin, maple, cedar
):
    initiative = InitiativeFactory(schools=[maple, cedar], whole_district=True)
    Initiative.objects.filter(pk=initiative.pk).update(owner=district_admin)
    response = login(district_admin).post(
        reverse("initiatives:edit", args=[initiative.pk]),
        {
            "title": "Citizenship in every grade",
            "why": initiative.why,
            "learning_goals": "Judge a source before sharing it.",
            "owner": district_admin.pk,
            "pillars": ["opportunity", "engagement"],
            "edit_token": edit_token(initiative),
        },
    )
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.title == "Citizenship in every grade"
    assert sorted(initiative.pillars.values_list("pillar", flat=True)) == [
        "engagement",
        "opportunity",
    ]


def test_the_admin_obeys_the_rules_too(client, maple, django_user_model):
    root = django_user_model.objects.create_superuser(email="root@example.org", password="x")
    initiative = InitiativeFactory(schools=[maple])
    client.force_login(root)
    url = reverse("admin:initiatives_initiative_change", args=[initiative.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "district": initiative.district_id,
        "schools": [maple.pk],
        "title": initiative.title,
        "why": initiative.why,
        "learning_goals": initiative.learning_goals,
        "success_measures": "",
        "status": "rollout",
    }
    for prefix in ("pillars", "milestones", "budget_lines", "compliance_items", "sign_offs"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update({"status_changes-TOTAL_FORMS": 1, "status_changes-INITIAL_FORMS": 1})
    data["status_changes-0-id"] = initiative.status_changes.get().pk
    data["status_changes-0-initiative"] = initiative.pk
    response = client.post(url, data)
    assert response.status_code == 200 and b"can move to" in response.content
    assert Initiative.objects.get(pk=initiative.pk).status == Status.IDEA

    # An allowed move goes through the service: recorded, with the superuser who made it.
    data.update({"status": "planning", "title": "Renamed in the admin"})
    assert client.post(url, data).status_code == 302
    stored = Initiative.objects.get(pk=initiative.pk)
    assert (stored.status, stored.title) == (Status.PLANNING, "Renamed in the admin")
    latest = initiative.status_changes.first()
    assert (latest.from_status, latest.to_status, latest.by) == ("idea", "planning", root)

    # Listen first holds in the admin too; the override reason lifts it and is kept.
    ComplianceItem.objects.filter(initiative=initiative).update(status=ComplianceStatus.DONE)
    data["status"] = "pilot"
    data["status_changes-TOTAL_FORMS"] = data["status_changes-INITIAL_FORMS"] = 0
    refused = client.post(url, data)
    assert refused.status_code == 200 and b"Listen first" in refused.content
    data["override_reason"] = "The board asked for a pilot this term."
    assert client.post(url, data).status_code == 302
    latest = initiative.status_changes.first()
    assert (latest.to_status, latest.override_reason) == (
        "pilot",
        "The board asked for a pilot this term.",
    )


def test_an_initiative_added_in_the_admin_starts_its_history(client, maple, django_user_model):
    root = django_user_model.objects.create_superuser(email="root@example.org", password="x")
    client.force_login(root)
    data = {
        "district": maple.district_id,
        "schools": [maple.pk],
        "title": "Added by hand",
        "why": "",
        "learning_goals": "",
        "success_measures": "",
        "status": "rollout",
    }
    for prefix in ("pillars", "milestones", "budget_lines", "compliance_items", "sign_offs"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update({"status_changes-TOTAL_FORMS": 0, "status_changes-INITIAL_FORMS": 0})
    url = reverse("admin:initiatives_initiative_add")
    refused = client.post(url, data)
    assert refused.status_code == 200 and b"starts as an idea or in planning" in refused.content
    assert not Initiative.objects.filter(title="Added by hand").exists()
    data["status"] = "planning"
    assert client.post(url, data).status_code == 302
    added = Initiative.objects.get(title="Added by hand")
    (created,) = added.status_changes.all()
    assert (created.from_status, created.to_status, created.by) == ("", "planning", root)
    assert list(added.schools.all()) == [maple]


def test_stakeholders_heard_shows_each_surveys_headline_and_hides_small_groups(
    login, principal, maple
):
    from tests.factories import InvitationFactory, ResponseFactory

    initiative = InitiativeFactory(schools=[maple])
    heard = SurveyFactory(initiative=initiative, schools=[maple], title="Teachers, before")
    InvitationFactory(survey=heard, audience="teachers", expected=16)
    ResponseFactory.create_batch(8, survey=heard, audience="teachers")
    few = SurveyFactory(initiative=initiative, schools=[maple], title="Families, before")
    ResponseFactory.create_batch(3, survey=few, audience="families")
    content = login(principal).get(initiative.get_absolute_url()).content.decode()
    row = content[content.index("Teachers, before") :]
    row = row[: row.index("</tr>")]
    assert ">8<" in row and "50%" in row
    row = content[content.index("Families, before") :]
    row = row[: row.index("</tr>")]
    assert "fewer than 5" in row and ">3<" not in row


def test_a_whole_district_plan_lists_the_largest_gaps_and_forecasts_every_school(
    login, district_admin, district, maple, cedar
):
    schools = [maple, cedar, *SchoolFactory.create_batch(28, district=district)]
    initiative = InitiativeFactory(
        district=district, schools=schools, whole_district=True, involves_devices=True
    )
    response = login(district_admin).get(initiative.get_absolute_url())
    devices = response.context["devices"]
    assert len(devices["rows"]) == 25 and devices["more"] == 5
    assert devices["total"].target == sum(s.device_target() for s in schools)
    assert "5 more are on" in response.content.decode()
