from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from schools.forms import CrispyFormMixin, EditTokenMixin, Form, ModelForm, ScopedFormMixin
from schools.models import Membership, School, StaffMember
from schools.permissions import schools_q
from schools.pillars import Pillar
from schools.typeahead import typeahead, typeahead_multiple

from .models import (
    CODE_DIGITS,
    Attendance,
    AttendanceStatus,
    Format,
    LearningLeader,
    NeedTopic,
    PDNeedsPoll,
    PDSession,
    SessionPillar,
)
from .permissions import can_facilitate, can_use_pd


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


def _coach_ids():
    return Membership.objects.filter(role__in=can_facilitate.roles).values("user_id")


def find_facilitators(text: str) -> list[dict]:
    """The first coaches and Learning Leaders the user may see whose name holds ``text``,
    as type-ahead matches: ``u<id>`` for a coach's account, ``s<id>`` for a Learning Leader
    (two queries, whatever the district's size)."""
    from schools.typeahead import RESULTS

    coaches = get_user_model().objects.filter(pk__in=_coach_ids())
    leaders = StaffMember.objects.filter(pk__in=LearningLeader.objects.values("staff_id"))
    if text.endswith(")") and " (" in text:
        # A whole label sent back without JavaScript ("Ana Ruiz (coach)"): find by the name.
        text = text.rsplit(" (", 1)[0] if text.endswith(" (coach)") else text.split(" (", 1)[0]
    if text:
        coaches = coaches.filter(full_name__icontains=text)
        leaders = leaders.filter(full_name__icontains=text)
    found = [
        {"id": f"u{pk}", "label": f"{name or email} (coach)"}
        for pk, name, email in coaches.order_by("full_name", "pk").values_list(
            "pk", "full_name", "email"
        )[:RESULTS]
    ]
    found += [
        {"id": f"s{pk}", "label": f"{name} (Learning Leader, {school})"}
        for pk, name, school in leaders.order_by("full_name", "pk").values_list(
            "pk", "full_name", "school__name"
        )[:RESULTS]
    ]
    return sorted(found, key=lambda r: r["label"].lower())[:RESULTS]


def facilitator_label(value: str) -> str | None:
    """How the type-ahead shows a facilitator value, or None when the user cannot see it."""
    try:
        user, staff = parse_facilitator(value)
    except forms.ValidationError:
        return None
    if user is not None:
        return f"{user.full_name or user.email} (coach)"
    return f"{staff.full_name} (Learning Leader, {staff.school})"


def parse_facilitator(value: str) -> tuple[object | None, StaffMember | None]:
    """(user, staff) for a ``u<id>``/``s<id>`` value, looked up in the user's scope."""
    value = value or ""
    kind, pk = value[:1], value[1:]
    if not pk.isdigit():
        raise forms.ValidationError("Choose a facilitator.")
    if kind == "u":
        user = (
            get_user_model()
            .objects.filter(
                pk=pk,
                pk__in=_coach_ids(),
            )
            .first()
        )
        if user is None:
            raise forms.ValidationError("Choose a facilitator from the list.")
        return user, None
    if kind == "s":
        # Its school joined: the label names it, in one query as a coach's does.
        staff = StaffMember.objects.select_related("school").filter(pk=pk).first()
        if staff is None:
            raise forms.ValidationError("Choose a facilitator from the list.")
        return None, staff
    raise forms.ValidationError("Choose a facilitator from the list.")


