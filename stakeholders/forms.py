from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from schools.forms import CrispyFormMixin, EditTokenMixin, Form, ModelForm
from schools.models import School
from schools.typeahead import typeahead, typeahead_multiple

from .models import (
    Audience,
    Benefit,
    Channel,
    CommunicationLogEntry,
    CommunicationPlan,
    Partnership,
    PlanChannel,
    Question,
    QuestionKind,
    Story,
    StoryRole,
    Survey,
)
from .starters import STARTERS


class DateInput(forms.DateInput):
    input_type = "date"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class SurveyForm(EditTokenMixin, ModelForm):
    submit_label = "Save survey"

    schools = forms.ModelMultipleChoiceField(
        queryset=School.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    audiences = forms.MultipleChoiceField(
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each audience gets its own link, so results can be read per audience.",
    )

    class Meta:
        model = Survey
        fields = [
            "title",
            "title_es",
            "purpose",
            "purpose_es",
            "initiative",
            "opens_on",
            "closes_on",
            "anonymous",
            "offers_spanish",
        ]
        widgets = {
            "opens_on": DateInput(),
            "closes_on": DateInput(),
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "purpose_es": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "anonymous": "Anonymous answers keep no name, account, address, browser or time; "
            "only the audience, the language and the day.",
            "title_es": "Leave empty to show the English title.",
        }

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs["data-title-en"] = ""
        self.fields["title_es"].widget.attrs["data-title-es"] = ""
        self.fields["title_es"].help_text = (
            "Follows the English title until you write the Spanish one; the same as the "
            "English (or empty) shows the English title."
        )
        self.fields["schools"].queryset = schools
        typeahead_multiple(self.fields["schools"])  # a district admin's are 1,800
        self.fields["initiative"].required = False
        self.fields["initiative"].empty_label = "None"
        typeahead(self.fields["initiative"])  # a district has thousands: never a select
        if self.instance.pk:
            self.initial.setdefault("schools", list(School.objects.filter(surveys=self.instance)))
            self.initial.setdefault(
                "audiences",
                list(
                    self.instance.invitations.filter(kind="audience").values_list(
                        "audience", flat=True
                    )
                ),
            )
        else:
            today = timezone.localdate()
            self.initial.setdefault("opens_on", today)
            self.initial.setdefault("closes_on", today + timedelta(days=14))
            if schools.count() == 1:
                self.initial.setdefault("schools", list(schools))

    def clean_title_es(self):
        # The same words as the English title are no translation: keep the field empty,
        # so the Spanish page follows later edits of the English title.
        title_es = self.cleaned_data.get("title_es", "")
        title = self.data.get(self.add_prefix("title"), "")
        same = " ".join(title_es.split()).casefold() == " ".join(title.split()).casefold()
        return "" if same else title_es


class SurveyNewForm(SurveyForm):
    submit_label = "Create survey"

    starter = forms.ChoiceField(
        label="Start from",
        required=False,
        choices=[("", "An empty survey"), *((s.key, s.label) for s in STARTERS.values())],
        help_text="A starter fills in the title, purpose and questions; edit them after.",
    )

    field_order = ["starter", "title", "schools", "audiences"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = "Leave empty to use the starter's title."
        self.fields["audiences"].required = False
        self.fields["audiences"].help_text += " A starter ticks the audiences it is written for."
        # static/js/survey-form.js reads these: a starter fills the titles and ticks its
        # audiences as it is chosen (the server does the same for an empty field).
        self.fields["starter"].widget.attrs["data-survey-starter"] = ""
        self.starter_data = {
            s.key: {"title": s.title, "title_es": s.title_es, "audiences": list(s.audiences)}
            for s in STARTERS.values()
        }

    def clean(self):
        data = super().clean()
        starter = STARTERS.get(data.get("starter") or "")
        if not data.get("title") and starter is None:
            self.add_error("title", "Give the survey a title, or start from a starter.")
        if not data.get("audiences"):
            if starter is None:
                self.add_error("audiences", "Choose at least one audience.")
            else:
                data["audiences"] = list(starter.audiences)
        return data


class QuestionForm(ModelForm):
    submit_label = "Save question"

    options = forms.CharField(
        label="Options (one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For one-choice and several-choice questions.",
    )
    options_es = forms.CharField(
        label="Options in Spanish (one per line, same order)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = Question
        fields = [
            "kind",
            "text",
            "text_es",
            "required",
            "pillar",
            "need_category",
            "sentiment",
        ]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 2}),
            "text_es": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            choices = list(self.instance.choices.all())
            self.initial["options"] = "\n".join(c.text for c in choices)
            self.initial["options_es"] = "\n".join(c.text_es for c in choices)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        en, es = _lines(data.get("options", "")), _lines(data.get("options_es", ""))
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            if len(en) < 2:
                self.add_error("options", "Give at least two options, one per line.")
            elif es and len(es) != len(en):
                self.add_error(
                    "options_es", f"Give {len(en)} Spanish options, one per English option."
                )
        self.choice_pairs = [(t, es[i] if i < len(es) else "") for i, t in enumerate(en)]
        return data


class ExpectedForm(Form):
    """How many people each audience link reaches."""

    def __init__(self, *args, links, **kwargs):
        super().__init__(*args, **kwargs)
        for link in links:
            self.fields[link.audience] = forms.IntegerField(
                label=f"{link.get_audience_display()}: people invited",
                min_value=0,
                max_value=1_000_000,
                required=False,
                initial=link.expected,
            )


class PersonLinksForm(CrispyFormMixin, Form):
    submit_label = "Create personal links"

    audience = forms.ChoiceField(choices=())
    people = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One person per line: name, e-mail (the e-mail is optional).",
    )

    def __init__(self, *args, audiences, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = [(a, Audience(a).label) for a in audiences]

    def clean_people(self):
        people, problems = [], []
        for n, line in enumerate(_lines(self.cleaned_data["people"]), 1):
            name, _, email = (part.strip() for part in line.partition(","))
            if not name:
                problems.append(f"Line {n}: give a name.")
                continue
            try:
                if email:
                    forms.EmailField().clean(email)
            except forms.ValidationError:
                problems.append(f"Line {n}: “{email}” is not an e-mail address.")
                continue
            people.append((name[:200], email))
        if problems:
            raise forms.ValidationError(problems)
        if len(people) > 500:
            raise forms.ValidationError("Add at most 500 people at a time.")
        return people


class YouSaidForm(ModelForm):
    submit_label = "Save note"

    class Meta:
        model = Survey
        fields = ["you_said", "you_said_es"]
        widgets = {
            "you_said": forms.Textarea(attrs={"rows": 6}),
            "you_said_es": forms.Textarea(attrs={"rows": 6}),
        }


# --- the respondent's form -------------------------------------------------------------

LIKERT_CHOICES = [
    ("1", _("Strongly disagree")),
    ("2", _("Disagree")),
    ("3", _("Neither agree nor disagree")),
    ("4", _("Agree")),
    ("5", _("Strongly agree")),
]


class RespondForm(Form):
    """One field per question, named ``q<id>``, in the respondent's language."""

    def __init__(self, *args, questions, language, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        messages = {"required": _("Please answer this question.")}
        for q in questions:
            label = q.text_in(language)
            name = f"q{q.pk}"
            if q.kind == QuestionKind.LIKERT:
                field = forms.TypedChoiceField(
                    choices=LIKERT_CHOICES, coerce=int, widget=forms.RadioSelect
                )
            elif q.kind == QuestionKind.TEXT:
                field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
            else:
                options = [(str(c.pk), c.text_in(language)) for c in q.choices.all()]
                if q.kind == QuestionKind.SINGLE:
                    field = forms.TypedChoiceField(
                        choices=options, coerce=int, widget=forms.RadioSelect
                    )
                else:
                    field = forms.TypedMultipleChoiceField(
                        choices=options, coerce=int, widget=forms.CheckboxSelectMultiple
                    )
            field.label = label
            field.required = q.required
            field.error_messages.update(messages)
            field.error_messages["invalid_choice"] = _("Choose among the answers given.")
            self.fields[name] = field
            field.question = q

    def answers(self) -> dict[int, object]:
        return {q.pk: self.cleaned_data.get(f"q{q.pk}") for q in self.questions}

    def fields_in_order(self):
        for q in self.questions:
            yield q, self[f"q{q.pk}"]


# --- community ------------------------------------------------------------------------


class StoryForm(ModelForm):
    submit_label = "Save story"

    roles = forms.MultipleChoiceField(
        label="People involved",
        choices=StoryRole.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Story
        fields = ["date", "title", "what_happened"]
        widgets = {"date": DateInput(), "what_happened": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "what_happened": "What happened, and how technology brought people closer.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shares = {}
        if self.instance.pk:
            self.initial.setdefault(
                "roles", list(self.instance.people.values_list("role", flat=True))
            )
            shares = dict(self.instance.shares.values_list("channel", "url"))
        else:
            self.initial.setdefault("date", timezone.localdate())
        for key, label in Channel.choices:
            self.fields[f"shared_{key}"] = forms.BooleanField(
                label=f"Shared in: {label.lower()}", required=False, initial=key in shares
            )
            self.fields[f"url_{key}"] = forms.URLField(
                label=f"Link ({label.lower()})",
                required=False,
                assume_scheme="https",
                initial=shares.get(key, ""),
            )

    def shares(self) -> dict[str, str]:
        return {
            key: self.cleaned_data.get(f"url_{key}", "")
            for key, _label in Channel.choices
            if self.cleaned_data.get(f"shared_{key}") or self.cleaned_data.get(f"url_{key}")
        }

    def share_fields(self):
        for key, label in Channel.choices:
            yield label, self[f"shared_{key}"], self[f"url_{key}"]


class PartnershipForm(ModelForm):
    submit_label = "Save partnership"

    benefits = forms.MultipleChoiceField(
        label="What it brings", choices=Benefit.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Partnership
        fields = [
            "organisation",
            "kind",
            "benefits",
            "amount",
            "description",
            "contact",
            "started_on",
            "active",
        ]
        widgets = {"started_on": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault(
                "benefits", list(self.instance.benefits.values_list("benefit", flat=True))
            )


class PlanForm(ModelForm):
    submit_label = "Save plan"

    channels = forms.MultipleChoiceField(
        choices=PlanChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Meet people where they are: a mix of traditional and social channels.",
    )

    class Meta:
        model = CommunicationPlan
        fields = ["channels", "cadence", "daily_tool", "second_daily_tool", "hashtag", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "daily_tool": "Pick one or two tools and share something every day.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault(
                "channels", list(self.instance.channels.values_list("channel", flat=True))
            )


class LogForm(ModelForm):
    submit_label = "Add to the log"

    url = forms.URLField(label="Link", required=False, assume_scheme="https")

    class Meta:
        model = CommunicationLogEntry
        fields = ["date", "channel", "audience", "summary", "url"]
        widgets = {"date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("date", timezone.localdate())


class CommunityPickForm(Form):
    """Go to one school's community page (GET), for a reader of too many schools to list."""

    school = forms.ModelChoiceField(
        label="A school's stories, partnerships and communication",
        queryset=School.objects.none(),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        typeahead(self.fields["school"])
