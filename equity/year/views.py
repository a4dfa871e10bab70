"""The device year's pages: handout and collection days with their scan stations, the
device agreement (signed at the station or accepted by link), charges, and the rollover.

Same pattern as equity/inventory/views.py: ``@scoped_object`` loads the object (another
school's is a 404), ``equity.permissions`` says who may act, and every write goes through
services.py or rollover.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget

from core import auditlog as audit
from equity.inventory.models import Assignment
from equity.permissions import can_handle_devices, can_read_inventory
from schools import numbers
from schools.exports import csv_response
from schools.models import District, Grade, School
from schools.scoping import require_district_admin, scoped_object

from . import selectors, services
from .forms import (
    AgreementForm,
    ChargeForm,
    ChargeResolveForm,
    CollectionScanForm,
    HandoutScanForm,
    LinkAcceptForm,
    PriceForm,
    RolloverForm,
    SignatureForm,
    StationEventForm,
)
from .models import (
    Acceptance,
    Charge,
    ChargeStatus,
    DeviceAgreement,
    PriceListEntry,
    RolloverRun,
    StationEvent,
    StationKind,
)
from .rollover import plan_rollover, run_rollover

# The station lists the first ones; the count says how many there are in all.
WAITING_LISTED = 200


def _schools():
    return School.objects.select_related("district")


def _events():
    return StationEvent.objects.select_related("school", "school__district")


def _assignments():
    return Assignment.objects.select_related(
        "device", "device__model", "device__school", "device__school__district", "student"
    )


# --- the days of a school -------------------------------------------------------------


@scoped_object(_schools, methods=["GET", "POST"])
def station_events(request, school):
    can_read_inventory.require(request.access, school=school)
    can_write = can_handle_devices(request.access, school)
    form = StationEventForm(request.POST or None, school=school) if can_write else None
    if request.method == "POST":
        can_handle_devices.require(request.access, school=school)
        if form.is_valid():
            form.instance.created_by = request.user
            event = form.save()
            messages.success(request, f"{event} was created.")
            return redirect(event)
    events = StationEvent.objects.filter(school=school)
    return render(
        request,
        "equity/station_events.html",
        {"school": school, "events": events, "form": form, "can_write": can_write},
    )


# --- stations -------------------------------------------------------------------------


def _station_context(event: StationEvent) -> dict:
    if event.kind == StationKind.HANDOUT:
        progress = selectors.handout_progress(event)
        return {
            "event": event,
            "school": event.school,
            "progress": progress,
            "waiting": selectors.students_without_device(event, limit=WAITING_LISTED),
            "waiting_listed": WAITING_LISTED,
        }
    progress = selectors.collection_progress(event)
    return {
        "event": event,
        "school": event.school,
        "progress": progress,
        "out": selectors.not_returned(event, limit=WAITING_LISTED),
        "groups": [
            {
                "grade": Grade(g["student__grade"]).label,
                "homeroom": g["student__homeroom"],
                "n": g["n"],
            }
            for g in selectors.not_returned_groups(event)
        ],
        "waiting_listed": WAITING_LISTED,
    }


def _station(request, event, *, form_class, act, template, partial):
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            line = act(form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            form.refocus()
        else:
            if request.htmx:
                context = {**_station_context(event), "line": line, "form": form_class()}
                return render(request, partial, context)
            messages.success(request, line["text"])
            return redirect(request.path)
    context = {**_station_context(event), "form": form}
    if request.method == "POST" and request.htmx:
        problems = [e for errors in form.errors.values() for e in errors]
        context["refused"] = " ".join(problems)
        response = render(request, "equity/_station_refused.html", context)
        return reswap(retarget(response, "#desk-fields"), "outerHTML")
    return render(request, template, context)


@scoped_object(_events, methods=["GET", "POST"])
def handout_station(request, event):
    can_handle_devices.require(request.access, school=event.school)
    if event.kind != StationKind.HANDOUT:
        return redirect(event)

    def act(data):
        done = services.handout_scan(
            event=event, student_id=data["student_id"], asset_tag=data["asset_tag"], by=request.user
        )
        text = f"✓ {done.device.asset_tag} → student {done.student.local_id}"
        flag = ""
        if done.incidents >= selectors.REPEAT_THRESHOLD:
            flag = (
                f"For the tech office: {done.incidents} losses or damaged returns "
                "in the last 12 months."
            )
        return {"text": text, "flag": flag, "assignment": done.assignment}

    return _station(
        request,
        event,
        form_class=HandoutScanForm,
        act=act,
        template="equity/handout_station.html",
        partial="equity/_handout_done.html",
    )


@scoped_object(_events, methods=["GET", "POST"])
def collection_station(request, event):
    can_handle_devices.require(request.access, school=event.school)
    if event.kind != StationKind.COLLECTION:
        return redirect(event)
    if request.method == "GET" and request.GET.get("format") == "csv":
        header = ["grade", "homeroom", "student_id", "asset_tag", "maker", "model", "out_since"]
        out = selectors.not_returned_rows(event).iterator()
        rows = ((Grade(g).label, *rest) for g, *rest in out)
        stamp = timezone.localdate().isoformat()
        return csv_response(f"not-returned-{event.school.code}-{stamp}.csv", header, rows)

    def act(data):
        done = services.collection_scan(
            event=event,
            asset_tag=data["asset_tag"],
            condition=data["condition"],
            damage_kind=data["damage_kind"],
            charger_missing=data["charger_missing"],
            note=data["note"],
            by=request.user,
        )
        condition = done.assignment.get_condition_on_return_display().lower()
        student = done.assignment.student.local_id
        text = f"✓ {done.device.asset_tag} ← student {student} ({condition}"
        text += ", charger missing)" if done.assignment.charger_missing else ")"
        flag = "; ".join(
            f"{c.get_kind_display()}: {numbers.money(c.amount)} ({c.get_status_display().lower()})"
            for c in done.charges
        )
        if done.unpriced:
            flag += ("; " if flag else "") + "No price set for " + ", ".join(done.unpriced)
        return {"text": text, "flag": flag, "assignment": done.assignment}

    return _station(
        request,
        event,
        form_class=CollectionScanForm,
        act=act,
        template="equity/collection_station.html",
        partial="equity/_collection_done.html",
    )


# --- acceptance -----------------------------------------------------------------------


@scoped_object(_assignments, methods=["GET", "POST"])
def assignment_acceptance(request, assignment):
    school = assignment.device.school
    can_read_inventory.require(request.access, school=school)
    can_write = can_handle_devices(request.access, school)
    acceptance = Acceptance.objects.filter(assignment=assignment).select_related("agreement")
    acceptance = acceptance.first()
    form = SignatureForm(request.POST or None)
    if request.method == "POST":
        can_handle_devices.require(request.access, school=school)
        try:
            if "make_link" in request.POST:
                acceptance = services.acceptance_for(assignment)
                messages.success(request, "The link is ready to share with the family.")
                return redirect(request.path)
            if form.is_valid():
                png = services.decode_signature(form.cleaned_data["signature"])
                services.accept_signed(
                    assignment=assignment, signature=png, signer=form.cleaned_data["signer"]
                )
                messages.success(request, "The signed agreement was saved.")
                return redirect(request.path)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                # The signature field is hidden: its problem shows above the form.
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field == "signer" else None, errors)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect(request.path)
    agreement = acceptance.agreement if acceptance else None
    if agreement is None:
        agreement = DeviceAgreement.current(assignment.device.district_id)
    return render(
        request,
        "equity/acceptance.html",
        {
            "assignment": assignment,
            "school": school,
            "acceptance": acceptance,
            "agreement": agreement,
            "form": form,
            "can_write": can_write and assignment.is_open,
            "link": request.build_absolute_uri(acceptance.get_absolute_url())
            if acceptance and not acceptance.accepted
            else "",
        },
    )


@scoped_object(_assignments)
def acceptance_signature(request, assignment):
    can_read_inventory.require(request.access, school=assignment.device.school)
    acceptance = Acceptance.objects.filter(assignment=assignment, signature__isnull=False).first()
    if acceptance is None:
        from django.http import Http404

        raise Http404("No signature.")
    response = HttpResponse(bytes(acceptance.signature), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@scoped_object(_assignments)
def acceptance_print(request, assignment):
    can_read_inventory.require(request.access, school=assignment.device.school)
    acceptance = (
        Acceptance.objects.filter(assignment=assignment, accepted_at__isnull=False)
        .select_related("agreement")
        .first()
    )
    return render(
        request,
        "equity/acceptance_print.html",
        {"assignment": assignment, "school": assignment.device.school, "acceptance": acceptance},
    )


@require_http_methods(["GET", "POST"])
def accept(request, token):
    acceptance = selectors.acceptance_by_token(token)
    if acceptance is None:
        return render(request, "equity/accept_unknown.html")
    form = LinkAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not acceptance.accepted:
        try:
            acceptance = services.accept_by_link(token=token, signer=form.cleaned_data["signer"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(request, "equity/accept.html", {"acceptance": acceptance, "done": True})
    return render(request, "equity/accept.html", {"acceptance": acceptance, "form": form})


# --- charges --------------------------------------------------------------------------

CHARGES_LISTED = 200


@scoped_object(_schools, methods=["GET", "POST"])
def charges(request, school):
    can_read_inventory.require(request.access, school=school)
    can_write = can_handle_devices(request.access, school)
    form = ChargeForm(request.POST or None) if can_write else None
    if request.method == "POST":
        can_handle_devices.require(request.access, school=school)
        if form.is_valid():
            data = form.cleaned_data
            try:
                device = selectors.device_at(school, data["asset_tag"].strip())
                student = selectors.student_at(school, data["student_id"].strip())
                charge = services.charge_assess(
                    device=device, student=student, kind=data["kind"], by=request.user,
                    note=data["note"],
                )  # fmt: skip
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Charge added: {charge}.")
                return redirect(request.path)
    listed = (
        Charge.objects.filter(device__school=school)
        .select_related("device", "student", "resolved_by")
        .order_by("status", "-created_at", "-pk")
    )
    totals = Charge.objects.filter(device__school=school).aggregate(
        due=Count("pk", filter=Q(status=ChargeStatus.DUE)),
        paid=Count("pk", filter=Q(status=ChargeStatus.PAID)),
        waived=Count("pk", filter=Q(status=ChargeStatus.WAIVED)),
    )
    return render(
        request,
        "equity/charges.html",
        {
            "school": school,
            "charges": listed[:CHARGES_LISTED],
            "totals": totals,
            "repeat_cases": selectors.repeat_cases(school),
            "threshold": selectors.REPEAT_THRESHOLD,
            "form": form,
            "can_write": can_write,
            "resolve_form": ChargeResolveForm(),
        },
    )


def _charges():
    return Charge.objects.select_related("device__school")


@scoped_object(_charges, methods=["POST"])
def charge_resolve(request, charge):
    school = charge.device.school
    can_handle_devices.require(request.access, school=school)
    form = ChargeResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose paid or waived.")
    else:
        try:
            services.charge_resolve(
                charge=charge,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, "Nothing was changed: " + " ".join(exc.messages))
        else:
            status = form.cleaned_data["status"]
            messages.success(request, f"The charge was recorded as {status}.")
    return redirect("equity:charges", pk=school.pk)


# --- the district's agreement and price list ------------------------------------------


@scoped_object(District, methods=["GET", "POST"])
def year_settings(request, district):
    require_district_admin(request.access, district)
    current = DeviceAgreement.current(district.pk)
    initial = {"title": current.title, "text": current.text} if current else None
    posted = request.POST if request.method == "POST" else None
    agreement_form = AgreementForm(
        posted if posted and "agreement-text" in posted else None,
        prefix="agreement",
        initial=initial,
    )
    price_form = PriceForm(posted if posted and "price-kind" in posted else None, district=district)
    if agreement_form.is_bound and agreement_form.is_valid():
        try:
            published = services.publish_agreement(district=district, **agreement_form.cleaned_data)
        except ValidationError as exc:
            agreement_form.add_error(None, exc)
        else:
            messages.success(request, f"Version {published.version} of the agreement is current.")
            return redirect(request.path)
    if price_form.is_bound and price_form.is_valid():
        try:
            entry = services.set_price(district=district, **price_form.cleaned_data)
        except ValidationError as exc:
            price_form.add_error(None, exc)
        else:
            messages.success(request, f"Price saved: {entry}.")
            return redirect(request.path)
    return render(
        request,
        "equity/year_settings.html",
        {
            "district": district,
            "current": current,
            "agreement_form": agreement_form,
            "price_form": price_form,
            "prices": PriceListEntry.objects.filter(district=district).select_related(
                "device_model"
            ),
        },
    )


# --- rollover -------------------------------------------------------------------------


@scoped_object(District, methods=["GET", "POST"])
def rollover(request, district):
    require_district_admin(request.access, district)
    form = RolloverForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["leavers"]
        if form.cleaned_data["confirm"]:
            try:
                run = run_rollover(district, text, by=request.user)
            except ValidationError:
                form.add_error(None, "Nothing was changed; see the problems listed.")
                plan = plan_rollover(district, text)
            else:
                audit.record(
                    audit.Kind.BULK,
                    district=district,
                    obj=run,
                    detail=f"rollover: {run.promoted} promoted, {run.leavers} left",
                )
                moved = run.details.get("moved_school", 0)
                messages.success(
                    request,
                    f"The {run.school_year} rollover ran: {run.promoted} "
                    f"student{pluralize(run.promoted)} moved up ({moved} to the next school), "
                    f"{run.leavers} left.",
                )
                return redirect(request.path)
        else:
            plan = plan_rollover(district, text)
    return render(
        request,
        "equity/rollover.html",
        {
            "district": district,
            "form": form,
            "plan": plan,
            "runs": RolloverRun.objects.filter(district=district).select_related("ran_by"),
        },
    )
