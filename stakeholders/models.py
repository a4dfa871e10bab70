"""Stakeholders: surveys, invitations and responses; stories of connection; partnerships;
communication plans and a communication log.

A survey belongs to one or several schools (``schools``) and is scoped through that
many-valued path. It may inform one initiative (``initiative``): the initiative's listening
rule asks whether at least one of its surveys has closed (``SurveyQuerySet.closed``).

Anonymity is a property of the schema: ``Response`` and ``Answer`` have no column that
could name a person (no user, no address, no browser, no time finer than the day). The one
place a response meets a person is ``PersonResponse``, which only a non-anonymous survey's
person link may create. Rules and formulas are in docs/stakeholders.md.

Why one long module: surveys, responses and stories are tied by the anonymity rules
written into their schema; keeping the tables together keeps that promise readable in one
place.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from schools.dates import shown_date
from schools.models import EditGuard, School
from schools.pillars import Pillar
from schools.scoping import ScopedManager

LIKERT_VALUES = (1, 2, 3, 4, 5)
LOCKED = (
    "This survey already has answers, so its questions can no longer change: the results "
    "would mix answers to different questions. Copy it into a new survey instead."
)


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Audience(models.TextChoices):
    TEACHERS = "teachers", "Teachers"
    STAFF = "staff", "Other staff"
    STUDENTS = "students", "Students"
    FAMILIES = "families", "Families"
    COMMUNITY = "community", "Community"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class NeedCategory(models.TextChoices):
    TIME = "time", "Time"
    TRAINING = "training", "Training"
    DEVICES = "devices", "Devices"
    CONNECTIVITY = "connectivity", "Connectivity"
    SUPPORT = "support", "Support"
    COMMUNICATION = "communication", "Communication"


class SurveyQuerySet(models.QuerySet):
    def closed(self, today: date | None = None):
        """Surveys no longer taking answers: closed early by hand, or past their last day."""
        today = today or timezone.localdate()
        return self.filter(Q(closed_on__isnull=False) | Q(closes_on__lt=today))


class Survey(EditGuard, models.Model):
    schools = models.ManyToManyField(School, related_name="surveys")
    initiative = models.ForeignKey(
        "initiatives.Initiative",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        help_text="The initiative this survey listens for, if any.",
    )
    title = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    opens_on = models.DateField()
    closes_on = models.DateField(help_text="The last day answers are taken.")
    closed_on = models.DateField(
        null=True, blank=True, help_text="Set when the survey was closed early by hand."
    )
    anonymous = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The edit form's optimistic lock (schools.forms.EditTokenMixin) compares this.
    updated_at = models.DateTimeField(auto_now=True)

    title_es = models.CharField("title in Spanish", max_length=200, blank=True)
    purpose_es = models.TextField("purpose in Spanish", blank=True)
    offers_spanish = models.BooleanField(
        "offer the survey in Spanish too",
        default=True,
        help_text="Respondents choose English or Spanish on the survey page.",
    )
    you_said = models.TextField(
        "you said, we did",
        blank=True,
        help_text="What you heard and what you are doing about it. Respondents see it on "
        "the survey link once the survey has closed.",
    )
    you_said_es = models.TextField("you said, we did (Spanish)", blank=True)
    you_said_on = models.DateField(null=True, blank=True)

    objects = ScopedManager.from_queryset(SurveyQuerySet)("schools")

    class Meta:
        ordering = ["-opens_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_on__lte=models.F("closes_on")),
                name="stakeholders_survey_dates_in_order",
                violation_error_message="The survey must close on or after the day it opens.",
            )
        ]
        indexes = [
            # The survey lists' order: a page of a district's 6,000 surveys is read in
            # index order, each checked against the reader's schools, rather than every
            # survey of the district joined and sorted for 26 rows (14 ms at a million
            # students, 0.3 ms read in order).
            models.Index(fields=["-opens_on", "title", "id"], name="survey_newest_first"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("stakeholders:survey_detail", args=[self.pk])

    def clean(self):
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            raise ValidationError(
                {"closes_on": "The survey must close on or after the day it opens."}
            )

    def is_closed(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.closed_on is not None or self.closes_on < today

    def is_open(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return not self.is_closed(today) and self.opens_on <= today

    def status(self, today: date | None = None) -> str:
        today = today or timezone.localdate()
        if self.is_closed(today):
            return "closed"
        return "open" if self.opens_on <= today else "scheduled"

    def has_responses(self) -> bool:
        return Response.objects.filter(survey_id=self.pk).exists()

    def languages(self) -> list[str]:
        return [Language.ENGLISH, Language.SPANISH] if self.offers_spanish else [Language.ENGLISH]

    def title_in(self, language: str) -> str:
        return (language == Language.SPANISH and self.title_es) or self.title

    def purpose_in(self, language: str) -> str:
        return (language == Language.SPANISH and self.purpose_es) or self.purpose

    def you_said_in(self, language: str) -> str:
        return (language == Language.SPANISH and self.you_said_es) or self.you_said


class QuestionKind(models.TextChoices):
    LIKERT = "likert", "Agree–disagree scale (1–5)"
    SINGLE = "single", "One choice"
    MULTIPLE = "multiple", "Several choices"
    TEXT = "text", "Free text"


class Question(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    text = models.CharField("question", max_length=500)
    text_es = models.CharField("question in Spanish", max_length=500, blank=True)
    required = models.BooleanField(default=False)
    pillar = models.CharField(
        max_length=30, choices=Pillar.choices, blank=True, help_text="The pillar it informs."
    )
    need_category = models.CharField(
        max_length=20,
        choices=NeedCategory.choices,
        blank=True,
        help_text="The kind of need an answer points to.",
    )
    sentiment = models.BooleanField(
        "sentiment item",
        default=False,
        help_text="Asks how the respondent feels about the school (an agree–disagree item).",
    )

    objects = ScopedManager("survey__schools")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sentiment=False) | Q(kind="likert"),
                name="stakeholders_sentiment_is_likert",
                violation_error_message="Only an agree–disagree item can be a sentiment item.",
            )
        ]

    def __str__(self) -> str:
        return self.text

    def clean(self):
        if self.sentiment and self.kind != QuestionKind.LIKERT:
            raise ValidationError(
                {"sentiment": "Only an agree–disagree item can be a sentiment item."}
            )
        if self.survey_id and self.survey.has_responses():
            raise ValidationError(LOCKED)

    def text_in(self, language: str) -> str:
        return (language == Language.SPANISH and self.text_es) or self.text

    @property
    def has_choices(self) -> bool:
        return self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Choice(models.Model):
    """One option of a single- or multiple-choice question."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=200)
    text_es = models.CharField(max_length=200, blank=True)

    objects = ScopedManager("question__survey__schools")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text

    def text_in(self, language: str) -> str:
        return (language == Language.SPANISH and self.text_es) or self.text


