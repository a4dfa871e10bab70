"""The tech staff pages: inventory, device pages, speed desks, audits, the catalog, coverage.

Every object comes through the scoped managers (``@scoped_object``: another school's object
answers 404), then ``equity.permissions`` says who may act: tech staff, principals and district
admins read; tech staff and district admins write. Writes go through ``equity.inventory.services``.

Why one long module: the inventory's pages (list, device page, desks, audit, catalog,
coverage) share the inventory queryset, the forward paginator and the back-link rules; each
view is thin (parse, ask a capability, call a service or selector, render).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import reswap, retarget

from schools.exports import csv_response, queryset_csv_response
from schools.models import District, School
from schools.pagination import PAGE_PARAMETERS, KeysetPaginator
from schools.permissions import schools_q
from schools.replica import reads_from_replica
from schools.scoping import scoped_object
from schools.selectors import SCHOOLS_PER_PAGE

from ..permissions import can_handle_devices, can_read_inventory
from . import selectors, services
from .coverage import CSV_HEADER as COVERAGE_CSV_HEADER
from .coverage import coverage_summary, csv_rows, rows_for, school_coverage
from .filters import DeviceFilter
from .forms import (
    AuditScanForm,
    BackFromRepairForm,
    BulkForm,
    CheckInForm,
    CheckOutForm,
    DeviceForm,
    DeviceModelForm,
    RecoveredForm,
    ReportLostForm,
    ReportStolenForm,
    RetireForm,
    SendToRepairForm,
)
from .losses import CSV_HEADER as LOSS_CSV_HEADER
from .losses import csv_rows as loss_csv_rows
from .losses import loss_report
from .models import (
    USABLE_STATUSES,
    Assignment,
    Device,
    DeviceEvent,
    DeviceModel,
    DeviceStatus,
    ReturnCondition,
)
from .signals import device_page_panels

PER_PAGE = 50
AUE_WARNING = timedelta(days=365)


def _schools():
    return School.objects.select_related("district")


def _devices():
    return Device.objects.select_related("model", "school", "school__district")


def _add_errors(form, exc: ValidationError) -> None:
    """Tie a service's ValidationError to the form's fields (or the form, for the rest)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- inventory ----------------------------------------------------------------------


def _inventory_devices(access):
    """The devices the inventory lists for ``access``, without the holder."""
    devices = Device.objects.select_related("model", "school")
    if access.unrestricted:
        return devices
    # The district is implied by the schools, but saying it lets PostgreSQL read the list in
    # order from an index led by the district (filters.py) instead of sorting every device
    # of 1,800 schools to show 50 of them. A district held whole is named, not listed.
    roles = can_read_inventory.roles
    districts = access.districts_with_role(*roles) | {
        access.direct_schools[s] for s in access.direct_school_ids_with_role(*roles)
    }
    readable = schools_q(access, can_read_inventory, path="school", district_path="district")
    return devices.filter(district_id__in=districts).filter(readable)


def _inventory_queryset(access):
    # One open assignment per device (a database constraint), so no ordering is needed.
    holder = Assignment.objects.filter(device=OuterRef("pk"), checked_in_at__isnull=True).order_by()
    return _inventory_devices(access).annotate(
        holder_local_id=Subquery(holder.values("student__local_id")[:1])
    )


FILTERS = ("q", "school", "status", "model", "kind")


def _csv(queryset):
    stamp = timezone.localdate().isoformat()
    return queryset_csv_response(f"devices-{stamp}.csv", *selectors.inventory_export(queryset))


@login_required
@require_GET
def inventory(request):
    can_read_inventory.require(request.access)
    if request.GET.get("format") == "csv":
        return _inventory_export(request)
    return _inventory_page(request)


@reads_from_replica
def _inventory_export(request):
    export = DeviceFilter(request.GET, queryset=_inventory_devices(request.access), request=request)
    if export.is_valid():
        return _csv(export.qs)
    # Never every device for a filter that was not understood: the page says why.
    return _inventory_page(request, status=400)


