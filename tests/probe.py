"""Open every page of the site as the person who may use it, and send its forms.

The machinery of the bad-input guards (tests/test_bad_input.py): a page comes from the
scoping matrix (tests/scoping_cases.py) with an object of its own, its forms are read from
the HTML it renders (tests/html_forms.py), and each request answers a response even when
the view fails, so one test can list every failure of a page.
"""

from __future__ import annotations

import contextlib

from django import forms as django_forms
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse

from tests.html_forms import Form, forms_of
from tests.scoping_cases import CASES, PUBLIC, PUBLIC_KWARGS, SIGNED_IN, Scoped
from tests.test_scoping_matrix import SITE_NAMES

# A warning that asks the person to confirm (a PD session that looks logged already) tells
# them why the form was not taken, as an error does.
ERROR_MARKERS = (
    b"invalid-feedback",
    b"errorlist",
    b"alert-danger",
    b"alert-warning",
    b"is-invalid",
    b"text-danger",
)


# --- the public pages: an object each, as a visitor reaches it ---------------------------


def _checkin(school):
    from tests.factories import PDSessionFactory

    return {"token": PDSessionFactory(schools=[school], checkin_mode="open").checkin_token}


def _feedback(school):
    from tests.factories import PDSessionFactory

    session = PDSessionFactory(schools=[school], allow_named_feedback=True)
    return {"token": session.feedback_token}


def _personal_feedback(school):
    from pd import services
    from tests.factories import AttendanceFactory, PDSessionFactory, StaffMemberFactory

    session = PDSessionFactory(schools=[school], allow_named_feedback=True)
    staff = StaffMemberFactory(school=school)
    attendance = AttendanceFactory(session=session, staff=staff, status="attended")
    return {"token": services.feedback_link_token(attendance)}


def _poll(school):
    from tests.factories import PDNeedsPollFactory

    return {"token": PDNeedsPollFactory(school=school).token}


def _survey_link(school):
    from tests.factories import ChoiceFactory, InvitationFactory, QuestionFactory, SurveyFactory

    survey = SurveyFactory(schools=[school], offers_spanish=True)
    QuestionFactory(survey=survey, kind="likert")
    QuestionFactory(survey=survey, kind="text", required=False)
    for kind in ("single", "multiple"):
        question = QuestionFactory(survey=survey, kind=kind)
        ChoiceFactory(question=question)
        ChoiceFactory(question=question)
    return {"token": InvitationFactory(survey=survey).token}


def _acceptance(school):
    from equity.year import services as year_services
    from equity.year.models import DeviceAgreement
    from tests.factories import open_assignment

    DeviceAgreement.objects.get_or_create(
        district=school.district, version=1, defaults={"text": "Keep it charged."}
    )
    return {"token": year_services.acceptance_for(open_assignment(school)).token}


# Public pages that take arguments, and how to make a real one. A public page added later
# fails test_every_public_page_has_a_maker until it is listed here.
def _unsubscribe(school):
    from tests.factories import UserFactory
    from today.models import Kind
    from today.notices import unsubscribe_token

    return {"token": unsubscribe_token(UserFactory().pk, Kind.DIGEST)}


PUBLIC_MAKERS = {
    "today:unsubscribe": _unsubscribe,
    "pd:checkin": _checkin,
    "pd:checkin_code": _checkin,
    "pd:feedback": _feedback,
    "pd:feedback_link": _feedback,
    "pd:feedback_personal": _personal_feedback,
    "pd:poll_answer": _poll,
    "stakeholders:respond": _survey_link,
    "stakeholders:thanks": _survey_link,
    "equity:accept": _acceptance,
    # identity: allauth's endpoints, named by a district's provider
    **{name: make for name, make in PUBLIC_KWARGS.items() if callable(make)},
}
# Public pages that need an e-mailed secret no test holds without sending the mail.
PUBLIC_WITHOUT_MAKER = {"accounts:password_reset_confirm"}


def reversible(name) -> bool:
    try:
        reverse(name)
    except Exception:
        return False
    return True


def _gettable(name) -> bool:
    case = CASES.get(name)
    if isinstance(case, Scoped):
        return "GET" in case.methods
    return case == SIGNED_IN or name in PUBLIC_MAKERS or (case == PUBLIC and reversible(name))


# Every page someone can open: the pages the guards probe.
PAGES = [n for n in SITE_NAMES if _gettable(n)]
SCOPED_NAMES = [n for n in SITE_NAMES if isinstance(CASES.get(n), Scoped)]


# --- requests ------------------------------------------------------------------------------


class _Failed(Exception):
    def __init__(self, response):
        self.response = response


