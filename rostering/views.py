"""The district's roster sources, a run's preview and progress, and its approval."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from schools.models import District
from schools.scoping import require_district_admin, scoped_object

from . import selectors, services
from .forms import BundleForm, SourceForm
from .models import RosterRun, RosterSource, RunTrigger, SourceKind


@scoped_object(District)
def district_sources(request, district):
    require_district_admin(request.access, district)
    return render(
        request,
        "rostering/district.html",
        {"district": district, **selectors.district_overview(district)},
    )


@scoped_object(District, methods=["GET", "POST"])
def source_add(request, district):
    require_district_admin(request.access, district)
    source = RosterSource(district=district)
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_save(source=form.instance, secret=form.cleaned_data["client_secret"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{source.get_kind_display()} added. Preview a run next.")
            return redirect(source)
    return render(request, "rostering/source_form.html", {"district": district, "form": form})


def _sources():
    return RosterSource.objects.select_related("district")


@scoped_object(_sources, methods=["GET", "POST"])
def source_detail(request, source):
    require_district_admin(request.access, source.district)
    form = SourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_save(source=form.instance, secret=form.cleaned_data["client_secret"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(source)
    return render(
        request,
        "rostering/source.html",
        {
            "source": source,
            "form": form,
            "bundle_form": BundleForm(),
            "runs": selectors.recent_runs(source),
        },
    )


@scoped_object(_sources, methods=["POST"])
def source_run(request, source):
    """Start a run: a CSV upload is read while the page waits (the bundle holds names, so
    it is never stored for a worker); an API source or a bundle path runs in the worker."""
    require_district_admin(request.access, source.district)
    form = BundleForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "rostering/source.html",
            {"source": source, "form": SourceForm(instance=source), "bundle_form": form,
             "runs": selectors.recent_runs(source)},
            status=400,
        )  # fmt: skip
    apply = form.cleaned_data["apply"] and source.approved_at is not None
    try:
        run = services.run_create(
            source=source, trigger=RunTrigger.PAGE, apply=apply, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(source)
    upload = form.cleaned_data.get("bundle")
    if source.kind == SourceKind.ONEROSTER_CSV and upload:
        services.run_execute(run.pk, bundle=upload.read())
    else:
        services.enqueue_run(run)
    return redirect(run)


def _runs():
    return RosterRun.objects.select_related("source", "district", "started_by")


@scoped_object(_runs)
def run_detail(request, run):
    require_district_admin(request.access, run.district)
    context = {"run": run, **selectors.run_view(run)}
    if request.htmx:
        return render(request, "rostering/_run_progress.html", context)
    return render(request, "rostering/run.html", context)


@scoped_object(_runs, methods=["POST"])
def run_apply(request, run):
    require_district_admin(request.access, run.district)
    if run.source.kind == SourceKind.ONEROSTER_CSV and not run.source.bundle_path:
        messages.error(
            request,
            "An uploaded bundle is not kept (it holds students' names): upload it again with "
            "“Apply it now” ticked. The source is approved for it now.",
        )
        services.source_approve(source=run.source, by=request.user)
        return redirect(run.source)
    try:
        applying = services.run_approve(preview=run, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(run)
    return redirect(applying)