class SessionForm(EditTokenMixin, ModelForm):
    """Log or edit a session: one form, the essentials first."""

    submit_label = "Save session"

    schools = forms.ModelMultipleChoiceField(
        queryset=School.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Where the session takes place; add several for a cross-school session.",
    )
    # A district has thousands of coaches and Learning Leaders: a type-ahead, validated by
    # parse_facilitator in the user's scope.
    facilitator = forms.CharField()
    pillars = forms.MultipleChoiceField(
        choices=Pillar.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Pillars it serves",
    )
    materials_url = forms.URLField(label="Materials link", required=False, assume_scheme="https")

    class Meta:
        model = PDSession
        fields = [
            "title",
            "date",
            "start_time",
            "duration_minutes",
            "format",
            "job_embedded",
            "ongoing_series",
            "objective",
            "pedagogical_why",
            "apps",
            "tools_covered",
            "materials_url",
            "notes",
            "initiative",
            "allow_named_feedback",
        ]
        widgets = {
            "date": DateInput(),
            "start_time": TimeInput(),
            "objective": forms.Textarea(attrs={"rows": 2}),
            "pedagogical_why": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "apps": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, access, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.access = access
        # A district used whole is named as a district, not as its 1,800 schools.
        schools = School.objects.order_by("name").filter(schools_q(access, can_use_pd))
        self.fields["schools"].queryset = schools
        typeahead_multiple(self.fields["schools"])  # a district admin's are 1,800
        typeahead(self.fields["facilitator"], source="pd.facilitator")
        self.fields["format"].choices = Format.choices
        # ScopedFormMixin has already limited the choices to initiatives in the user's scope;
        # a district has thousands, so the field is a type-ahead, not a select.
        self.fields["initiative"].label = "Initiative it serves"
        self.fields["initiative"].empty_label = "None"
        self.fields["apps"].queryset = self.fields["apps"].queryset.order_by("name")
        if self.instance.pk:
            self.initial.setdefault(
                "apps",
                list(
                    self.instance.apps.through.unscoped.filter(pdsession=self.instance).values_list(
                        "app_id", flat=True
                    )
                ),
            )
        typeahead(self.fields["initiative"])
        if self.instance.pk and self.instance.initiative_id:
            # The session's own initiative, joined by the view, is labelled without a query
            # (a query only when one is set made the page's cost depend on the session).
            initiative = self.instance.initiative
            self.fields["initiative"].widget.labels[str(initiative.pk)] = str(initiative.title)
        if self.instance.pk:
            self.initial.setdefault(
                "schools", list(School.objects.filter(pd_sessions=self.instance))
            )
            self.initial.setdefault(
                "pillars",
                list(
                    SessionPillar.objects.filter(session=self.instance).values_list(
                        "pillar", flat=True
                    )
                ),
            )
            s = self.instance
            current = f"u{s.facilitator_user_id}" if s.facilitator_user_id else ""
            self.initial.setdefault("facilitator", current or f"s{s.facilitator_staff_id}")

    def clean_facilitator(self):
        user, staff = parse_facilitator(self.cleaned_data["facilitator"])
        self.instance.facilitator_user, self.instance.facilitator_staff = user, staff
        return self.cleaned_data["facilitator"]


class SessionLogForm(SessionForm):
    """The new-session form: today, the coach's first school, their last format, attendees."""

    submit_label = "Log session"

    attendees = forms.ModelMultipleChoiceField(
        queryset=StaffMember.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    log_anyway = forms.BooleanField(
        label="This is a different session: log it anyway", required=False
    )

    def __init__(self, *args, access, user, last_format=None, **kwargs):
        super().__init__(*args, access=access, user=user, **kwargs)
        self.fields["attendees"].queryset = StaffMember.objects.active()
        if not self.is_bound:
            first = self.fields["schools"].queryset.first()
            self.initial.update(
                {
                    "date": timezone.localdate(),
                    "schools": [first] if first else [],
                    "format": last_format or Format.WORKSHOP,
                    "pillars": [Pillar.PROFESSIONAL_LEARNING],
                }
            )
            if can_facilitate(access):
                self.initial["facilitator"] = f"u{user.pk}"

    def roster_school_ids(self) -> list[int]:
        """The schools whose roster the attendee list shows."""
        if self.is_bound:
            return [int(v) for v in self.data.getlist("schools") if str(v).isdigit()]
        return [s.pk for s in self.initial.get("schools", [])]

    def selected_attendee_ids(self) -> set[int]:
        if self.is_bound:
            return {int(v) for v in self.data.getlist("attendees") if str(v).isdigit()}
        return set()

    def clean(self):
        data = super().clean()
        schools, attendees = data.get("schools"), data.get("attendees")
        if schools and attendees:
            ids = {s.pk for s in schools}
            strangers = [a for a in attendees if a.school_id not in ids]
            if strangers:
                names = ", ".join(str(a) for a in strangers)
                self.add_error("attendees", f"Not on the roster of the chosen schools: {names}.")
        return data


class AttendanceStatusField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=AttendanceStatus.choices, **kwargs)


class AttendanceForm(Form):
    """Status and hours of each attendance row: ``status-<id>`` and ``hours-<id>``."""

    def __init__(self, *args, rows, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = list(rows)
        self.session = session
        for a in self.rows:
            self.fields[f"status-{a.pk}"] = AttendanceStatusField(
                label=f"Status of {a.staff}", initial=a.status
            )
            self.fields[f"hours-{a.pk}"] = forms.DecimalField(
                label=f"Hours credited to {a.staff}",
                initial=a.hours,
                required=False,
                min_value=Decimal(0),
                max_value=Decimal(24),
                decimal_places=2,
            )

    def changes(self):
        return [
            (a, self.cleaned_data[f"status-{a.pk}"], self.cleaned_data[f"hours-{a.pk}"])
            for a in self.rows
        ]

    def pairs(self):
        return [(a, self[f"status-{a.pk}"], self[f"hours-{a.pk}"]) for a in self.rows]


class AddAttendeesForm(ScopedFormMixin, Form):
    staff = forms.ModelMultipleChoiceField(
        queryset=StaffMember.objects.none(), label="Add people who attended"
    )

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = (
            StaffMember.objects.active()
            .filter(school__in=School.objects.filter(pd_sessions=session))
            .exclude(pk__in=Attendance.objects.filter(session=session).values("staff_id"))
            .order_by("full_name")
        )
        # The rosters of a session's schools (of a whole district's, for a shared one).
        typeahead_multiple(
            self.fields["staff"],
            schools=School.objects.filter(pd_sessions=session).values_list("pk", flat=True),
        )


class EmailField(forms.EmailField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Your school e-mail address")
        kwargs.setdefault("widget", forms.EmailInput(attrs={"autocomplete": "email"}))
        super().__init__(**kwargs)


class CheckInForm(CrispyFormMixin, Form):
    submit_label = "Send me a code"
    email = EmailField()


class CheckinCodeForm(CrispyFormMixin, Form):
    submit_label = "Check in"
    code = forms.CharField(
        label="The 6-digit code from the e-mail",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self):
        digits = "".join(ch for ch in self.cleaned_data["code"] if ch.isdigit())
        if len(digits) != CODE_DIGITS:
            raise forms.ValidationError(f"The code has {CODE_DIGITS} digits.")
        return digits


class FeedbackForm(CrispyFormMixin, Form):
    """Feedback. On the shared link it is anonymous; on a person's own link (``named``)
    they may still choose to leave their name off."""

    submit_label = "Send feedback"

    rating = forms.TypedChoiceField(
        label="How useful was this session for your teaching?",
        choices=[
            (5, "5 — very useful"),
            (4, "4"),
            (3, "3"),
            (2, "2"),
            (1, "1 — not useful"),
        ],
        coerce=int,
        widget=forms.RadioSelect,
    )
    will_apply = forms.CharField(
        label="What will you apply in your classroom?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    anonymous = forms.BooleanField(
        label="Leave my name off (send anonymously)",
        required=False,
        initial=False,
    )

    def __init__(self, *args, named: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not named:
            del self.fields["anonymous"]


class FeedbackLinkForm(CrispyFormMixin, Form):
    submit_label = "E-mail me my link"
    email = EmailField()


class LeaderForm(CrispyFormMixin, Form):
    submit_label = "Nominate"

    staff = forms.ModelChoiceField(queryset=StaffMember.objects.none(), label="Staff member")
    cohort_year = forms.IntegerField(
        min_value=2000,
        max_value=2100,
        help_text="The year the school year starts: 2025 for 2025–26.",
    )
    why_nominated = forms.CharField(
        label="Why this person?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Choose people colleagues trust and follow, who are willing to learn in "
        "public and share. Leadership matters here, not technical skill.",
    )

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = StaffMember.objects.active().filter(school=school)
        typeahead(self.fields["staff"], schools=[school])  # a large school's roster
        today = timezone.localdate()
        self.fields["cohort_year"].initial = today.year if today.month >= 7 else today.year - 1


class PollForm(ModelForm):
    submit_label = "Create poll"

    class Meta:
        model = PDNeedsPoll
        fields = ["period", "opens_on", "closes_on"]
        widgets = {"opens_on": DateInput(), "closes_on": DateInput()}


class PollAnswerForm(CrispyFormMixin, Form):
    submit_label = "Send my answer"

    topics = forms.MultipleChoiceField(
        label="What would help you most in the coming months? Tick any.",
        choices=NeedTopic.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other = forms.CharField(
        label="Something else you would like to learn",
        required=False,
        max_length=300,
    )


class ReportForm(Form):
    school = forms.ModelChoiceField(
        queryset=School.objects.none(), required=False, empty_label="All my schools"
    )
    since = forms.DateField(required=False, widget=DateInput(), label="From")
    until = forms.DateField(required=False, widget=DateInput(), label="To")

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        typeahead(self.fields["school"])  # empty: all my schools, 1,800 for a district admin
        self.fields["school"].widget.attrs["class"] = "form-select"
        for name in ("since", "until"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end of the period comes after its start.")
        return data
