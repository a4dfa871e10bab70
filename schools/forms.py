from datetime import date, datetime
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import UniqueConstraint
from django.forms.models import InlineForeignKeyField, construct_instance
from django.utils.text import capfirst, get_text_list

from .models import GRADE_BANDS, District, School, StaffMember, time_zone_choices
from .scoping import outside_scope, unscoped, visible
from .typeahead import typeahead

# The dates a form accepts. Far enough either side of any school record, and far enough from
# the calendar's ends (year 1 and 9999) that adding or taking a year, a month or a school
# year never leaves the calendar (``date - timedelta`` past year 1 raises OverflowError).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# An integer field with no bounds of its own takes the range of its column type on every
# database (PostgreSQL's: a 32-bit IntegerField), so SQLite and PostgreSQL refuse the same
# numbers, in the form, before the database does.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges
PLAIN_INTEGER_RANGE = INTEGER_RANGES["IntegerField"]
# A float or a decimal without bounds: beyond this no figure of a school district is real.
PLAIN_NUMBER_LIMIT = 10**12


class DateRangeValidator:
    """Refuse a date (or a datetime's date) outside EARLIEST_DATE..LATEST_DATE."""

    message = "Enter a date between %(low)s and %(high)s."

    def __call__(self, value):
        day = value.date() if isinstance(value, datetime) else value
        if isinstance(day, date) and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise ValidationError(
                self.message,
                code="date_range",
                params={"low": EARLIEST_DATE.isoformat(), "high": LATEST_DATE.isoformat()},
            )

    def __eq__(self, other):
        return isinstance(other, DateRangeValidator)


def _model_bounds(model_field) -> tuple[object, object]:
    """(low, high) a model field's own validators set, else its column's portable range."""
    low = high = None
    for v in model_field.validators:
        if isinstance(v, MinValueValidator) and not callable(v.limit_value):
            low = v.limit_value if low is None else max(low, v.limit_value)
        if isinstance(v, MaxValueValidator) and not callable(v.limit_value):
            high = v.limit_value if high is None else min(high, v.limit_value)
    portable = INTEGER_RANGES.get(model_field.get_internal_type())
    if portable is not None:
        # The column's range on every database, not only the one this process runs on.
        low = portable[0] if low is None else max(low, portable[0])
        high = portable[1] if high is None else min(high, portable[1])
    return low, high


def _decimal_bounds(field) -> tuple[object, object]:
    if field.max_digits is None:
        return -PLAIN_NUMBER_LIMIT, PLAIN_NUMBER_LIMIT
    places = field.decimal_places or 0
    high = Decimal(10) ** (field.max_digits - places) - Decimal(10) ** -places
    return -high, high


