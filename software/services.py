"""Every write to the app register: saving an app, a request, a review step, a decision,
the review steps themselves, the reminder about expiring agreements.

Each runs in one transaction, writes an audit row and, where readiness reads the result
(which apps are cleared), announces ``evidence_changed`` for the district."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import queue
from core.auditlog import record
from core.models import Kind
from schools.models import District, Membership, School, StaffMember
from schools.scoping import outside_scope
from schools.signals import evidence_changed
from schools.web import absolute_url

from .models import (
    DEFAULT_STEPS,
    OPEN_REQUEST,
    App,
    AppRequest,
    Decision,
    Outcome,
    RequestNote,
    RequestStatus,
    ReviewStep,
)
from .permissions import can_review_apps

NAME_TAKEN = "The register already has an app of this name."


def _announce(district_id: int) -> None:
    evidence_changed.send(sender=App, district_ids=[district_id])


def _name_taken(app: App) -> bool:
    return (
        App.unscoped.filter(district_id=app.district_id)
        .annotate(lname=Lower("name"))
        .filter(lname=app.name.strip().lower())
        .exclude(pk=app.pk)
        .exists()
    )


def app_save(*, app: App, user) -> App:
    """Create or edit a register entry (validated by its form)."""
    app.name = app.name.strip()
    if _name_taken(app):
        raise ValidationError({"name": NAME_TAKEN})
    created = app.pk is None
    with transaction.atomic():
        app.save()
        record(
            Kind.APP_REGISTER,
            user=user,
            district=app.district,
            obj=app,
            detail=f"{'added' if created else 'changed'}: {app.name}"[:200],
        )
        _announce(app.district_id)
    return app


def ensure_steps(district: District) -> list[ReviewStep]:
    """The district's review steps, starting it with the default four the first time."""
    with outside_scope():
        steps = list(ReviewStep.objects.filter(district=district))
        if steps:
            return steps
        with transaction.atomic():
            ReviewStep.objects.bulk_create(
                [
                    ReviewStep(district=district, name=name, guidance=guidance, position=i)
                    for i, (name, guidance) in enumerate(DEFAULT_STEPS, start=1)
                ],
                ignore_conflicts=True,
            )
        return list(ReviewStep.objects.filter(district=district))


def step_save(*, step: ReviewStep, user) -> ReviewStep:
    with transaction.atomic():
        step.save()
        record(
            Kind.APP_REGISTER,
            user=user,
            district=step.district,
            obj=step,
            detail=f"review step saved: {step.name}",
        )
    return step


def step_delete(*, step: ReviewStep, user) -> None:
    with transaction.atomic():
        record(
            Kind.APP_REGISTER,
            user=user,
            district=step.district,
            detail=f"review step removed: {step.name}",
        )
        step.delete()


def _app_for_request(district: District, name: str, vendor: str, website: str) -> App:
    """The register entry a request is about: the existing one of that name, put back in
    review if it was denied or retired, or a new one in review.

    Call it inside a transaction: it locks the entry."""
    with outside_scope():
        app = (
            App.objects.filter(district=district)
            .annotate(lname=Lower("name"))
            .filter(lname=name.strip().lower())
            .select_for_update()
            .first()
        )
    if app is None:
        app = App(district=district, name=name.strip(), vendor=vendor, website=website)
        app.full_clean(validate_unique=False, validate_constraints=False)
        app.save()
        return app
    if app.approved:
        raise ValidationError(
            {"name": f"{app.name} is already approved for the district: you may use it."}
        )
    if app.decision in (Decision.DENIED, Decision.RETIRED):
        app.decision = Decision.IN_REVIEW
        app.save(update_fields=["decision", "updated_at"])
    return app


# A person without an account may send this many requests a day (each sends an e-mail).
PUBLIC_REQUESTS_PER_DAY = 5


