"""Stakeholder pages. Principals and district admins build, send and read surveys;
principals, coaches and district admins record stories; principals and district admins keep
partnerships, the communication plan and its log. Who may do what: docs/stakeholders.md.

Objects come through the scoped managers (``@scoped_object``: another school's object
answers 404); the capabilities of ``stakeholders.permissions`` then answer 403. The
respondent pages (``respond``, ``thanks``) need no account and only reach the invitation
their token names.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from schools.exports import csv_response
from schools.models import School
from schools.pagination import ForwardPaginator
from schools.permissions import schools_q
from schools.scoping import scoped_object
from schools.selectors import SCHOOLS_PER_PAGE
from schools.web import absolute_url, qr_svg

from . import selectors, services
from .forms import (
    CommunityPickForm,
    ExpectedForm,
    LogForm,
    PartnershipForm,
    PersonLinksForm,
    PlanForm,
    QuestionForm,
    RespondForm,
    StoryForm,
    SurveyForm,
    SurveyNewForm,
    YouSaidForm,
)
from .models import (
    CommunicationPlan,
    Invitation,
    InvitationKind,
    Language,
    Partnership,
    Question,
    Story,
    Survey,
)
from .permissions import can_manage_community, can_run_surveys, can_tell_stories

PER_PAGE = 25


def _manageable(access):
    """Schools where the user may run surveys (all visible ones for a superuser); a
    district run whole is named as a district, not as its 1,800 schools."""
    return School.objects.order_by("name").filter(schools_q(access, can_run_surveys))


def _require_survey_role(access, survey: Survey) -> list[School]:
    """403 unless the user runs surveys at one of the survey's schools they can see."""
    schools = list(School.objects.filter(surveys=survey).order_by("name"))
    can_run_surveys.require_at_any(access, schools)
    return schools


# --- surveys --------------------------------------------------------------------------