class InputRulesMixin:
    """Every number and every date a form takes is bounded, and every error is shown.

    A value out of range is a field error (and the widget's ``min``/``max`` tell the browser
    first), never a number the database refuses (PostgreSQL: out of range; SQLite: beyond
    64 bits) nor a date whose arithmetic leaves the calendar. Bounds come, narrowest first,
    from the field itself, from its model field's validators, from the range its column
    holds on every database, and for dates from EARLIEST_DATE..LATEST_DATE. Text fields need
    nothing here: Django's CharField already refuses NUL bytes (which PostgreSQL cannot
    store) with a field error.

    An error a service raises about a field the form does not show (a model's
    ``full_clean`` naming ``created_by``) is shown with the form's own errors, where
    Django's ``add_error`` would raise ValueError and answer 500.

    Every form of the project derives from it, through ``Form``, ``ModelForm`` or the
    filter sets' ``schools.filters.FilterSet`` (tests/test_bad_input.py checks it).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound_inputs()

    def full_clean(self):
        self.bound_inputs()  # fields a subclass added after __init__ too
        super().full_clean()

    def add_error(self, field, error):
        if field is None and isinstance(error, dict):
            error = ValidationError(error)
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            placed: dict[str, list] = {}
            for name, errors in error.error_dict.items():
                key = name if name in self.fields else NON_FIELD_ERRORS
                placed.setdefault(key, []).extend(errors)
            error = ValidationError(placed)
        elif field is not None and field != NON_FIELD_ERRORS and field not in self.fields:
            field = None
        super().add_error(field, error)

    def _model_field(self, name):
        meta = getattr(self, "_meta", None)
        model = getattr(meta, "model", None)
        if model is None:
            return None
        try:
            return model._meta.get_field(name)
        except Exception:
            return None

    def bound_inputs(self) -> None:
        for name, field in self.fields.items():
            if getattr(field, "_bounded", False):
                continue
            field._bounded = True
            if isinstance(field, forms.DateField | forms.DateTimeField):
                field.validators.append(DateRangeValidator())
                if isinstance(field, forms.DateField):
                    field.widget.attrs.setdefault("min", EARLIEST_DATE.isoformat())
                    field.widget.attrs.setdefault("max", LATEST_DATE.isoformat())
                continue
            if not isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField):
                continue
            model_field = self._model_field(name)
            low, high = _model_bounds(model_field) if model_field is not None else (None, None)
            # DecimalField and FloatField are IntegerFields to Django: the narrowest first.
            if isinstance(field, forms.DecimalField):
                own_low, own_high = _decimal_bounds(field)
            elif isinstance(field, forms.FloatField):
                own_low, own_high = -PLAIN_NUMBER_LIMIT, PLAIN_NUMBER_LIMIT
            else:
                own_low, own_high = PLAIN_INTEGER_RANGE
            low = _tighter(max, low, own_low, field.min_value)
            high = _tighter(min, high, own_high, field.max_value)
            if low != field.min_value:
                field.min_value = low
                field.validators.append(MinValueValidator(low))
                field.widget.attrs["min"] = low
            if high != field.max_value:
                field.max_value = high
                field.validators.append(MaxValueValidator(high))
                field.widget.attrs["max"] = high


def _tighter(pick, *bounds):
    given = [b for b in bounds if b is not None]
    return pick(given) if given else None


class Form(InputRulesMixin, forms.Form):
    """The base of every Pillarwise form that is not a model form."""


class ScopedFormMixin:
    """Rebind every model choice field to the active scope when the form is built.

    A ModelForm's choice fields are created at import time, outside any request, so their
    querysets refuse to run (see scoping.UnscopedQuerySet). Rebinding them here means a
    form only offers, and only accepts, objects the current user may see: a posted id of
    another school fails as "not one of the available choices".
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f, forms.ModelChoiceField):
                # Rebuilt from the manager, never from the class-level queryset, which may
                # hold the scope of whichever request imported the module first.
                qs = visible(f.queryset.model)
                limit = f.get_limit_choices_to()
                f.queryset = qs.complex_filter(limit) if limit else qs


def edit_token(instance) -> str:
    return instance.updated_at.isoformat() if instance.updated_at else ""


