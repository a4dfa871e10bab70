"""The Google pages: a district's connection and org-unit map, "Sync now" and its progress,
the reports only a sync makes possible (district admins); and the device actions in Google
(whoever handles devices at the device's school)."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from core.queue import enqueue
from equity.inventory.models import Device, DeviceStatus
from equity.permissions import can_handle_devices
from schools.models import District, School
from schools.pagination import ForwardPaginator, count_at_most
from schools.scoping import require_district_admin, scoped_object
from schools.selectors import SCHOOLS_PER_PAGE

from . import actions, selectors, services
from .forms import ConnectionForm, OrgUnitForm, WriteBackForm
from .models import GoogleConnection, GoogleStatus, SyncRun
from .tasks import progress_key, run_sync


def _connection(district) -> GoogleConnection | None:
    return (
        GoogleConnection.objects.filter(district=district).select_related("default_school").first()
    )


@scoped_object(District, methods=["GET", "POST"])
def connection(request, district):
    require_district_admin(request.access, district)
    current = _connection(district)
    initial = None
    if current:
        initial = {
            "admin_email": current.admin_email,
            "customer_id": current.customer_id,
            "org_unit_root": current.org_unit_root,
            "default_school": current.default_school,
            "lost_message": current.lost_message,
        }
    form = ConnectionForm(
        request.POST or None, request.FILES or None, district=district, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.connection_save(
                district=district, by=request.user, key_file=data.pop("key_file"), **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The Google connection is saved.")
            return redirect(request.path)
    runs = list(SyncRun.objects.filter(district=district).select_related("by")[:5])
    context = {
        "district": district,
        "connection": current,
        "form": form,
        "runs": runs,
        "under_way": any(not r.finished for r in runs),
        "unmapped": sum(1 for _u, school in selectors.org_unit_rows(district) if school is None),
    }
    return render(request, "googlesync/connection.html", context)


@scoped_object(District, methods=["GET", "POST"])
def org_units(request, district):
    require_district_admin(request.access, district)
    form = OrgUnitForm(request.POST or None, district=district)
    if request.method == "POST" and form.is_valid():
        unit = services.org_unit_map(district=district, **form.cleaned_data)
        where = unit.school.name if unit.school else "no school (unmapped)"
        messages.success(request, f"{unit.path} and the org units below it go to {where}.")
        return redirect(request.path)
    rows = selectors.org_unit_rows(district)
    schools = dict(School.objects.filter(district=district).values_list("pk", "name"))
    context = {
        "district": district,
        "form": form,
        "rows": [(unit, schools.get(school) if school else None) for unit, school in rows],
        "connection": _connection(district),
    }
    return render(request, "googlesync/org_units.html", context)


@scoped_object(District, methods=["POST"])
def sync_now(request, district):
    require_district_admin(request.access, district)
    current = _connection(district)
    approve = request.POST.get("approve") == "1"
    try:
        if current is not None and approve and current.approved_at is None:
            services.approve(connection=current, by=request.user)
        preview = current is not None and current.approved_at is None and not approve
        run = services.run_start(district=district, by=request.user, dry_run=preview)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("googlesync:connection", district.pk)
    enqueue(run_sync, run.pk)
    return redirect(run)


@scoped_object(SyncRun)
def run_detail(request, run):
    require_district_admin(request.access, run.district)
    progress = None if run.finished else cache.get(progress_key(run.pk))
    context = {
        "run": run,
        "district": run.district,
        "progress": progress,
        "connection": _connection(run.district),
        "lists": [
            ("Org units mapped to no school", run.result.get("unmapped_org_units", [])),
            ("Only in Google (not added: no school)", run.result.get("only_in_google", [])),
            ("Only in Pillarwise (not listed by Google)", run.result.get("only_in_pillarwise", [])),
            (
                "Checked out here, in another school's org unit",
                run.result.get("assigned_elsewhere", []),
            ),
            ("Problems", run.result.get("problems", [])),
            ("Models added to the catalog", run.result.get("models_added", [])),
        ],
    }
    if request.htmx and not run.finished:
        return render(request, "googlesync/_run_status.html", context)
    return render(request, "googlesync/run.html", context)


@scoped_object(District)
def reports(request, district):
    require_district_admin(request.access, district)
    not_seen = selectors.not_seen(district)
    elsewhere = selectors.assigned_elsewhere(district)
    only_google = selectors.only_in_google(district)
    only_here = selectors.only_in_pillarwise(district)
    shown = selectors.SHOWN
    context = {
        "district": district,
        "days": selectors.NOT_SEEN_DAYS,
        # Each list shows its first hundred; its count stops at a thousand ("more than").
        "not_seen": not_seen[:shown],
        "not_seen_count": count_at_most(not_seen),
        # The kept tally (googlesync.services.count_aue), a page of schools at a time.
        "aue": ForwardPaginator(selectors.aue_soon_by_school(district), SCHOOLS_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "aue_total": selectors.aue_soon_total(district),
        "aue_counted_at": selectors.aue_counted_at(district),
        "elsewhere": elsewhere[:shown],
        "elsewhere_count": count_at_most(elsewhere),
        "only_google": only_google[:shown],
        "only_google_count": count_at_most(only_google),
        "only_here": only_here[:shown],
        "only_here_count": count_at_most(only_here),
        "connection": _connection(district),
    }
    return render(request, "googlesync/reports.html", context)


ACTIONS = {
    "disable": (actions.google_disable, "{tag} was disabled in Google."),
    "enable": (actions.google_reenable, "{tag} was re-enabled in Google."),
    "write": (actions.google_write_back, "The asset tag and location of {tag} are in Google."),
}


@scoped_object(Device, methods=["POST"])
def device_action(request, device, action):
    if action not in ACTIONS:
        raise Http404("No such action.")
    can_handle_devices.require(request.access, school=device.school)
    act, done = ACTIONS[action]
    kwargs = {}
    if action == "write":
        form = WriteBackForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
            return redirect(device)
        kwargs["location"] = form.cleaned_data["location"]
    try:
        act(device=device, by=request.user, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done.format(tag=device.asset_tag))
    return redirect(device)


def device_panel(sender, *, request, device, can_write, **kwargs) -> str | None:
    """The Google panel on a device's page (``equity.inventory.signals.device_page_panels``):
    what Google last said, and the action the device's state calls for. One query; none
    shown for a device Google does not know."""
    record = actions.google_record(device)
    if record is None:
        return None
    missing = device.status in (DeviceStatus.LOST, DeviceStatus.STOLEN)
    offer = None
    if can_write and missing and record.status == GoogleStatus.ACTIVE:
        offer = "disable"
    elif can_write and not missing and record.status == GoogleStatus.DISABLED:
        offer = "enable"
    form = None
    if can_write:
        form = WriteBackForm(initial={"location": record.annotated_location})
        form.helper.form_action = reverse("googlesync:device_action", args=[device.pk, "write"])
    return render_to_string(
        "googlesync/_device_panel.html",
        {"device": device, "record": record, "offer": offer, "form": form, "can_write": can_write},
        request=request,
    )
