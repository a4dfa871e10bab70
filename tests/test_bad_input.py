"""Bad input never answers 500: every form, every list, every URL (issue 15, items 8–11).

The pages come from the scoping matrix (tests/scoping_cases.py) and their forms are read
from the HTML they render (tests/probe.py), so a form, a filter or a page added later is
probed without this file changing. Run on PostgreSQL (which refuses NUL bytes and numbers
beyond a column's type) and on SQLite (which refuses integers beyond 64 bits).

- Every control of every form is sent a NUL byte and an id beyond bigint; numbers get
  values beyond every integer column (and 5000, a year count no date arithmetic survives);
  dates get the first and the last day of the calendar. A form is also sent twice as
  filled, so a rule of uniqueness it does not check shows. Numbers and dates carry bounds.
- Every query parameter a page reads (recorded as it reads them), ``page``, and every
  control of its GET forms gets the same.
- Every id in a URL beyond bigint answers 404.
- Every model form, for every unique rule of its model, is sent a duplicate: a field
  error, no row written, and no name of another school.
- Every link a deletion empties (``on_delete=SET_NULL``) is emptied, then every page is
  opened and every form sent.

Why one long module: one probe over every page of the scoping matrix, with the per-field
hostile values and the expectations it checks them against; the parts read one shared
record of each page's forms and query parameters.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from datetime import date, timedelta

import django_filters
import pytest
from django import forms as django_forms
from django.apps import apps
from django.db import connection, models, transaction
from django.urls import reverse

from schools.filters import FilterSet
from schools.forms import InputRulesMixin
from schools.forms import ModelForm as PillarwiseModelForm
from schools.models import Role, School
from tests.factories import DeviceFactory, InitiativeFactory, MembershipFactory, UserFactory
from tests.html_forms import TEXT_KINDS
from tests.probe import (
    PAGES,
    PUBLIC_MAKERS,
    PUBLIC_WITHOUT_MAKER,
    SCOPED_NAMES,
    Page,
    failure,
    html_form_of,
    next_steps,
    recording_forms,
    recording_reads,
    refused,
    reversible,
    shows_error,
)
from tests.scoping_cases import CASES, PUBLIC, Scoped
from tests.test_scoping_matrix import SITE_NAMES

PROJECT_APPS = ("accounts", "audit", "core", "equity", "initiatives", "pd", "readiness", "schools")
PROJECT_APPS += ("stakeholders",)

NUL = "Probe\x00text"
BEYOND_BIGINT = str(10**20)
NUMBERS = ["5000", str(2**31), BEYOND_BIGINT, "-" + BEYOND_BIGINT]
DATES = ["0001-01-01", "9999-12-31"]
DATETIMES = ["0001-01-01T00:00", "9999-12-31T23:59"]
MONTHS = ["0001-01", "9999-12"]
QUERY_VALUES = [BEYOND_BIGINT, "-" + BEYOND_BIGINT, "0", "-1", *DATES, *MONTHS, "\x00", NUL]
QUERY_VALUES += ["1e400", "x" * 5000]
HTMX_QUERY_VALUES = [BEYOND_BIGINT, NUL, "0001-01"]
NUL_REFUSED = b"Null characters are not allowed."


@pytest.fixture
def member(maple):
    """Every school role at Maple, none elsewhere (a principal sees Maple only)."""
    user = UserFactory(email="member@maple.example.org")
    for role in (Role.PRINCIPAL, Role.COACH, Role.TECH_STAFF):
        MembershipFactory(user=user, school=maple, role=role)
    return user


@pytest.fixture
def admin_member(district):
    user = UserFactory(email="district@riverbend.example.org")
    MembershipFactory(user=user, school=None, district=district, role=Role.DISTRICT_ADMIN)
    return user


@pytest.fixture
def open_page(client, maple, cedar, elsewhere, member, admin_member):
    def _open(name, school=None):
        return Page(name, client, member=member, admin=admin_member, school=school or maple)

    return _open


# --- the whole project, as classes ----------------------------------------------------------


def _project_modules():
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        yield package
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in info.name and ".management" not in info.name:
                yield importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _project_classes(base):
    modules = {m.__name__ for m in _project_modules()}
    return {c for c in _subclasses(base) if c.__module__ in modules}


def test_every_form_follows_the_input_rules():
    """Bounded numbers and dates, every unique rule, errors always shown: through the bases."""
    forms = _project_classes(django_forms.BaseForm)
    assert forms, "no form found"
    outside = sorted(c.__qualname__ for c in forms if not issubclass(c, InputRulesMixin))
    assert not outside, f"derive from schools.forms.Form or ModelForm: {outside}"
    model_forms = {c for c in forms if issubclass(c, django_forms.BaseModelForm)}
    loose = sorted(c.__qualname__ for c in model_forms if not issubclass(c, PillarwiseModelForm))
    assert not loose, f"derive from schools.forms.ModelForm: {loose}"
    filters = _project_classes(django_filters.FilterSet)
    loose = sorted(c.__qualname__ for c in filters if not issubclass(c, FilterSet))
    assert not loose, f"derive from schools.filters.FilterSet: {loose}"


def test_every_link_a_deletion_empties_may_be_empty():
    """A record whose author (or other linked row) was deleted still validates."""
    strict = [
        f"{model._meta.label}.{f.name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for f in model._meta.concrete_fields
        if f.is_relation and f.remote_field.on_delete is models.SET_NULL and not f.blank
    ]
    assert not strict, f"add blank=True (a deleted row leaves NULL): {strict}"


def test_every_public_page_has_a_maker():
    missing = [
        n
        for n in SITE_NAMES
        if CASES.get(n) == PUBLIC
        and n not in PUBLIC_MAKERS
        and n not in PUBLIC_WITHOUT_MAKER
        and not reversible(n)
    ]
    assert not missing, f"add a maker to tests.probe.PUBLIC_MAKERS: {missing}"


# --- items 10 and 11: every form ---------------------------------------------------------------


def _takes_ids(form, name) -> bool:
    """A control whose values are numbers (an id, a count): it gets an id beyond bigint."""
    values = [c.value for c in form.controls_named(name)]
    values += [v for c in form.controls_named(name) for v, _s in c.options]
    return any(v.lstrip("u s-").isdigit() for v in values if v)


def _extremes(form, name) -> list[str]:
    kind = form.kind_of(name)
    values = [NUL]
    if kind == "number" or _takes_ids(form, name):
        values.append(BEYOND_BIGINT)
    values += {"number": NUMBERS, "date": DATES, "datetime-local": DATETIMES, "month": MONTHS}.get(
        kind, []
    )
    return list(dict.fromkeys(values))


def _probe(page, form, problems) -> None:
    """Send every extreme into every control of ``form``, one at a time."""
    stale = False
    for name in form.names:
        if name == "csrfmiddlewaretoken" or form.kind_of(name) == "file":
            continue
        for value in _extremes(form, name):
            if stale:
                form, stale = page.fresh(form), False
            data = form.filled()
            data[name] = [value]
            response = page.send(form, data)
            what = f"{page.name}: {form.method.upper()} {form.action} {name}={value[:25]!r}"
            if response.status_code >= 500:
                problems.append(f"{what} answered {failure(response)}")
                continue
            stale = stale or not refused(response)
            kind = form.kind_of(name)
            if (
                "\x00" in value
                and kind in TEXT_KINDS
                and NUL_REFUSED not in page.shown(response).content
            ):
                problems.append(f"{what}: no field error")
            if value.lstrip("-") == BEYOND_BIGINT and kind == "number" and not refused(response):
                problems.append(f"{what} was accepted")


def _unbounded(form) -> list[str]:
    """Number and date inputs that do not say their bounds."""
    return [
        f"{form.action} {c.name} ({c.kind}) has no min and max"
        for c in form.controls
        if c.kind in ("number", "date") and not {"min", "max"} <= set(c.attrs)
    ]


@pytest.mark.parametrize("name", PAGES)
def test_every_form_refuses_extreme_input(name, open_page):
    page = open_page(name)
    found = page.forms()
    problems: list[str] = []
    seen = {f.signature() for f in found}
    queue = list(found)
    while queue:
        form = queue.pop(0)
        problems += _unbounded(form)
        _probe(page, form, problems)
        if form.method == "post":
            for step in next_steps(page, page.fresh(form)):
                if step.signature() not in seen:
                    seen.add(step.signature())
                    queue.append(step)
            # The same record twice: a rule of uniqueness the form does not check shows.
            again = page.send(form, page.fresh(form).filled())
            if again.status_code >= 500:
                problems.append(f"{name}: {form.action} sent twice answered {failure(again)}")
    assert not problems, "\n".join(problems)
    _assert_no_nul_stored()


def _assert_no_nul_stored():
    """SQLite keeps NUL bytes (PostgreSQL refuses them): none may have been written."""
    if connection.vendor != "sqlite":
        return
    kept = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label not in PROJECT_APPS:
                continue
            for f in model._meta.concrete_fields:
                if isinstance(f, models.CharField | models.TextField):
                    # LIKE stops at the NUL of its pattern; instr() does not.
                    table, column = model._meta.db_table, f.column
                    cursor.execute(f'SELECT 1 FROM "{table}" WHERE instr("{column}", char(0))')  # noqa: S608
                    if cursor.fetchone():
                        kept.append(f"{model._meta.label}.{f.name}")
    assert not kept, f"NUL bytes were written to {kept}"


# --- items 10 and 11: every query string and URL ---------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_query_parameter_refuses_extremes(name, open_page):
    page = open_page(name)
    with recording_reads() as read:
        response = page.get()
        page.get(htmx=True)
    params = set(read) | {"page"}
    searches = set()
    for form in page.forms(response):
        if form.method == "get" and form.action.split("?")[0] == page.url:
            params |= set(form.names)
            searches |= {n for n in form.names if form.kind_of(n) in TEXT_KINDS}
    problems = []
    for param in sorted(params):
        for htmx, values in ((False, QUERY_VALUES), (True, HTMX_QUERY_VALUES)):
            for value in values:
                got = page.request("get", page.url, {param: value}, htmx=htmx)
                what = f"{name}?{param}={value[:25]!r} (htmx={htmx})"
                if got.status_code >= 500:
                    problems.append(f"{what} answered {failure(got)}")
                elif param in searches and "\x00" in value and NUL_REFUSED not in got.content:
                    problems.append(f"{what}: the search box shows no error")
    assert not problems, "\n".join(problems)


POST_NAMES = [n for n in SCOPED_NAMES if "POST" in CASES[n].methods]
POST_VALUES = [NUL, BEYOND_BIGINT, "-" + BEYOND_BIGINT, "-1", *DATES, "1e400"]


@pytest.mark.parametrize("name", POST_NAMES)
def test_every_url_that_takes_a_post_refuses_extremes_in_what_it_reads(name, open_page):
    """Beyond the forms a page renders: whatever a view reads from a POST (a button's
    hidden ``direction``, a field no form shows today) is sent the extremes too."""
    page = open_page(name)
    with recording_reads() as read:
        first = page.request("post", page.url, {})
    problems = (
        [f"{name} answered {failure(first)} to an empty POST"] if first.status_code >= 500 else []
    )
    for param in sorted(read - {"csrfmiddlewaretoken"}):
        for value in POST_VALUES:
            got = page.request("post", page.url, {param: value})
            if got.status_code >= 500:
                problems.append(f"POST {name} {param}={value[:25]!r} answered {failure(got)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SCOPED_NAMES)
def test_ids_beyond_bigint_in_urls_answer_404(name, open_page):
    page = open_page(name)
    problems = []
    for value in (10**20, 2**63, 2**31):
        kwargs = {k: (value if isinstance(v, int) else v) for k, v in page.kwargs.items()}
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            got = page.request(method, url)
            if got.status_code != 404:
                problems.append(f"{method.upper()} {url} answered {failure(got)}")
    assert not problems, "\n".join(problems)


def test_an_id_beyond_any_column_matches_nothing_in_a_list(maple, cedar):
    """``pk__in`` as ``pk=``: an id no column holds matches no row instead of raising."""
    huge = [10**20, 2**63, -(10**20)]
    assert list(School.objects.filter(pk__in=huge)) == []
    assert list(School.objects.filter(pk__in=[maple.pk, *huge])) == [maple]
    assert set(School.objects.exclude(pk__in=huge)) == {maple, cedar}
    device = DeviceFactory(school=maple)
    assert list(device.__class__.objects.filter(school__in=huge)) == []
    assert list(device.__class__.objects.filter(school_id__in=[*huge, maple.pk])) == [device]
    assert list(device.__class__.objects.filter(model_id__in=huge)) == []
    initiative = InitiativeFactory(schools=[maple])
    assert list(type(initiative).objects.filter(schools__in=huge)) == []
    assert list(type(initiative).objects.filter(schools__in=[*huge, maple.pk])) == [initiative]


# --- item 8: a duplicate on every model form ----------------------------------------------------


def _unique_sets(model) -> list[tuple[str, ...]]:
    opts = model._meta
    sets = [(f.name,) for f in opts.local_fields if f.unique and not f.primary_key]
    sets += [tuple(t) for t in opts.unique_together]
    sets += [
        tuple(c.fields)
        for c in opts.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields
    ]
    return sets


def _varied(form, control, values: list[str]) -> list[str]:
    """Another ordinary value for a control (so only the rule under test collides)."""
    kind, value = form.kind_of(control), (values or [""])[0]
    if kind == "email":
        return [f"other.{value}"]
    if kind in TEXT_KINDS:
        return [f"{value} other"]
    if kind == "number":
        return [str(int(float(value or 0)) + 1)]
    if kind == "date" and value:
        return [(date.fromisoformat(value) - timedelta(days=1)).isoformat()]
    if kind == "select":
        options = [v for c in form.controls_named(control) for v, _s in c.options if v]
        others = [v for v in options if v != value]
        return others[:1] or values
    return values


def _controls(django_form, fields) -> dict[str, str]:
    return {f: django_form.add_prefix(f) for f in fields if f in django_form.fields}


def _model_forms(page):
    with recording_forms() as made:
        response = page.get()
    rendered = page.forms(response)
    seen, found = set(), []
    for form in made:
        if not isinstance(form, django_forms.BaseModelForm) or type(form) in seen:
            continue
        seen.add(type(form))
        rendered_form = html_form_of(form, rendered)
        if rendered_form is not None and rendered_form.method == "post":
            found.append((form, rendered_form))
    return found


def _rule_values(row, fields):
    return tuple(getattr(row, row._meta.get_field(f).attname) for f in fields)


class _RolledBack(Exception):
    pass


@contextlib.contextmanager
def rolled_back():
    """Run the block, then undo what it wrote (each duplicate is tried on its own)."""
    try:
        with transaction.atomic():
            yield
            raise _RolledBack
    except _RolledBack:
        pass


def _page_at(page, where):
    """The same page for another school's object, opened by the district admin."""
    if where is page.school:
        return page
    return Page(page.name, page.client, member=page.admin, admin=page.admin, school=where)