class EditTokenMixin:
    """Optimistic locking for an edit form: a later save over someone else's is refused.

    The form carries the record's ``updated_at`` as it was when the page was opened (a
    hidden ``edit_token``). On save, ``clean`` compares it with the row's current value
    (one query): if someone saved in between, the form answers STALE_MESSAGE and nothing
    is written. The token is also handed to the instance, whose ``EditGuard`` (see
    schools/models.py) makes the UPDATE itself conditional on it, so two saves that pass
    ``clean`` at the same moment cannot both be written either.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["edit_token"] = forms.CharField(widget=forms.HiddenInput, required=False)
        if self.instance.pk is not None:
            self.initial["edit_token"] = edit_token(self.instance)

    def clean(self):
        from .models import STALE_MESSAGE

        data = super().clean()
        if self.instance.pk is None:
            return data
        try:
            posted = datetime.fromisoformat(self.data.get(self.add_prefix("edit_token"), ""))
        except ValueError:
            posted = None
        current = (
            unscoped(type(self.instance))
            .filter(pk=self.instance.pk)
            .values_list("updated_at", flat=True)
            .first()
        )
        if posted is None or current != posted:
            raise ValidationError(STALE_MESSAGE, code="stale")
        self.instance._edit_token = posted
        return data


class CrispyFormMixin:
    submit_label = "Save"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label))


def unique_rules(model) -> list[tuple[tuple[str, ...], UniqueConstraint | None]]:
    """Every uniqueness rule of ``model``: (field names, the constraint when it is one)."""
    opts = model._meta
    rules = [((f.name,), None) for f in opts.local_fields if f.unique and not f.primary_key]
    rules += [(tuple(together), None) for together in opts.unique_together]
    rules += [
        (tuple(c.fields), c)
        for c in opts.constraints
        if isinstance(c, UniqueConstraint) and c.fields
    ]
    return rules


class ModelForm(InputRulesMixin, ScopedFormMixin, CrispyFormMixin, forms.ModelForm):
    """The base of every Pillarwise model form: scoped choices, crispy layout, bounded
    numbers and dates, every uniqueness rule checked, and an instance left as it was when
    the form is refused."""

    def _post_clean(self):
        # Django's own _post_clean, except that the constraints are checked by
        # validate_unique below, uniqueness across every school; and a refused form puts
        # back the values Django wrote onto the instance before validating them, so a page
        # that reads the instance (a heading, "due under this rule") shows what is stored.
        opts = self.instance._meta
        before = {f.attname: getattr(self.instance, f.attname) for f in opts.concrete_fields}
        exclude = self._get_validation_exclusions()
        for name, field in self.fields.items():
            if isinstance(field, InlineForeignKeyField):
                exclude.add(name)
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as e:
            self._update_errors(e)
        try:
            self.instance.full_clean(
                exclude=exclude, validate_unique=False, validate_constraints=False
            )
        except ValidationError as e:
            self._update_errors(e)
        if self._validate_unique:
            self.validate_unique()
        if self._errors:
            for f in opts.concrete_fields:
                if getattr(self.instance, f.attname) != before[f.attname]:
                    setattr(self.instance, f.attname, before[f.attname])
                    if f.is_relation and f.is_cached(self.instance):
                        f.delete_cached_value(self.instance)

    def validate_unique(self):
        """The model's constraints, and every uniqueness rule including the fields the view
        sets (a SWOT's school, a device's district) checked against every school's rows.

        Django's own check skips the fields a form does not show and reads through the
        default manager, which is scoped: a principal's form would not see the other school
        that already uses a code, and the database would refuse the save with a 500. The
        check here answers only "already exists", on the field the person can change, and
        names no other record."""
        instance = self.instance
        model = type(instance)
        exclude = self._get_validation_exclusions()
        errors: dict = {}
        for model_class, constraints in instance.get_constraints():
            for constraint in constraints:
                if isinstance(constraint, UniqueConstraint) and constraint.fields:
                    continue  # below
                try:
                    constraint.validate(model_class, instance, exclude=exclude)
                except ValidationError as e:
                    errors = e.update_error_dict(errors)
        if errors:
            self._update_errors(ValidationError(errors))
        for fields, constraint in unique_rules(model):
            if any(name in self._errors for name in fields):
                continue
            values = {}
            for name in fields:
                value = getattr(instance, model._meta.get_field(name).attname)
                if value is None:  # NULLs never collide; an unset field is not known yet
                    break
                values[name] = value
            else:
                if self._collides(model, values, constraint):
                    self._add_unique_error(model, fields)

    def _collides(self, model, values, constraint) -> bool:
        instance = self.instance
        with outside_scope():  # the database's rule spans schools; the answer is yes/no
            if constraint is not None and constraint.condition is not None:
                try:
                    constraint.validate(model, instance)
                except ValidationError:
                    return True
                return False
            rows = unscoped(model).filter(**values)
            if not instance._state.adding and instance.pk is not None:
                rows = rows.exclude(pk=instance.pk)
            return rows.exists()

    def _add_unique_error(self, model, fields) -> None:
        shown = [name for name in fields if name in self.fields]
        labels = [str(self.fields[name].label or name).lower() for name in shown]
        if labels:
            message = (
                f"{capfirst(model._meta.verbose_name)} with this "
                f"{get_text_list(labels, 'and')} already exists."
            )
        else:
            message = f"This {model._meta.verbose_name} already exists."
        self.add_error(shown[-1] if shown else NON_FIELD_ERRORS, message)


class SchoolForm(ModelForm):
    class Meta:
        model = School
        fields = [
            "name",
            "code",
            "lowest_grade",
            "highest_grade",
            *[name for name, *_ in GRADE_BANDS],
            "enrollment_override",
            "economically_disadvantaged_pct",
            "feeds_into",
        ]

    def __init__(self, *args, can_set_feeder: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if can_set_feeder:
            field = self.fields["feeds_into"]
            field.queryset = field.queryset.filter(district_id=self.instance.district_id).exclude(
                pk=self.instance.pk
            )
            field.empty_label = "None: they leave the district's records"
            typeahead(field)  # one of the district's 1,800 schools: never a select
            field.help_text = "Leave empty when its students leave the district's records."
        else:  # the feeder pattern is the district admin's to set
            del self.fields["feeds_into"]

    def _update_errors(self, errors):
        # Without the feeder field (a principal), a grade change that breaks the school's
        # feeder is reported on the grades, without naming the other school.
        if "feeds_into" not in self.fields and "feeds_into" in getattr(errors, "error_dict", {}):
            del errors.error_dict["feeds_into"]
            errors.error_dict.setdefault("highest_grade", []).append(
                ValidationError(
                    "Students leaving this school's top grade move to the next school of the "
                    "district's feeder pattern, which does not teach the grade after it. Ask "
                    "the district admin to change the feeder pattern first."
                )
            )
        super()._update_errors(errors)


class DistrictSettingsForm(ModelForm):
    class Meta:
        model = District
        fields = [
            "name",
            "device_planning_ratio",
            "pd_hour_target",
            "survey_min_group",
            "time_zone",
            "date_order",
            "require_two_factor",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget = forms.Select(choices=time_zone_choices())
        # Left out of a post (an older form, a script), each keeps the district's value.
        for name in ("time_zone", "date_order"):
            self.fields[name].required = False

    def clean_time_zone(self):
        return self.cleaned_data["time_zone"] or self.instance.time_zone

    def clean_date_order(self):
        return self.cleaned_data["date_order"] or self.instance.date_order


class StaffMemberForm(EditTokenMixin, ModelForm):
    class Meta:
        model = StaffMember
        fields = ["full_name", "email", "position", "active"]

    def __init__(self, *args, school: School, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.school = school

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        taken = (
            StaffMember.objects.filter(school=self.instance.school, email=email)
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if email and taken:
            raise forms.ValidationError("Someone on this roster already has this e-mail address.")
        return email


class StaffSearchForm(Form):
    """The roster's search box (GET): a name or e-mail fragment, and whether to show leavers."""

    q = forms.CharField(label="Search by name or e-mail", required=False, max_length=100)
    inactive = forms.BooleanField(label="Include people who left", required=False)

    def search(self) -> tuple[str, bool]:
        """(search text, include leavers); a refused search searches for nothing."""
        if not self.is_valid():
            return "", self.cleaned_data.get("inactive", False)
        return self.cleaned_data["q"].strip(), self.cleaned_data["inactive"]


class TypeaheadSearchForm(Form):
    """The type-ahead's question (GET): which list (schools/typeahead.py) and what was typed."""

    source = forms.ChoiceField(choices=(), required=False)
    q = forms.CharField(required=False, max_length=100)
    school = forms.ModelMultipleChoiceField(queryset=School.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        from .typeahead import SOURCES

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "")] + [(k, k) for k in sorted(SOURCES)]
        self.fields["school"].queryset = visible(School)  # another school's id: refused