@login_required
@require_GET
def home(request):
    access = request.access
    can_tell_stories.require(access)
    manageable = _manageable(access)
    links = Survey.schools.through.unscoped.filter(school__in=manageable)
    surveys = Survey.objects.filter(pk__in=links.values("survey_id"))
    # Never counted; the responses of the page's surveys alone.
    page = ForwardPaginator(selectors.surveys_list(surveys), PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = selectors.with_response_counts(page.object_list)
    # Each school's community page, linked one by one when they are a page's worth; a
    # district's schools are picked by type-ahead.
    storied = School.objects.order_by("name", "pk").filter(schools_q(access, can_tell_stories))
    pick = CommunityPickForm(request.GET if "school" in request.GET else None, schools=storied)
    if pick.is_bound and pick.is_valid():
        return redirect("stakeholders:community", pick.cleaned_data["school"].pk)
    schools = list(storied[: SCHOOLS_PER_PAGE + 1])
    return render(
        request,
        "stakeholders/home.html",
        {
            "page": page,
            "schools": schools[:SCHOOLS_PER_PAGE],
            "more_schools": len(schools) > SCHOOLS_PER_PAGE,
            "pick": pick,
            "can_survey": can_run_surveys(access),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_new(request):
    can_run_surveys.require(request.access)
    form = SurveyNewForm(request.POST or None, schools=_manageable(request.access))
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(
                survey=form.save(commit=False),
                schools=form.cleaned_data["schools"],
                audiences=form.cleaned_data["audiences"],
                starter=form.cleaned_data["starter"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"“{survey.title}” was created. Review its questions.")
            return redirect(survey)
    return render(request, "stakeholders/survey_form.html", {"form": form})


def _surveys():
    return Survey.objects.select_related("initiative")


@scoped_object(_surveys)
def survey_detail(request, survey):
    schools = _require_survey_role(request.access, survey)
    links = selectors.survey_links(survey)
    return render(
        request,
        "stakeholders/survey_detail.html",
        {
            "survey": survey,
            "schools": schools,
            "questions": selectors.survey_questions(survey),
            "locked": survey.has_responses(),
            "audience_links": [
                (link, absolute_url(link.path()))
                for link in links
                if link.kind == InvitationKind.AUDIENCE
            ],
            "person_links": [
                (link, absolute_url(link.path())) for link in links if link.kind == "person"
            ],
            "question_form": QuestionForm(),
        },
    )


@scoped_object(_surveys, methods=["GET", "POST"])
def survey_edit(request, survey):
    _require_survey_role(request.access, survey)
    manageable = _manageable(request.access)
    form = SurveyForm(request.POST or None, instance=survey, schools=manageable)
    if request.method == "POST" and form.is_valid():
        kept = School.objects.filter(surveys=survey).exclude(pk__in=manageable.values("pk"))
        try:
            services.survey_update(
                survey=form.save(commit=False),
                schools=form.cleaned_data["schools"],
                audiences=form.cleaned_data["audiences"],
                kept=list(kept),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The survey was saved.")
            return redirect(survey)
    return render(request, "stakeholders/survey_form.html", {"form": form, "survey": survey})


@scoped_object(_surveys, methods=["POST"])
def survey_close(request, survey):
    _require_survey_role(request.access, survey)
    try:
        services.survey_close(survey=survey)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The survey is closed; its links now say so.")
    return redirect(survey)


@scoped_object(_surveys)
def survey_preview(request, survey):
    _require_survey_role(request.access, survey)
    language = request.GET.get("lang", "en")
    if language not in survey.languages():
        language = Language.ENGLISH
    questions = selectors.survey_questions(survey)
    with translation.override(language):
        form = RespondForm(questions=questions, language=language)
        return render(
            request,
            "stakeholders/respond.html",
            {
                "survey": survey,
                "form": form,
                "language": language,
                "preview": True,
                "languages": _language_links(request.path, survey),
            },
        )


# --- questions ------------------------------------------------------------------------


@scoped_object(_surveys, methods=["GET", "POST"])
def question_add(request, survey):
    _require_survey_role(request.access, survey)
    form = QuestionForm(request.POST or None, instance=Question(survey=survey))
    if request.method == "POST" and form.is_valid():
        try:
            services.question_save(question=form.save(commit=False), choices=form.choice_pairs)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The question was added.")
            return redirect(survey)
    return render(request, "stakeholders/question_form.html", {"form": form, "survey": survey})


def _questions():
    return Question.objects.select_related("survey")


@scoped_object(_questions, methods=["GET", "POST"])
def question_edit(request, question):
    survey = question.survey
    _require_survey_role(request.access, survey)
    form = QuestionForm(request.POST or None, instance=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.question_save(question=form.save(commit=False), choices=form.choice_pairs)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The question was saved.")
            return redirect(survey)
    return render(
        request,
        "stakeholders/question_form.html",
        {"form": form, "survey": survey, "question": question},
    )


@scoped_object(_questions, methods=["POST"])
def question_move(request, question):
    _require_survey_role(request.access, question.survey)
    try:
        services.question_move(question=question, up=request.POST.get("direction") == "up")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(f"{question.survey.get_absolute_url()}#question-{question.pk}")


@scoped_object(_questions, methods=["POST"])
def question_delete(request, question):
    survey = question.survey
    _require_survey_role(request.access, survey)
    try:
        services.question_delete(question=question)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The question was removed.")
    return redirect(survey)


# --- links ----------------------------------------------------------------------------


@scoped_object(_surveys, methods=["GET", "POST"])
def survey_links(request, survey):
    _require_survey_role(request.access, survey)
    audience_links = [
        link for link in selectors.survey_links(survey) if link.kind == InvitationKind.AUDIENCE
    ]
    audiences = [link.audience for link in audience_links]
    expected_form = ExpectedForm(
        request.POST if "expected" in request.POST else None, links=audience_links
    )
    people_form = PersonLinksForm(
        request.POST if "people" in request.POST else None, audiences=audiences
    )
    if request.method == "POST":
        try:
            if "expected" in request.POST and expected_form.is_valid():
                services.expected_update(survey=survey, expected=expected_form.cleaned_data)
                messages.success(request, "Expected respondents were saved.")
                return redirect("stakeholders:survey_links", pk=survey.pk)
            if "people" in request.POST and people_form.is_valid():
                added = services.person_links_add(
                    survey=survey,
                    audience=people_form.cleaned_data["audience"],
                    people=people_form.cleaned_data["people"],
                )
                messages.success(request, f"{added} personal link{'s' * (added != 1)} created.")
                return redirect("stakeholders:survey_links", pk=survey.pk)
        except ValidationError as exc:
            form = expected_form if "expected" in request.POST else people_form
            form.add_error(None, exc)
    links = selectors.survey_links(survey)
    return render(
        request,
        "stakeholders/survey_links.html",
        {
            "survey": survey,
            "expected_form": expected_form,
            "people_form": people_form,
            "links": [(link, absolute_url(link.path())) for link in links],
        },
        status=400 if request.method == "POST" else 200,
    )


def _invitations():
    return Invitation.objects.select_related("survey")


def _link_title(invitation: Invitation) -> str:
    return f"{invitation.survey.title}: link for {invitation}"


@scoped_object(_invitations)
def link_qr(request, invitation):
    """The QR code of one survey link, as an SVG image (for the links page and handouts)."""
    _require_survey_role(request.access, invitation.survey)
    svg = qr_svg(absolute_url(invitation.path()), title=f"QR code of {_link_title(invitation)}")
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@scoped_object(_invitations)
def link_handout(request, invitation):
    """A page to print and hand out: what the survey is for, its QR code and address."""
    _require_survey_role(request.access, invitation.survey)
    return render(
        request,
        "stakeholders/link_handout.html",
        {
            "invitation": invitation,
            "survey": invitation.survey,
            "url": absolute_url(invitation.path()),
        },
    )


# --- results --------------------------------------------------------------------------


@scoped_object(_surveys)
def survey_results(request, survey):
    _require_survey_role(request.access, survey)
    data = selectors.results(survey)
    return render(
        request,
        "stakeholders/survey_results.html",
        {
            "survey": survey,
            **data,
            "chart": selectors.likert_chart(data["likert"]),
            "likert_labels": selectors.LIKERT_LABELS,
        },
    )


@scoped_object(_surveys)
def survey_export(request, survey):
    _require_survey_role(request.access, survey)
    return csv_response(
        f"survey-{survey.pk}-results.csv",
        selectors.EXPORT_HEADER,
        selectors.results_rows(selectors.results(survey)),
    )


@scoped_object(_surveys, methods=["GET", "POST"])
def survey_you_said(request, survey):
    _require_survey_role(request.access, survey)
    form = YouSaidForm(request.POST or None, instance=survey)
    if request.method == "POST" and form.is_valid():
        services.you_said_save(
            survey=survey,
            text=form.cleaned_data["you_said"],
            text_es=form.cleaned_data["you_said_es"],
        )
        messages.success(request, "Your note was saved; respondents see it on the survey link.")
        return redirect("stakeholders:survey_results", pk=survey.pk)
    return render(request, "stakeholders/you_said.html", {"form": form, "survey": survey})


# --- the respondent's pages (no account) ------------------------------------------------


def _language_links(path: str, survey: Survey) -> list[tuple[str, str, str]]:
    return [(code, Language(code).label, f"{path}?lang={code}") for code in survey.languages()]


def _respondent_language(request, survey: Survey | None) -> str:
    wanted = request.POST.get("lang") or request.GET.get("lang") or request.LANGUAGE_CODE
    wanted = (wanted or "en")[:2]
    offered = survey.languages() if survey else [Language.ENGLISH, Language.SPANISH]
    return wanted if wanted in offered else Language.ENGLISH


@require_http_methods(["GET", "POST"])
def respond(request, token):
    invitation = services.invitation_by_token(token)
    survey = invitation.survey if invitation else None
    language = _respondent_language(request, survey)
    with translation.override(language):
        if invitation is None:
            return render(request, "stakeholders/link_unknown.html", {"language": language})
        context = {
            "survey": survey,
            "language": language,
            "languages": _language_links(request.path, survey),
        }
        if survey.is_closed() or not survey.is_open():
            return render(request, "stakeholders/respond_closed.html", context)
        if invitation.used_on is not None:
            return render(request, "stakeholders/respond_used.html", context)
        questions = selectors.respondent_questions(survey)
        form = RespondForm(request.POST or None, questions=questions, language=language)
        if request.method == "POST" and form.is_valid():
            try:
                services.response_submit(
                    invitation=invitation, answers=form.answers(), language=language
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return redirect(f"{reverse('stakeholders:thanks', args=[token])}?lang={language}")
        context["form"] = form
        return render(
            request,
            "stakeholders/respond.html",
            context,
            status=400 if request.method == "POST" else 200,
        )


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_GET
def thanks(request, token):
    invitation = services.invitation_by_token(token)
    survey = invitation.survey if invitation else None
    language = _respondent_language(request, survey)
    with translation.override(language):
        if invitation is None:
            return render(request, "stakeholders/link_unknown.html", {"language": language})
        return render(request, "stakeholders/thanks.html", {"survey": survey, "language": language})


# --- community records ----------------------------------------------------------------


@scoped_object(School)
def community(request, school):
    can_tell_stories.require(request.access, school=school)
    data = selectors.community(school)
    return render(
        request,
        "stakeholders/community.html",
        {
            "school": school,
            **data,
            "money": selectors.partnerships_money(data["partnerships"]),
            "can_manage": can_manage_community(request.access, school),
            "log_form": LogForm(),
        },
    )


def _story_form_view(request, school, story):
    form = StoryForm(request.POST or None, instance=story)
    if request.method == "POST" and form.is_valid():
        try:
            services.story_save(
                story=form.save(commit=False),
                roles=form.cleaned_data["roles"],
                shares=form.shares(),
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The story was saved.")
            return redirect("stakeholders:community", pk=school.pk)
    return render(
        request, "stakeholders/story_form.html", {"form": form, "school": school, "story": story}
    )


@scoped_object(School, methods=["GET", "POST"])
def story_add(request, school):
    can_tell_stories.require(request.access, school=school)
    return _story_form_view(request, school, Story(school=school))


@scoped_object(lambda: Story.objects.select_related("school"), methods=["GET", "POST"])
def story_edit(request, story):
    can_tell_stories.require(request.access, school=story.school)
    return _story_form_view(request, story.school, story)


def _partnership_form_view(request, school, partnership):
    form = PartnershipForm(request.POST or None, instance=partnership)
    if request.method == "POST" and form.is_valid():
        try:
            services.partnership_save(
                partnership=form.save(commit=False), benefits=form.cleaned_data["benefits"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The partnership was saved.")
            return redirect("stakeholders:community", pk=school.pk)
    return render(
        request,
        "stakeholders/partnership_form.html",
        {"form": form, "school": school, "partnership": partnership},
    )


@scoped_object(School, methods=["GET", "POST"])
def partnership_add(request, school):
    can_manage_community.require(request.access, school=school)
    return _partnership_form_view(request, school, Partnership(school=school))


@scoped_object(lambda: Partnership.objects.select_related("school"), methods=["GET", "POST"])
def partnership_edit(request, partnership):
    can_manage_community.require(request.access, school=partnership.school)
    return _partnership_form_view(request, partnership.school, partnership)


@scoped_object(School, methods=["GET", "POST"])
def plan_edit(request, school):
    can_manage_community.require(request.access, school=school)
    plan = CommunicationPlan.objects.filter(school=school).first() or CommunicationPlan(
        school=school
    )
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_save(
                plan=form.save(commit=False),
                channels=form.cleaned_data["channels"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The communication plan was saved.")
            return redirect("stakeholders:community", pk=school.pk)
    return render(request, "stakeholders/plan_form.html", {"form": form, "school": school})


@scoped_object(School, methods=["POST"])
def log_add(request, school):
    can_manage_community.require(request.access, school=school)
    form = LogForm(request.POST)
    form.instance.school = school
    if form.is_valid():
        try:
            services.log_add(entry=form.save(commit=False), by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "The message was added to the log.")
            return redirect("stakeholders:community", pk=school.pk)
    return render(
        request, "stakeholders/log_form.html", {"form": form, "school": school}, status=400
    )
