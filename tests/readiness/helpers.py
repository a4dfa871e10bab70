"""Builders for the initiative and survey core models (their apps' factories land later)."""

from datetime import timedelta

from django.utils import timezone

from initiatives.models import Initiative
from stakeholders.models import Survey


def initiative(school, *, status="rollout", why="", goals="", measures="", **extra):
    """An initiative already in ``status``. The workflow's rules (listen first, compliance)
    are the initiatives app's tests; here the state is set directly, as the history left it."""
    item = Initiative.objects.create(
        district=school.district,
        title=extra.pop("title", "Initiative"),
        why=why,
        learning_goals=goals,
        success_measures=measures,
        **extra,
    )
    Initiative._base_manager.filter(pk=item.pk).update(status=status)
    item.status = status
    item.schools.add(school)
    return item


def survey(schools, *, opens_days_ago=30, closes_days_ago=10, closed_days_ago=None):
    today = timezone.localdate()
    item = Survey.objects.create(
        title="Survey",
        opens_on=today - timedelta(days=opens_days_ago),
        closes_on=today - timedelta(days=closes_days_ago),
        closed_on=None if closed_days_ago is None else today - timedelta(days=closed_days_ago),
    )
    item.schools.add(*schools)
    return item