def _too_many_requests(email: str) -> bool:
    since = timezone.now() - timedelta(days=1)
    return (
        AppRequest.unscoped.filter(requester_email__iexact=email, created_at__gt=since).count()
        >= PUBLIC_REQUESTS_PER_DAY
    )


def request_app(
    *,
    district: District,
    name: str,
    why: str,
    vendor: str = "",
    website: str = "",
    school: School | None = None,
    user=None,
    staff: StaffMember | None = None,
    email: str = "",
) -> AppRequest | None:
    """Record a request for an app.

    A signed-in ``user`` requests at once. Without an account, ``email`` must be on the
    roster of one of the district's schools: the request then waits for the person to
    follow the link sent there (None is returned, and nothing is written, for an address
    on no roster; the page says the same either way)."""
    if user is None:
        with outside_scope():
            staff = (
                StaffMember.objects.filter(
                    school__district=district, email__iexact=email.strip(), active=True
                )
                .select_related("school")
                .order_by("pk")
                .first()
            )
        if staff is None or _too_many_requests(staff.email):
            return None
        school = staff.school
    with transaction.atomic():
        app = _app_for_request(district, name, vendor, website)
        request = AppRequest.objects.create(
            district=district,
            app=app,
            school=school,
            requested_by=user,
            requester_name=(user.get_full_name() or user.email) if user else staff.full_name,
            requester_email=user.email if user else staff.email,
            why=why.strip(),
            status=RequestStatus.SUBMITTED if user else RequestStatus.UNCONFIRMED,
        )
        record(
            Kind.APP_REQUEST,
            user=user,
            district=district,
            obj=request,
            detail=f"requested: {app.name}"[:200],
        )
        if user is None:
            from .tasks import send_request_link

            queue.enqueue(send_request_link, request.pk)
        _announce(district.pk)
    return request


def _locked_for_mail(request_id: int) -> AppRequest | None:
    """The request to write to, locked, with what its e-mail names; None when there is no
    one to write to. Call it inside a transaction."""
    request = (
        AppRequest.objects.select_for_update()
        .select_related("app", "district")
        .filter(pk=request_id)
        .first()
    )
    return request if request is not None and request.requester_email else None


def _personal_link(request: AppRequest) -> str:
    """A new personal link for a requester without an account (it replaces the one sent
    before); the secret is made here, at sending, and only its digest is stored, so the
    task queue never holds it. Call it inside a transaction."""
    token = request.new_link_token()
    request.save(update_fields=["link_digest", "updated_at"])
    return reverse("software:public_request_status", args=[request.district.slug, token])


def send_request_link_email(*, request_id: int) -> bool:
    """E-mail a requester without an account the link to their request (a task's work)."""
    with transaction.atomic(), outside_scope():
        request = _locked_for_mail(request_id)
        if request is None:
            return False
        path = _personal_link(request)
    context = {"request": request, "url": absolute_url(path)}
    send_mail(
        subject=f"Your request for {request.app.name}",
        message=render_to_string("software/email/request_link.txt", context),
        from_email=None,
        recipient_list=[request.requester_email],
    )
    return True


def send_request_update_email(*, request_id: int) -> bool:
    """Tell a requester that their request was decided or needs more from them (a task's
    work). Someone with an account gets the request's page; a teacher a new personal link
    (which replaces the one sent before)."""
    with transaction.atomic(), outside_scope():
        request = _locked_for_mail(request_id)
        if request is None:
            return False
        if request.requested_by_id:
            path = reverse("software:request_detail", args=[request.pk])
        else:
            path = _personal_link(request)
        last = RequestNote.objects.filter(request=request).order_by("-created_at", "-pk").first()
    context = {"request": request, "note": last, "url": absolute_url(path)}
    send_mail(
        subject=f"Your request for {request.app.name}: {request.get_status_display().lower()}",
        message=render_to_string("software/email/request_update.txt", context),
        from_email=None,
        recipient_list=[request.requester_email],
    )
    return True


