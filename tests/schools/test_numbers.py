"""One way to write a number (schools/numbers.py), whatever the database handed back."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from schools import numbers

# The same figure as SQLite's aggregates, PostgreSQL's and a float sum return it.
SAME_FIGURE = [Decimal("12.9100000000000"), Decimal("12.91"), 12.909999999999998]


@pytest.mark.parametrize("value", SAME_FIGURE)
def test_it_writes_a_figure_the_same_whatever_the_database(value):
    assert numbers.hours(value) == "12.91"
    assert numbers.plain(value) == "12.91"


@pytest.mark.parametrize(
    ("write", "value", "text"),
    [
        (numbers.hours, Decimal("476.000000000000"), "476"),
        (numbers.hours, Decimal("1234.50"), "1,234.5"),
        (numbers.hours, Decimal("0.125"), "0.13"),  # half up, two places
        (numbers.count, 1234567, "1,234,567"),
        (numbers.count, Decimal("-3.00"), "-3"),
        (numbers.percent, 29.35, "29.4%"),
        (numbers.percent, 0.0, "0%"),
        (numbers.share, 0.8333333, "83.3%"),
        (numbers.money, Decimal("21700.00"), "$21,700"),
        (numbers.money, Decimal("12.5"), "$12.50"),
        (numbers.money, Decimal("-45"), "-$45"),
        (numbers.money, Decimal("0.00"), "$0"),
        (numbers.rating, 4.5, "4.5"),
        (numbers.number, Decimal("1.10"), "1.1"),
        (numbers.plain, Decimal("18500.00"), "18500"),
        (numbers.plain, Decimal("-0.001"), "0"),  # never "-0"
        (numbers.plain, Decimal("1E+3"), "1000"),
        (numbers.plain, 10**20, "100000000000000000000"),
        (numbers.exact, Decimal("6.00"), "6"),
        (numbers.exact, "0.125", "0.125"),  # a form value is never rounded
        (numbers.hours, None, ""),
        (numbers.hours, "n/a", ""),
    ],
)
def test_each_unit_is_written_its_way(write, value, text):
    assert write(value) == text


def test_the_template_filters_write_numbers_and_pass_words_through():
    template = Template(
        "{% load numbers %}{{ h|hours }} {{ m|money }} {{ p|percent }} {{ dash|hours }} "
        "[{{ nothing|count }}] {{ r|number:1 }} {{ typed|exact }}"
    )
    context = Context(
        {
            "h": Decimal("476.000000000000"),
            "m": Decimal("12.50"),
            "p": 17.0,
            "dash": "—",
            "nothing": None,
            "r": 67.04,
            "typed": "<b>",
        }
    )
    assert template.render(context) == "476 $12.50 17% — [] 67 &lt;b&gt;"


def test_a_number_input_shows_its_value_without_trailing_zeros():
    from django import forms

    class HoursForm(forms.Form):
        hours = forms.DecimalField(decimal_places=2)

    html = str(HoursForm(initial={"hours": Decimal("6.00")})["hours"])
    assert 'value="6"' in html
