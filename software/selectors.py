"""Reads the register's pages share."""

from __future__ import annotations

from . import services
from .models import AppRequest, RequestNote


def request_page(app_request: AppRequest) -> dict:
    """What a request's page shows, to the reviewer and to the requester alike: the app,
    each review step with the note that passed it, and the history (three queries)."""
    steps = services.ensure_steps(app_request.district)
    notes = list(
        RequestNote.objects.filter(request=app_request)
        .select_related("step")
        .order_by("created_at", "pk")
    )
    return {
        "app_request": app_request,
        "app": app_request.app,
        "progress": services.step_progress(app_request, steps, notes),
        "notes": notes,
        "steps": steps,
    }
