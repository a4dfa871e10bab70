from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from . import selectors, services, typeahead
from .forms import (
    DistrictSettingsForm,
    SchoolForm,
    StaffMemberForm,
    StaffSearchForm,
    TypeaheadSearchForm,
)
from .models import District, School, StaffMember
from .permissions import can_edit_roster, can_edit_school
from .scoping import require_district_admin, scoped_object
from .selectors import SCHOOLS_PER_PAGE


def _schools():
    return School.objects.select_related("district")


@login_required
@require_GET
def school_list(request):
    page = Paginator(selectors.schools_by_need(), SCHOOLS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "schools/school_list.html", {"page": page, "schools": page.object_list})


@scoped_object(_schools)
def school_detail(request, school):
    return render(
        request,
        "schools/school_detail.html",
        {
            "school": school,
            "members": selectors.school_members(school),
            "can_edit": can_edit_school(request.access, school),
            "staff_count": selectors.school_staff(school).count(),
        },
    )


@scoped_object(_schools, methods=["GET", "POST"])
def school_edit(request, school):
    can_edit_school.require(request.access, school=school)
    form = SchoolForm(
        request.POST or None,
        instance=school,
        can_set_feeder=request.access.is_district_admin(school.district_id),
    )
    if request.method == "POST" and form.is_valid():
        services.school_update(school=school, data=form.cleaned_data)
        messages.success(request, f"{school.name} was updated.")
        return redirect(school)
    return render(request, "schools/school_form.html", {"form": form, "school": school})


@scoped_object(School)
def staff_list(request, school):
    form = StaffSearchForm(request.GET)
    search, include_inactive = form.search()
    page = Paginator(
        selectors.school_staff(school, search=search, include_inactive=include_inactive), 50
    ).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "school": school,
        "page": page,
        "query_string": params.urlencode(),
        "search": search,
        "search_errors": form.errors.get("q"),
        "include_inactive": include_inactive,
        "can_edit_roster": can_edit_roster(request.access, school),
    }
    template = "schools/_staff_table.html" if request.htmx else "schools/staff_list.html"
    return render(request, template, context)


@scoped_object(School, methods=["GET", "POST"])
def staff_add(request, school):
    can_edit_roster.require(request.access, school=school)
    form = StaffMemberForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            staff = services.staff_member_save(staff=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{staff.full_name} was added to the roster.")
            return redirect("schools:staff_list", pk=school.pk)
    return render(request, "schools/staff_form.html", {"form": form, "school": school})


@scoped_object(lambda: StaffMember.objects.select_related("school"), methods=["GET", "POST"])
def staff_edit(request, staff):
    can_edit_roster.require(request.access, school=staff.school)
    form = StaffMemberForm(request.POST or None, instance=staff, school=staff.school)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_member_save(staff=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{staff.full_name} was updated.")
            return redirect("schools:staff_list", pk=staff.school_id)
    return render(
        request, "schools/staff_form.html", {"form": form, "school": staff.school, "staff": staff}
    )


@scoped_object(District, methods=["GET", "POST"])
def district_settings(request, district):
    require_district_admin(request.access, district)
    form = DistrictSettingsForm(request.POST or None, instance=district)
    if request.method == "POST" and form.is_valid():
        services.district_update_settings(district=district, data=form.cleaned_data)
        messages.success(request, "District settings were saved.")
        return redirect("schools:district_settings", pk=district.pk)
    return render(request, "schools/district_settings.html", {"form": form, "district": district})


@login_required
@require_GET
def search(request):
    """The type-ahead's matches (JSON): the first rows of one list the person may see."""
    form = TypeaheadSearchForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"results": [], "errors": form.errors.get_json_data()}, status=400)
    source = form.cleaned_data["source"]
    if not source:
        return JsonResponse({"results": []})
    schools = [s.pk for s in form.cleaned_data["school"]]
    return JsonResponse(
        {"results": typeahead.search(source, form.cleaned_data["q"], schools=schools)}
    )
