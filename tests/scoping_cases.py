"""Every URL of the site, classified for the scoping matrix (tests/test_scoping_matrix.py).

A URL that is not listed here fails the matrix: whoever adds a URL says what it is.

- PUBLIC: open to anyone (sign-in, password reset, health).
- SIGNED_IN: a page about the user's own scope, with no object in its URL (home, lists).
- Scoped(make): the URL names one object. ``make(school)`` creates such an object belonging
  to ``school`` and returns the URL's keyword arguments. ``level="district"`` marks objects
  that belong to a district (only a district admin of that district may use them).
- The Django admin (``admin:*``) is for superusers only and is checked as a whole.

Why one long module: it is the one registry of every URL of every app; a URL added
anywhere is classified here, next to the others, and the matrix reads it whole.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from tests.factories import MembershipFactory, StaffMemberFactory, UserFactory

PUBLIC = "public"
SIGNED_IN = "signed_in"


@dataclass(frozen=True)
class Scoped:
    make: Callable[..., dict]
    methods: tuple[str, ...] = ("GET",)
    level: str = "school"


def _school(school):
    return {"pk": school.pk}


def _district(school):
    return {"pk": school.district_id}


def _staff(school):
    return {"pk": StaffMemberFactory(school=school).pk}


def _membership(school):
    return {"pk": MembershipFactory(school=school, district=school.district, user=UserFactory()).pk}


# --- software: the app register ---
_serial = itertools.count(1)


def _app(school):
    from software.models import App

    return {"pk": App.objects.create(district=school.district, name=f"App {next(_serial)}").pk}


def _app_request(school):
    from software.models import App, AppRequest

    app = App.objects.create(district=school.district, name=f"Requested {next(_serial)}")
    made = AppRequest.objects.create(
        district=school.district, app=app, school=school, requester_name="T", why="Reading"
    )
    return {"pk": made.pk}


def _review_step(school):
    from software.models import ReviewStep

    step = ReviewStep.objects.create(district=school.district, name=f"Step {next(_serial)}")
    return {"pk": step.pk}


def _public_district(school):
    return {"slug": school.district.slug}


def _public_request_link(school):
    from software.models import App, AppRequest

    district = school.district
    app = App.objects.create(district=district, name="Linked")
    made = AppRequest(district=district, app=app, requester_name="T", why="Reading")
    token = made.new_link_token()
    made.save()
    return {"slug": district.slug, "token": token}


# --- end software ---


# --- equity: inventory makers (helper) ---
def _device(school):
    from tests.factories import DeviceFactory

    return {"pk": DeviceFactory(school=school).pk}


def _device_lost(school):
    return {**_device(school), "action": "lost"}


# --- end equity: inventory makers ---


# --- googlesync makers (helper) ---
def _google_sync_run(school):
    from googlesync.models import SyncRun

    return {"pk": SyncRun.unscoped.create(district=school.district).pk}


def _device_google_disable(school):
    return {**_device(school), "action": "disable"}


# --- end googlesync makers ---


# --- equity: imports makers (helper) ---
def _import_job(school):
    from equity.imports.models import ImportJob

    return {"pk": ImportJob.objects.create(school=school, kind=ImportJob.Kind.DEVICES).pk}


# --- end equity: imports makers ---


# --- rostering makers ---
def _roster_source(school):
    from rostering.models import RosterSource

    return {"pk": RosterSource.objects.get_or_create(district=school.district, kind="edfi")[0].pk}


def _roster_run(school):
    from rostering.models import RosterRun, RosterSource

    source = RosterSource.objects.get_or_create(district=school.district, kind="edfi")[0]
    run = RosterRun.objects.create(
        district=school.district, source=source, trigger="page", status="previewed"
    )
    return {"pk": run.pk}


# --- end rostering makers ---


# --- equity: device year makers (helper) ---
def _handout_day(school):
    from tests.factories import StationEventFactory

    return {"pk": StationEventFactory(school=school, kind="handout").pk}


def _collection_day(school):
    from tests.factories import StationEventFactory

    return {"pk": StationEventFactory(school=school, kind="collection").pk}


def _assignment(school):
    from tests.factories import open_assignment

    return {"pk": open_assignment(school).pk}


def _signed_assignment(school):
    from equity.year import services as year_services
    from equity.year.models import DeviceAgreement
    from tests.factories import open_assignment

    assignment = open_assignment(school)
    DeviceAgreement.objects.get_or_create(
        district=school.district, version=1, defaults={"text": "Keep it charged."}
    )
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 40
    year_services.accept_signed(assignment=assignment, signature=png, signer="family")
    return {"pk": assignment.pk}


def _charge(school):
    from decimal import Decimal

    from equity.year import services as year_services
    from equity.year.models import PriceListEntry
    from tests.factories import open_assignment

    assignment = open_assignment(school)
    PriceListEntry.objects.get_or_create(
        district=school.district, kind="loss", device_model=None, defaults={"amount": Decimal(9)}
    )
    charge = year_services.charge_assess(
        device=assignment.device, student=assignment.student, kind="loss", by=None
    )
    return {"pk": charge.pk}


# --- end equity: device year makers ---


# --- pd (helper) ---
def _pd_session(school):
    from tests.factories import PDSessionFactory

    return {"pk": PDSessionFactory(schools=[school]).pk}


def _pd_poll(school):
    from tests.factories import PDNeedsPollFactory

    return {"pk": PDNeedsPollFactory(school=school).pk}


# --- end pd ---


# --- stakeholders (helper) ---
def _survey(school):
    from tests.factories import SurveyFactory

    return {"pk": SurveyFactory(schools=[school]).pk}


def _survey_link(school):
    from tests.factories import SurveyFactory

    survey = SurveyFactory(schools=[school])
    return {"pk": survey.invitations.create(kind="audience", audience="families").pk}


def _question(school):
    from tests.factories import QuestionFactory, SurveyFactory

    return {"pk": QuestionFactory(survey=SurveyFactory(schools=[school])).pk}


def _story(school):
    from tests.factories import StoryFactory

    return {"pk": StoryFactory(school=school).pk}


def _partnership(school):
    from tests.factories import PartnershipFactory

    return {"pk": PartnershipFactory(school=school).pk}


# --- end stakeholders ---
# --- initiatives (helper) ---
def _initiative(school):
    from tests.factories import InitiativeFactory

    return {"pk": InitiativeFactory(schools=[school]).pk}


def _milestone(school):
    from tests.factories import MilestoneFactory

    return {"pk": MilestoneFactory(initiative_id=_initiative(school)["pk"]).pk}


def _budget_line(school):
    from tests.factories import BudgetLineFactory

    return {"pk": BudgetLineFactory(initiative_id=_initiative(school)["pk"]).pk}


def _compliance_item(school):
    from tests.factories import ComplianceItemFactory

    return {"pk": ComplianceItemFactory(initiative_id=_initiative(school)["pk"]).pk}


def _swot(school):
    from tests.factories import SwotFactory

    return {"pk": SwotFactory(school=school).pk}


# --- end initiatives ---


# --- api (helper) ---
@dataclass(frozen=True)
class Api:
    """A route of the REST API, checked with a bearer token (tests/test_scoping_matrix.py).

    ``make`` is None for a list (its items must never be another school's); otherwise
    ``make(school)`` creates an object of ``school`` and returns the route's kwargs."""

    make: Callable[..., dict] | None = None
    methods: tuple[str, ...] = ("GET",)
    level: str = "school"


def _school_scored(school):
    from tests.factories import ReadinessSnapshotFactory

    ReadinessSnapshotFactory(school=school)
    return _school(school)


def _device_model(school):
    from tests.factories import DeviceModelFactory

    return {"pk": DeviceModelFactory(district=school.district).pk}


def _student(school):
    from tests.factories import StudentFactory

    return {"pk": StudentFactory(school=school).pk}


def _device_event(school):
    from equity.inventory.models import DeviceEvent
    from tests.factories import open_assignment

    device = open_assignment(school).device_id
    return {"pk": DeviceEvent.objects.filter(device_id=device).values_list("pk", flat=True)[0]}


# --- end api ---
# --- identity: sign-in providers (helper) ---
def _provider(school, kind="oidc"):
    from identity.models import Provider

    provider = Provider(
        district=school.district,
        kind=kind,
        name=f"Provider of {school.district.name}",
        key=f"d{school.district_id}-{kind}-{Provider.objects.count()}",
        server_url="https://idp.example.org",
        client_id="client-id",
        idp_entity_id="https://idp.example.org/saml",
        idp_sso_url="https://idp.example.org/sso",
        idp_x509cert="MIIBfake",
    )
    provider.set_secret("scoping-secret")
    provider.save()
    return provider


def _provider_pk(school):
    return {"pk": _provider(school).pk}


def _oidc_key(school):
    return {"provider_id": _provider(school).key}


def _saml_key(school):
    return {"organization_slug": _provider(school, "saml").key}


# allauth's endpoints: public, and named by a district's provider. Those that answer only
# the next step of a sign-in refuse a bare request with allauth's error page.
SIGN_IN_STEPS = {
    "openid_connect_callback": 401,  # no state: not the answer to a sign-in we started
    "saml_finish_acs": 401,  # no response posted to the ACS first
    "saml_sls": 400,  # no logout request or response
}
# --- end identity ---


CASES: dict[str, object] = {
    "healthz": PUBLIC,
    # accounts
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,
    "accounts:password_reset_complete": PUBLIC,
    "accounts:password_change": SIGNED_IN,
    "accounts:password_change_done": SIGNED_IN,
    # --- accounts: two-factor and switching accounts off (helper, issue 9) ---
    "accounts:two_factor": SIGNED_IN,
    "accounts:two_factor_setup": SIGNED_IN,
    "accounts:two_factor_verify": SIGNED_IN,
    "accounts:user_deactivate": Scoped(_membership, methods=("POST",), level="district"),
    "accounts:user_reactivate": Scoped(_membership, methods=("POST",), level="district"),
    # --- end accounts: two-factor and switching accounts off ---
    "accounts:members": Scoped(_district, level="district"),
    "accounts:invite": Scoped(_district, methods=("GET", "POST"), level="district"),
    "accounts:membership_remove": Scoped(_membership, methods=("POST",), level="district"),
    "accounts:membership_resend": Scoped(_membership, methods=("POST",), level="district"),
    # schools
    "today:home": SIGNED_IN,
    "today:settings": SIGNED_IN,
    # A signed token names the person and the kind; it works without signing in (RFC 8058).
    "today:unsubscribe": PUBLIC,
    "schools:school_list": SIGNED_IN,
    "schools:school_detail": Scoped(_school),
    "schools:school_edit": Scoped(_school, methods=("GET", "POST")),
    "schools:staff_list": Scoped(_school),
    "schools:staff_add": Scoped(_school, methods=("GET", "POST")),
    "schools:staff_edit": Scoped(_staff, methods=("GET", "POST")),
    "schools:district_settings": Scoped(_district, methods=("GET", "POST"), level="district"),
    # The type-ahead's matches: the scope's rows only (tests/schools/test_typeahead.py).
    "schools:search": SIGNED_IN,
    # --- rostering ---
    "rostering:district": Scoped(_district, level="district"),
    "rostering:source_add": Scoped(_district, methods=("GET", "POST"), level="district"),
    "rostering:source": Scoped(_roster_source, methods=("GET", "POST"), level="district"),
    "rostering:source_run": Scoped(_roster_source, methods=("POST",), level="district"),
    "rostering:run": Scoped(_roster_run, level="district"),
    "rostering:run_apply": Scoped(_roster_run, methods=("POST",), level="district"),
    # --- end rostering ---
    # --- equity: inventory (helper) ---
    "equity:inventory": SIGNED_IN,
    # POST acts on the ticked devices; GET shows the selection for a second look.
    "equity:devices_bulk": SIGNED_IN,
    "equity:device_detail": Scoped(_device),
    "equity:device_action": Scoped(_device_lost, methods=("POST",)),
    "equity:checkout": Scoped(_school, methods=("GET", "POST")),
    "equity:checkin": Scoped(_school, methods=("GET", "POST")),
    "equity:audit": Scoped(_school, methods=("GET", "POST")),
    "equity:device_add": Scoped(_school, methods=("GET", "POST")),
    "equity:coverage": Scoped(_school),
    "equity:district_coverage": Scoped(_district, level="district"),
    "equity:school_losses": Scoped(_school),
    "equity:district_losses": Scoped(_district, level="district"),
    "equity:device_models": Scoped(_district, level="district"),
    "equity:device_model_add": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- end equity: inventory ---
    # --- equity: imports (helper) ---
    "equity:import_devices": Scoped(_school, methods=("GET", "POST")),
    "equity:import_students": Scoped(_school, methods=("GET", "POST")),
    "equity:import_job": Scoped(_import_job),
    "equity:import_job_errors": Scoped(_import_job),
    # --- end equity: imports ---
    # --- equity: device year (helper) ---
    "equity:station_events": Scoped(_school, methods=("GET", "POST")),
    "equity:handout_station": Scoped(_handout_day, methods=("GET", "POST")),
    "equity:collection_station": Scoped(_collection_day, methods=("GET", "POST")),
    "equity:assignment_acceptance": Scoped(_assignment, methods=("GET", "POST")),
    "equity:acceptance_signature": Scoped(_signed_assignment),
    "equity:acceptance_print": Scoped(_signed_assignment),
    "equity:accept": PUBLIC,
    "equity:charges": Scoped(_school, methods=("GET", "POST")),
    "equity:charge_resolve": Scoped(_charge, methods=("POST",)),
    "equity:rollover": Scoped(_district, methods=("GET", "POST"), level="district"),
    "equity:year_settings": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- end equity: device year ---
    # --- pd (helper) ---
    "pd:session_list": SIGNED_IN,
    "pd:calendar": SIGNED_IN,
    "pd:session_new": SIGNED_IN,
    "pd:reports": SIGNED_IN,
    "pd:session_detail": Scoped(_pd_session),
    "pd:session_edit": Scoped(_pd_session, methods=("GET", "POST")),
    "pd:attendance": Scoped(_pd_session, methods=("POST",)),
    "pd:checkin_qr": Scoped(_pd_session),
    "pd:checkin_toggle": Scoped(_pd_session, methods=("POST",)),
    "pd:feedback_request": Scoped(_pd_session, methods=("POST",)),
    "pd:roster_partial": Scoped(_school),
    "pd:leaders": Scoped(_school, methods=("GET", "POST")),
    "pd:polls": Scoped(_school, methods=("GET", "POST")),
    "pd:poll_results": Scoped(_pd_poll),
    "pd:checkin": PUBLIC,
    "pd:checkin_code": PUBLIC,
    "pd:feedback": PUBLIC,
    "pd:feedback_link": PUBLIC,
    "pd:feedback_personal": PUBLIC,
    "pd:poll_answer": PUBLIC,
    # --- end pd ---
    # --- stakeholders (helper) ---
    "stakeholders:home": SIGNED_IN,
    "stakeholders:survey_new": SIGNED_IN,
    "stakeholders:survey_detail": Scoped(_survey),
    "stakeholders:survey_edit": Scoped(_survey, methods=("GET", "POST")),
    "stakeholders:survey_close": Scoped(_survey, methods=("POST",)),
    "stakeholders:survey_preview": Scoped(_survey),
    "stakeholders:question_add": Scoped(_survey, methods=("GET", "POST")),
    "stakeholders:question_edit": Scoped(_question, methods=("GET", "POST")),
    "stakeholders:question_move": Scoped(_question, methods=("POST",)),
    "stakeholders:question_delete": Scoped(_question, methods=("POST",)),
    "stakeholders:survey_links": Scoped(_survey, methods=("GET", "POST")),
    "stakeholders:link_qr": Scoped(_survey_link),
    "stakeholders:link_handout": Scoped(_survey_link),
    "stakeholders:survey_results": Scoped(_survey),
    "stakeholders:survey_export": Scoped(_survey),
    "stakeholders:survey_you_said": Scoped(_survey, methods=("GET", "POST")),
    "stakeholders:community": Scoped(_school),
    "stakeholders:story_add": Scoped(_school, methods=("GET", "POST")),
    "stakeholders:story_edit": Scoped(_story, methods=("GET", "POST")),
    "stakeholders:partnership_add": Scoped(_school, methods=("GET", "POST")),
    "stakeholders:partnership_edit": Scoped(_partnership, methods=("GET", "POST")),
    "stakeholders:plan_edit": Scoped(_school, methods=("GET", "POST")),
    "stakeholders:log_add": Scoped(_school, methods=("POST",)),
    "stakeholders:respond": PUBLIC,
    "stakeholders:thanks": PUBLIC,
    # --- end stakeholders ---
    # --- initiatives (helper) ---
    "initiatives:list": SIGNED_IN,
    "initiatives:new": SIGNED_IN,
    "initiatives:detail": Scoped(_initiative),
    "initiatives:edit": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:move": Scoped(_initiative, methods=("POST",)),
    "initiatives:summary": Scoped(_initiative),
    "initiatives:budget_export": Scoped(_initiative),
    "initiatives:milestone_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:milestone_edit": Scoped(_milestone, methods=("GET", "POST")),
    "initiatives:budget_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:budget_edit": Scoped(_budget_line, methods=("GET", "POST")),
    "initiatives:signoff_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:compliance_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:compliance_edit": Scoped(_compliance_item, methods=("GET", "POST")),
    "initiatives:school": Scoped(_school),
    "initiatives:swot_list": Scoped(_school, methods=("GET", "POST")),
    "initiatives:swot_edit": Scoped(_swot, methods=("GET", "POST")),
    "initiatives:reflections": Scoped(_school, methods=("GET", "POST")),
    # --- end initiatives ---
    # --- readiness (helper) ---
    "readiness:index": SIGNED_IN,
    "readiness:school": Scoped(_school),
    "readiness:school_status": Scoped(_school),
    "readiness:school_recompute": Scoped(_school, methods=("POST",)),
    "readiness:district": Scoped(_district, level="district"),
    "readiness:district_recompute": Scoped(_district, methods=("POST",), level="district"),
    "readiness:targets": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- end readiness ---
    # --- identity (helper) ---
    "identity:start": PUBLIC,
    "identity:settings": Scoped(_district, methods=("GET", "POST"), level="district"),
    "identity:provider_new": Scoped(_district, methods=("GET", "POST"), level="district"),
    "identity:provider_edit": Scoped(_provider_pk, methods=("GET", "POST"), level="district"),
    "identity:provider_delete": Scoped(_provider_pk, methods=("POST",), level="district"),
    "openid_connect_login": PUBLIC,
    "openid_connect_callback": PUBLIC,
    "saml_login": PUBLIC,
    "saml_acs": PUBLIC,
    "saml_finish_acs": PUBLIC,
    "saml_sls": PUBLIC,
    "saml_metadata": PUBLIC,
    "socialaccount_login_cancelled": PUBLIC,
    "socialaccount_login_error": PUBLIC,
    # --- end identity ---
    # --- audit (helper) ---
    "audit:log": Scoped(_district, level="district"),
    "audit:privacy": Scoped(_district, methods=("GET", "POST"), level="district"),
    # --- end audit ---
    # --- api (helper) ---
    "api:schema": PUBLIC,
    "api:docs": PUBLIC,
    "api:tokens": SIGNED_IN,
    "api:school-list": Api(),
    "api:school-detail": Api(_school),
    "api:school-readiness": Api(_school_scored),
    "api:school-readiness-history": Api(_school),
    "api:school-coverage": Api(_school),
    "api:device_model-list": Api(),
    "api:device_model-detail": Api(_device_model, level="district"),
    "api:device-list": Api(methods=("GET", "POST")),
    "api:device-detail": Api(_device),
    "api:device-report-lost": Api(_device, methods=("POST",)),
    "api:device-report-stolen": Api(_device, methods=("POST",)),
    "api:device-send-to-repair": Api(_device, methods=("POST",)),
    "api:device-back-from-repair": Api(_device, methods=("POST",)),
    "api:device-recovered": Api(_device, methods=("POST",)),
    "api:student-list": Api(),
    "api:student-detail": Api(_student),
    "api:assignment-list": Api(methods=("GET", "POST")),
    "api:assignment-detail": Api(_assignment),
    "api:assignment-check-in": Api(_assignment, methods=("POST",)),
    "api:device_event-list": Api(),
    "api:device_event-detail": Api(_device_event),
    "api:pd_session-list": Api(),
    "api:pd_session-detail": Api(_pd_session),
    "api:pd_session-attendance": Api(_pd_session, methods=("POST",)),
    "api:survey-list": Api(),
    "api:survey-detail": Api(_survey),
    "api:survey-results": Api(_survey),
    "api:initiative-list": Api(),
    "api:initiative-detail": Api(_initiative),
    # --- end api ---
    # --- googlesync (helper) ---
    "googlesync:connection": Scoped(_district, methods=("GET", "POST"), level="district"),
    "googlesync:org_units": Scoped(_district, methods=("GET", "POST"), level="district"),
    "googlesync:sync_now": Scoped(_district, methods=("POST",), level="district"),
    "googlesync:reports": Scoped(_district, level="district"),
    "googlesync:run": Scoped(_google_sync_run, level="district"),
    "googlesync:device_action": Scoped(_device_google_disable, methods=("POST",)),
    # --- end googlesync ---
    # --- software ---
    "software:app_list": SIGNED_IN,
    "software:request_list": SIGNED_IN,
    "software:request_new": SIGNED_IN,
    "software:app_detail": Scoped(_app, level="district"),
    "software:app_edit": Scoped(_app, methods=("GET", "POST"), level="district"),
    "software:app_decide": Scoped(_app, methods=("GET", "POST"), level="district"),
    "software:app_create": Scoped(_district, methods=("GET", "POST"), level="district"),
    "software:app_import": Scoped(_district, methods=("GET", "POST"), level="district"),
    "software:app_export": Scoped(_district, level="district"),
    "software:step_list": Scoped(_district, methods=("GET", "POST"), level="district"),
    "software:step_edit": Scoped(_review_step, methods=("GET", "POST"), level="district"),
    "software:request_detail": Scoped(_app_request, methods=("GET", "POST"), level="district"),
    "software:request_withdraw": Scoped(_app_request, methods=("POST",), level="district"),
    "software:public_register": PUBLIC,
    "software:public_request": PUBLIC,
    "software:public_request_status": PUBLIC,
    # --- end software ---
}

# Public URLs that need arguments to be reversed.
PUBLIC_KWARGS = {
    "today:unsubscribe": {"token": "no-such-unsubscribe-token"},
    "accounts:password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
    # --- pd (helper) ---
    "pd:checkin": {"token": "no-such-check-in-token"},
    "pd:checkin_code": {"token": "no-such-check-in-token"},
    "pd:feedback": {"token": "no-such-feedback-token"},
    "pd:feedback_link": {"token": "no-such-feedback-token"},
    "pd:feedback_personal": {"token": "no-such-personal-link"},
    "pd:poll_answer": {"token": "no-such-poll-token"},
    # --- end pd ---
    # --- stakeholders (helper) ---
    "stakeholders:respond": {"token": "no-such-survey-token"},
    "stakeholders:thanks": {"token": "no-such-survey-token"},
    # --- end stakeholders ---
    # --- initiatives (helper) ---
    "initiatives:list": SIGNED_IN,
    "initiatives:new": SIGNED_IN,
    "initiatives:detail": Scoped(_initiative),
    "initiatives:edit": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:move": Scoped(_initiative, methods=("POST",)),
    "initiatives:summary": Scoped(_initiative),
    "initiatives:budget_export": Scoped(_initiative),
    "initiatives:milestone_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:milestone_edit": Scoped(_milestone, methods=("GET", "POST")),
    "initiatives:budget_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:budget_edit": Scoped(_budget_line, methods=("GET", "POST")),
    "initiatives:signoff_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:compliance_add": Scoped(_initiative, methods=("GET", "POST")),
    "initiatives:compliance_edit": Scoped(_compliance_item, methods=("GET", "POST")),
    "initiatives:school": Scoped(_school),
    "initiatives:swot_list": Scoped(_school, methods=("GET", "POST")),
    "initiatives:swot_edit": Scoped(_swot, methods=("GET", "POST")),
    "initiatives:reflections": Scoped(_school, methods=("GET", "POST")),
    # --- end initiatives ---
    # --- equity: device year (helper) ---
    "equity:accept": {"token": "no-such-agreement-token"},
    # --- end equity: device year ---
    # --- identity (helper): made for a school's district ---
    "openid_connect_login": _oidc_key,
    "openid_connect_callback": _oidc_key,
    "saml_login": _saml_key,
    "saml_acs": _saml_key,
    "saml_finish_acs": _saml_key,
    "saml_sls": _saml_key,
    "saml_metadata": _saml_key,
    # --- end identity ---
    # A callable makes the object the public page is about (a district's public list).
    "software:public_register": _public_district,
    "software:public_request": _public_district,
    "software:public_request_status": _public_request_link,
}
