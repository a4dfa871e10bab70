"""Readiness pages: a school's scores (principal), every school side by side (district
admin), and the "recompute now" buttons. Pages only read stored snapshots; the jobs compute.

Every object comes through the scoped managers (``@scoped_object``: another school's object
answers 404); ``readiness.permissions`` / ``require_district_admin`` then answer 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from schools.models import District, School
from schools.pillars import Pillar
from schools.scoping import require_district_admin, scoped_object
from schools.selectors import SCHOOLS_PER_PAGE

from . import selectors, services
from .forms import SORT_CHOICES, DistrictFilterForm, TargetsForm
from .permissions import can_read_readiness, can_recompute


def _schools():
    return School.objects.select_related("district")


@login_required
@require_GET
def index(request):
    schools = School.objects.select_related("district").order_by("district__name", "name")
    page = Paginator(schools, SCHOOLS_PER_PAGE).get_page(request.GET.get("page"))
    access = request.access
    districts = District.objects.filter(pk__in=access.district_ids).order_by("name")
    admin_of = [d for d in districts if access.is_district_admin(d)]
    return render(
        request,
        "readiness/index.html",
        {"rows": selectors.index_rows(page.object_list), "page": page, "admin_of": admin_of},
    )


@scoped_object(_schools)
def school_page(request, school):
    can_read_readiness.require(request.access, school=school)
    data = selectors.school_dashboard(school, request.access)
    return render(
        request,
        "readiness/school.html",
        {
            "school": school,
            **data,
            "can_recompute": can_recompute(request.access, school),
            "is_district_admin": request.access.is_district_admin(school.district_id),
        },
    )


@scoped_object(_schools)
def school_status(request, school):
    """The run-status fragment (htmx polls it while a run is pending)."""
    can_read_readiness.require(request.access, school=school)
    run = selectors.last_run_for_school(school)
    response = render(
        request,
        "readiness/_run_status.html" if request.htmx else "readiness/status_page.html",
        {"run": run, "status_url": request.path, "school": school},
    )
    polled = request.GET.get("run")
    if request.htmx and run and not run.pending and polled == str(run.pk):
        response["HX-Refresh"] = "true"  # the run being watched finished: show its scores
    return response


@scoped_object(_schools, methods=["POST"])
def school_recompute(request, school):
    can_recompute.require(request.access, school=school)
    _run, queued = services.recompute(
        district_id=school.district_id, school_id=school.pk, user=request.user
    )
    if queued:
        messages.success(request, f"Recomputing {school.name}'s readiness.")
    else:
        messages.info(request, "A computation is already under way; the page updates when it ends.")
    return _back(request, "readiness:school", school.pk)


@scoped_object(District)
def district_page(request, district):
    require_district_admin(request.access, district)
    form = DistrictFilterForm(request.GET or None)
    options = form.cleaned_data if form.is_valid() else {}
    data = selectors.district_dashboard(
        district,
        School.objects.filter(district=district),
        sort=options.get("sort") or "overall",
        descending=options.get("order") == "desc",
        need_min=options.get("need_min"),
    )
    # The database sorts every school on its latest scores; one page of them is drawn.
    page = Paginator(data.pop("rows"), SCHOOLS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.index_rows(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "readiness/district.html",
        {
            "district": district,
            "form": form,
            "pillar_choices": Pillar.choices,
            "sort_label": dict(SORT_CHOICES)[data["sort"]],
            "rows": page.object_list,  # SchoolRow: a school and its latest scores
            "page": page,
            "query_string": params.urlencode(),
            **data,
        },
    )


@scoped_object(District, methods=["POST"])
def district_recompute(request, district):
    require_district_admin(request.access, district)
    _run, queued = services.recompute(district_id=district.pk, user=request.user)
    if queued:
        messages.success(request, f"Recomputing every school of {district.name}.")
    else:
        messages.info(request, "A computation is already under way.")
    return _back(request, "readiness:district", district.pk)


def _back(request, name: str, pk: int):
    response = redirect(name, pk=pk)
    if request.htmx:
        out = HttpResponse(status=204)
        out["HX-Redirect"] = response["Location"]
        return out
    return response


@scoped_object(District, methods=["GET", "POST"])
def targets(request, district):
    require_district_admin(request.access, district)
    current = services.targets_for([district.pk])[district.pk]
    form = TargetsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_targets(district, form.values())
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request, "Targets saved. Scores use them from the next computation on."
            )
            return redirect("readiness:targets", pk=district.pk)
    return render(request, "readiness/targets.html", {"district": district, "form": form})
