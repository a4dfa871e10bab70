import pytest
from django.core.management import call_command
from django.utils import timezone

from initiatives import services
from initiatives.demo import BLOCKED_TITLE, OVERRIDE_TITLE, ROLLOUT_TITLE
from initiatives.models import Initiative, Reflection, Status, StatusChange, Swot
from pd.models import PDSession


@pytest.mark.django_db
def test_the_demo_has_initiatives_in_every_situation():
    call_command("seed_demo", allow_production=True)
    counts = (Initiative.objects.count(), StatusChange.objects.count())
    call_command("seed_demo", allow_production=True)
    assert (Initiative.objects.count(), StatusChange.objects.count()) == counts

    rollout = Initiative.objects.get(title=ROLLOUT_TITLE)
    assert rollout.status == Status.ROLLOUT and rollout.has_closed_survey()
    assert rollout.involves_devices and not rollout.open_compliance_items()
    assert PDSession.objects.filter(initiative=rollout).exists()

    blocked = Initiative.objects.get(title=BLOCKED_TITLE)
    problems = services.move_problems(
        initiative=blocked, from_status=blocked.status, to=Status.PILOT
    )
    assert "override_reason" in problems and "status" in problems

    override = Initiative.objects.get(title=OVERRIDE_TITLE)
    assert override.status == Status.PILOT and not override.has_closed_survey()
    assert StatusChange.objects.filter(initiative=override).exclude(override_reason="").exists()

    # Moved through the services, then dated back: a past, in order, by the principal.
    history = StatusChange.objects.filter(initiative=rollout).order_by("at")
    assert [(c.from_status, c.to_status) for c in history] == [
        ("", "idea"),
        ("idea", "planning"),
        ("planning", "pilot"),
        ("pilot", "rollout"),
    ]
    days_ago = [(timezone.now() - c.at).days for c in history]
    assert days_ago == [200, 180, 120, 40]
    assert {c.by for c in history} == {rollout.created_by} and rollout.created_by is not None

    assert Initiative.objects.filter(whole_district=True).exists()
    assert Swot.objects.exists() and Reflection.objects.filter(initiative=rollout).exists()
