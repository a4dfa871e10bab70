"""PD pages: coaches, principals and district admins log sessions, take attendance, read
feedback and reports. The three public pages (check-in, feedback, needs poll), which answer
a token link without an account, are in ``pd.public_views``.

Every object comes through the scoped managers (``@scoped_object``: another school's object
answers 404), then ``pd.permissions.can_use_pd`` answers 403 for a role that does not use
PD (tech staff).
A view parses its form, then calls one service (``pd.services``: writes) or one selector
(``pd.selectors``: the reports and their CSV files, a session's page, the roster), and
renders, redirects or streams.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from schools.exports import csv_response, queryset_csv_response
from schools.forms import EARLIEST_DATE, LATEST_DATE
from schools.models import School
from schools.pagination import ForwardPaginator
from schools.permissions import schools_q
from schools.replica import reads_from_replica
from schools.scoping import scoped_object
from schools.web import absolute_url, qr_svg

from . import selectors, services
from . import summary as report_summary
from .filters import SessionFilter, SessionListFilter
from .forms import (
    AddAttendeesForm,
    AttendanceForm,
    LeaderForm,
    PollForm,
    ReportForm,
    SessionForm,
    SessionLogForm,
)
from .models import CheckinMode, PDNeedsPoll, PDSession
from .permissions import can_use_pd

PER_PAGE = 25
STAFF_PER_PAGE = 50


def _pd_schools(access):
    # A district used whole is named as a district, not as a list of its 1,800 schools.
    return School.objects.order_by("name").filter(schools_q(access, can_use_pd))


def _pd_sessions(access):
    if access.unrestricted:
        return PDSession.objects.all()
    links = PDSession.schools.through.unscoped.filter(
        schools_q(access, can_use_pd, path="school_id", district_path="school__district")
    )
    return PDSession.objects.filter(pk__in=links.values("pdsession_id"))


def _sessions():
    # Everything a session's pages name, joined: a lazy load of one that is set on one
    # session and empty on another made the query count depend on the session.
    return PDSession.objects.select_related(
        "facilitator_user", "facilitator_staff", "created_by", "initiative"
    )


def _require_session_role(access, session: PDSession) -> list[School]:
    """403 unless the user holds a PD role at one of the session's schools they can see."""
    schools = selectors.session_schools(session)
    can_use_pd.require_at_any(access, schools)
    return schools


# --- sessions -------------------------------------------------------------------------


@login_required
@require_GET
def session_list(request):
    can_use_pd.require(request.access)
    filterset = SessionListFilter(
        request.GET, queryset=selectors.sessions_list(_pd_sessions(request.access))
    )
    # Never counted: a page reads one row past itself to know whether there is a next one.
    page = ForwardPaginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_attended(page.object_list)
    params = request.GET.copy()
    params.pop("page", None)
    context = {"filter": filterset, "page": page, "query_string": params.urlencode()}
    template = "pd/_session_table.html" if request.htmx else "pd/session_list.html"
    return render(request, template, context)


def _month(value: str | None) -> date:
    """The month of ``?month=YYYY-MM``; this month when it is absent, unreadable or outside
    the dates a form accepts (the page links the month before and after it)."""
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = None
    if first is None or not EARLIEST_DATE <= first <= LATEST_DATE.replace(day=1):
        return timezone.localdate().replace(day=1)
    return first


@login_required
@require_GET
def calendar_view(request):
    can_use_pd.require(request.access)
    first = _month(request.GET.get("month"))
    filterset = SessionFilter(request.GET, queryset=_pd_sessions(request.access))
    weeks = selectors.month_grid(first.year, first.month, filterset.qs)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    params = request.GET.copy()
    params.pop("month", None)
    return render(
        request,
        "pd/calendar.html",
        {
            "filter": filterset,
            "first": first,
            "weeks": weeks,
            "previous": previous,
            "following": following,
            "today": timezone.localdate(),
            "query_string": params.urlencode(),
        },
    )