def _tell_requesters(request_ids) -> None:
    from .tasks import send_request_update

    for pk in request_ids:
        queue.enqueue(send_request_update, pk)


def request_confirm(*, request: AppRequest) -> bool:
    """The requester followed their link: an unconfirmed request is submitted."""
    with transaction.atomic():
        updated = AppRequest.unscoped.filter(
            pk=request.pk, status=RequestStatus.UNCONFIRMED
        ).update(status=RequestStatus.SUBMITTED, updated_at=timezone.now())
        if updated:
            record(Kind.APP_REQUEST, district=request.district, obj=request, detail="confirmed")
    if updated:
        request.status = RequestStatus.SUBMITTED
    return bool(updated)


def _lock_open(request: AppRequest) -> AppRequest:
    """The request, locked, if it is still open. Call it inside a transaction."""
    locked = AppRequest.unscoped.select_for_update().get(pk=request.pk)
    if locked.status not in OPEN_REQUEST:
        raise ValidationError(f"This request is {locked.get_status_display().lower()}.")
    return locked


def request_review(
    *, request: AppRequest, user, outcome: str, text: str = "", step: ReviewStep | None = None
) -> RequestNote:
    """A reviewer's comment, or a step passed or sent back with a comment."""
    text = text.strip()
    if outcome != Outcome.COMMENT and step is None:
        raise ValidationError({"step": "Choose the review step."})
    if outcome in (Outcome.COMMENT, Outcome.RETURNED) and not text:
        raise ValidationError({"text": "Write the comment for the requester."})
    if step is not None and step.district_id != request.district_id:
        raise ValidationError({"step": "Choose one of the district's review steps."})
    with transaction.atomic():
        locked = _lock_open(request)
        if (
            outcome == Outcome.PASSED
            and RequestNote.unscoped.filter(
                request=locked, step=step, outcome=Outcome.PASSED
            ).exists()
        ):
            raise ValidationError({"step": f"The {step.name} step is already passed."})
        note = RequestNote.objects.create(
            request=locked,
            step=step,
            outcome=outcome,
            text=text,
            author=user,
            author_name=user.get_full_name() or user.email,
        )
        if locked.status == RequestStatus.SUBMITTED:
            locked.status = RequestStatus.IN_REVIEW
            locked.save(update_fields=["status", "updated_at"])
        if outcome == Outcome.RETURNED:
            _tell_requesters([locked.pk])
        record(
            Kind.APP_REQUEST,
            user=user,
            district=locked.district,
            obj=locked,
            detail=f"{note.get_outcome_display()}{': ' + step.name if step else ''}"[:200],
        )
    request.status = locked.status
    return note


def step_progress(request: AppRequest, steps: list[ReviewStep], notes: list[RequestNote]):
    """(step, the note that passed it or None) for each of the district's steps."""
    passed = {n.step_id: n for n in notes if n.outcome == Outcome.PASSED}
    return [(step, passed.get(step.pk)) for step in steps]