class Page:
    """One page of the site with an object of its own, opened by the user who may use it:
    ``member`` (every school role at the school) or, for a district's page, ``admin``."""

    def __init__(self, name, client, *, member, admin, school):
        case = CASES.get(name)
        self.name, self.client, self.school, self.admin = name, client, school, admin
        self.kwargs: dict = {}
        self.user = member
        if isinstance(case, Scoped):
            self.kwargs = case.make(school)
            self.user = admin if case.level == "district" else member
        elif name in PUBLIC_MAKERS:
            self.kwargs = PUBLIC_MAKERS[name](school)
        self.url = reverse(name, kwargs=self.kwargs or None)
        if case == SIGNED_IN and self.get().status_code == 403:
            self.user = admin  # a list of a role the member does not hold

    def request(self, method, url, data=None, *, htmx=False, user=None):
        """One request; a 500 is answered, not raised, and what it wrote (or the
        transaction it broke on PostgreSQL) is rolled back so the next request runs."""
        extra = {"headers": {"HX-Request": "true"}} if htmx else {}
        self.client.force_login(user or self.user)
        self.client.raise_request_exception = False
        try:
            with transaction.atomic():
                response = getattr(self.client, method)(url, data, **extra)
                if response.status_code >= 500:
                    raise _Failed(response)
        except _Failed as failed:
            response = failed.response
        return response

    def get(self, url=None, *, htmx=False, user=None):
        return self.request("get", url or self.url, htmx=htmx, user=user)

    def send(self, form: Form, data, *, user=None):
        return self.request(form.method, form.action, data, user=user)

    def shown(self, response, *, user=None):
        """What the person reads after sending: the page, or where a redirect leads."""
        if 300 <= response.status_code < 400:
            return self.get(response["Location"], user=user)
        return response

    def forms(self, response=None) -> list[Form]:
        """The page's forms that ask for something, the fullest first (a bare button such
        as "close the survey" may change what the other forms accept)."""
        response = response or self.get()
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return []
        seen, found = set(), []
        for form in forms_of(html(response), response.wsgi_request.path):
            if form.signature() not in seen and asks(form):
                seen.add(form.signature())
                found.append(form)
        found.sort(key=lambda f: -len(f.names))
        return found

    def fresh(self, form: Form) -> Form:
        """The form as the page renders it now (a new edit token after a save)."""
        for candidate in self.forms():
            if candidate.signature() == form.signature():
                return candidate
        return form


def asks(form: Form) -> bool:
    return bool(set(form.names) - {"csrfmiddlewaretoken"})


def html(response) -> str:
    return response.content.decode("utf-8", "replace")


def refused(response) -> bool:
    """Not a redirect: the form came back (with its errors, or a 4xx)."""
    return not 300 <= response.status_code < 400


def shows_error(response) -> bool:
    return any(marker in response.content for marker in ERROR_MARKERS)


def failure(response) -> str:
    exc = getattr(response, "exc_info", None)
    return f"{response.status_code} ({exc[1]!r})" if exc else str(response.status_code)


def next_steps(page: Page, form: Form) -> list[Form]:
    """Forms that appear after the form is sent as filled (a wizard's next step)."""
    response = page.send(form, form.filled())
    if response.status_code not in (200, 400):
        return []
    return [
        f
        for f in forms_of(html(response), form.action.split("?")[0])
        if f.signature() != form.signature() and asks(f)
    ]


# --- what a request reads and builds ---------------------------------------------------------


@contextlib.contextmanager
def recording_reads():
    """The query parameter names read during the block (any QueryDict)."""
    read: set[str] = set()
    names = ("get", "getlist", "__getitem__", "__contains__")
    originals = {m: getattr(QueryDict, m) for m in names}

    def wrap(original):
        def reader(self, key, *args, **kwargs):
            read.add(key)
            return original(self, key, *args, **kwargs)

        return reader

    for method, original in originals.items():
        setattr(QueryDict, method, wrap(original))
    try:
        yield read
    finally:
        for method, original in originals.items():
            setattr(QueryDict, method, original)


@contextlib.contextmanager
def recording_forms():
    """Every form built during the block (the form instances, in order)."""
    made = []
    original = django_forms.BaseForm.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    django_forms.BaseForm.__init__ = init
    try:
        yield made
    finally:
        django_forms.BaseForm.__init__ = original


def html_form_of(form, html_forms: list[Form]) -> Form | None:
    """The rendered form of a Django form: the one holding most of its fields' names."""
    names = {form.add_prefix(n) for n in form.fields}
    best = max(html_forms, key=lambda f: len(names & set(f.names)), default=None)
    if best is None or not names & set(best.names):
        return None
    return best
