"""Writes of the stakeholders app. Each validates first and writes in one transaction, so a
refused write leaves nothing behind. Rules and choices: docs/stakeholders.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import queue
from schools.mail import compose
from schools.models import School
from schools.scoping import outside_scope
from schools.signals import evidence_changed
from schools.web import absolute_url

from .models import (
    LOCKED,
    MONEY_BENEFITS,
    Answer,
    Choice,
    CommunicationLogEntry,
    CommunicationPlan,
    Invitation,
    InvitationKind,
    Language,
    Partnership,
    PartnershipBenefit,
    PersonResponse,
    PlanChannelUse,
    Question,
    QuestionKind,
    Response,
    Story,
    StoryPerson,
    StoryShare,
    Survey,
)
from .starters import STARTERS

CLOSED = _("This survey is closed.")
USED = _("This personal link has already been used to answer.")


def _check_initiative(survey: Survey, schools: Iterable[School]) -> None:
    if survey.initiative_id is None:
        return
    school_ids = {s.pk for s in schools}
    with outside_scope():
        shared = survey.initiative.schools.filter(pk__in=school_ids).exists()
    if not shared:
        raise ValidationError(
            {"initiative": "Choose an initiative of one of the survey's schools."}
        )


def _school_ids(survey: Survey) -> set[int]:
    """Every school of the survey (the join table: also those outside the user's scope)."""
    links = Survey.schools.through.unscoped.filter(survey_id=survey.pk)
    return set(links.values_list("school_id", flat=True))


def _sync_audiences(survey: Survey, audiences: Iterable[str]) -> None:
    wanted = set(audiences)
    if not wanted:
        raise ValidationError({"audiences": "Choose at least one audience."})
    links = Invitation.objects.filter(survey=survey, kind=InvitationKind.AUDIENCE)
    have = set(links.values_list("audience", flat=True))
    dropped = have - wanted
    answered = set(
        Response.objects.filter(survey=survey, audience__in=dropped).values_list(
            "audience", flat=True
        )
    )
    if answered:
        raise ValidationError(
            {"audiences": "An audience that has already answered cannot be removed."}
        )
    if (
        dropped
        and Invitation.objects.filter(
            survey=survey, kind=InvitationKind.PERSON, audience__in=dropped
        ).exists()
    ):
        raise ValidationError(
            {"audiences": "Remove the personal links of an audience before the audience."}
        )
    links.filter(audience__in=dropped).delete()
    Invitation.objects.bulk_create(
        Invitation(survey=survey, kind=InvitationKind.AUDIENCE, audience=a)
        for a in sorted(wanted - have)
    )


@transaction.atomic
def copy_starter(survey: Survey, key: str) -> None:
    """Copy a starter's questions (and their options) into a new survey."""
    starter = STARTERS[key]
    questions = Question.objects.bulk_create(
        Question(
            survey=survey,
            position=i,
            kind=q.kind,
            text=q.text,
            text_es=q.text_es,
            pillar=q.pillar,
            need_category=q.need,
            required=q.required,
            sentiment=q.sentiment,
        )
        for i, q in enumerate(starter.questions, 1)
    )
    Choice.objects.bulk_create(
        Choice(question=question, position=j, text=en, text_es=es)
        for question, q in zip(questions, starter.questions, strict=True)
        for j, (en, es) in enumerate(q.choices, 1)
    )


@transaction.atomic
def survey_create(
    *,
    survey: Survey,
    schools: Iterable[School],
    audiences: Iterable[str],
    by,
    starter: str = "",
) -> Survey:
    """Create a survey with one audience link per audience, copying a starter's questions."""
    schools = list(schools)
    if not schools:
        raise ValidationError({"schools": "Choose at least one school."})
    if starter and starter not in STARTERS:
        raise ValidationError({"starter": "Choose one of the starter surveys."})
    if starter:
        s = STARTERS[starter]
        survey.title = survey.title or s.title
        survey.title_es = survey.title_es or s.title_es
        survey.purpose = survey.purpose or s.purpose
        survey.purpose_es = survey.purpose_es or s.purpose_es
    survey.created_by = by
    survey.full_clean()
    _check_initiative(survey, schools)
    survey.save()
    survey.schools.set(schools)
    _sync_audiences(survey, audiences)
    if starter:
        copy_starter(survey, starter)
    evidence_changed.send(sender=Survey, school_ids=[s.pk for s in schools])
    return survey


@transaction.atomic
def survey_update(
    *, survey: Survey, schools: Iterable[School], audiences: Iterable[str], kept: Iterable[School]
) -> Survey:
    """Save a survey's details. ``kept`` are schools the editor may not manage: they stay."""
    schools = {*schools, *kept}
    if not schools:
        raise ValidationError({"schools": "Choose at least one school."})
    if survey.pk and survey.has_responses():
        before = Survey.objects.get(pk=survey.pk)
        if before.anonymous != survey.anonymous:
            raise ValidationError(
                {"anonymous": "Answers have been given under the promise made; it cannot change."}
            )
    survey.full_clean()
    _check_initiative(survey, schools)
    if (
        survey.anonymous
        and Invitation.objects.filter(survey=survey, kind=InvitationKind.PERSON).exists()
    ):
        raise ValidationError(
            {"anonymous": "Remove the personal links before making the survey anonymous."}
        )
    was = _school_ids(survey)
    survey.save()
    survey.schools.set(schools)
    _sync_audiences(survey, audiences)
    evidence_changed.send(sender=Survey, school_ids=was | _school_ids(survey))
    return survey


@transaction.atomic
def survey_close(*, survey: Survey, today: date | None = None) -> Survey:
    """Close a survey early; it takes no more answers from today on."""
    today = today or timezone.localdate()
    if survey.is_closed(today):
        raise ValidationError(CLOSED)
    survey.closed_on = today
    survey.save(update_fields=["closed_on"])
    evidence_changed.send(sender=Survey, school_ids=_school_ids(survey))
    return survey


@transaction.atomic
def you_said_save(*, survey: Survey, text: str, text_es: str = "") -> Survey:
    """The principal's "you said, we did" note; shown on the survey link once closed."""
    survey.you_said = text.strip()
    survey.you_said_es = text_es.strip()
    survey.you_said_on = timezone.localdate() if survey.you_said else None
    survey.save(update_fields=["you_said", "you_said_es", "you_said_on"])
    return survey


# --- questions ------------------------------------------------------------------------


def _check_unlocked(survey: Survey) -> None:
    if survey.has_responses():
        raise ValidationError(LOCKED)


@transaction.atomic
def question_save(*, question: Question, choices: list[tuple[str, str]]) -> Question:
    """Add or edit a question; a choice question keeps the options given, in order."""
    if question.has_choices and len(choices) < 2:
        raise ValidationError({"choices": "Give at least two options, one per line."})
    if question.pk is None:
        last = Question.objects.filter(survey=question.survey).aggregate(m=Max("position"))["m"]
        question.position = (last or 0) + 1
    question.full_clean()
    question.save()
    Choice.objects.filter(question=question).delete()
    if question.has_choices:
        Choice.objects.bulk_create(
            Choice(question=question, position=i, text=en, text_es=es)
            for i, (en, es) in enumerate(choices, 1)
        )
    evidence_changed.send(sender=Question, school_ids=_school_ids(question.survey))
    return question


@transaction.atomic
def question_move(*, question: Question, up: bool) -> None:
    """Swap a question with its neighbour above (``up``) or below; positions become 1..n."""
    _check_unlocked(question.survey)
    ordered = list(Question.objects.filter(survey=question.survey).order_by("position", "pk"))
    i = next(n for n, q in enumerate(ordered) if q.pk == question.pk)
    j = i - 1 if up else i + 1
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    for n, q in enumerate(ordered, 1):
        q.position = n
    Question.objects.bulk_update(ordered, ["position"])


@transaction.atomic
def question_delete(*, question: Question) -> None:
    _check_unlocked(question.survey)
    question.delete()
    evidence_changed.send(sender=Question, school_ids=_school_ids(question.survey))


# --- invitations ----------------------------------------------------------------------


@transaction.atomic
def expected_update(*, survey: Survey, expected: Mapping[str, int | None]) -> None:
    """Set how many people each audience link reaches (the response rate's denominator)."""
    links = list(Invitation.objects.filter(survey=survey, kind=InvitationKind.AUDIENCE))
    for link in links:
        if link.audience in expected:
            link.expected = expected[link.audience]
            link.full_clean()
    Invitation.objects.bulk_update(links, ["expected"])
    evidence_changed.send(sender=Invitation, school_ids=_school_ids(survey))  # the response rate


@transaction.atomic
def person_links_add(*, survey: Survey, audience: str, people: list[tuple[str, str]]) -> int:
    """One single-use link per person (name, e-mail) of a non-anonymous survey."""
    links = [
        Invitation(survey=survey, kind=InvitationKind.PERSON, audience=audience, name=n, email=e)
        for n, e in people
    ]
    for link in links:
        link.full_clean(exclude=["token"])
    if not Invitation.objects.filter(
        survey=survey, kind=InvitationKind.AUDIENCE, audience=audience
    ).exists():
        raise ValidationError({"audience": "Choose one of the survey's audiences."})
    Invitation.objects.bulk_create(links)
    evidence_changed.send(sender=Invitation, school_ids=_school_ids(survey))
    if any(link.email for link in links):
        from .tasks import send_person_invitations

        queue.enqueue(send_person_invitations, survey.pk)
    return len(links)


def send_person_invitations_email(*, survey_id: int, now=None) -> int:
    """E-mail each personal link of the survey that has an address and was not e-mailed.

    Each link is claimed (``emailed_at`` set where it was empty) before its message leaves,
    so a retried or doubled task never e-mails a person twice; a refused message gives the
    claim back and raises, and the retry sends it."""
    now = now or timezone.now()
    sent = 0
    with outside_scope():
        survey = Survey.objects.filter(pk=survey_id).first()
        if survey is None:
            return 0
        links = list(
            Invitation.objects.filter(
                survey=survey, kind=InvitationKind.PERSON, emailed_at=None
            ).exclude(email="")
        )
    for link in links:
        with outside_scope():
            claimed = Invitation.objects.filter(pk=link.pk, emailed_at=None).update(emailed_at=now)
        if not claimed:
            continue
        try:
            _invitation_message(survey, link).send()
        except Exception:
            with outside_scope():
                Invitation.objects.filter(pk=link.pk, emailed_at=now).update(emailed_at=None)
            raise
        sent += 1
    return sent


def _invitation_message(survey: Survey, link: Invitation):
    return compose(
        subject=_survey_subject(survey),
        to=link.email,
        template="stakeholders/email/invitation",
        context={
            "survey": survey,
            "link": link,
            "url": absolute_url(link.path()),
            "spanish": survey.offers_spanish,
        },
    )


def _survey_subject(survey: Survey) -> str:
    if survey.offers_spanish and survey.title_es:
        return f"Your voice: {survey.title} / Su opinión: {survey.title_es}"
    return f"Your voice: {survey.title}"


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a public link names (the only object a respondent ever reaches)."""
    with outside_scope():
        return Invitation.objects.select_related("survey").filter(token=token).first()


# --- responses ------------------------------------------------------------------------


def _answer_rows(questions: list[Question], answers: Mapping[int, object]) -> list[Answer]:
    errors: dict[str, str] = {}
    rows: list[Answer] = []
    with outside_scope():
        valid_choices = {
            (c.question_id, c.pk)
            for c in Choice.objects.filter(question__in=[q.pk for q in questions])
        }
    for q in questions:
        value = answers.get(q.pk)
        empty = value in (None, "", [], ())
        if empty:
            if q.required:
                errors[f"q{q.pk}"] = _("Please answer this question.")
            continue
        if q.kind == QuestionKind.LIKERT:
            if value not in (1, 2, 3, 4, 5):
                errors[f"q{q.pk}"] = _("Choose a point on the scale.")
                continue
            rows.append(Answer(question=q, likert=value))
        elif q.kind == QuestionKind.TEXT:
            rows.append(Answer(question=q, text=str(value).strip()[:4000]))
        else:
            ids = list(dict.fromkeys(value if isinstance(value, list | tuple) else [value]))
            if q.kind == QuestionKind.SINGLE and len(ids) > 1:
                errors[f"q{q.pk}"] = _("Choose one answer.")
                continue
            if any((q.pk, i) not in valid_choices for i in ids):
                errors[f"q{q.pk}"] = _("Choose among the answers given.")
                continue
            rows.extend(Answer(question=q, choice_id=i) for i in ids)
    if errors:
        raise ValidationError(errors)
    return rows


@transaction.atomic
def response_submit(
    *,
    invitation: Invitation,
    answers: Mapping[int, object],
    language: str = Language.ENGLISH,
    today: date | None = None,
) -> Response:
    """Record one respondent's answers: all of them or, on any problem, none.

    The response keeps the audience, the language and the day; nothing about the person.
    A person link (non-anonymous surveys only) is tied to its response once, and never again.
    """
    today = today or timezone.localdate()
    survey = invitation.survey
    if not survey.is_open(today):
        raise ValidationError(CLOSED)
    if language not in survey.languages():
        language = Language.ENGLISH
    with outside_scope():
        questions = list(Question.objects.filter(survey=survey))
        rows = _answer_rows(questions, answers)
        if not rows:
            raise ValidationError(_("Answer at least one question before sending."))
        person = invitation.kind == InvitationKind.PERSON
        if person:
            if survey.anonymous:
                raise ValidationError(_("This link cannot be used for an anonymous survey."))
            # Lock the link row so two submits at once cannot both pass the check.
            locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
            if locked.used_on is not None:
                raise ValidationError(USED)
        response = Response.objects.create(
            survey=survey, audience=invitation.audience, language=language, submitted_on=today
        )
        for row in rows:
            row.response = response
        Answer.objects.bulk_create(rows)
        if person:
            try:
                with transaction.atomic():
                    PersonResponse.objects.create(invitation=invitation, response=response)
            except IntegrityError as exc:
                raise ValidationError(USED) from exc
            Invitation.objects.filter(pk=invitation.pk).update(used_on=today)
    evidence_changed.send(sender=Response, school_ids=_school_ids(survey))
    return response


# --- community records ----------------------------------------------------------------


@transaction.atomic
def story_save(*, story: Story, roles: Iterable[str], shares: Mapping[str, str], by=None) -> Story:
    """Save a story with the roles of the people involved and where it was shared."""
    roles = list(dict.fromkeys(roles))
    if not roles:
        raise ValidationError({"roles": "Say who was involved."})
    if story.pk is None:
        story.created_by = by
    story.full_clean()
    story.save()
    StoryPerson.objects.filter(story=story).delete()
    StoryPerson.objects.bulk_create(StoryPerson(story=story, role=r) for r in roles)
    StoryShare.objects.filter(story=story).delete()
    StoryShare.objects.bulk_create(
        StoryShare(story=story, channel=c, url=u) for c, u in sorted(shares.items())
    )
    evidence_changed.send(sender=Story, school_ids=[story.school_id])
    return story


def partnership_check(partnership: Partnership, benefits: Iterable[str]) -> None:
    benefits = set(benefits)
    if not benefits:
        raise ValidationError({"benefits": "Say what the partnership brings."})
    money = benefits.intersection(MONEY_BENEFITS)
    if money and partnership.amount is None:
        raise ValidationError({"amount": "Give the amount of the donation or grant."})


@transaction.atomic
def partnership_save(*, partnership: Partnership, benefits: Iterable[str]) -> Partnership:
    benefits = list(dict.fromkeys(benefits))
    partnership.full_clean()
    partnership_check(partnership, benefits)
    partnership.save()
    PartnershipBenefit.objects.filter(partnership=partnership).delete()
    PartnershipBenefit.objects.bulk_create(
        PartnershipBenefit(partnership=partnership, benefit=b) for b in benefits
    )
    evidence_changed.send(sender=Partnership, school_ids=[partnership.school_id])
    return partnership


@transaction.atomic
def plan_save(*, plan: CommunicationPlan, channels: Iterable[str], by) -> CommunicationPlan:
    """Save a school's communication plan (one per school) and the channels it uses."""
    channels = list(dict.fromkeys(channels))
    if not channels:
        raise ValidationError({"channels": "Choose the channels you use."})
    plan.updated_by = by
    plan.full_clean()
    plan.save()
    PlanChannelUse.objects.filter(plan=plan).delete()
    PlanChannelUse.objects.bulk_create(PlanChannelUse(plan=plan, channel=c) for c in channels)
    evidence_changed.send(sender=CommunicationPlan, school_ids=[plan.school_id])
    return plan


@transaction.atomic
def log_add(*, entry: CommunicationLogEntry, by) -> CommunicationLogEntry:
    entry.created_by = by
    entry.full_clean()
    entry.save()
    return entry
