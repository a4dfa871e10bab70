"""The weekly digest and the event reminders: who gets them, what they say, sending once.

A person's digest is their home page's sections (``today.selectors.home``) as e-mail; a
reminder is one rule over one of those sections (``RULES``). Both are composed in the
person's scope and time zone (their district's: it decides which week "this week" is),
never during a request: the beat tasks (``today.tasks``) and ``send_digests`` call
``send_digests`` / ``send_reminders`` here.

Nothing is sent twice. Before a message leaves, a ``Sent`` row is claimed for the person,
the kind and the period (the ISO week of a digest; the object, and for a falling score the
week, of a reminder) in its own transaction; its unique key refuses a second claim, so a
retried task, a second worker or a second run of the command finds the row and skips. If
the SMTP server refuses the message the claim is withdrawn, so the retry sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from schools.mail import compose
from schools.models import District, Membership
from schools.permissions import home_sections
from schools.scoping import access_for, activate, district_time_zone, outside_scope
from schools.web import absolute_url

from . import selectors
from .models import Kind, OptOut, Sent
from .selectors import LOW_RESPONSE_RATE, Item, Section

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "today.unsubscribe"
SURVEY_DAYS = 3  # a survey closing within this many days
READINESS_FALL = 10  # points


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- unsubscribe tokens ---------------------------------------------------------------------


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A signed token naming one person and one kind of e-mail; it never expires, so a link
    in an old e-mail still works, and it can be forged by no one without SECRET_KEY."""
    return signing.dumps([user_id, kind], salt=UNSUBSCRIBE_SALT, compress=False)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        user_id, kind = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or kind not in Kind.values:
        return None
    return user_id, kind


def unsubscribe_url(user_id: int, kind: str) -> str:
    return absolute_url(reverse("today:unsubscribe", args=[unsubscribe_token(user_id, kind)]))


