from django import forms

from schools.forms import Form
from schools.pillars import Pillar

SORT_CHOICES = [("overall", "Overall"), ("name", "School"), ("need", "Need"), *Pillar.choices]


class DistrictFilterForm(Form):
    """Filters of the district heat map (GET)."""

    need_min = forms.DecimalField(
        label="Economically disadvantaged at least (%)",
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "1"}),
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=SORT_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    order = forms.ChoiceField(
        label="Order",
        choices=[("asc", "Lowest first"), ("desc", "Highest first")],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-describedby"] = f"id_{name}-error"
                attrs["aria-invalid"] = "true"
                attrs["class"] = attrs.get("class", "") + " is-invalid"


class TargetsForm(Form):
    """One target and one weight per registered indicator, prefilled with the district's."""

    def __init__(self, *args, current: dict[str, tuple[float, float]], **kwargs):
        from .indicators import REGISTRY

        super().__init__(*args, **kwargs)
        self.specs = list(REGISTRY.values())
        for spec in self.specs:
            target, weight = current[spec.key]
            self.fields[f"{spec.key}__target"] = forms.FloatField(
                label=f"Target: {spec.label}",
                initial=target,
                # IndicatorTarget.clean refuses the floor itself, with the same words.
                min_value=spec.floor,
                max_value=spec.ceiling,
                error_messages=dict.fromkeys(
                    ("min_value", "max_value"),
                    f"Enter a target above {spec.floor:g} and at most {spec.ceiling:g}.",
                ),
                help_text=f"Default {spec.target:g}; {spec.formula}.",
                widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            )
            self.fields[f"{spec.key}__weight"] = forms.FloatField(
                label=f"Weight: {spec.label}",
                initial=weight,
                min_value=0,
                max_value=10,
                help_text=f"Default {spec.weight:g}; 0 leaves it out of its pillar.",
                widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
            )

    def rows(self):
        return [
            (
                spec,
                [("Target", self[f"{spec.key}__target"]), ("Weight", self[f"{spec.key}__weight"])],
            )
            for spec in self.specs
        ]

    def values(self) -> dict[str, tuple[float, float]]:
        return {
            spec.key: (
                self.cleaned_data[f"{spec.key}__target"],
                self.cleaned_data[f"{spec.key}__weight"],
            )
            for spec in self.specs
        }

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-describedby"] = f"id_{name}-error id_{name}_helptext"
                attrs["aria-invalid"] = "true"
                attrs["class"] = attrs.get("class", "") + " is-invalid"
