"""Template filters for every number a page shows (the rules are in schools/numbers.py):
``{{ session.hours|hours }}``, ``{{ devices|count }}``, ``{{ rate|percent }}``,
``{{ coverage|share }}``, ``{{ line.amount|money }}``, ``{{ mean|rating }}``,
``{{ ratio|number }}`` (or ``|number:1``); ``{{ field.value|exact }}`` in a form field.

A value that is not a number (a dash, a word) passes through unchanged; None shows as
nothing."""

from django import template

from schools import numbers

register = template.Library()


def _written(value, write, *args):
    if value is None or value == "":
        return ""
    if numbers.to_decimal(value) is None:
        return value
    return write(value, *args)


@register.filter(is_safe=True)
def hours(value):
    return _written(value, numbers.hours)


@register.filter(is_safe=True)
def count(value):
    return _written(value, numbers.count)


@register.filter(is_safe=True)
def percent(value):
    return _written(value, numbers.percent)


@register.filter(is_safe=True)
def share(value):
    return _written(value, numbers.share)


@register.filter(is_safe=True)
def money(value):
    return _written(value, numbers.money)


@register.filter(is_safe=True)
def rating(value):
    return _written(value, numbers.rating)


@register.filter(is_safe=True)
def number(value, places=numbers.NUMBER):
    return _written(value, numbers.number, int(places))


@register.filter(is_safe=False)
def exact(value):
    return _written(value, numbers.exact)