class InvitationKind(models.TextChoices):
    AUDIENCE = "audience", "Link for an audience"
    PERSON = "person", "Link for one person"


class Invitation(models.Model):
    """A link to a survey: one per audience (many answers), or one per named person on a
    non-anonymous survey (one answer). ``expected`` is how many people an audience link
    was sent to; the response rate divides by it (a person link expects one)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    kind = models.CharField(
        max_length=10, choices=InvitationKind.choices, default=InvitationKind.AUDIENCE
    )
    audience = models.CharField(max_length=20, choices=Audience.choices)
    expected = models.PositiveIntegerField(
        "expected respondents",
        null=True,
        blank=True,
        validators=[MaxValueValidator(1_000_000)],
        help_text="How many people this link reaches; the response rate divides by it.",
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    used_on = models.DateField(null=True, blank=True)
    # When the personal link was e-mailed to ``email`` (stakeholders.services); empty: not yet.
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("survey__schools")

    class Meta:
        ordering = ["kind", "audience", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "audience"],
                condition=Q(kind="audience"),
                name="stakeholders_one_link_per_audience",
                violation_error_message="This survey already has a link for this audience.",
            ),
            models.CheckConstraint(
                condition=Q(kind="audience", name="", used_on__isnull=True)
                | Q(kind="person", expected__isnull=True),
                name="stakeholders_invitation_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == InvitationKind.PERSON:
            return f"{self.name} ({self.get_audience_display()})"
        return self.get_audience_display()

    def clean(self):
        if self.kind == InvitationKind.PERSON:
            if self.survey_id and self.survey.anonymous:
                raise ValidationError(
                    "An anonymous survey has audience links only: a personal link would "
                    "tie an answer to a person."
                )
            if not self.name.strip():
                raise ValidationError({"name": "Give the person's name."})

    def path(self) -> str:
        return reverse("stakeholders:respond", args=[self.token])

    @property
    def expected_count(self) -> int | None:
        return 1 if self.kind == InvitationKind.PERSON else self.expected


class Response(models.Model):
    """One set of answers. Deliberately without a user, an address, a browser or a
    time: the audience, the language and the day are all it keeps."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    language = models.CharField(max_length=2, choices=Language.choices, default="en")
    submitted_on = models.DateField()

    objects = ScopedManager("survey__schools")

    class Meta:
        ordering = ["-submitted_on", "pk"]

    def __str__(self) -> str:
        return f"Response to {self.survey_id} ({self.audience})"


