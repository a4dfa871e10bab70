from django import forms

from schools.pillars import Pillar

SORT_CHOICES = [("overall", "Overall"), ("name", "School"), ("need", "Need"), *Pillar.choices]


class DistrictFilterForm(forms.Form):
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
