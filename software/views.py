"""The register's pages for signed-in people: the list, an app, requests and their
review, the district's review steps, CSV import and export. Thin: the rules live in
models.py and services.py; the public page for families is in public_views.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from schools.exports import csv_response
from schools.models import District, School
from schools.permissions import schools_q
from schools.scoping import scoped_object

from . import register_csv, selectors, services
from .forms import (
    AppForm,
    DecisionForm,
    ImportForm,
    RegisterFilterForm,
    RequestForm,
    ReviewForm,
    StepForm,
)
from .models import DPA_WARNING, OPEN_REQUEST, App, AppRequest, ReviewStep
from .permissions import can_request_apps, can_review_apps

PER_PAGE = 50


def _districts(access):
    return District.objects.filter(pk__in=access.district_ids).order_by("name")


def _reviewable(access):
    return [d for d in _districts(access) if can_review_apps.in_district(access, d)]


def _filtered(form: RegisterFilterForm):
    apps = App.objects.select_related("district").order_by("name", "pk")
    if not form.is_valid():
        return apps.none()
    data = form.cleaned_data
    if data["q"].strip():
        q = data["q"].strip()
        apps = apps.filter(Q(name__icontains=q) | Q(vendor__icontains=q))
    if data["decision"]:
        apps = apps.filter(decision=data["decision"])
    today = timezone.localdate()
    current = App.objects.current_dpa_q(today)
    if data["dpa"] == "current":
        apps = apps.filter(current)
    elif data["dpa"] == "expiring":
        apps = apps.filter(dpa_status="signed", dpa_expires_on__lte=today + DPA_WARNING)
    elif data["dpa"] == "missing":
        apps = apps.exclude(current)
    return apps


@login_required
@require_GET
def app_list(request):
    access = request.access
    form = RegisterFilterForm(request.GET)
    page = Paginator(_filtered(form), PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    districts = list(_districts(access))
    return render(
        request,
        "software/app_list.html",
        {
            "form": form,
            "page": page,
            "query_string": params.urlencode(),
            "today": timezone.localdate(),
            "districts": districts,
            "reviewable": _reviewable(access),
            "admin_district_ids": {d.pk for d in districts if access.is_district_admin(d.pk)},
            "can_request": any(can_request_apps.in_district(access, d) for d in districts),
            "open_requests": AppRequest.objects.filter(status__in=OPEN_REQUEST).count(),
        },
    )


@scoped_object(District)
def app_export(request, district):
    """The district's register as filtered on the list, in the import's columns."""
    form = RegisterFilterForm(request.GET)
    if not form.is_valid():
        messages.error(request, "The export was not made: correct the filters first.")
        return redirect("software:app_list")
    stamp = timezone.localdate().isoformat()
    apps = _filtered(form).filter(district=district)
    return csv_response(
        f"app-register-{district.slug}-{stamp}.csv",
        register_csv.HEADER,
        register_csv.export_rows(apps),
    )


@scoped_object(lambda: App.objects.select_related("district", "decided_by"))
def app_detail(request, app):
    requests = list(app.requests.select_related("school").order_by("-created_at")[:20])
    return render(
        request,
        "software/app_detail.html",
        {
            "app": app,
            "today": timezone.localdate(),
            "requests": requests,
            "can_review": can_review_apps.in_district(request.access, app.district_id),
        },
    )


def _require_reviewer(request, district) -> None:
    can_review_apps.require_in_district(request.access, district)


@scoped_object(District, methods=["GET", "POST"])
def app_create(request, district):
    _require_reviewer(request, district)
    form = AppForm(request.POST or None, district=district)
    if request.method == "POST" and form.is_valid():
        try:
            app = services.app_save(app=form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{app.name} was added to the register.")
            return redirect("software:app_detail", pk=app.pk)
    return render(request, "software/app_form.html", {"form": form, "district": district})


@scoped_object(lambda: App.objects.select_related("district"), methods=["GET", "POST"])
def app_edit(request, app):
    _require_reviewer(request, app.district)
    form = AppForm(request.POST or None, instance=app, district=app.district)
    if request.method == "POST" and form.is_valid():
        try:
            services.app_save(app=form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{app.name} was saved.")
            return redirect("software:app_detail", pk=app.pk)
    return render(
        request, "software/app_form.html", {"form": form, "district": app.district, "app": app}
    )


@scoped_object(lambda: App.objects.select_related("district"), methods=["GET", "POST"])
def app_decide(request, app):
    _require_reviewer(request, app.district)
    initial = {
        "decision": app.decision,
        "reason": app.decision_reason,
        "conditions": app.conditions,
    }
    form = DecisionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            closed = services.app_decide(app=app, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"{app.name}: {app.get_decision_display().lower()}"
                + (
                    f"; {len(closed)} request{'s' if len(closed) != 1 else ''} closed."
                    if closed
                    else "."
                ),
            )
            return redirect("software:app_detail", pk=app.pk)
    return render(request, "software/app_decide.html", {"form": form, "app": app})


# --- requests -------------------------------------------------------------------------


@login_required
@require_GET
def request_list(request):
    access = request.access
    reviewer_districts = [d.pk for d in _reviewable(access)]
    requests = AppRequest.objects.select_related("app", "school").order_by("-created_at", "-pk")
    mine = requests.filter(requested_by=request.user)
    to_review = requests.filter(district_id__in=reviewer_districts, status__in=OPEN_REQUEST)
    return render(
        request,
        "software/request_list.html",
        {
            "mine": list(mine[:50]),
            "to_review": list(to_review[:100]),
            "is_reviewer": bool(reviewer_districts),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    access = request.access
    districts = [d for d in _districts(access) if can_request_apps.in_district(access, d)]
    if not districts:
        can_request_apps.require(access)
    # Named by district for a district admin (schools_q), never listed school by school.
    schools = (
        School.objects.select_related("district")
        .order_by("name")
        .filter(schools_q(access, can_request_apps))
    )
    form = RequestForm(request.POST or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        school = data["school"]
        district = school.district if school else districts[0]
        try:
            made = services.request_app(
                district=district,
                school=school,
                user=request.user,
                name=data["name"],
                vendor=data["vendor"],
                website=data["website"],
                why=data["why"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Your request for {made.app.name} was sent for review.")
            return redirect("software:request_detail", pk=made.pk)
    return render(request, "software/request_form.html", {"form": form})


@scoped_object(
    lambda: AppRequest.objects.select_related("app", "district", "school"), methods=["GET", "POST"]
)
def request_detail(request, app_request):
    can_review = can_review_apps.in_district(request.access, app_request.district_id)
    form = None
    if can_review:
        steps = ReviewStep.objects.filter(district=app_request.district)
        form = ReviewForm(request.POST or None, steps=steps)
        if request.method == "POST" and form.is_valid():
            try:
                services.request_review(request=app_request, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Recorded.")
                return redirect("software:request_detail", pk=app_request.pk)
    elif request.method == "POST":
        raise PermissionDenied("Your role does not allow this.")
    context = selectors.request_page(app_request)
    context.update(
        form=form,
        can_review=can_review,
        is_open=app_request.status in OPEN_REQUEST,
        can_withdraw=app_request.status in OPEN_REQUEST
        and (can_review or app_request.requested_by_id == request.user.pk),
    )
    return render(request, "software/request_detail.html", context)


@scoped_object(lambda: AppRequest.objects.select_related("app", "district"), methods=["POST"])
def request_withdraw(request, app_request):
    if not (
        app_request.requested_by_id == request.user.pk
        or can_review_apps.in_district(request.access, app_request.district_id)
    ):
        raise PermissionDenied("Only the requester or a reviewer may withdraw a request.")
    try:
        services.request_withdraw(request=app_request, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The request for {app_request.app.name} was withdrawn.")
    return redirect("software:request_detail", pk=app_request.pk)


# --- the district's review steps and the CSV import ---------------------------------------


@scoped_object(District, methods=["GET", "POST"])
def step_list(request, district):
    from schools.scoping import require_district_admin

    require_district_admin(request.access, district)
    steps = services.ensure_steps(district)
    form = StepForm(request.POST or None, district=district)
    if request.method == "POST" and form.is_valid():
        services.step_save(step=form.save(commit=False), user=request.user)
        messages.success(request, "The step was added.")
        return redirect("software:step_list", pk=district.pk)
    return render(
        request, "software/step_list.html", {"district": district, "steps": steps, "form": form}
    )


@scoped_object(lambda: ReviewStep.objects.select_related("district"), methods=["GET", "POST"])
def step_edit(request, step):
    from schools.scoping import require_district_admin

    require_district_admin(request.access, step.district)
    form = StepForm(request.POST or None, instance=step, district=step.district)
    if request.method == "POST":
        if request.POST.get("remove"):
            services.step_delete(step=step, user=request.user)
            messages.success(request, f"The {step.name} step was removed.")
            return redirect("software:step_list", pk=step.district_id)
        if form.is_valid():
            services.step_save(step=form.save(commit=False), user=request.user)
            messages.success(request, "The step was saved.")
            return redirect("software:step_list", pk=step.district_id)
    return render(request, "software/step_form.html", {"form": form, "step": step})


@scoped_object(District, methods=["GET", "POST"])
def app_import(request, district):
    _require_reviewer(request, district)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            form.add_error("file", "The file is larger than 5 MB.")
        else:
            created, updated, errors = register_csv.import_register(
                district=district, raw=upload.read(), user=request.user
            )
            if not errors:
                messages.success(
                    request, f"The register was imported: {created} added, {updated} updated."
                )
                return redirect("software:app_list")
    return render(
        request,
        "software/app_import.html",
        {"form": form, "district": district, "errors": errors, "columns": register_csv.HEADER},
    )