def _inventory_page(request, status=200):
    filterset = DeviceFilter(
        request.GET, queryset=_inventory_queryset(request.access), request=request
    )
    # Keyset pages: a district's million devices are 20,000 pages, and the last costs what
    # the first does (schools.pagination.KeysetPaginator).
    page = KeysetPaginator(filterset.qs, PER_PAGE).get_page(request.GET)
    params = request.GET.copy()
    for cursor in PAGE_PARAMETERS:
        params.pop(cursor, None)
    can_write = can_handle_devices(request.access)
    context = {
        "filter": filterset,
        "page": page,
        "query_string": params.urlencode(),
        "filtered": any(request.GET.get(name) for name in FILTERS),
        "can_write": can_write,
        "bulk_form": (BulkForm(access=request.access) if can_write else None),
        # The page's devices the person may move or retire (their schools carry the
        # district: no list of the district's schools).
        "writable_ids": {
            d.pk for d in page.object_list if can_handle_devices(request.access, d.school)
        }
        if can_write
        else set(),
        "export_refused": status == 400,
    }
    template = "equity/_inventory_results.html" if request.htmx else "equity/inventory.html"
    return render(request, template, context, status=status)


def _back_to_inventory(query_string: str) -> str:
    url = reverse("equity:inventory")
    # Only ever a query string appended to our own path, so it cannot lead elsewhere.
    query_string = query_string.lstrip("?")
    return f"{url}?{query_string}" if query_string else url


