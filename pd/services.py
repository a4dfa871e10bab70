"""Writes of the PD app. Each validates first and writes in one transaction; every edit of a
session (its details or its attendance) records a PDSessionChange saying who changed what."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit import queue
from schools.models import School, StaffMember
from schools.scoping import scopes_disabled
from schools.web import absolute_url

from .models import (
    Attendance,
    AttendanceStatus,
    CheckinMode,
    Feedback,
    LearningLeader,
    PDNeedsChoice,
    PDNeedsPoll,
    PDNeedsResponse,
    PDSession,
    PDSessionChange,
    SessionPillar,
)
from .selectors import same_sessions

# Fields of a session whose edits are logged, with the label the log shows.
LOGGED_FIELDS = {
    "title": "Title",
    "date": "Date",
    "start_time": "Start time",
    "duration_minutes": "Duration (minutes)",
    "format": "Format",
    "job_embedded": "Job-embedded",
    "ongoing_series": "Ongoing series",
    "objective": "Learning objective",
    "pedagogical_why": "Pedagogical why",
    "tools_covered": "Tools covered",
    "facilitator_user": "Facilitator",
    "facilitator_staff": "Facilitator (Learning Leader)",
    "materials_url": "Materials link",
    "notes": "Notes",
    "initiative": "Initiative",
    "allow_named_feedback": "Named feedback allowed",
}

NOT_ON_ROSTER = (
    "This address is not on the staff roster of a school taking part in this session. "
    "Use the school e-mail address your school has for you."
)


def _check_facilitator(*, facilitator_user, facilitator_staff) -> None:
    if (facilitator_user is None) == (facilitator_staff is None):
        raise ValidationError({"facilitator": "Choose one facilitator."})
    if facilitator_staff is not None and not LearningLeader.objects.unscoped_ids_exist(
        staff=facilitator_staff
    ):
        raise ValidationError(
            {"facilitator": f"{facilitator_staff} is not a Learning Leader; nominate them first."}
        )


def _check_initiative(initiative, school_ids: set[int]) -> None:
    """A session serves an initiative of one of its own schools."""
    if initiative is None:
        return
    links = initiative.schools.through._default_manager.filter(
        initiative_id=initiative.pk, school_id__in=school_ids
    )
    if not links.exists():
        raise ValidationError(
            {"initiative": "Choose an initiative of one of the session's schools."}
        )


def _link_schools(session: PDSession, school_ids: set[int]) -> None:
    """Link the session to exactly these schools, through the join table.

    Written through the join table rather than ``session.schools.set()``: the related
    manager only sees the editor's schools, while this must act on every link, including
    those to schools outside the editor's scope that the caller keeps."""
    links = PDSession.schools.through.objects
    links.filter(pdsession=session).exclude(school_id__in=school_ids).delete()
    present = set(links.filter(pdsession=session).values_list("school_id", flat=True))
    links.bulk_create(
        links.model(pdsession_id=session.pk, school_id=i) for i in sorted(school_ids - present)
    )


def _display(session: PDSession, name: str) -> str:
    value = getattr(session, name)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "format":
        return session.get_format_display()
    return str(value)


class PossibleDuplicate(ValidationError):
    """The session looks already logged; ``sessions`` are the ones it looks like."""

    def __init__(self, sessions: list[PDSession]):
        super().__init__(
            "This session looks already logged. Open the existing one, or confirm that this "
            "is a different session.",
            code="duplicate",
        )
        self.sessions = sessions


