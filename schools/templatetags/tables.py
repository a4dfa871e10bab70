"""``{% tablebox %}…{% endtablebox %}``: the box every table of the site sits in.

On a phone a wide table must scroll inside its own box, never push the page sideways, and
a box that scrolls must be reachable by keyboard and named for a screen reader (WCAG 2.1.1;
axe's scrollable-region-focusable). The tag writes that box once for every table:

    {% load tables %}
    {% tablebox %}<table class="table">…<caption>PD sessions</caption>…</table>{% endtablebox %}

renders ``<div class="table-responsive" tabindex="0" role="region" aria-label="PD
sessions">…</div>``. The name is the table's caption; a table without one (or whose caption
is conditional) names its box: ``{% tablebox "Devices by status" %}``. Should a caption
still render empty, the box is named after the column headings rather than left nameless.
tests/test_tables.py checks that every table of every template sits in a named box.
"""

import re

from django import template
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe

register = template.Library()

_CAPTION = re.compile(r"<caption[^>]*>(.*?)</caption>", re.S | re.I)
_HEADING = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S | re.I)


def _text(html: str) -> str:
    return " ".join(strip_tags(html).split())


def caption_of(html: str) -> str:
    """The text of the first caption in ``html``, on one line."""
    found = _CAPTION.search(html)
    return _text(found.group(1)) if found else ""


def headings_of(html: str) -> str:
    """ "Table of School, Grades, …": a name from the first column headings."""
    names = [t for t in (_text(h) for h in _HEADING.findall(html)[:4]) if t]
    return f"Table of {', '.join(names)}" if names else "Table"


class TableBoxNode(template.Node):
    def __init__(self, nodelist, label, css):
        self.nodelist, self.label, self.css = nodelist, label, css

    def render(self, context):
        inner = self.nodelist.render(context)
        label = str(self.label.resolve(context)) if self.label else caption_of(inner)
        label = label or headings_of(inner)
        css = f"table-responsive {self.css.resolve(context)}" if self.css else "table-responsive"
        return format_html(
            '<div class="{}" tabindex="0" role="region" aria-label="{}">{}</div>',
            css.strip(),
            label,
            mark_safe(inner),  # noqa: S308 - rendered by the template engine, escaped there
        )


@register.tag
def tablebox(parser, token):
    """``{% tablebox [label] [class=extra classes] %}``; see the module docstring."""
    bits = token.split_contents()[1:]
    label = css = None
    for bit in bits:
        if bit.startswith("class="):
            css = parser.compile_filter(bit.removeprefix("class="))
        elif label is None:
            label = parser.compile_filter(bit)
        else:
            raise template.TemplateSyntaxError("{% tablebox %} takes a label and class=…")
    nodelist = parser.parse(("endtablebox",))
    parser.delete_first_token()
    return TableBoxNode(nodelist, label, css)
