"""Initiative pages: the principal's workspace from the why to the sign-offs.

Every object comes through the scoped managers (``@scoped_object``: another school's object
answers 404). Everyone who sees an initiative reads it;
``permissions.can_edit_initiative`` decides who changes it (403 otherwise). A view
validates its form and calls one service (writes: a refused move or budget line comes back
as an error on its field) or one selector (reads: the pages' contexts are built in
``initiatives.selectors``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from schools.exports import csv_response
from schools.models import School
from schools.scoping import scoped_object

from . import permissions, selectors, services
from .forms import (
    BudgetLineForm,
    ComplianceItemForm,
    MilestoneForm,
    MoveForm,
    PlanForm,
    ReflectionForm,
    SignOffForm,
    SwotForm,
    WhatForm,
    WhyForm,
)
from .models import BudgetLine, ComplianceItem, Initiative, Milestone, Swot


def _initiatives():
    return Initiative.objects.select_related("district", "owner")


def _require_editor(request, initiative: Initiative) -> set[int]:
    school_ids = permissions.linked_school_ids(initiative)
    if not permissions.can_edit_initiative(request.access, initiative, school_ids):
        raise PermissionDenied("Only the principal of its schools or a district admin may do this.")
    return school_ids


def _add_errors(form, exc: ValidationError) -> None:
    """Put a refusal from the model on its field, or above the form if the form lacks it."""
    pairs = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for name, errors in pairs:
        form.add_error(name if name in form.fields else None, errors)


# --- lists ----------------------------------------------------------------------------


@login_required
@require_GET
def initiative_list(request):
    page = selectors.initiative_list_page(page=request.GET.get("page"))
    return render(
        request,
        "initiatives/list.html",
        {
            "page": page,
            "rows": page.object_list,
            "school": None,
            "can_create": permissions.can_create(request.access),
            "schools": selectors.schools_in_view(),
        },
    )


@scoped_object(School)
def school_initiatives(request, school):
    page = selectors.initiative_list_page(school=school, page=request.GET.get("page"))
    return render(
        request,
        "initiatives/list.html",
        {
            "page": page,
            "rows": page.object_list,
            "school": school,
            "can_create": permissions.can_create(request.access),
            "can_write": permissions.can_write_for_school(request.access, school),
            "latest_swot": selectors.latest_swot(school),
        },
    )


# --- the wizard -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def initiative_new(request):
    """Two steps: the why (what changes for teaching and learning), then the what."""
    if not permissions.can_create(request.access):
        raise PermissionDenied("Principals and district admins start initiatives.")
    schools = permissions.creatable_schools(request.access)
    district_admin = any(request.access.is_district_admin(d) for d in request.access.district_ids)
    step = request.POST.get("step", "why")
    why = WhyForm(request.POST or None)
    what = WhatForm(
        request.POST if step == "what" else None, schools=schools, district_admin=district_admin
    )
    if request.method == "POST" and step == "back":
        return render(request, "initiatives/wizard.html", {"step": "why", "why": why})
    if request.method == "POST" and step == "why":
        if why.is_valid():
            return render(
                request, "initiatives/wizard.html", {"step": "what", "why": why, "what": what}
            )
        return render(request, "initiatives/wizard.html", {"step": "why", "why": why}, status=400)
    if request.method == "POST" and step == "what":
        if not why.is_valid():
            return render(
                request, "initiatives/wizard.html", {"step": "why", "why": why}, status=400
            )
        if what.is_valid():
            data = {**why.cleaned_data}
            data["title"] = what.cleaned_data["title"]
            data["involves_devices"] = what.cleaned_data["involves_devices"]
            try:
                initiative = services.initiative_create(
                    schools=what.cleaned_data["schools"],
                    whole_district=what.cleaned_data.get("whole_district"),
                    data=data,
                    pillars=what.cleaned_data["pillars"],
                    by=request.user,
                )
            except ValidationError as exc:
                _add_errors(what, exc)
            else:
                messages.success(
                    request,
                    f"“{initiative.title}” was created as an idea. Next: link a stakeholder "
                    "survey, work through the compliance items and plan the budget.",
                )
                return redirect(initiative)
        return render(
            request,
            "initiatives/wizard.html",
            {"step": "what", "why": why, "what": what},
            status=400,
        )
    return render(request, "initiatives/wizard.html", {"step": "why", "why": why})


# --- the initiative page --------------------------------------------------------------


def _page(request, initiative: Initiative, move_form: MoveForm | None = None) -> dict:
    page = selectors.initiative_page(initiative, request.access)
    if move_form is None and page.editable:
        move_form = MoveForm(initiative=initiative)
    return {**page.context(), "move_form": move_form}


@scoped_object(_initiatives)
def initiative_detail(request, initiative):
    return render(request, "initiatives/detail.html", _page(request, initiative))


@scoped_object(_initiatives, methods=["POST"])
def initiative_move(request, initiative):
    _require_editor(request, initiative)
    form = MoveForm(request.POST, initiative=initiative)
    if form.is_valid():
        try:
            change = services.initiative_move(
                initiative=initiative,
                to=form.cleaned_data["status"],
                by=request.user,
                override_reason=form.cleaned_data["override_reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            note = " The override reason is on the record." if change.overridden else ""
            messages.success(request, f"Moved to {change.get_to_status_display().lower()}.{note}")
            return redirect(initiative)
    context = _page(request, initiative, move_form=form)
    return render(request, "initiatives/detail.html", context, status=400)


@scoped_object(_initiatives, methods=["GET", "POST"])
def initiative_edit(request, initiative):
    _require_editor(request, initiative)
    form = PlanForm(request.POST or None, instance=initiative)
    if request.method == "POST" and form.is_valid():
        try:
            services.initiative_update(
                initiative=form.save(commit=False), pillars=form.cleaned_data["pillars"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The plan was saved.")
            return redirect(initiative)
    return _form_page(request, initiative, form, "Edit the plan")


@scoped_object(_initiatives)
def initiative_summary(request, initiative):
    context = selectors.initiative_page(initiative, request.access).context()
    return render(request, "initiatives/summary.html", context)


@scoped_object(_initiatives)
def budget_export(request, initiative):
    return csv_response(*selectors.budget_export(initiative))


# --- the parts of an initiative: one small form page each --------------------------------


def _form_page(request, initiative, form, title, *, status=None, hint=""):
    return render(
        request,
        "initiatives/form.html",
        {"initiative": initiative, "form": form, "title": title, "hint": hint},
        status=status or (400 if form.is_bound else 200),
    )


def _part(request, home, form, title, *, hint="", **extra):
    """Validate a part's form and save it (``extra`` sets fields the form does not hold),
    then go back to the initiative page ``home``."""
    if request.method == "POST" and form.is_valid():
        try:
            services.save_part(form.save(commit=False), **extra)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{title}: saved.")
            return redirect(home)
    return _form_page(request, home, form, title, hint=hint)


@scoped_object(_initiatives, methods=["GET", "POST"])
def milestone_add(request, initiative):
    _require_editor(request, initiative)
    form = MilestoneForm(request.POST or None)
    return _part(request, initiative, form, "Add a milestone", initiative=initiative)


@scoped_object(lambda: Milestone.objects.select_related("initiative"), methods=["GET", "POST"])
def milestone_edit(request, milestone):
    _require_editor(request, milestone.initiative)
    form = MilestoneForm(request.POST or None, instance=milestone)
    return _part(request, milestone.initiative, form, f"Milestone “{milestone.title}”")


BUDGET_HINT = (
    "A line stays planned until the why and the learning goals are written; then it can be "
    "committed and spent."
)


@scoped_object(_initiatives, methods=["GET", "POST"])
def budget_add(request, initiative):
    _require_editor(request, initiative)
    form = BudgetLineForm(request.POST or None, initiative=initiative)
    return _part(request, initiative, form, "Add a budget line", hint=BUDGET_HINT)


@scoped_object(lambda: BudgetLine.objects.select_related("initiative"), methods=["GET", "POST"])
def budget_edit(request, line):
    _require_editor(request, line.initiative)
    form = BudgetLineForm(request.POST or None, instance=line, initiative=line.initiative)
    return _part(
        request, line.initiative, form, f"Budget line “{line.description}”", hint=BUDGET_HINT
    )


@scoped_object(_initiatives, methods=["GET", "POST"])
def signoff_add(request, initiative):
    _require_editor(request, initiative)
    form = SignOffForm(request.POST or None, initial={"decided_on": timezone.localdate()})
    return _part(
        request,
        initiative,
        form,
        "Record a sign-off",
        hint="Record the principal's, a district leader's or the board's decision.",
        initiative=initiative,
        recorded_by=request.user,
    )


COMPLIANCE_HINT = (
    "Pilot and rollout wait until every item is done or waived with a reason. Link the "
    "evidence: the signed agreement, the review, the letter sent home. A privacy or "
    "accessibility item about an app is settled by the district's app register once the app "
    "is approved with a current agreement (or an accessibility review)."
)


@scoped_object(_initiatives, methods=["GET", "POST"])
def compliance_add(request, initiative):
    _require_editor(request, initiative)
    form = ComplianceItemForm(request.POST or None, instance=ComplianceItem(initiative=initiative))
    return _part(
        request,
        initiative,
        form,
        "Add a compliance item",
        hint=COMPLIANCE_HINT,
        updated_by=request.user,
    )


@scoped_object(lambda: ComplianceItem.objects.select_related("initiative"), methods=["GET", "POST"])
def compliance_edit(request, item):
    _require_editor(request, item.initiative)
    form = ComplianceItemForm(request.POST or None, instance=item)
    return _part(
        request, item.initiative, form, str(item), hint=COMPLIANCE_HINT, updated_by=request.user
    )


# --- SWOT and reflections, per school -------------------------------------------------


@scoped_object(School, methods=["GET", "POST"])
def swot_list(request, school):
    can_write = permissions.can_write_for_school(request.access, school)
    form = SwotForm(request.POST or None, school=school) if can_write else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("The principal or a district admin records the SWOT.")
        if form.is_valid():
            swot = services.save_part(form.save(commit=False), created_by=request.user)
            messages.success(request, f"The {swot.year_label} SWOT was saved.")
            return redirect("initiatives:swot_list", pk=school.pk)
    return render(
        request,
        "initiatives/swot_list.html",
        {"school": school, "swots": selectors.swots_of(school), "form": form},
        status=400 if form is not None and form.is_bound else 200,
    )


@scoped_object(lambda: Swot.objects.select_related("school"), methods=["GET", "POST"])
def swot_edit(request, swot):
    if not permissions.can_write_for_school(request.access, swot.school):
        raise PermissionDenied("The principal or a district admin records the SWOT.")
    form = SwotForm(request.POST or None, instance=swot, school=swot.school)
    if request.method == "POST" and form.is_valid():
        services.save_part(form.save(commit=False))
        messages.success(request, f"The {swot.year_label} SWOT was saved.")
        return redirect("initiatives:swot_list", pk=swot.school_id)
    return render(
        request,
        "initiatives/swot_edit.html",
        {"swot": swot, "school": swot.school, "form": form},
        status=400 if form.is_bound else 200,
    )


@scoped_object(School, methods=["GET", "POST"])
def reflections(request, school):
    can_write = permissions.can_write_for_school(request.access, school)
    form = None
    if can_write:
        form = ReflectionForm(
            request.POST or None,
            school=school,
            initial={"initiative": request.GET.get("initiative")},
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("The principal or a district admin writes reflections.")
        if form.is_valid():
            services.save_part(form.save(commit=False), author=request.user)
            messages.success(request, "The reflection was saved.")
            return redirect("initiatives:reflections", pk=school.pk)
    return render(
        request,
        "initiatives/reflections.html",
        {
            "school": school,
            "reflections": selectors.reflections_of(school),
            "form": form,
        },
        status=400 if form is not None and form.is_bound else 200,
    )
