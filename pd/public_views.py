"""PD's public pages: a token link answers without an account and only ever touches the
session or poll the token names (self check-in with a code e-mailed to the school address,
session feedback, the needs poll). The signed-in pages are in ``pd.views``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import (
    CheckinCodeForm,
    CheckInForm,
    FeedbackForm,
    FeedbackLinkForm,
    PollAnswerForm,
)
from .models import CODE_ATTEMPTS, CODE_LIFETIME, PDSession


def _public_session(session: PDSession) -> dict:
    return {"session": session, "school_names": selectors.session_school_names(session)}


def _link_invalid(request, what: str):
    # 200 rather than 404: the page is the answer, and says plainly what to do.
    return render(request, "pd/link_invalid.html", {"what": what})


# The visitor's check-in in progress (the session and the address a code went to), kept in
# their browser session between asking for a code and typing it.
PENDING_CHECKIN = "pd_checkin"


def _open_checkin(request, token):
    """(session, context, early response): the link's session, or the page that answers."""
    session = services.session_by_token(checkin_token=token)
    if session is None:
        return None, None, _link_invalid(request, "check-in")
    context = _public_session(session)
    if not session.checkin_open():
        return session, context, render(request, "pd/checkin_closed.html", context)
    return session, context, None


@require_http_methods(["GET", "POST"])
def checkin(request, token):
    """Step 1: the visitor types their school address; a code goes to it if it is on the
    roster. The answer is the same whether or not it is, and shows no name."""
    session, context, early = _open_checkin(request, token)
    if early is not None:
        return early
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = services.normalize_email(form.cleaned_data["email"])
        try:
            services.checkin_code_request(session=session, email=email)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            request.session[PENDING_CHECKIN] = {"session": session.pk, "email": email, "tries": 0}
            return redirect("pd:checkin_code", token=token)
    return render(request, "pd/checkin.html", {**context, "form": form})


@require_http_methods(["GET", "POST"])
def checkin_code(request, token):
    """Step 2: the code from the e-mail proves the address; only then is the person checked
    in and their name shown. This browser gets CODE_ATTEMPTS tries per address asked for
    (and each code as many, wherever they come from: pd.services.checkin_with_code)."""
    session, context, early = _open_checkin(request, token)
    if early is not None:
        return early
    pending = request.session.get(PENDING_CHECKIN)
    if not pending or pending.get("session") != session.pk:
        return redirect("pd:checkin", token=token)
    form = CheckinCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            attendance, new = services.checkin_with_code(
                session=session, email=pending["email"], code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            pending["tries"] = pending.get("tries", 0) + 1
            if pending["tries"] >= CODE_ATTEMPTS:
                del request.session[PENDING_CHECKIN]
                messages.error(request, "That was the last try for this code. Ask for a new one.")
                return redirect("pd:checkin", token=token)
            request.session[PENDING_CHECKIN] = pending
            form.add_error(None, exc)
        else:
            del request.session[PENDING_CHECKIN]
            context.update(
                {
                    "staff": attendance.staff,
                    "new": new,
                    "feedback_url": services.feedback_link_path(attendance),
                }
            )
            return render(request, "pd/checkin_done.html", context)
    resend = CheckInForm(initial={"email": pending["email"]})
    return render(
        request,
        "pd/checkin_code.html",
        {
            **context,
            "form": form,
            "email": pending["email"],
            "resend": resend,
            "minutes": int(CODE_LIFETIME.total_seconds() // 60),
        },
    )


def _feedback_session(request, token):
    session = services.session_by_token(feedback_token=token)
    if session is None:
        return None, _link_invalid(request, "feedback")
    return session, None


def _feedback_page(request, session, *, form, link_form=None, status=200, **extra):
    context = {**_public_session(session), "form": form, "link_form": link_form, **extra}
    return render(request, "pd/feedback.html", context, status=status)


@require_http_methods(["GET", "POST"])
def feedback(request, token):
    """The session's shared feedback link: anonymous answers only. Someone who wants to put
    their name to it asks for their personal link, which is e-mailed to them."""
    session, early = _feedback_session(request, token)
    if early is not None:
        return early
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.feedback_submit(
            session=session,
            rating=form.cleaned_data["rating"],
            will_apply=form.cleaned_data["will_apply"],
        )
        return render(request, "pd/feedback_done.html", _public_session(session))
    link_form = FeedbackLinkForm(prefix="link") if session.allow_named_feedback else None
    return _feedback_page(request, session, form=form, link_form=link_form)


@require_POST
def feedback_link(request, token):
    """E-mail an attendee their personal feedback link; the same answer for any address."""
    session, early = _feedback_session(request, token)
    if early is not None:
        return early
    link_form = FeedbackLinkForm(request.POST, prefix="link")
    if not session.allow_named_feedback or not link_form.is_valid():
        return _feedback_page(
            request, session, form=FeedbackForm(), link_form=link_form, status=400
        )
    services.feedback_link_request(session=session, email=link_form.cleaned_data["email"])
    context = {**_public_session(session), "email": link_form.cleaned_data["email"]}
    return render(request, "pd/feedback_link_sent.html", context)


@require_http_methods(["GET", "POST"])
def feedback_personal(request, token):
    """An attendee's own feedback link (e-mailed to them): their answer may carry their
    name, and answering again replaces their earlier answer."""
    attendance = services.attendance_by_feedback_link(token)
    if attendance is None:
        return _link_invalid(request, "feedback")
    session = attendance.session
    named = session.allow_named_feedback
    earlier = services.named_feedback_of(attendance) if named else None
    initial = {"rating": earlier.rating, "will_apply": earlier.will_apply} if earlier else None
    form = FeedbackForm(request.POST or None, initial=initial, named=named)
    if request.method == "POST" and form.is_valid():
        anonymous = not named or form.cleaned_data.get("anonymous", False)
        services.feedback_submit(
            session=session,
            rating=form.cleaned_data["rating"],
            will_apply=form.cleaned_data["will_apply"],
            staff=None if anonymous else attendance.staff,
        )
        return render(request, "pd/feedback_done.html", _public_session(session))
    return _feedback_page(request, session, form=form, staff=attendance.staff, earlier=earlier)


@require_http_methods(["GET", "POST"])
def poll_answer(request, token):
    poll = services.poll_by_token(token)
    if poll is None:
        return _link_invalid(request, "needs poll")
    context = {"poll": poll}
    if not poll.is_open():
        return render(request, "pd/poll_closed.html", context)
    form = PollAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.poll_answer(
                poll=poll, topics=form.cleaned_data["topics"], other=form.cleaned_data["other"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(request, "pd/poll_done.html", context)
    return render(request, "pd/poll_answer.html", {**context, "form": form})