def unsubscribe_headers(user_id: int, kind: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click: a mail client POSTs
    "List-Unsubscribe=One-Click" to the address, without a session."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user_id, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# --- reminders' rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    section: str  # the home section the rule reads
    applies: Callable[[Item, date], bool]
    subject: str
    weekly: bool = False  # may come again another week (a score can fall again)


RULES: dict[str, Rule] = {
    Kind.SURVEY_CLOSING: Rule(
        "surveys",
        lambda item, today: (
            item.when is not None
            and (item.when - today).days <= SURVEY_DAYS
            and (item.figure is None or item.figure < LOW_RESPONSE_RATE)
        ),
        "A survey closes soon with few answers",
    ),
    Kind.MILESTONE_OVERDUE: Rule(
        "milestones", lambda item, today: item.level == "late", "A milestone is overdue"
    ),
    Kind.DEVICE_NOT_RETURNED: Rule(
        "out_late",
        lambda item, today: item.when is not None and item.when < today,
        "Devices not returned after collection day",
    ),
    Kind.AGREEMENT_UNSIGNED: Rule(
        "agreements", lambda item, today: item.level == "late", "Device agreements still unsigned"
    ),
    Kind.READINESS_FELL: Rule(
        "readiness",
        lambda item, today: item.figure is not None and item.figure <= -READINESS_FALL,
        "A school's readiness score fell",
        weekly=True,
    ),
}


# --- who, and what -----------------------------------------------------------------------------


def recipients(district: District | None = None):
    """Active people holding a role (in ``district``), who may receive e-mail."""
    memberships = Membership.objects.all()
    if district is not None:
        memberships = memberships.filter(district=district)
    with outside_scope():
        return list(
            User.objects.filter(is_active=True, pk__in=memberships.values("user_id"))
            .exclude(email="")
            .order_by("pk")
        )


@dataclass
class Composed:
    """What one person would get now: the digest's sections and each reminder's items."""

    user: User
    today: date
    period: str
    sections: list[Section] = field(default_factory=list)
    reminders: dict[str, list[Item]] = field(default_factory=dict)


def compose_for(user: User, now: datetime | None = None) -> Composed:
    """The person's home and reminders, read in their scope and their district's zone (which
    decides the day, and so the week, of ``now``)."""
    access = access_for(user)
    with activate(access), district_time_zone(access.time_zone):
        today = timezone.localdate(now or timezone.now())
        sections = home_sections(access)
        home = selectors.home(access, sections, today)
        by_key = {s.key: s for s in selectors.reminder_sections(sections, today)}
    reminders = {}
    for kind, rule in RULES.items():
        section = by_key.get(rule.section)
        if section is not None:
            found = [i for i in section.items if i.key and rule.applies(i, today)]
            if found:
                reminders[kind] = found
    return Composed(
        user=user,
        today=today,
        period=week_key(today),
        sections=[s for s in home.sections if s.items],
        reminders=reminders,
    )


def opted_out(user_ids: Iterable[int]) -> set[tuple[int, str]]:
    return set(OptOut.objects.filter(user_id__in=list(user_ids)).values_list("user_id", "kind"))


# --- sending once ---------------------------------------------------------------------------


def claim(user: User, kind: str, period: str, subject: str = "") -> Sent | None:
    """Write the ``Sent`` row before sending; None when it already exists (sent, or being
    sent by another run). Its own transaction, so the row is there for every other run."""
    try:
        with transaction.atomic():
            return Sent.objects.create(user=user, kind=kind, period=period, subject=subject[:200])
    except IntegrityError:
        return None


def _deliver(message, claims: list[Sent]) -> None:
    """Send, then stamp the claims; a refused message withdraws them and raises."""
    try:
        message.send()
    except Exception:
        Sent.objects.filter(pk__in=[c.pk for c in claims]).delete()
        raise
    Sent.objects.filter(pk__in=[c.pk for c in claims]).update(sent_at=timezone.now())


def _context(composed: Composed, kind: str) -> dict:
    return {
        "user": composed.user,
        "today": composed.today,
        "base_url": settings.BASE_URL,
        "home_url": absolute_url(reverse("today:home")),
        "settings_url": absolute_url(reverse("today:settings")),
        "unsubscribe_url": unsubscribe_url(composed.user.pk, kind),
        "kind_label": Kind(kind).label,
    }


def _absolute(items: list[Item]) -> list[Item]:
    return [
        Item(
            i.text, absolute_url(i.url) if i.url.startswith("/") else i.url, i.note, i.when, i.level
        )
        for i in items
    ]


def digest_message(composed: Composed, connection=None):
    count = sum(s.total for s in composed.sections)
    subject = f"Pillarwise this week: {count} thing{'s' if count != 1 else ''} need you"
    sections = [
        Section(
            s.key,
            s.title,
            _absolute(s.items),
            s.total,
            absolute_url(s.more_url) if s.more_url else "",
            s.empty,
        )
        for s in composed.sections
    ]
    return compose(
        subject=subject,
        to=composed.user.email,
        template="today/email/digest",
        context={**_context(composed, Kind.DIGEST), "sections": sections, "count": count},
        headers=unsubscribe_headers(composed.user.pk, Kind.DIGEST),
        connection=connection,
    )


def reminder_message(composed: Composed, kind: str, items: list[Item], connection=None):
    rule = RULES[kind]
    return compose(
        subject=rule.subject,
        to=composed.user.email,
        template="today/email/reminder",
        context={**_context(composed, kind), "items": _absolute(items), "title": rule.subject},
        headers=unsubscribe_headers(composed.user.pk, kind),
        connection=connection,
    )


@dataclass
class RunResult:
    people: int = 0
    composed: int = 0
    sent: int = 0
    skipped: int = 0  # already sent this period, or opted out, or nothing to say
    failed: int = 0


def send_digest(composed: Composed, *, dry_run: bool = False, connection=None) -> bool:
    """Send the digest of ``composed`` unless it has nothing or was already sent this week."""
    if not composed.sections:
        return False
    message = digest_message(composed, connection)
    if dry_run:
        return not Sent.objects.filter(
            user=composed.user, kind=Kind.DIGEST, period=composed.period
        ).exists()
    claimed = claim(composed.user, Kind.DIGEST, composed.period, message.subject)
    if claimed is None:
        return False
    _deliver(message, [claimed])
    return True


def send_reminder(composed: Composed, kind: str, *, dry_run: bool = False, connection=None) -> bool:
    """One e-mail listing the items of ``kind`` not reminded before (each item once)."""
    rule = RULES[kind]
    items = composed.reminders.get(kind, [])
    period = (lambda i: f"{i.key}@{composed.period}") if rule.weekly else (lambda i: i.key)
    done = set(
        Sent.objects.filter(
            user=composed.user, kind=kind, period__in=[period(i) for i in items]
        ).values_list("period", flat=True)
    )
    fresh = [i for i in items if period(i) not in done]
    if not fresh:
        return False
    if dry_run:
        reminder_message(composed, kind, fresh, connection)
        return True
    claims, claimed = [], []
    for item in fresh:
        row = claim(composed.user, kind, period(item), rule.subject)
        if row is not None:
            claims.append(row)
            claimed.append(item)
    if not claims:
        return False
    _deliver(reminder_message(composed, kind, claimed, connection), claims)
    return True


def _run(
    users,
    *,
    digests: bool,
    reminders: bool,
    dry_run: bool,
    out: Callable[[str], None] | None,
    now: datetime | None = None,
) -> RunResult:
    result = RunResult()
    users = list(users)
    off = opted_out(u.pk for u in users)
    connection = get_connection()
    try:
        for user in users:
            result.people += 1
            composed = compose_for(user, now)
            kinds = ([Kind.DIGEST] if digests else []) + (list(RULES) if reminders else [])
            for kind in kinds:
                if (user.pk, kind) in off:
                    result.skipped += 1
                    continue
                try:
                    if kind == Kind.DIGEST:
                        sent = send_digest(composed, dry_run=dry_run, connection=connection)
                    else:
                        sent = send_reminder(composed, kind, dry_run=dry_run, connection=connection)
                except Exception:
                    # One person's refused address must not stop everyone else's e-mail;
                    # the claim was withdrawn, so the next run tries again.
                    log.exception("E-mail %s to user %s failed", kind, user.pk)
                    result.failed += 1
                    continue
                if sent:
                    result.sent += 1
                    if out:
                        out(f"{'Would send' if dry_run else 'Sent'} {kind} to {user.email}")
                else:
                    result.skipped += 1
            result.composed += 1
    finally:
        connection.close()
    return result


def send_digests(district: District | None = None, *, dry_run: bool = False, out=None) -> RunResult:
    """This week's digest to every person (of ``district``) who has something to do."""
    return _run(recipients(district), digests=True, reminders=False, dry_run=dry_run, out=out)


def send_reminders(
    district: District | None = None, *, dry_run: bool = False, out=None
) -> RunResult:
    """Every reminder due now, each item once per person."""
    return _run(recipients(district), digests=False, reminders=True, dry_run=dry_run, out=out)
