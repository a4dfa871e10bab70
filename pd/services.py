"""Writes of the PD app. Each validates first and writes in one transaction; every edit of a
session (its details or its attendance) records a PDSessionChange saying who changed what.

Why one long module: every write of the PD app shares the session change log (``_log``)
and its per-school rows, the check-in token rules and the evidence announcement; splitting
sessions from attendance would split one history across modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core import queue
from schools import numbers
from schools.models import School, StaffMember
from schools.scoping import outside_scope
from schools.signals import evidence_changed
from schools.web import absolute_url

from . import hours as kept_hours
from . import summary as report_summary
from .models import (
    CODE_ATTEMPTS,
    CODE_LIFETIME,
    CODE_WINDOW,
    CODES_PER_WINDOW,
    Attendance,
    AttendanceStatus,
    CheckinCode,
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
    "tools_covered": "Other tools covered",
    "facilitator_user": "Facilitator",
    "facilitator_staff": "Facilitator (Learning Leader)",
    "materials_url": "Materials link",
    "notes": "Notes",
    "initiative": "Initiative",
    "allow_named_feedback": "Named feedback allowed",
}
# The edits that change what each attendee is credited in the kept hours (pd.hours).
# A change of these counts the session's people again in the kept figures (pd.hours): the
# facilitator too, since Learning Leaders' reach is kept per leader.
CREDIT_FIELDS = {
    "Date",
    "Duration (minutes)",
    "Job-embedded",
    "Ongoing series",
    "Facilitator",
    "Facilitator (Learning Leader)",
}


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
    links = initiative.schools.through.unscoped.filter(
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
    links = PDSession.schools.through.unscoped
    links.filter(pdsession=session).exclude(school_id__in=school_ids).delete()
    present = set(links.filter(pdsession=session).values_list("school_id", flat=True))
    links.bulk_create(
        links.model(pdsession_id=session.pk, school_id=i) for i in sorted(school_ids - present)
    )


def _link_apps(session: PDSession, apps) -> list[str] | None:
    """Cite exactly ``apps`` (register entries); returns [before, after] names when they
    changed. Through the join table, as for schools: apps of the register are the
    district's, whoever edits."""
    links = PDSession.apps.through.unscoped
    wanted = {a.pk: a.name for a in apps}
    before = dict(
        links.filter(pdsession=session).values_list("app_id", "app__name").order_by("app__name")
    )
    if set(before) == set(wanted):
        return None
    links.filter(pdsession=session).exclude(app_id__in=wanted).delete()
    links.bulk_create(
        links.model(pdsession_id=session.pk, app_id=i) for i in sorted(set(wanted) - set(before))
    )
    return [", ".join(sorted(before.values())) or "—", ", ".join(sorted(wanted.values())) or "—"]


def _school_ids(session: PDSession) -> set[int]:
    """Every school of the session (the join table: also those outside the user's scope)."""
    links = PDSession.schools.through.unscoped.filter(pdsession_id=session.pk)
    return set(links.values_list("school_id", flat=True))


def _log(*, session: PDSession, by, changes: dict) -> PDSessionChange | None:
    """Write one change row per school it concerns (key None: the session as a whole).

    ``changes`` maps a school id (or None) to {label: [old, new]}. A line about a school's
    rows (its staff's attendance, its taking part) goes on that school's row only, so the
    log shows it to exactly those who may see the rows themselves."""
    at = timezone.now()
    rows = [
        PDSessionChange(
            session=session, school_id=school_id, changed_by=by, changed_at=at, changes=c
        )
        for school_id, c in sorted(changes.items(), key=lambda item: item[0] or 0)
        if c
    ]
    PDSessionChange.objects.bulk_create(rows)
    return rows[0] if rows else None


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
    apps: Iterable = (),
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
    _link_apps(session, apps)
    SessionPillar.objects.bulk_create(
        SessionPillar(session=session, pillar=p) for p in dict.fromkeys(pillars)
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, staff=a, status=AttendanceStatus.ATTENDED, hours=session.hours)
        for a in attendees
    )
    kept_hours.staff_changed(a.pk for a in attendees)
    kept_hours.sessions_tallied([session.pk])
    # Say which schools' evidence changed (the session, its schools and its attendance).
    evidence_changed.send(sender=PDSession, school_ids=school_ids)
    return session


