"""One way to write a number, on every page and in every CSV, whatever the database.

The same sum comes back as ``Decimal("476.000000000000")`` from SQLite, ``Decimal("476.00")``
from PostgreSQL, or as a float with a binary tail; none of that may show. Every figure is
rounded half up to the places of its unit and written without trailing zeros:

============  ======  ==================  ==========
unit          places  on a page           in a CSV
============  ======  ==================  ==========
hours         2       1,234.5             1234.5
count         0       1,234               1234
percent       1       29.3%               29.3
money         2       $1,234.50, $1,200   1234.5
rating (1-5)  2       4.14                4.14
number        2       1.1                 1.1
============  ======  ==================  ==========

Money is the one exception to "no trailing zeros": with cents it keeps two decimals
($12.50), whole amounts show none ($1,200). Pages use the template filters of the same
names (``{% load numbers %}``, schools/templatetags/numbers.py); CSV cells go through
``plain`` (schools.exports does it for every number cell); a number input shows its value
``exact`` (templates/django/forms/widgets/number.html).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

HOURS = 2
COUNT = 0
PERCENT = 1
MONEY = 2
RATING = 2
NUMBER = 2
# A CSV cell keeps at most this many decimals (the widest unit); round to the unit first.
CSV_PLACES = 2
# Wide enough that quantizing any stored figure (at most 20 digits) never overflows.
_CONTEXT = Context(prec=60)


def to_decimal(value) -> Decimal | None:
    """``value`` (a Decimal, int, float or numeric text) as a Decimal; None if it is none
    of those. A float goes through its shortest text, so 0.1 stays 0.1."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def rounded(value, places: int) -> Decimal | None:
    """``value`` rounded half up to ``places`` decimals (None if it is not a number)."""
    number = to_decimal(value)
    if number is None:
        return None
    number = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _CONTEXT)
    return number.copy_abs() if number.is_zero() else number  # never "-0"


def _written(number: Decimal, grouped: bool) -> str:
    text = f"{number:,f}" if grouped else f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plain(value, places: int = CSV_PLACES) -> str:
    """A machine-readable number for a CSV cell: ``1234.5`` (no grouping, no symbol,
    no trailing zeros); "" for no value."""
    number = rounded(value, places)
    return "" if number is None else _written(number, grouped=False)


def exact(value) -> str:
    """The value as typed back into a form field: every digit it has, no trailing zeros
    (``6.00`` → ``6``, ``0.125`` → ``0.125``); never rounded, since the form saves it."""
    figure = to_decimal(value)
    return "" if figure is None else _written(figure, grouped=False)


def number(value, places: int = NUMBER) -> str:
    """A number for a page: grouped by thousands, no trailing zeros (``1,234.5``)."""
    figure = rounded(value, places)
    return "" if figure is None else _written(figure, grouped=True)


def hours(value) -> str:
    return number(value, HOURS)


def count(value) -> str:
    return number(value, COUNT)


def rating(value) -> str:
    return number(value, RATING)


def percent(value) -> str:
    """``value`` (already in percent, 0-100) as ``29.3%``."""
    figure = number(value, PERCENT)
    return f"{figure}%" if figure else ""


def share(value) -> str:
    """A share of one (0-1) as a percentage: 0.293 → ``29.3%``."""
    figure = to_decimal(value)
    return "" if figure is None else percent(figure * 100)


def money(value) -> str:
    """Dollars: ``$1,234.50`` with cents, ``$1,200`` without, ``-$45`` below zero."""
    figure = rounded(value, MONEY)
    if figure is None:
        return ""
    sign = "-" if figure < 0 else ""
    amount = abs(figure)
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{sign}${text}"