class Answer(models.Model):
    """One answer to one question. A multiple-choice answer is one row per ticked option."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    likert = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    choice = models.ForeignKey(
        Choice, on_delete=models.CASCADE, null=True, blank=True, related_name="answers"
    )
    text = models.TextField(blank=True)

    objects = ScopedManager("response__survey__schools")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(likert__isnull=True) | Q(likert__gte=1, likert__lte=5),
                name="stakeholders_likert_1_5",
            ),
            models.UniqueConstraint(
                fields=["response", "question"],
                condition=Q(choice__isnull=True),
                name="stakeholders_one_answer_per_question",
            ),
            models.UniqueConstraint(
                fields=["response", "question", "choice"],
                condition=Q(choice__isnull=False),
                name="stakeholders_choice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question_id}"


class PersonResponse(models.Model):
    """The only tie between a response and a person: a non-anonymous survey's person link.
    The one-to-one on the invitation is what makes a person link usable once."""

    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, related_name="person_response"
    )
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="person_link")

    objects = ScopedManager("response__survey__schools")

    def __str__(self) -> str:
        return f"{self.invitation} answered {self.response_id}"

    def clean(self):
        if self.invitation.kind != InvitationKind.PERSON or self.invitation.survey.anonymous:
            raise ValidationError("Only a person link of a non-anonymous survey names its answer.")


# --- community records ------------------------------------------------------------------


class Channel(models.TextChoices):
    NEWSLETTER = "newsletter", "Newsletter"
    SOCIAL = "social_media", "Social media"
    LOCAL_NEWS = "local_news", "Local news"
    BOARD = "board_meeting", "Board meeting"


class StoryRole(models.TextChoices):
    STUDENTS = "students", "Students"
    TEACHERS = "teachers", "Teachers"
    STAFF = "staff", "Other staff"
    FAMILIES = "families", "Families"
    LEADERS = "leaders", "School leaders"
    COMMUNITY = "community", "Community members"


class Story(models.Model):
    """A story of connection: a moment when technology brought people closer."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="stories")
    date = models.DateField(db_index=True)
    title = models.CharField(max_length=200)
    what_happened = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.date and self.date > timezone.localdate():
            raise ValidationError({"date": "A story is recorded after it happened."})


class StoryPerson(models.Model):
    """A role of the people involved in a story (a row, so readiness can filter)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(max_length=20, choices=StoryRole.choices)

    objects = ScopedManager("story__school")

    class Meta:
        ordering = ["role"]
        constraints = [
            models.UniqueConstraint(fields=["story", "role"], name="stakeholders_story_role_once")
        ]

    def __str__(self) -> str:
        return self.get_role_display()


class StoryShare(models.Model):
    """Where a story was shared, with a link to it."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="shares")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    url = models.URLField("link", blank=True)

    objects = ScopedManager("story__school")

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "channel"], name="stakeholders_story_channel_once"
            )
        ]

    def __str__(self) -> str:
        return self.get_channel_display()