def _same_form(page, rendered):
    return next((f for f in page.forms() if f.signature()[2] == rendered.signature()[2]), None)


def _duplicate_of_a_new_record(page, django_form, rendered, fields, others, where, problems):
    """Create a record through the form at ``where``'s page, then send the same at the page."""
    rows = django_form._meta.model._base_manager
    host = _page_at(page, where)
    for attempt in ("as the page is", "with the school's records around"):
        if attempt != "as the page is":
            _populate(where)  # a choice the form needs (a catalog model) may be missing
        before = set(rows.values_list("pk", flat=True))
        first_form = _same_form(host, rendered)
        if first_form is not None:
            host.send(first_form, first_form.filled())
        made = rows.exclude(pk__in=before)
        if made.exists():
            break
    else:
        problems.append(f"{page.name}: {type(django_form).__name__} saved no first record")
        return
    first = made.get()
    form = page.fresh(rendered)
    data = form.filled()
    for control in _controls(django_form, others).values():
        data[control] = _varied(form, control, data.get(control, []))
    before = set(rows.values_list("pk", flat=True))
    response = page.send(form, data)
    what = f"{page.name}: {type(django_form).__name__} {fields} again (first at {where.name})"
    _judge(page, response, what, where, problems)
    added = rows.exclude(pk__in=before)
    if added.exists() and _rule_values(added.get(), fields) == _rule_values(first, fields):
        problems.append(f"{what} was written")


