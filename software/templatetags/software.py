from django import template

register = template.Library()


@register.filter
def dpa_status(app, today):
    """The agreement's status as of ``today``: a signed one past its date reads expired."""
    return app.shown_dpa_status(today)


@register.filter
def data_labels(app):
    return app.data_labels()