def app_decide(
    *, app: App, user, decision: str, reason: str, conditions: str = ""
) -> list[AppRequest]:
    """Record the district's decision on an app, with who and why, and close its open
    requests accordingly (approved or denied). Returns the requests closed."""
    reason, conditions = reason.strip(), conditions.strip()
    if decision not in Decision.values or decision == Decision.IN_REVIEW:
        raise ValidationError({"decision": "Choose a decision."})
    if not reason:
        raise ValidationError({"reason": "Say why: requesters and reviewers read it."})
    if decision == Decision.APPROVED_WITH_CONDITIONS and not conditions:
        raise ValidationError({"conditions": "Say what the conditions are."})
    with transaction.atomic():
        locked = App.unscoped.select_for_update().get(pk=app.pk)
        locked.decision = decision
        locked.decision_reason = reason
        locked.conditions = conditions if decision == Decision.APPROVED_WITH_CONDITIONS else ""
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.save()
        closing = list(
            AppRequest.unscoped.select_for_update().filter(app=locked, status__in=OPEN_REQUEST)
        )
        status = RequestStatus.APPROVED if locked.approved else RequestStatus.DENIED
        if closing and decision != Decision.RETIRED:
            AppRequest.unscoped.filter(pk__in=[r.pk for r in closing]).update(
                status=status, updated_at=timezone.now()
            )
            RequestNote.objects.bulk_create(
                [
                    RequestNote(
                        request=r,
                        outcome=Outcome.COMMENT,
                        text=f"{locked.get_decision_display()}: {reason}",
                        author=user,
                        author_name=user.get_full_name() or user.email,
                    )
                    for r in closing
                ]
            )
            _tell_requesters(r.pk for r in closing)
        record(
            Kind.APP_REGISTER,
            user=user,
            district=locked.district,
            obj=locked,
            detail=f"decided {locked.get_decision_display().lower()}: {locked.name}"[:200],
        )
        _announce(locked.district_id)
    for field in ("decision", "decision_reason", "conditions", "decided_by", "decided_at"):
        setattr(app, field, getattr(locked, field))
    return closing


def request_withdraw(*, request: AppRequest, user=None) -> None:
    with transaction.atomic():
        locked = _lock_open(request)
        locked.status = RequestStatus.WITHDRAWN
        locked.save(update_fields=["status", "updated_at"])
        record(
            Kind.APP_REQUEST, user=user, district=locked.district, obj=locked, detail="withdrawn"
        )
    request.status = RequestStatus.WITHDRAWN


# --- expiring agreements -------------------------------------------------------------


def _reviewer_emails(district_id: int) -> list[str]:
    memberships = Membership.unscoped.filter(
        district_id=district_id, role__in=can_review_apps.roles, user__is_active=True
    )
    return sorted(set(memberships.values_list("user__email", flat=True)) - {""})


def dpa_reminders_due(today: date) -> dict[int, list[int]]:
    """Apps whose signed agreement expires within 60 days and whose reminder for that
    expiry date has not gone out, by district: {district id: [app ids]}."""
    due: dict[int, list[int]] = {}
    rows = (
        App.unscoped.approved()
        .dpa_expiring(today)
        .exclude(dpa_reminded_for=F("dpa_expires_on"))
        .values_list("district_id", "pk")
        .order_by("district_id", "dpa_expires_on", "pk")
    )
    for district_id, pk in rows:
        due.setdefault(district_id, []).append(pk)
    return due


def send_dpa_reminder(*, district_id: int, today: date) -> int:
    """E-mail the district's tech staff and admins about its agreements that expire soon
    (a task's work). Each app is reminded once per expiry date: the rows are locked, the
    mail sent, and the marks written in one transaction, so a second run, or a retry
    after the marks were written, finds nothing to send; a failed send writes no mark."""
    recipients = _reviewer_emails(district_id)
    with transaction.atomic():
        apps = list(
            App.unscoped.select_for_update()
            .approved()
            .dpa_expiring(today)
            .filter(district_id=district_id)
            .exclude(dpa_reminded_for=F("dpa_expires_on"))
            .order_by("dpa_expires_on", "name")
        )
        if not apps or not recipients:
            return 0
        district = District.unscoped.get(pk=district_id)
        context = {
            "district": district,
            "apps": apps,
            "today": today,
            "url": absolute_url(reverse("software:app_list") + "?dpa=expiring"),
        }
        send_mail(
            subject=f"{len(apps)} data-privacy agreement{'s' if len(apps) != 1 else ''} "
            f"expire{'' if len(apps) != 1 else 's'} within 60 days",
            message=render_to_string("software/email/dpa_expiring.txt", context),
            from_email=None,
            recipient_list=recipients,
        )
        for app in apps:
            App.unscoped.filter(pk=app.pk).update(dpa_reminded_for=app.dpa_expires_on)
    return len(apps)