def _populate(school) -> None:
    """One of every kind of record the scoping matrix knows how to make, at ``school``."""
    makers = {case.make for case in CASES.values() if isinstance(case, Scoped)}
    for make in sorted(makers, key=lambda m: m.__name__):
        make(school)


def _duplicate_of_another_record(page, django_form, rendered, fields, others, where, problems):
    """Edit the page's record so that it takes another record's values (at ``where``)."""
    model = django_form._meta.model
    mine = django_form.instance
    other_url = reverse(page.name, kwargs=CASES[page.name].make(where))
    with recording_forms() as made:
        other_page = page.get(other_url, user=page.admin)
    theirs = next((f for f in made if type(f) is type(django_form)), None)
    other_form = html_form_of(theirs, page.forms(other_page)) if theirs else None
    if other_form is None or theirs.instance.pk in (None, mine.pk):
        return
    their_data = other_form.filled()
    form = page.fresh(rendered)
    data = form.filled()
    for control in _controls(django_form, fields).values():
        data[control] = their_data.get(control, [])
    for control in _controls(django_form, others).values():
        data[control] = _varied(form, control, data.get(control, []))
    before = _rule_values(model._base_manager.get(pk=mine.pk), fields)
    response = page.send(form, data)
    what = f"{page.name}: {type(django_form).__name__} {fields} set to a record's at {where.name}"
    _judge(page, response, what, where, problems)
    after = _rule_values(model._base_manager.get(pk=mine.pk), fields)
    if after != before and after == _rule_values(theirs.instance, fields):
        problems.append(f"{what} was written")