def _roster_context(form: SessionLogForm) -> dict:
    roster, count = selectors.attendee_roster(
        form.roster_school_ids(), among=form.fields["schools"].queryset
    )
    return {"roster": roster, "roster_schools": count, "selected": form.selected_attendee_ids()}


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request):
    can_use_pd.require(request.access)
    form = SessionLogForm(
        request.POST or None,
        access=request.access,
        user=request.user,
        last_format=selectors.last_format(request.user),
    )
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_log(
                session=form.save(commit=False),
                schools=form.cleaned_data["schools"],
                pillars=form.cleaned_data["pillars"],
                attendees=form.cleaned_data["attendees"],
                by=request.user,
                duplicate_ok=form.cleaned_data["log_anyway"],
                apps=form.cleaned_data["apps"],
            )
        except services.PossibleDuplicate as exc:
            duplicates = exc.sessions
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            count = len(form.cleaned_data["attendees"])
            messages.success(
                request, f"“{session.title}” was logged with {count} attendee{'s' * (count != 1)}."
            )
            return redirect(session)
    return render(
        request,
        "pd/session_form.html",
        {"form": form, "duplicates": duplicates, **_roster_context(form)},
    )


@scoped_object(School)
def roster_partial(request, school):
    """The attendee checkboxes of a school (and ``also`` schools), for the logging form."""
    can_use_pd.require(request.access, school=school)
    also = {int(v) for v in request.GET.getlist("also") if v.isdigit()}
    roster, count = selectors.attendee_roster([school.pk, *also], among=_pd_schools(request.access))
    context = {
        "school": school,
        "roster": roster,
        "roster_schools": count,
        "selected": {int(v) for v in request.GET.getlist("attendees") if v.isdigit()},
    }
    template = "pd/_roster.html" if request.htmx else "pd/roster.html"
    return render(request, template, context)


def _detail_context(request, session, schools, attendance_form=None, add_form=None) -> dict:
    page = selectors.session_page(session, schools)
    return {
        **page.context(),
        "attendance_form": attendance_form or AttendanceForm(rows=page.rows, session=session),
        "add_form": add_form or AddAttendeesForm(session=session),
        # Attendees belong to the session's schools; those the person sees are ``schools``
        # (never a district admin's 1,800 ids).
        "visible_school_ids": {school.pk for school in schools},
        "apps_covered": list(session.apps.order_by("name")),
    }


@scoped_object(_sessions)
def session_detail(request, session):
    schools = _require_session_role(request.access, session)
    return render(request, "pd/session_detail.html", _detail_context(request, session, schools))


