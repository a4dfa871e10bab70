from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from schools.forms import CrispyFormMixin, EditTokenMixin, Form, ModelForm
from schools.models import Membership, School
from schools.pillars import Pillar
from schools.typeahead import typeahead, typeahead_multiple

from .models import (
    TRANSITIONS,
    BudgetLine,
    ComplianceItem,
    Connection,
    Initiative,
    InitiativePillar,
    Milestone,
    Reflection,
    SignOff,
    Status,
    Swot,
    current_school_year,
    next_step,
)


class DateInput(forms.DateInput):
    input_type = "date"


def _rows(n: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": n})


class WhyForm(ModelForm):
    """Wizard step 1: the change in teaching and learning comes before any tool."""

    class Meta:
        model = Initiative
        fields = ["why", "learning_goals", "success_measures"]
        labels = {
            "why": "Why: what should change in teaching and learning?",
            "learning_goals": "What should students learn or be able to do?",
            "success_measures": "How will you know it worked?",
        }
        help_texts = {
            "why": "Start from students and teachers, not from a device or an app.",
            "learning_goals": "You may finish these later, but no money can be committed "
            "until they are written.",
            "success_measures": "Evidence you will look at: work samples, survey answers, "
            "attendance, PD follow-up.",
        }
        widgets = {"why": _rows(4), "learning_goals": _rows(3), "success_measures": _rows(3)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["why"].required = True

    def _post_clean(self):
        # Step 1 checks only its own fields; the rules run when services.initiative_create
        # saves the initiative at the end of the wizard.
        pass


class WhatForm(Form):
    """Wizard step 2: what, where, which pillars."""

    title = forms.CharField(max_length=200)
    schools = forms.ModelMultipleChoiceField(
        queryset=School.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Schools where you are principal (district admins: any school).",
    )
    whole_district = forms.BooleanField(
        label="The whole district", required=False, help_text="Every school of the district."
    )
    involves_devices = forms.BooleanField(
        label="It puts devices in students' hands",
        required=False,
        help_text="The initiative page then shows the device coverage plan of its schools.",
    )
    pillars = forms.MultipleChoiceField(
        choices=Pillar.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Pillars it serves",
    )

    def __init__(self, *args, schools, district_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools
        typeahead_multiple(self.fields["schools"])  # a district admin's are 1,800
        if not district_admin:
            del self.fields["whole_district"]

    def clean(self):
        """``whole_district`` comes out as the district itself (the one of every school the
        person may start an initiative for), or None."""
        data = super().clean()
        if data.get("whole_district"):
            districts = {s.district for s in self.fields["schools"].queryset}
            if len(districts) != 1:
                self.add_error("whole_district", "Choose the schools one by one.")
            else:
                data["whole_district"] = districts.pop()
        elif not data.get("schools"):
            self.add_error("schools", "Choose at least one school.")
        return data


class PlanForm(EditTokenMixin, ModelForm):
    submit_label = "Save plan"

    pillars = forms.MultipleChoiceField(
        choices=Pillar.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Pillars it serves",
    )

    class Meta:
        model = Initiative
        fields = [
            "title",
            "why",
            "learning_goals",
            "success_measures",
            "owner",
            "involves_devices",
        ]
        labels = WhyForm.Meta.labels
        widgets = WhyForm.Meta.widgets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["why"].required = True
        # Owners: people with a role at one of its schools the user sees, the district's
        # district-wide members, and whoever owns it now.
        members = Membership.objects.filter(
            Q(school__in=School.objects.filter(initiatives=self.instance))
            | Q(school__isnull=True, district_id=self.instance.district_id)
        ).values("user_id")
        self.fields["owner"].queryset = get_user_model().objects.filter(
            Q(pk__in=members) | Q(pk=self.instance.owner_id)
        )
        self.fields["owner"].label_from_instance = lambda u: u.full_name or u.email
        self.initial.setdefault(
            "pillars",
            list(
                InitiativePillar.objects.filter(initiative=self.instance).values_list(
                    "pillar", flat=True
                )
            ),
        )


class MoveForm(CrispyFormMixin, Form):
    submit_label = "Move"

    status = forms.ChoiceField(label="Move to")
    override_reason = forms.CharField(
        label="Going ahead before a survey has closed? Say why",
        widget=_rows(3),
        required=False,
        help_text="Only needed for pilot or rollout when no linked survey has closed. "
        "The reason stays on the initiative's record.",
    )

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        nexts = TRANSITIONS[initiative.status]
        self.fields["status"].choices = [(s, label) for s, label in Status.choices if s in nexts]
        # Start on the way forward, so a quick "Move" never sends an initiative back to Idea.
        self.fields["status"].initial = next_step(initiative.status)


class MilestoneForm(ModelForm):
    submit_label = "Save milestone"

    class Meta:
        model = Milestone
        fields = ["title", "due_on", "owner", "done_on"]
        widgets = {"due_on": DateInput(), "done_on": DateInput()}

    def clean(self):
        data = super().clean()
        if data.get("done_on") and data["done_on"] > timezone.localdate():
            self.add_error("done_on", "A milestone cannot be done in the future.")
        return data


class BudgetLineForm(ModelForm):
    submit_label = "Save budget line"

    class Meta:
        model = BudgetLine
        fields = ["category", "description", "amount", "funding_source", "stage"]

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.initiative = initiative


class SignOffForm(ModelForm):
    submit_label = "Record sign-off"

    class Meta:
        model = SignOff
        fields = ["role", "name", "decision", "decided_on", "comment"]
        widgets = {"decided_on": DateInput(), "comment": _rows(2)}


class ComplianceItemForm(ModelForm):
    submit_label = "Save compliance item"
    evidence_url = forms.URLField(label="Evidence link", required=False, assume_scheme="https")

    class Meta:
        model = ComplianceItem
        fields = ["kind", "app", "detail", "status", "waiver_reason", "evidence_url"]
        widgets = {"waiver_reason": _rows(2)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The apps of the initiative's own district (the form is built with its instance).
        initiative = getattr(self.instance, "initiative", None)
        if initiative is not None:
            self.fields["app"].queryset = (
                self.fields["app"]
                .queryset.filter(district_id=initiative.district_id)
                .order_by("name")
            )


class SwotForm(ModelForm):
    submit_label = "Save SWOT"

    class Meta:
        model = Swot
        fields = ["year", "strengths", "weaknesses", "opportunities", "threats", "participants"]
        widgets = {
            name: _rows(4)
            for name in ("strengths", "weaknesses", "opportunities", "threats", "participants")
        }

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school
        if not self.instance.pk:
            self.initial.setdefault("year", current_school_year())


class ReflectionForm(ModelForm):
    submit_label = "Save reflection"

    class Meta:
        model = Reflection
        fields = [
            "written_on",
            "initiative",
            "relationships",
            "connection",
            "connection_evidence",
            "this_year",
        ]
        widgets = {
            "written_on": DateInput(),
            "relationships": _rows(3),
            "connection": forms.RadioSelect,
            "connection_evidence": _rows(2),
            "this_year": _rows(3),
        }

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school
        self.fields["initiative"].queryset = Initiative.objects.filter(schools=school)
        typeahead(self.fields["initiative"], schools=[school])
        self.fields["initiative"].required = False
        self.fields["connection"].choices = Connection.choices