def _judge(page, response, what, where, problems):
    if response.status_code >= 500:
        problems.append(f"{what} answered {failure(response)}")
        return
    if refused(response):
        if not shows_error(response):
            problems.append(f"{what} was refused without an error on the form")
        if where is not page.school and where.name.encode() in response.content:
            problems.append(f"{what} names {where.name} to someone who does not see it")


@pytest.mark.parametrize("name", PAGES)
def test_every_model_form_refuses_a_duplicate(name, open_page, maple, cedar):
    page = open_page(name)
    problems = []
    for django_form, rendered in _model_forms(page):
        sets = _unique_sets(django_form._meta.model)
        for fields in sets:
            others = {f for s in sets if s != fields for f in s} - set(fields)
            places = [maple]
            if isinstance(CASES.get(name), Scoped) and CASES[name].level == "school":
                places.append(cedar)  # another school of the district, unseen by the member
            for where in places:
                try_duplicate = (
                    _duplicate_of_a_new_record
                    if django_form.instance.pk is None
                    else _duplicate_of_another_record
                )
                with rolled_back():
                    try_duplicate(page, django_form, rendered, fields, others, where, problems)
    assert not problems, "\n".join(problems)


# --- item 9: records whose author (or other linked row) was deleted ---------------------------


def _empty_every_link_a_deletion_empties() -> None:
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        links = [
            f.name
            for f in model._meta.concrete_fields
            if f.is_relation and f.remote_field.on_delete is models.SET_NULL
        ]
        if links:
            model._base_manager.update(**dict.fromkeys(links))