@login_required
def devices_bulk(request):
    """Move or retire the ticked devices: all of them, or none if one is not the user's.

    GET shows a selection (``?bulk-ids=…``) with the same form, for a second look before
    retiring; POST acts.
    """
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    can_handle_devices.require(request.access)
    if request.method != "POST":
        ids = [int(v) for v in request.GET.getlist("bulk-ids") if v.isdigit()]
        devices = list(_inventory_queryset(request.access).filter(pk__in=ids))
        return render(
            request,
            "equity/bulk.html",
            {
                "devices": devices,
                "unknown": len(set(ids)) - len(devices),
                "form": BulkForm(access=request.access),
            },
        )

    back = _back_to_inventory(request.POST.get("back", ""))
    form = BulkForm(request.POST, access=request.access)
    if not form.is_valid():
        problems = [e for errors in form.errors.values() for e in errors]
        messages.error(request, "Nothing was changed: " + " ".join(problems))
        return redirect(back)
    data = form.cleaned_data
    try:
        done = services.devices_bulk_action(
            access=request.access,
            ids=data["ids"],
            action=data["action"],
            by=request.user,
            school=data["school"],
            note=data["note"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        what = f"moved to {done.school.name}" if done.school else "retired"
        messages.success(request, f"{done.count} device{'' if done.count == 1 else 's'} {what}.")
    return redirect(back)


# --- device page and its actions ------------------------------------------------------


@dataclass(frozen=True)
class Action:
    form: type
    label: str
    shown_in: frozenset[str]
    done: str


RETIRABLE = frozenset(DeviceStatus.values) - {DeviceStatus.ASSIGNED, DeviceStatus.RETIRED}
ACTIONS = {
    "lost": Action(ReportLostForm, "Report lost", services.CAN_REPORT_MISSING, "reported lost"),
    "stolen": Action(
        ReportStolenForm, "Report stolen", services.CAN_REPORT_MISSING, "reported stolen"
    ),
    "repair": Action(
        SendToRepairForm, "Send to repair", services.CAN_SEND_TO_REPAIR, "sent to repair"
    ),
    "repaired": Action(
        BackFromRepairForm,
        "Back from repair",
        frozenset({DeviceStatus.IN_REPAIR}),
        "back from repair and in stock",
    ),
    "recovered": Action(RecoveredForm, "Recovered", services.CAN_RECOVER, "recovered"),
    "retire": Action(RetireForm, "Retire", RETIRABLE, "retired"),
}


def _run_action(action: str, device: Device, by, data: dict) -> None:
    note = data.get("note", "")
    if action == "lost":
        services.device_report_missing(
            device=device, by=by, circumstance=data["circumstance"], place=data["place"], note=note
        )
    elif action == "stolen":
        services.device_report_missing(
            device=device, by=by, stolen=True, place=data["place"], note=note
        )
    elif action == "repair":
        services.device_send_to_repair(device=device, by=by, note=note)
    elif action == "repaired":
        services.device_return_from_repair(device=device, by=by, note=note)
    elif action == "recovered":
        services.device_recover(device=device, by=by, note=note)
    elif action == "retire":
        services.devices_retire(devices=[device], by=by, note=note)


def _aue_state(device: Device) -> str | None:
    expiration = device.aue
    if expiration is None:
        return None
    today = timezone.localdate()
    if expiration < today:
        return "past"
    return "soon" if expiration <= today + AUE_WARNING else None


def _device_page(request, device: Device, *, bound=None, status: int = 200):
    can_write = can_handle_devices(request.access, device.school)
    forms = []
    if can_write:
        for key, action in ACTIONS.items():
            if bound and bound[0] == key:
                forms.append((key, action, bound[1]))
            elif device.status in action.shown_in:
                form = action.form(prefix=key)
                form.helper.form_action = reverse("equity:device_action", args=[device.pk, key])
                forms.append((key, action, form))
    context = {
        "device": device,
        "aue_state": _aue_state(device),
        "holding": Assignment.objects.filter(device=device, checked_in_at__isnull=True)
        .select_related("student", "acceptance")
        .first(),
        # Only the events at schools the user sees (DeviceEvent's scope): a device that came
        # from another school starts its history here with its arrival.
        "events": DeviceEvent.objects.filter(device=device).select_related(
            "by", "school", "student"
        ),
        "can_write": can_write,
        "action_forms": forms,
        "panels": [
            html
            for _receiver, html in device_page_panels.send(
                sender=Device, request=request, device=device, can_write=can_write
            )
            if html
        ],
    }
    return render(request, "equity/device_detail.html", context, status=status)


@scoped_object(_devices)
def device_detail(request, device):
    can_read_inventory.require(request.access, school=device.school)
    return _device_page(request, device)


@scoped_object(_devices, methods=["POST"])
def device_action(request, device, action):
    if action not in ACTIONS:
        raise Http404("No such action.")
    can_handle_devices.require(request.access, school=device.school)
    form = ACTIONS[action].form(request.POST, prefix=action)
    form.helper.form_action = reverse("equity:device_action", args=[device.pk, action])
    if form.is_valid():
        try:
            _run_action(action, device, request.user, form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{device.asset_tag} was {ACTIONS[action].done}.")
            return redirect(device)
    device.refresh_from_db()
    return _device_page(request, device, bound=(action, form))


# --- speed desks --------------------------------------------------------------------


def _desk(request, school, *, form_class, template: str, act):
    form = form_class(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            line = act(form)
        except ValidationError as exc:
            _add_errors(form, exc)
            form.refocus()
        else:
            if request.htmx:
                fresh = form_class(school=school)
                return render(request, "equity/_desk_done.html", {"line": line, "form": fresh})
            messages.success(request, line)
            return redirect(request.path)
    context = {"school": school, "form": form}
    if request.method == "POST" and request.htmx:
        response = render(request, "equity/_desk_fields.html", context)
        return reswap(retarget(response, "#desk-fields"), "outerHTML")
    return render(request, template, context)


@scoped_object(_schools, methods=["GET", "POST"])
def checkout(request, school):
    can_handle_devices.require(request.access, school=school)

    def act(form):
        services.device_check_out(device=form.device, student=form.student, by=request.user)
        return f"✓ {form.device.asset_tag} → student {form.student.local_id}"

    return _desk(request, school, form_class=CheckOutForm, template="equity/checkout.html", act=act)


@scoped_object(_schools, methods=["GET", "POST"])
def checkin(request, school):
    can_handle_devices.require(request.access, school=school)

    def act(form):
        condition = form.cleaned_data["condition"]
        assignment = services.device_check_in(
            device=form.device, by=request.user, condition=condition
        )
        line = f"✓ {form.device.asset_tag} ← student {assignment.student.local_id}"
        if condition == ReturnCondition.DAMAGED:
            return f"{line}, damaged: sent to repair"
        return f"{line} ({ReturnCondition(condition).label.lower()})"

    return _desk(request, school, form_class=CheckInForm, template="equity/checkin.html", act=act)


# --- physical audit -----------------------------------------------------------------

# A walk through the building shortens the list; early on, the first few hundred will do.
MISSING_LISTED = 500


def _audit_key(school) -> str:
    return f"equity:audit-started:{school.pk}"


def _audit_started(request, school) -> datetime | None:
    value = request.session.get(_audit_key(school))
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _scan_message(scan: services.AuditScan, tag: str) -> tuple[str, str]:
    """(message level, text) for one scan at the audit desk."""
    device = scan.device
    if scan.outcome == "unknown":
        return "error", f"{tag} is not at this school; nothing was recorded."
    if scan.outcome == "again":
        return "info", f"{device.asset_tag} was already seen in this audit."
    if scan.outcome == "seen_missing":
        state = device.get_status_display().lower()
        return "warning", f"✓ {device.asset_tag} seen, but it is reported {state}."
    return "success", f"✓ {device.asset_tag} seen"


@scoped_object(_schools, methods=["GET", "POST"])
def audit(request, school):
    can_handle_devices.require(request.access, school=school)
    started = _audit_started(request, school)
    if request.method == "POST" and "start" in request.POST:
        request.session[_audit_key(school)] = timezone.now().isoformat()
        messages.info(request, "A new audit started. Scan every device you find.")
        return redirect("equity:audit", pk=school.pk)

    form = AuditScanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if started is None:
            started = timezone.now()
            request.session[_audit_key(school)] = started.isoformat()
        tag = form.cleaned_data["asset_tag"]
        scan = services.audit_scan(school=school, asset_tag=tag, since=started, by=request.user)
        level, text = _scan_message(scan, tag)
        if request.htmx:
            return render(
                request,
                "equity/_audit_done.html",
                {
                    "school": school,
                    "level": level,
                    "text": text,
                    "counts": selectors.audit_counts(school, started),
                    "started": started,
                },
            )
        getattr(messages, level)(request, text)
        return redirect(request.get_full_path())

    counts = selectors.audit_counts(school, started)
    show_missing = request.GET.get("show") == "missing"
    missing = (
        selectors.audit_missing(school, started, limit=MISSING_LISTED) if show_missing else None
    )
    context = {
        "school": school,
        "form": form,
        "started": started,
        "counts": counts,
        "missing": missing,
        "missing_count": counts["total"] - counts["seen"],
        "missing_listed": MISSING_LISTED,
        "show_missing": show_missing,
    }
    return render(request, "equity/audit.html", context)


# --- adding devices and models ------------------------------------------------------


@scoped_object(_schools, methods=["GET", "POST"])
def device_add(request, school):
    can_handle_devices.require(request.access, school=school)
    form = DeviceForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            device = services.device_create(
                school=school,
                by=request.user,
                asset_tag=data["asset_tag"],
                serial_number=data["serial_number"],
                model=data["model"],
                purchase_date=data["purchase_date"],
                funding_source=data["funding_source"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{device.asset_tag} was added to {school.name}.")
            return redirect(device)
    return render(request, "equity/device_form.html", {"form": form, "school": school})


@scoped_object(District)
def device_models(request, district):
    can_read_inventory.require_in_district(request.access, district)
    today = timezone.localdate()
    return render(
        request,
        "equity/device_models.html",
        {
            "district": district,
            "models": DeviceModel.objects.filter(district=district),
            "today": today,
            "warn_before": today + AUE_WARNING,
            "can_add": can_handle_devices.in_district(request.access, district),
        },
    )


@scoped_object(District, methods=["GET", "POST"])
def device_model_add(request, district):
    can_handle_devices.require_in_district(request.access, district)
    form = DeviceModelForm(request.POST or None, district=district)
    if request.method == "POST" and form.is_valid():
        model = form.save()
        messages.success(request, f"{model} was added to the catalog.")
        return redirect("equity:device_models", pk=district.pk)
    return render(request, "equity/device_model_form.html", {"form": form, "district": district})


# --- coverage -----------------------------------------------------------------------


def _status_chart(status_counts: dict[str, int]) -> dict:
    statuses = [s for s in DeviceStatus if status_counts.get(s.value)]
    return {
        "type": "doughnut",
        "labels": [s.label for s in statuses],
        "datasets": [{"label": "Devices", "data": [status_counts[s.value] for s in statuses]}],
    }


def _status_rows(status_counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(s.label, status_counts.get(s.value, 0)) for s in DeviceStatus]


@scoped_object(_schools)
def coverage(request, school):
    can_read_inventory.require(request.access, school=school)
    (row,) = school_coverage(School.objects.filter(pk=school.pk))
    chart = {
        "type": "bar",
        "labels": ["All devices", "Touchscreen devices", "Hotspots"],
        "datasets": [
            {"label": "Target", "data": [row.target, row.touch_target, row.no_home_internet]},
            {
                "label": "Usable now",
                "data": [row.usable, row.touch_usable, row.hotspots_assigned],
            },
        ],
    }
    return render(
        request,
        "equity/coverage.html",
        {
            "school": school,
            "row": row,
            "coverage_chart": chart,
            "status_chart": _status_chart(row.status_counts),
            "status_rows": _status_rows(row.status_counts),
            "can_handle_devices": can_handle_devices(request.access, school),
        },
    )


CHART_SCHOOLS = 25


@scoped_object(District)
def district_coverage(request, district):
    can_read_inventory.require_in_district(request.access, district)
    access = request.access
    schools = School.objects.filter(district=district).filter(schools_q(access, can_read_inventory))
    # The figures of every school come from the cache (coverage_summary); the page shows
    # the schools of one page of the table and the chart's first 25, with their names.
    summary = coverage_summary(schools)
    if request.GET.get("format") == "csv":
        stamp = timezone.localdate().isoformat()
        return csv_response(
            f"coverage-{district.slug}-{stamp}.csv", COVERAGE_CSV_HEADER, csv_rows(summary)
        )
    page = Paginator(summary.order, SCHOOLS_PER_PAGE).get_page(request.GET.get("page"))
    charted_ids = summary.order[:CHART_SCHOOLS]
    shown = rows_for(summary, list(dict.fromkeys([*charted_ids, *page.object_list])))
    by_id = {r.school.pk: r for r in shown}
    rows = [by_id[pk] for pk in page.object_list if pk in by_id]
    charted = [by_id[pk] for pk in charted_ids if pk in by_id]
    totals = summary.totals
    chart = {
        "type": "bar",
        "labels": [r.school.name for r in charted],
        "datasets": [
            {"label": "Target", "data": [r.target for r in charted]},
            {"label": "Usable now", "data": [r.usable for r in charted]},
        ],
    }
    return render(
        request,
        "equity/district_coverage.html",
        {
            "district": district,
            "rows": rows,
            "page": page,
            "school_count": len(summary),
            "totals": totals,
            "charted": len(charted),
            "coverage_chart": chart,
            "status_chart": _status_chart(totals.status_counts),
            "status_rows": _status_rows(totals.status_counts),
            "usable_statuses": [s.label for s in USABLE_STATUSES],
            "can_roll_over": request.access.is_district_admin(district),
        },
    )


def _losses_page(request, *, schools, school=None, district):
    report = loss_report(schools)
    slug = school.code.lower() if school else district.slug
    if request.GET.get("format") == "csv":
        return csv_response(
            f"losses-{slug}-{timezone.localdate().isoformat()}.csv",
            LOSS_CSV_HEADER,
            loss_csv_rows(schools),
        )
    return render(
        request,
        "equity/losses.html",
        {
            "school": school,
            "district": district,
            "report": report,
            "loss_chart": report.chart(),
        },
    )


@scoped_object(School)
def school_losses(request, school):
    """Devices lost per year by circumstance and place, at one school (chart and CSV)."""
    can_read_inventory.require(request.access, school=school)
    return _losses_page(
        request,
        schools=School.objects.filter(pk=school.pk),
        school=school,
        district=school.district,
    )


@scoped_object(District)
def district_losses(request, district):
    """The same report over the district's schools the person may read."""
    can_read_inventory.require_in_district(request.access, district)
    # Named by district for a district admin (schools_q), never listed school by school.
    schools = School.objects.filter(district=district).filter(
        schools_q(request.access, can_read_inventory)
    )
    return _losses_page(request, schools=schools, district=district)