class PartnerKind(models.TextChoices):
    BUSINESS = "business", "Local business"
    ALUMNI = "alumni", "Alumni"
    UNIVERSITY = "university", "University or college"
    NON_PROFIT = "non_profit", "Non-profit"
    FAMILY_GROUP = "family_group", "Family group"


class Benefit(models.TextChoices):
    DONATION = "donation", "Donation"
    GRANT = "grant", "Grant"
    MENTORING = "mentoring", "Mentoring"
    INTERNSHIPS = "internships", "Internships"
    EQUIPMENT = "equipment", "Equipment"


MONEY_BENEFITS = (Benefit.DONATION, Benefit.GRANT)


class Partnership(models.Model):
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="partnerships")
    organisation = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PartnerKind.choices)
    description = models.TextField("what they bring, in words", blank=True)
    amount = models.DecimalField(
        "money (USD)",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The value of a donation or grant. Required when it brings money.",
    )
    contact = models.CharField(max_length=200, blank=True)
    started_on = models.DateField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-active", "organisation", "pk"]

    def __str__(self) -> str:
        return self.organisation


class PartnershipBenefit(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="benefits")
    benefit = models.CharField(max_length=20, choices=Benefit.choices)

    objects = ScopedManager("partnership__school")

    class Meta:
        ordering = ["benefit"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "benefit"], name="stakeholders_benefit_once"
            )
        ]

    def __str__(self) -> str:
        return self.get_benefit_display()


class Cadence(models.TextChoices):
    DAILY = "daily", "Daily"
    SEVERAL_WEEKLY = "several_weekly", "Several times a week"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class PlanChannel(models.TextChoices):
    NEWSLETTER = "newsletter", "Newsletter"
    WEBSITE = "website", "School website"
    SOCIAL = "social_media", "Social media"
    TEXT = "text_messages", "Text messages"
    EMAIL = "email", "E-mail"
    PHONE = "phone_calls", "Phone calls"
    MEETINGS = "meetings", "Family meetings and events"
    LOCAL_NEWS = "local_news", "Local news"


HASHTAG = re.compile(r"^#\w{2,60}$")


class CommunicationPlan(models.Model):
    """How a school keeps its community informed: a few channels used consistently, one
    or two tools used every day, and a hashtag used everywhere."""

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, related_name="communication_plan"
    )
    cadence = models.CharField(max_length=20, choices=Cadence.choices, default=Cadence.WEEKLY)
    daily_tool = models.CharField("tool used every day", max_length=100)
    second_daily_tool = models.CharField("second daily tool (optional)", max_length=100, blank=True)
    hashtag = models.CharField(max_length=62, blank=True, help_text="For example #MapleMakes.")
    notes = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager("school")

    def __str__(self) -> str:
        return f"Communication plan of {self.school}"

    def clean(self):
        tag = (self.hashtag or "").strip()
        if tag and not tag.startswith("#"):
            tag = f"#{tag}"
        if tag and not HASHTAG.match(tag):
            raise ValidationError(
                {"hashtag": "A hashtag is # followed by letters, digits or _ (no spaces)."}
            )
        self.hashtag = tag


class PlanChannelUse(models.Model):
    plan = models.ForeignKey(CommunicationPlan, on_delete=models.CASCADE, related_name="channels")
    channel = models.CharField(max_length=20, choices=PlanChannel.choices)

    objects = ScopedManager("plan__school")

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "channel"], name="stakeholders_channel_once")
        ]

    def __str__(self) -> str:
        return self.get_channel_display()


class CommunicationLogEntry(models.Model):
    """One message sent to the community: when, where, to whom, about what."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="communications")
    date = models.DateField()
    channel = models.CharField(max_length=20, choices=PlanChannel.choices)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    summary = models.CharField(max_length=300)
    url = models.URLField("link", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager("school")

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name_plural = "communication log entries"

    def __str__(self) -> str:
        return f"{shown_date(self.date)}: {self.summary}"