@pytest.mark.parametrize("name", PAGES)
def test_every_page_works_after_the_people_it_names_are_deleted(name, open_page):
    page = open_page(name)
    for form in page.forms():
        if form.method == "post":  # records the page's own forms write, with an author
            page.send(form, page.fresh(form).filled())
    _empty_every_link_a_deletion_empties()
    problems = []
    response = page.get()
    if response.status_code >= 500:
        problems.append(f"{name} answered {failure(response)}")
    for form in page.forms(response):
        got = page.send(form, page.fresh(form).filled())
        if got.status_code >= 500:
            problems.append(f"{name}: {form.method.upper()} {form.action} answered {failure(got)}")
    assert not problems, "\n".join(problems)


# --- item 8, as a principal meets it -----------------------------------------------------------


def test_a_code_another_school_uses_is_a_field_error_naming_no_school(
    login, principal, maple, cedar
):
    data = {
        "name": "Maple Elementary",
        "code": "CEDAR",  # Cedar's: a school of the district Maple's principal does not see
        "lowest_grade": 0,
        "highest_grade": 5,
        "enrollment_pk_2": 150,
        "enrollment_3_5": 150,
        "enrollment_6_8": 0,
        "enrollment_9_12": 0,
        "economically_disadvantaged_pct": "",
    }
    response = login(principal).post(reverse("schools:school_edit", args=[maple.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["School with this code already exists."]}
    assert b"Cedar" not in response.content
    maple.refresh_from_db()
    assert maple.code == "MAPLE"


def test_a_second_swot_for_a_year_is_a_field_error(login, principal, maple):
    from initiatives.models import Swot
    from tests.factories import SwotFactory

    SwotFactory(school=maple, year=2025)
    url = reverse("initiatives:swot_list", args=[maple.pk])
    response = login(principal).post(
        url, {"year": 2025, "strengths": "Again", "participants": "The committee"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "year": ["SWOT analysis with this school year already exists."]
    }
    assert Swot.objects.filter(school=maple).count() == 1


def test_a_refused_retention_leaves_the_page_reading_the_stored_rule(login, district, maple):
    """The privacy page counts who is due under the rule; a refused 5000 years used to
    overflow that count (Django writes posted values onto the instance before checking)."""
    from audit.models import Retention

    admin = UserFactory()
    MembershipFactory(user=admin, school=None, district=district, role=Role.DISTRICT_ADMIN)
    Retention.objects.create(district=district, years_after_leaving=7)
    url = reverse("audit:privacy", args=[district.pk])
    for years in ("5000", str(10**20)):
        response = login(admin).post(url, {"years_after_leaving": years})
        assert response.status_code == 200
        assert "years_after_leaving" in response.context["form"].errors
        assert response.context["form"].instance.years_after_leaving == 7
    assert Retention.objects.get(district=district).years_after_leaving == 7
