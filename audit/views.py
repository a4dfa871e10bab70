"""The district admin's pages: the audit log and the student-privacy settings."""

from django.contrib import messages
from django.shortcuts import redirect, render

from core.auditlog import record
from core.models import AuditEvent, Kind
from schools.models import District
from schools.pagination import PAGE_PARAMETERS, KeysetPaginator
from schools.scoping import require_district_admin, scoped_object

from . import purge
from .forms import AuditFilterForm, RetentionForm
from .models import PurgeRecord, Retention

PER_PAGE = 50


@scoped_object(District)
def log(request, district):
    require_district_admin(request.access, district)
    form = AuditFilterForm(request.GET or None)
    events = (
        AuditEvent.objects.filter(district=district)
        .select_related("user", "school")
        .order_by("-at", "-pk")
    )
    if form.is_bound and form.is_valid():
        events = form.apply(events)
    elif form.is_bound:
        events = events.none()
    # A district's log grows by thousands of rows a day: keyset pages, never counted, the
    # oldest as cheap as the newest (schools.pagination.KeysetPaginator).
    page = KeysetPaginator(events, PER_PAGE).get_page(request.GET)
    query = request.GET.copy()
    for cursor in PAGE_PARAMETERS:
        query.pop(cursor, None)
    return render(
        request,
        "audit/log.html",
        {"district": district, "form": form, "page": page, "query": query.urlencode()},
    )


@scoped_object(District, methods=["GET", "POST"])
def privacy(request, district):
    require_district_admin(request.access, district)
    rule = Retention.objects.filter(district=district).first() or Retention(district=district)
    form = RetentionForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        form.save()
        record(
            Kind.RETENTION,
            district=district,
            detail=f"years after leaving: {rule.years_after_leaving or 'kept'}",
        )
        messages.success(request, "The retention rule was saved.")
        return redirect("audit:privacy", pk=district.pk)
    due = (
        purge.due_for_retention(district, rule.years_after_leaving).count()
        if rule.years_after_leaving
        else None
    )
    purges = PurgeRecord.objects.filter(district=district).select_related("by", "school")[:20]
    return render(
        request,
        "audit/privacy.html",
        {"district": district, "form": form, "due": due, "purges": purges},
    )