@transaction.atomic
def session_log(
    *,
    session: PDSession,
    schools: Iterable[School],
    pillars: Iterable[str],
    attendees: Iterable[StaffMember],
    by,
    duplicate_ok: bool = False,
) -> PDSession:
    """Save a new session with its schools, pillars and attendees (all credited in full).

    A session that looks already logged (``selectors.same_sessions``) raises
    PossibleDuplicate unless ``duplicate_ok``: logging one twice credits its hours twice."""
    schools = list(schools)
    if not schools:
        raise ValidationError({"schools": "Choose at least one school."})
    if not duplicate_ok:
        same = same_sessions(
            schools=schools, day=session.date, title=session.title, start_time=session.start_time
        )
        if same:
            raise PossibleDuplicate(same)
    _check_facilitator(
        facilitator_user=session.facilitator_user, facilitator_staff=session.facilitator_staff
    )
    school_ids = {s.pk for s in schools}
    _check_initiative(session.initiative, school_ids)
    attendees = list(attendees)
    strangers = [a for a in attendees if a.school_id not in school_ids]
    if strangers:
        names = ", ".join(str(a) for a in strangers)
        raise ValidationError({"attendees": f"Not on the roster of the chosen schools: {names}."})
    session.created_by = by
    session.save()
    _link_schools(session, {s.pk for s in schools})
    SessionPillar.objects.bulk_create(
        SessionPillar(session=session, pillar=p) for p in dict.fromkeys(pillars)
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, staff=a, status=AttendanceStatus.ATTENDED, hours=session.hours)
        for a in attendees
    )
    return session


@transaction.atomic
def session_update(
    *, session: PDSession, data: dict, schools: Iterable[School], pillars: Iterable[str], by
) -> PDSessionChange | None:
    """Apply an edit and log each changed field as [old, new]; nothing logged if unchanged."""
    token = session.__dict__.get("_edit_token")  # the edit form's lock (EditGuard)
    session = PDSession.objects.select_for_update().get(pk=session.pk)
    if token is not None:
        session._edit_token = token
    changes: dict[str, list[str]] = {}
    for name, value in data.items():
        if name not in LOGGED_FIELDS:
            continue
        before = _display(session, name)
        setattr(session, name, value)
        after = _display(session, name)
        if before != after:
            changes[LOGGED_FIELDS[name]] = [before, after]
    _check_facilitator(
        facilitator_user=session.facilitator_user, facilitator_staff=session.facilitator_staff
    )
    schools = sorted(schools, key=lambda s: s.name)
    if not schools:
        raise ValidationError({"schools": "Choose at least one school."})
    _check_initiative(session.initiative, {s.pk for s in schools})
    # The schools the user sees; links to schools outside the scope are kept below.
    old_schools = sorted(School.objects.filter(pd_sessions=session), key=lambda s: s.name)
    if [s.pk for s in old_schools] != [s.pk for s in schools]:
        changes["Schools"] = [", ".join(map(str, old_schools)), ", ".join(map(str, schools))]
        # Schools outside the editor's scope stay linked: nobody removes what they cannot see.
        linked = PDSession.schools.through.objects.filter(pdsession=session)
        hidden = set(linked.values_list("school_id", flat=True)) - {s.pk for s in old_schools}
        _link_schools(session, {s.pk for s in schools} | hidden)
    pillar_rows = SessionPillar.objects.filter(session=session)
    old_pillars = sorted(pillar_rows.values_list("pillar", flat=True))
    new_pillars = sorted(set(pillars))
    if old_pillars != new_pillars:
        changes["Pillars"] = [", ".join(old_pillars) or "—", ", ".join(new_pillars) or "—"]
        pillar_rows.delete()
        SessionPillar.objects.bulk_create(
            SessionPillar(session=session, pillar=p) for p in new_pillars
        )
    session.save()
    if "Duration (minutes)" in changes:
        # Full attendees follow the new length; partial hours that were typed stay.
        old_hours = PDSession(duration_minutes=int(changes["Duration (minutes)"][0])).hours
        Attendance._base_manager.filter(
            session=session, status=AttendanceStatus.ATTENDED, hours=old_hours
        ).update(hours=session.hours)
    if not changes:
        return None
    return PDSessionChange.objects.create(session=session, changed_by=by, changes=changes)


def _hours(value) -> str:
    return f"{Decimal(value).normalize():f}"


