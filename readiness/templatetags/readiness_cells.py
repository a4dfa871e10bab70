"""The heat map's score cell as a tag: a page of 50 schools draws 400 of them, and a
template include per cell cost more than the rest of the page."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

NO_EVIDENCE = mark_safe(  # noqa: S308 - a constant, no input in it
    '<span class="pw-score pw-score-none" title="no evidence">—'
    '<span class="visually-hidden"> no evidence</span></span>'
)


def band(score: float) -> str:
    if score >= 70:
        return "pw-score-high"
    if score >= 40:
        return "pw-score-mid"
    return "pw-score-low"


@register.simple_tag
def score_cell(score):
    if score is None:
        return NO_EVIDENCE
    return format_html('<span class="pw-score {}">{}</span>', band(score), floatformat(score, 0))
