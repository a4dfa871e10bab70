"""``answer_count``: the one way a template shows a count of survey answers.

``{{ heard.responses|answer_count }}`` shows a count already passed through
``stakeholders.selectors.shown_count`` (None when hidden); ``{{ s.response_count|
answer_count:s.min_group }}`` applies the small-group rule itself. A hidden count reads
"fewer than N" (or "too few to show" when N is not at hand), never the number.
"""

from django import template
from django.utils.html import format_html

from stakeholders.selectors import shown_count

register = template.Library()


@register.filter
def answer_count(value, minimum=None):
    if value is not None and minimum is not None:
        value = shown_count(int(value), int(minimum))
    if value is None:
        text = f"fewer than {minimum}" if minimum is not None else "too few to show"
        return format_html('<span class="text-body-secondary" data-hidden-count>{}</span>', text)
    return value