@transaction.atomic
def attendance_update(
    *, session: PDSession, rows: Iterable[tuple[Attendance, str, Decimal | None]], by
) -> PDSessionChange | None:
    """Set status and hours of attendance rows. Excused and absent credit 0 hours; attended
    without hours credits the full session."""
    changes: dict[str, list[str]] = {}
    changed = []
    for attendance, status, hours in rows:
        if attendance.session_id != session.pk:
            raise ValidationError("This attendance belongs to another session.")
        if status == AttendanceStatus.ATTENDED:
            hours = session.hours if hours is None else Decimal(hours)
            if hours <= 0 or hours > Decimal(24):
                raise ValidationError(f"{attendance.staff}: hours must be above 0 and at most 24.")
        else:
            hours = Decimal(0)
        before = f"{attendance.get_status_display()} {_hours(attendance.hours)}h"
        attendance.status, attendance.hours = status, hours
        after = f"{attendance.get_status_display()} {_hours(attendance.hours)}h"
        if before != after:
            changes[f"Attendance: {attendance.staff}"] = [before, after]
            attendance.updated_at = timezone.now()
            changed.append(attendance)
    Attendance.objects.bulk_update(changed, ["status", "hours", "updated_at"])
    if not changes:
        return None
    return PDSessionChange.objects.create(session=session, changed_by=by, changes=changes)


@transaction.atomic
def attendees_add(*, session: PDSession, staff: Iterable[StaffMember], by) -> int:
    school_ids = set(School.objects.filter(pd_sessions=session).values_list("pk", flat=True))
    existing = set(
        Attendance._base_manager.filter(session=session).values_list("staff_id", flat=True)
    )
    new = [s for s in staff if s.school_id in school_ids and s.pk not in existing]
    Attendance.objects.bulk_create(
        Attendance(session=session, staff=s, status=AttendanceStatus.ATTENDED, hours=session.hours)
        for s in new
    )
    if new:
        PDSessionChange.objects.create(
            session=session,
            changed_by=by,
            changes={f"Attendance: {s}": ["not recorded", "Attended"] for s in new},
        )
    return len(new)


def checkin_set(*, session: PDSession, mode: str, by) -> None:
    if session.checkin_mode == mode:
        return
    labels = dict(CheckinMode.choices)
    PDSessionChange.objects.create(
        session=session,
        changed_by=by,
        changes={"Self check-in": [labels[session.checkin_mode], labels[mode]]},
    )
    session.checkin_mode = mode
    session.save(update_fields=["checkin_mode", "updated_at"])


# --- public links (no account) --------------------------------------------------------


def session_by_token(*, checkin_token: str = "", feedback_token: str = "") -> PDSession | None:
    """The session a public link names, read outside any user's scope; None if unknown."""
    lookup = (
        {"checkin_token": checkin_token} if checkin_token else {"feedback_token": feedback_token}
    )
    if not (checkin_token or feedback_token):
        return None
    with scopes_disabled():
        return PDSession.objects.filter(**lookup).first()


def _roster_member(session: PDSession, email: str) -> StaffMember:
    """The active staff member of one of the session's schools with this address.

    The error is the same whether the address is unknown or belongs to another school, so
    the form never reveals who works where."""
    email = (email or "").strip()
    with scopes_disabled():
        staff = (
            StaffMember.objects.active()
            .filter(school__pd_sessions=session, email__iexact=email)
            .first()
            if email
            else None
        )
    if staff is None:
        raise ValidationError({"email": NOT_ON_ROSTER})
    return staff


@transaction.atomic
def self_check_in(*, session: PDSession, email: str, now=None) -> tuple[Attendance, bool]:
    """Mark the person attended for the whole session. Returns (attendance, newly checked in)."""
    now = now or timezone.now()
    if not session.checkin_open(now):
        raise ValidationError("Check-in for this session is closed.")
    staff = _roster_member(session, email)
    with scopes_disabled():
        attendance, created = Attendance.objects.select_for_update().get_or_create(
            session=session,
            staff=staff,
            defaults={
                "status": AttendanceStatus.ATTENDED,
                "hours": session.hours,
                "checked_in_at": now,
            },
        )
        if created:
            return attendance, True
        if attendance.checked_in_at is not None:
            return attendance, False
        if attendance.status != AttendanceStatus.ATTENDED:
            attendance.status, attendance.hours = AttendanceStatus.ATTENDED, session.hours
        attendance.checked_in_at = now
        attendance.save(update_fields=["status", "hours", "checked_in_at", "updated_at"])
    return attendance, True


