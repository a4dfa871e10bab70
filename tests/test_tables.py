"""Every table of every template sits in the one scrolling box ({% tablebox %}).

A table wider than a phone must scroll inside its own box, reachable by keyboard and named
(schools/templatetags/tables.py). Checked here on the template sources, so a table on a
page no test opens is still held to it; tests/test_site_crawl.py checks the pages of the
demo as rendered, and tests/browser/test_page_width.py their width in Chromium.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template

TABLE = re.compile(r"<table\b.*?</table>", re.S)
BOX = re.compile(r"\{% tablebox(?P<args>[^%]*)%\}(?P<inner>.*?)\{% endtablebox %\}", re.S)


def _templates():
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/templates") if p.is_dir()]
    return sorted(path for root in roots for path in root.rglob("*.html"))


TEMPLATES = [t for t in _templates() if "<table" in t.read_text()]


def test_the_project_has_tables_to_check():
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_every_table_sits_in_a_named_box(path):
    source = path.read_text()
    boxed = 0
    for box in BOX.finditer(source):
        tables = TABLE.findall(box["inner"])
        assert len(tables) == 1, f"one table per box in {path.name}"
        labelled = bool(re.sub(r'class="[^"]*"', "", box["args"]).strip())
        # A caption names the box only if it always renders: not under a condition.
        head = tables[0].partition("<thead")[0]
        captioned = "<caption" in head and "{% if" not in head.partition("<caption")[0]
        assert labelled or captioned, f"a box without a sure name in {path.name}"
        boxed += 1
    assert boxed == len(TABLE.findall(source)), f"a table outside {{% tablebox %}} in {path}"
    assert re.search(r"\{% load [^%]*\btables\b", source)


def _render(source, **context):
    return Template("{% load tables %}" + source).render(Context(context))


def test_the_box_is_named_by_the_caption_or_a_label():
    table = "<table><caption>PD <b>sessions</b>\n</caption></table>"
    html = _render("{% tablebox %}" + table + "{% endtablebox %}")
    assert html == (
        '<div class="table-responsive" tabindex="0" role="region" aria-label="PD sessions">'
        + table
        + "</div>"
    )
    html = _render('{% tablebox name class="mt-3" %}<table></table>{% endtablebox %}', name="A&B")
    assert 'class="table-responsive mt-3" tabindex="0" role="region" aria-label="A&amp;B"' in html


def test_a_box_whose_caption_came_out_empty_is_named_by_its_headings():
    table = '<table><caption></caption><tr><th scope="col">School</th><th>Grades</th></tr>'
    html = _render("{% tablebox %}" + table + "</table>{% endtablebox %}")
    assert 'aria-label="Table of School, Grades"' in html