@scoped_object(_sessions, methods=["GET", "POST"])
def session_edit(request, session):
    _require_session_role(request.access, session)
    form = SessionForm(
        request.POST or None, instance=session, access=request.access, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in SessionForm.Meta.fields}
        data["facilitator_user"] = form.instance.facilitator_user
        data["facilitator_staff"] = form.instance.facilitator_staff
        try:
            change = services.session_update(
                session=session,
                data=data,
                schools=form.cleaned_data["schools"],
                pillars=form.cleaned_data["pillars"],
                by=request.user,
                apps=form.cleaned_data["apps"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The session was updated." if change else "Nothing changed.")
            return redirect(session)
    return render(request, "pd/session_edit.html", {"form": form, "session": session})


@scoped_object(_sessions, methods=["POST"])
def attendance(request, session):
    schools = _require_session_role(request.access, session)
    if "add" in request.POST:
        add_form = AddAttendeesForm(request.POST, session=session)
        if add_form.is_valid():
            added = services.attendees_add(
                session=session, staff=add_form.cleaned_data["staff"], by=request.user
            )
            messages.success(request, f"{added} attendee{'s' * (added != 1)} added.")
            return redirect(session)
        context = _detail_context(request, session, schools, add_form=add_form)
        return render(request, "pd/session_detail.html", context, status=400)
    rows = list(selectors.session_attendance(session))
    form = AttendanceForm(request.POST, rows=rows, session=session)
    if form.is_valid():
        try:
            change = services.attendance_update(
                session=session, rows=form.changes(), by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, "Attendance was saved." if change else "Attendance is unchanged."
            )
            return redirect(session)
    context = _detail_context(request, session, schools, attendance_form=form)
    return render(request, "pd/session_detail.html", context, status=400)


@scoped_object(_sessions)
def checkin_qr(request, session):
    _require_session_role(request.access, session)
    svg = qr_svg(absolute_url(session.checkin_path()), title=f"Check-in code for {session.title}")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@scoped_object(_sessions, methods=["POST"])
def checkin_toggle(request, session):
    _require_session_role(request.access, session)
    mode = request.POST.get("mode", "")
    if mode not in CheckinMode.values:
        messages.error(request, "Choose whether to open or close check-in.")
    else:
        services.checkin_set(session=session, mode=mode, by=request.user)
        messages.success(request, f"Self check-in: {CheckinMode(mode).label.lower()}.")
    return redirect(session)


@scoped_object(_sessions, methods=["POST"])
def feedback_request(request, session):
    _require_session_role(request.access, session)
    services.feedback_request(session=session, by=request.user)
    messages.success(
        request,
        "Feedback requests are on their way to attendees who have an e-mail address "
        "and were not asked before.",
    )
    return redirect(session)


# --- Learning Leaders and needs polls ---------------------------------------------------


@scoped_object(School, methods=["GET", "POST"])
def leaders(request, school):
    can_use_pd.require(request.access, school=school)
    form = LeaderForm(request.POST or None, school=school)
    if request.method == "POST" and form.is_valid():
        try:
            leader = services.leader_nominate(
                school=school,
                staff=form.cleaned_data["staff"],
                cohort_year=form.cleaned_data["cohort_year"],
                why=form.cleaned_data["why_nominated"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{leader.staff} joined the {leader.cohort_label} cohort.")
            return redirect("pd:leaders", pk=school.pk)
    return render(
        request,
        "pd/leaders.html",
        {
            "school": school,
            "leaders": selectors.leaders_of(school),
            "form": form,
        },
    )


@scoped_object(School, methods=["GET", "POST"])
def polls(request, school):
    can_use_pd.require(request.access, school=school)
    form = PollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            poll = services.poll_create(school=school, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"The poll for {poll.period} was created.")
            return redirect(poll)
    return render(
        request,
        "pd/polls.html",
        {"school": school, "polls": selectors.polls_of(school), "form": form},
    )


@scoped_object(lambda: PDNeedsPoll.objects.select_related("school"))
def poll_results(request, poll):
    can_use_pd.require(request.access, school=poll.school)
    return render(
        request,
        "pd/poll_results.html",
        {
            "poll": poll,
            "answer_url": absolute_url(poll.answer_path()),
            **selectors.poll_results(poll),
        },
    )


# --- reports --------------------------------------------------------------------------


@login_required
@require_GET
@reads_from_replica
def reports(request):
    can_use_pd.require(request.access)
    schools = _pd_schools(request.access)
    form = ReportForm(request.GET or None, schools=schools)
    data = form.cleaned_data if form.is_valid() else {}
    scope = selectors.report_scope(
        schools=schools,
        sessions=_pd_sessions(request.access),
        school=data.get("school"),
        since=data.get("since"),
        until=data.get("until"),
        district_id=report_summary.whole_district(request.access, can_use_pd.roles),
    )
    if scope.district_id and not scope.summarised:
        # Never counted: read directly this time, and its first count is queued.
        report_summary.queue(scope.district_id)
    export = request.GET.get("export")
    refused = bool(export) and form.is_bound and not form.is_valid()
    if export == "hours" and not refused:
        return queryset_csv_response(*selectors.hours_export(scope))
    if export and not refused:
        table = selectors.report_export(scope, export)
        if table is None:
            return HttpResponse("Unknown export.", status=400, content_type="text/plain")
        return csv_response(*table)

    report = selectors.report(scope, show=request.GET.get("show"))
    # Never counted: the number of people shown is the summary's figure for that choice.
    page = ForwardPaginator(report.rows, STAFF_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "pd/reports.html",
        {
            # An export whose period or school was not understood sends nothing, not the
            # default year: the page says why.
            "export_refused": refused,
            "form": form,
            "period": scope.period,
            "kept_since": scope.kept_since,
            "summary_row": scope.summary,
            "summarised": scope.summarised,
            # Read directly while the district's first count is queued (or running).
            "first_count": bool(scope.district_id) and not scope.summarised,
            # Asked only when a count waits: is it held for a stopped job queue?
            "refresh_held": bool(scope.summary and scope.summary.stale_since)
            and report_summary.is_held(scope.district_id),
            "school": scope.school,
            "summary": report.summary,
            "page": page,
            "show": report.show,
            "shows": selectors.REPORT_SHOWS,
            "query_string": _without(request.GET, "page"),
            "base_query": _without(request.GET, "page", "show", "export"),
            "months": report.months,
            "mix": report.mix,
            "reach": report.reach,
            "leaders_shown": report.reach["leaders"][: selectors.LEADERS_SHOWN],
            "leaders_total": report.reach.get("leaders_total", len(report.reach["leaders"])),
            "staff_count": report.shown_count,
            "feedback": report.feedback,
            "needs": report.needs,
            "chart_data": report.chart_data,
        },
        status=400 if refused else 200,
    )


def _without(query, *names) -> str:
    params = query.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