@transaction.atomic
def feedback_submit(
    *, session: PDSession, rating: int, will_apply: str, anonymous: bool, email: str = ""
) -> Feedback:
    """Record feedback. Anonymous feedback keeps only the rating, the text and the day."""
    anonymous = anonymous or not session.allow_named_feedback
    today = timezone.localdate()
    with scopes_disabled():
        if anonymous:
            return Feedback.objects.create(
                session=session, rating=rating, will_apply=will_apply, submitted_on=today
            )
        staff = _roster_member(session, email)
        feedback, _ = Feedback.objects.update_or_create(
            session=session,
            staff=staff,
            defaults={"rating": rating, "will_apply": will_apply, "submitted_on": today},
        )
    return feedback


def feedback_request(*, session: PDSession, by) -> None:
    """Queue the feedback e-mails once the coach's click is committed."""
    from .tasks import send_feedback_requests

    PDSessionChange.objects.create(
        session=session, changed_by=by, changes={"Feedback requests": ["—", "queued"]}
    )
    queue.enqueue(send_feedback_requests, session.pk)


def send_feedback_emails(*, session: PDSession, now=None) -> int:
    """E-mail every attendee who attended, has an address and was not asked yet."""
    now = now or timezone.now()
    sent = 0
    url = absolute_url(session.feedback_path())
    # A title posted with a line break would be refused as a header (BadHeaderError) and
    # stop every e-mail of the session: the subject gets it on one line.
    title = " ".join(session.title.split())
    with scopes_disabled():
        pending = list(
            Attendance.objects.filter(
                session=session,
                status=AttendanceStatus.ATTENDED,
                feedback_requested_at__isnull=True,
            )
            .exclude(staff__email="")
            .select_related("staff")
        )
        for attendance in pending:
            context = {"session": session, "staff": attendance.staff, "url": url}
            send_mail(
                subject=f"How was “{title}”? Two questions",
                message=render_to_string("pd/email/feedback_request.txt", context),
                from_email=None,
                recipient_list=[attendance.staff.email],
            )
            # Marked one by one, so a retry after a failure does not e-mail anyone twice.
            Attendance.objects.filter(pk=attendance.pk).update(feedback_requested_at=now)
            sent += 1
        PDSession.objects.filter(pk=session.pk).update(feedback_requested_at=now)
    return sent


# --- Learning Leaders and needs polls ---------------------------------------------------


@transaction.atomic
def leader_nominate(
    *, school: School, staff: StaffMember, cohort_year: int, why: str, by
) -> LearningLeader:
    if staff.school_id != school.pk or not staff.active:
        raise ValidationError({"staff": "Choose an active member of this school's staff."})
    if LearningLeader.objects.filter(staff=staff, cohort_year=cohort_year).exists():
        raise ValidationError({"staff": f"{staff} is already in the {cohort_year} cohort."})
    if not why.strip():
        raise ValidationError({"why_nominated": "Say why this person leads among colleagues."})
    return LearningLeader.objects.create(
        staff=staff, school=school, cohort_year=cohort_year, why_nominated=why, nominated_by=by
    )


def poll_create(*, school: School, period: str, opens_on: date, closes_on: date, by):
    if opens_on > closes_on:
        raise ValidationError({"closes_on": "The poll must close on or after the day it opens."})
    return PDNeedsPoll.objects.create(
        school=school, period=period, opens_on=opens_on, closes_on=closes_on, created_by=by
    )


def poll_by_token(token: str) -> PDNeedsPoll | None:
    with scopes_disabled():
        return PDNeedsPoll.objects.select_related("school").filter(token=token).first()


@transaction.atomic
def poll_answer(*, poll: PDNeedsPoll, topics: Iterable[str], other: str = "") -> PDNeedsResponse:
    """Record an anonymous answer: the topics and the free text, and only the day."""
    if not poll.is_open():
        raise ValidationError("This poll is closed.")
    topics = list(dict.fromkeys(topics))
    other = other.strip()
    if not topics and not other:
        raise ValidationError({"topics": "Tick at least one topic or describe another need."})
    with scopes_disabled():
        response = PDNeedsResponse.objects.create(
            poll=poll, other=other, submitted_on=timezone.localdate()
        )
        PDNeedsChoice.objects.bulk_create(PDNeedsChoice(response=response, topic=t) for t in topics)
    return response