@transaction.atomic
def session_update(
    *,
    session: PDSession,
    data: dict,
    schools: Iterable[School],
    pillars: Iterable[str],
    by,
    apps: Iterable | None = None,
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
    by_school: dict[int | None, dict[str, list[str]]] = {None: changes}
    if [s.pk for s in old_schools] != [s.pk for s in schools]:
        # Each school's joining or leaving is a line about that school.
        old_ids, new_ids = {s.pk for s in old_schools}, {s.pk for s in schools}
        for s in schools:
            if s.pk not in old_ids:
                by_school[s.pk] = {"School taking part": ["—", s.name]}
        for s in old_schools:
            if s.pk not in new_ids:
                by_school[s.pk] = {"School taking part": [s.name, "—"]}
        # Schools outside the editor's scope stay linked: nobody removes what they cannot see.
        linked = PDSession.schools.through.unscoped.filter(pdsession=session)
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
    if apps is not None and (cited := _link_apps(session, apps)):
        changes["Apps covered"] = cited
    session.save()
    if "Duration (minutes)" in changes:
        # Full attendees follow the new length; partial hours that were typed stay.
        old_hours = PDSession(duration_minutes=int(changes["Duration (minutes)"][0])).hours
        Attendance.unscoped.filter(
            session=session, status=AttendanceStatus.ATTENDED, hours=old_hours
        ).update(hours=session.hours)
    if changes.keys() & CREDIT_FIELDS:
        kept_hours.sessions_changed([session.pk])
    gone = {s.pk for s in old_schools}
    # Any edit may move a figure of the district report (a format, a school taking part).
    report_summary.note_schools_changed(_school_ids(session) | gone)
    evidence_changed.send(sender=PDSession, school_ids=_school_ids(session) | gone)
    return _log(session=session, by=by, changes=by_school)


def _hours(value) -> str:
    return numbers.hours(value)


@transaction.atomic
def attendance_update(
    *, session: PDSession, rows: Iterable[tuple[Attendance, str, Decimal | None]], by
) -> PDSessionChange | None:
    """Set status and hours of attendance rows. Excused and absent credit 0 hours; attended
    without hours credits the full session."""
    changes: dict[int, dict[str, list[str]]] = {}
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
            lines = changes.setdefault(attendance.staff.school_id, {})
            lines[f"Attendance: {attendance.staff}"] = [before, after]
            attendance.updated_at = timezone.now()
            changed.append(attendance)
    Attendance.objects.bulk_update(changed, ["status", "hours", "updated_at"])
    kept_hours.staff_changed(a.staff_id for a in changed)
    kept_hours.sessions_tallied([session.pk])
    if changed:
        evidence_changed.send(sender=Attendance, school_ids=_school_ids(session))
    return _log(session=session, by=by, changes=changes)


@transaction.atomic
def attendees_add(*, session: PDSession, staff: Iterable[StaffMember], by) -> int:
    school_ids = set(School.objects.filter(pd_sessions=session).values_list("pk", flat=True))
    existing = set(Attendance.unscoped.filter(session=session).values_list("staff_id", flat=True))
    new = [s for s in staff if s.school_id in school_ids and s.pk not in existing]
    Attendance.objects.bulk_create(
        Attendance(session=session, staff=s, status=AttendanceStatus.ATTENDED, hours=session.hours)
        for s in new
    )
    kept_hours.staff_changed(s.pk for s in new)
    kept_hours.sessions_tallied([session.pk])
    if new:
        evidence_changed.send(sender=Attendance, school_ids=school_ids)
    changes: dict[int, dict[str, list[str]]] = {}
    for s in new:
        changes.setdefault(s.school_id, {})[f"Attendance: {s}"] = ["not recorded", "Attended"]
    _log(session=session, by=by, changes=changes)
    return len(new)


@transaction.atomic
def checkin_set(*, session: PDSession, mode: str, by) -> None:
    """Change how attendees check in; the change log row and the session are written together."""
    if session.checkin_mode == mode:
        return
    labels = dict(CheckinMode.choices)
    _log(
        session=session,
        by=by,
        changes={None: {"Self check-in": [labels[session.checkin_mode], labels[mode]]}},
    )
    session.checkin_mode = mode
    session.save(update_fields=["checkin_mode", "updated_at"])


# --- public links (no account) --------------------------------------------------------
#
# Nothing a visitor types reveals who is on a roster: an address is proven before its
# owner's name is shown or written against. Check-in proves it with a one-time code
# e-mailed to the address; named feedback with a personal link e-mailed to each attendee
# (the session's shared feedback link takes anonymous answers only). See docs/pd.md.

WRONG_CODE = (
    "That code is not right, or it has expired. Check the latest e-mail, or ask for a new code."
)
FEEDBACK_LINK_SALT = "pd.feedback.personal"
# A personal feedback link works this long after it was sent.
FEEDBACK_LINK_MAX_AGE = timedelta(days=60)
# A personal link asked for on the shared page is not sent again within this time.
FEEDBACK_LINK_RESEND_AFTER = timedelta(minutes=15)


def session_by_token(*, checkin_token: str = "", feedback_token: str = "") -> PDSession | None:
    """The session a public link names, read outside any user's scope; None if unknown."""
    lookup = (
        {"checkin_token": checkin_token} if checkin_token else {"feedback_token": feedback_token}
    )
    if not (checkin_token or feedback_token):
        return None
    with outside_scope():
        return PDSession.objects.filter(**lookup).first()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _roster_member(session: PDSession, email: str) -> StaffMember | None:
    """The active staff member of one of the session's schools with this address, or None.

    The caller answers the same whether or not someone was found (the visitor learns
    nothing about who works where)."""
    email = normalize_email(email)
    if not email:
        return None
    with outside_scope():
        return (
            StaffMember.objects.active()
            .filter(school__pd_sessions=session, email__iexact=email)
            .order_by("pk")
            .first()
        )


def _require_open(session: PDSession, now) -> None:
    if not session.checkin_open(now):
        raise ValidationError("Check-in for this session is closed.")


def checkin_code_request(*, session: PDSession, email: str, now=None) -> CheckinCode | None:
    """E-mail a one-time code if the address is on the roster of the session's schools.

    Returns the code row, or None when nothing was sent (an unknown address, or
    ``CODES_PER_WINDOW`` codes already sent to this person for this session in the last
    ``CODE_WINDOW``); the page says the same in every case. The e-mail goes through the
    task queue once this transaction commits."""
    from .tasks import send_checkin_code

    now = now or timezone.now()
    _require_open(session, now)
    staff = _roster_member(session, email)
    if staff is None:
        return None
    with transaction.atomic(), outside_scope():
        # The person's row is locked so that two requests at once count each other.
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
        recent = CheckinCode.objects.filter(
            session=session, staff=staff, created_at__gt=now - CODE_WINDOW
        ).count()
        if recent >= CODES_PER_WINDOW:
            return None
        code = CheckinCode.objects.create(
            session=session, staff=staff, created_at=now, expires_at=now + CODE_LIFETIME
        )
        queue.enqueue(send_checkin_code, code.pk)
    return code


def send_checkin_code_email(*, code_id: int, now=None) -> bool:
    """E-mail a code (the task's work). A code already used or expired is not sent."""
    now = now or timezone.now()
    with outside_scope():
        code = (
            CheckinCode.objects.select_related("session", "staff")
            .filter(pk=code_id, used_at__isnull=True, expires_at__gt=now)
            .first()
        )
    if code is None or not code.staff.email:
        return False
    title = " ".join(code.session.title.split())
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    context = {"session": code.session, "staff": code.staff, "code": code.code, "minutes": minutes}
    send_mail(
        subject=f"{code.code} is your check-in code for “{title}”",
        message=render_to_string("pd/email/checkin_code.txt", context),
        from_email=None,
        recipient_list=[code.staff.email],
    )
    return True


def _check_in(session: PDSession, staff: StaffMember, now) -> tuple[Attendance, bool]:
    """Mark ``staff`` attended for the whole session (they proved their address).

    Call it inside a transaction: it locks the attendance row (``checkin_with_code``)."""
    with outside_scope():
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


def checkin_with_code(
    *, session: PDSession, email: str, code: str, now=None
) -> tuple[Attendance, bool]:
    """Check in the owner of ``email`` if ``code`` is a live code sent to them for this
    session. Returns (attendance, newly checked in).

    A wrong code counts against every live code of that person (each dies after
    ``CODE_ATTEMPTS`` wrong tries), and that count is committed even though the check-in
    is refused. The rows are locked, so tries sent at once cannot share one count."""
    now = now or timezone.now()
    _require_open(session, now)
    staff = _roster_member(session, email)
    typed = "".join(ch for ch in (code or "") if ch.isdigit())
    with transaction.atomic(), outside_scope():
        live = (
            list(
                CheckinCode.objects.select_for_update()
                .filter(
                    session=session,
                    staff=staff,
                    used_at__isnull=True,
                    expires_at__gt=now,
                    attempts__lt=CODE_ATTEMPTS,
                )
                .order_by("pk")
            )
            if staff is not None
            else []
        )
        match = next((c for c in live if constant_time_compare(c.code, typed)), None)
        if match is None:
            CheckinCode.objects.filter(pk__in=[c.pk for c in live]).update(
                attempts=F("attempts") + 1
            )
        else:
            # Every code of this person for this session is spent: one proof, one check-in.
            CheckinCode.objects.filter(session=session, staff=staff, used_at__isnull=True).update(
                used_at=now
            )
            result = _check_in(session, staff, now)
            kept_hours.staff_changed([staff.pk])
            kept_hours.sessions_tallied([session.pk])
            evidence_changed.send(sender=Attendance, school_ids=[staff.school_id])
    if match is None:
        raise ValidationError({"code": WRONG_CODE})
    return result


def feedback_link_token(attendance: Attendance) -> str:
    """The signed part of an attendee's personal feedback link (no row stores it)."""
    return signing.dumps(
        {"a": attendance.pk, "s": attendance.session_id}, salt=FEEDBACK_LINK_SALT, compress=True
    )


def feedback_link_path(attendance: Attendance) -> str:
    return reverse("pd:feedback_personal", args=[feedback_link_token(attendance)])


def attendance_by_feedback_link(token: str) -> Attendance | None:
    """The attendance a personal feedback link was made for, or None if the link is
    altered, too old, or its person no longer attended the session."""
    try:
        data = signing.loads(
            token, salt=FEEDBACK_LINK_SALT, max_age=FEEDBACK_LINK_MAX_AGE.total_seconds()
        )
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    with outside_scope():
        return (
            Attendance.objects.select_related("session", "staff")
            .filter(pk=data.get("a"), session_id=data.get("s"), status=AttendanceStatus.ATTENDED)
            .first()
        )


def named_feedback_of(attendance: Attendance) -> Feedback | None:
    """The answer this attendee gave under their name, if any (their own link shows it)."""
    with outside_scope():
        return Feedback.objects.filter(
            session_id=attendance.session_id, staff_id=attendance.staff_id
        ).first()


@transaction.atomic
def feedback_submit(
    *, session: PDSession, rating: int, will_apply: str, staff: StaffMember | None = None
) -> Feedback:
    """Record feedback: named only for ``staff`` proven by their personal link (and when
    the session allows it), otherwise anonymous, keeping only the rating, the text and
    the day."""
    today = timezone.localdate()
    with outside_scope():
        if staff is None or not session.allow_named_feedback:
            feedback = Feedback.objects.create(
                session=session, rating=rating, will_apply=will_apply, submitted_on=today
            )
        else:
            feedback, _ = Feedback.objects.update_or_create(
                session=session,
                staff=staff,
                defaults={"rating": rating, "will_apply": will_apply, "submitted_on": today},
            )
    kept_hours.feedback_tallied([session.pk])
    evidence_changed.send(sender=Feedback, school_ids=_school_ids(session))
    return feedback


def feedback_link_request(*, session: PDSession, email: str, now=None) -> bool:
    """E-mail an attendee their personal feedback link, asked for on the shared page.

    Only someone who attended gets one, and not twice within
    ``FEEDBACK_LINK_RESEND_AFTER``; the page answers the same in every case."""
    from .tasks import send_feedback_link

    now = now or timezone.now()
    email = normalize_email(email)
    if not email or not session.allow_named_feedback:
        return False
    with transaction.atomic(), outside_scope():
        attendance = (
            Attendance.objects.select_for_update()
            .filter(
                session=session,
                status=AttendanceStatus.ATTENDED,
                staff__email__iexact=email,
                staff__active=True,
            )
            .order_by("pk")
            .first()
        )
        if attendance is None:
            return False
        asked = attendance.feedback_requested_at
        if asked is not None and asked > now - FEEDBACK_LINK_RESEND_AFTER:
            return False
        Attendance.objects.filter(pk=attendance.pk).update(feedback_requested_at=now)
        queue.enqueue(send_feedback_link, attendance.pk)
    return True


def _feedback_email(session: PDSession, attendance: Attendance) -> None:
    # A title posted with a line break would be refused as a header (BadHeaderError) and
    # stop every e-mail of the session: the subject gets it on one line.
    title = " ".join(session.title.split())
    context = {
        "session": session,
        "staff": attendance.staff,
        "url": absolute_url(feedback_link_path(attendance)),
    }
    send_mail(
        subject=f"How was “{title}”? Two questions",
        message=render_to_string("pd/email/feedback_request.txt", context),
        from_email=None,
        recipient_list=[attendance.staff.email],
    )


def send_feedback_link_email(*, attendance_id: int) -> bool:
    """E-mail one attendee their personal feedback link (the task's work)."""
    with outside_scope():
        attendance = (
            Attendance.objects.select_related("session", "staff")
            .filter(pk=attendance_id, status=AttendanceStatus.ATTENDED)
            .exclude(staff__email="")
            .first()
        )
    if attendance is None:
        return False
    _feedback_email(attendance.session, attendance)
    return True


def feedback_request(*, session: PDSession, by) -> None:
    """Queue the feedback e-mails once the coach's click is committed."""
    from .tasks import send_feedback_requests

    _log(session=session, by=by, changes={None: {"Feedback requests": ["—", "queued"]}})
    queue.enqueue(send_feedback_requests, session.pk)


def send_feedback_emails(*, session: PDSession, now=None) -> int:
    """E-mail every attendee who attended, has an address and was not asked yet, each
    with their own personal feedback link."""
    now = now or timezone.now()
    sent = 0
    with outside_scope():
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
            _feedback_email(session, attendance)
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
    leader = LearningLeader.objects.create(
        staff=staff, school=school, cohort_year=cohort_year, why_nominated=why, nominated_by=by
    )
    evidence_changed.send(sender=LearningLeader, school_ids=[school.pk])
    return leader


def poll_create(*, school: School, period: str, opens_on: date, closes_on: date, by):
    if opens_on > closes_on:
        raise ValidationError({"closes_on": "The poll must close on or after the day it opens."})
    poll = PDNeedsPoll.objects.create(
        school=school, period=period, opens_on=opens_on, closes_on=closes_on, created_by=by
    )
    report_summary.note_changed([school.district_id])
    evidence_changed.send(sender=PDNeedsPoll, school_ids=[school.pk])
    return poll


def poll_by_token(token: str) -> PDNeedsPoll | None:
    with outside_scope():
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
    with outside_scope():
        response = PDNeedsResponse.objects.create(
            poll=poll, other=other, submitted_on=timezone.localdate()
        )
        PDNeedsChoice.objects.bulk_create(PDNeedsChoice(response=response, topic=t) for t in topics)
        report_summary.note_changed([poll.school.district_id])
    return response
